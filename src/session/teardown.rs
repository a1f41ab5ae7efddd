//! Unwinding a ledger: newest resource first, every step reported.

use std::fmt;

use crate::exec::protocol::{ErrorKind, Request};
use crate::exec::{Event, EventSink, Executor};

use super::ledger::{Ledger, Resource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownStep {
    pub resource: String,
    /// None when removed (or moot); the reason otherwise.
    pub error: Option<String>,
    /// Nothing to remove: it lived in a sandbox VM that is gone.
    pub moot: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownReport {
    pub steps: Vec<TeardownStep>,
    /// Why the sandbox VM was gone, when it was: every step is moot.
    pub vm_gone: Option<String>,
}

impl TeardownReport {
    pub fn all_ok(&self) -> bool {
        self.steps.iter().all(|s| s.error.is_none())
    }
}

impl fmt::Display for TeardownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.vm_gone.is_some() {
            return writeln!(f, "  {}", VM_GONE);
        }
        for step in &self.steps {
            match &step.error {
                None => writeln!(f, "  removed {}", step.resource)?,
                Some(e) => writeln!(f, "  FAILED  {}: {e}", step.resource)?,
            }
        }
        Ok(())
    }
}

/// What a teardown says, once, when the sandbox VM died.
pub const VM_GONE: &str = "the sandbox VM is gone, and nothing was left inside it";

/// The sandbox VM died and everything the ledger lists died with it: each
/// resource is marked moot (no request is sent), and the ledger goes.
pub fn moot(ledger: &mut Ledger, events: &EventSink, why: &str) -> TeardownReport {
    let mut report = TeardownReport {
        vm_gone: Some(why.to_string()),
        ..Default::default()
    };
    let resources: Vec<Resource> = ledger.resources().iter().rev().cloned().collect();
    for resource in resources {
        let _ = ledger.forget(&resource);
        report.steps.push(TeardownStep {
            resource: resource.describe(),
            error: None,
            moot: true,
        });
    }
    events(Event::Action {
        text: format!("teardown: {VM_GONE}"),
    });
    let _ = ledger.close();
    report
}

/// Removes every resource in `ledger`, newest first. A resource that cannot
/// be removed stays in the ledger (so `dmbench cleanup` can try again) and
/// the rest are still attempted.
pub fn unwind(exec: &mut dyn Executor, ledger: &mut Ledger, events: &EventSink) -> TeardownReport {
    let mut report = TeardownReport::default();
    let resources: Vec<Resource> = ledger.resources().iter().rev().cloned().collect();
    for resource in resources {
        let outcome = remove(exec, &resource);
        let text = resource.describe();
        events(Event::Action {
            text: match &outcome {
                Ok(()) => format!("teardown: removed {text}"),
                Err(e) => format!("teardown: FAILED to remove {text}: {e}"),
            },
        });
        if outcome.is_ok() {
            // A ledger write failure must not stop the teardown itself.
            let _ = ledger.forget(&resource);
        }
        report.steps.push(TeardownStep {
            resource: text,
            error: outcome.err(),
            moot: false,
        });
    }
    let _ = ledger.close();
    report
}

fn remove(exec: &mut dyn Executor, resource: &Resource) -> Result<(), String> {
    let request = match resource {
        Resource::DmDevice { name } => {
            return remove_dm(exec, name);
        }
        Resource::Module { name } => Request::UnloadModule { name: name.clone() },
        Resource::LoopDevice { device, .. } => Request::DetachLoop {
            device: device.clone(),
        },
        Resource::BackingFile { path } | Resource::WorkDir { path } => {
            Request::RemoveBacking { path: path.clone() }
        }
    };
    match exec.call(request) {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.full_text()),
    }
}

/// Plain removal first; if something still holds the device open (EBUSY),
/// fall back to deferred removal so it goes away when closed.
fn remove_dm(exec: &mut dyn Executor, name: &str) -> Result<(), String> {
    match exec.call(Request::DmRemove {
        name: name.to_string(),
        deferred: false,
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind == ErrorKind::Busy => exec
            .call(Request::DmRemove {
                name: name.to_string(),
                deferred: true,
            })
            .map(|_| ())
            .map_err(|e| format!("busy; deferred removal failed too: {}", e.full_text())),
        Err(e) => Err(e.full_text()),
    }
}
