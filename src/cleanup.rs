//! `dmbench cleanup`: removes what killed sessions left behind, found
//! through their persisted ledgers; nothing else is touched.

use anyhow::Result;

use crate::exec::discard_events;
use crate::exec::local::LocalExecutor;
use crate::session::ledger::{self, Ledger};
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
        if file.executor == "vm" {
            // Everything lived in the guest, and QEMU died with its session
            // (PR_SET_PDEATHSIG): only the ledger itself is left.
            println!("  nothing left: the sandbox VM ended with its session");
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let mut ledger = Ledger::persistent(&dir, &file.session, &file.executor)?;
        for r in file.resources {
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
