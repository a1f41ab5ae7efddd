//! `dmbench cleanup`: removes what killed sessions left behind, found
//! through their persisted ledgers. Only ledgers in the verified runtime
//! directory that are the user's own are read, and each resource in one is
//! removed only when `proof::Ownership` shows it is that session's; the
//! rest is reported as refused and left alone, and its ledger stays.

pub mod proof;

use anyhow::Result;

use crate::exec::discard_events;
use crate::exec::local::LocalExecutor;
use crate::private_dir;
use crate::session::ledger::{self, Ledger};
use crate::session::teardown;

/// True when everything found was removed; false when something failed or
/// was refused (the command then exits non-zero).
pub fn run() -> Result<bool> {
    let runtime = private_dir::runtime_dir()?;
    let dir = ledger::ledger_dir()?;
    let scan = ledger::orphaned_ledgers(&dir)?;
    let mut all_ok = true;
    for (path, why) in &scan.refused {
        println!("REFUSED ledger {}: it {why}; left alone", path.display());
        all_ok = false;
    }
    if scan.orphans.is_empty() {
        if all_ok {
            println!(
                "nothing to clean up (no ledger of a dead session in {})",
                dir.display()
            );
        }
        return Ok(all_ok);
    }
    let mut exec = None;
    for (path, file) in scan.orphans {
        println!(
            "session {} ({} executor, pid {} gone): {} resource(s)",
            file.session,
            file.executor,
            file.pid,
            file.resources.len()
        );
        match file.executor.as_str() {
            "vm" => {
                // Everything lived in the guest, and QEMU died with its
                // session (PR_SET_PDEATHSIG): only the ledger itself is left.
                println!("  nothing left: the sandbox VM ended with its session");
                let _ = std::fs::remove_file(&path);
                continue;
            }
            "local" => {}
            other => {
                println!("  REFUSED: unknown executor '{other}'; ledger left alone");
                all_ok = false;
                continue;
            }
        }
        let proof = proof::Ownership::new(&runtime, &file.session);
        let mut ledger = Ledger::adopt(&dir, file)?;
        let exec = exec.get_or_insert_with(|| LocalExecutor::new(discard_events()));
        let report = teardown::unwind_guarded(
            exec,
            &mut ledger,
            &discard_events(),
            &mut |exec, resource| proof.check(exec, resource),
        );
        print!("{report}");
        all_ok &= report.all_ok();
        if report.refused().next().is_some() {
            println!(
                "  refused items were left alone and stay in {}",
                path.display()
            );
        }
    }
    Ok(all_ok)
}
