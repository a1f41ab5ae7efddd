//! `dmbench cleanup`: removes what killed sessions left behind, found
//! through their persisted ledgers; nothing else is touched.

use anyhow::Result;

use crate::exec::discard_events;
use crate::exec::local::LocalExecutor;
use crate::session::ledger::{self, Ledger, Resource};
use crate::session::teardown;

pub fn run() -> Result<bool> {
    let dir = ledger::ledger_dir();
    let orphans = ledger::orphaned_ledgers(&dir)?;
    if orphans.is_empty() {
        println!(
            "nothing to clean up (no ledger of a dead session in {})",
            dir.display()
        );
        return Ok(true);
    }
    let mut all_ok = true;
    for (path, file) in orphans {
        println!(
            "session {} ({} executor, pid {} gone): {} resource(s)",
            file.session,
            file.executor,
            file.pid,
            file.resources.len()
        );
        let mut ledger = Ledger::persistent(&dir, &file.session, &file.executor)?;
        // Resources of a VM session lived in the guest and died with it;
        // only its host-side process and files can remain.
        let keep: Vec<Resource> = if file.executor == "vm" {
            file.resources
                .into_iter()
                .filter(|r| matches!(r, Resource::VmProcess { .. }))
                .collect()
        } else {
            file.resources
        };
        for r in keep {
            ledger.record(r)?;
        }
        let mut exec = LocalExecutor::new(discard_events());
        let report = teardown::unwind(&mut exec, &mut ledger, &discard_events());
        print!("{report}");
        all_ok &= report.all_ok();
        if report.all_ok() {
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(all_ok)
}
