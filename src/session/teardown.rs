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
    /// Left alone because it could not be proven to be the session's own
    /// (`error` says why); never attempted.
    pub refused: bool,
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

    pub fn refused(&self) -> impl Iterator<Item = &TeardownStep> {
        self.steps.iter().filter(|s| s.refused)
    }
}

/// What a guard decides about one resource before anything is done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Proven the session's own: remove this (the ledger's resource with
    /// its paths resolved).
    Remove(Resource),
    /// Proven to be gone already: nothing to do.
    Gone,
    /// Not proven to be the session's own: left alone, kept in the ledger.
    Refuse(String),
}

impl fmt::Display for TeardownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.vm_gone.is_some() {
            return writeln!(f, "  {}", VM_GONE);
        }
        for step in &self.steps {
            match &step.error {
                None => writeln!(f, "  removed {}", step.resource)?,
                Some(e) if step.refused => writeln!(f, "  REFUSED {}: {e}", step.resource)?,
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
            refused: false,
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
    unwind_guarded(exec, ledger, events, &mut |_, r| Verdict::Remove(r.clone()))
}

/// As `unwind`, but each resource is first put to `guard`, which may
/// refuse it (`dmbench cleanup` proves every resource of a ledger read from
/// disk is the session's own before touching it).
pub fn unwind_guarded(
    exec: &mut dyn Executor,
    ledger: &mut Ledger,
    events: &EventSink,
    guard: &mut dyn FnMut(&mut dyn Executor, &Resource) -> Verdict,
) -> TeardownReport {
    let mut report = TeardownReport::default();
    let resources: Vec<Resource> = ledger.resources().iter().rev().cloned().collect();
    for resource in resources {
        let (outcome, refused) = match guard(exec, &resource) {
            Verdict::Remove(resolved) => (remove(exec, &resolved), false),
            Verdict::Gone => (Ok(()), false),
            Verdict::Refuse(why) => (Err(why), true),
        };
        let text = resource.describe();
        events(Event::Action {
            text: match &outcome {
                Ok(()) => format!("teardown: removed {text}"),
                Err(e) if refused => format!("teardown: REFUSED to remove {text}: {e}"),
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
            refused,
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
        Resource::DmStats { device, region } => Request::DmMessage {
            name: device.clone(),
            sector: Some(0),
            text: format!("@stats_delete {region}"),
        },
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
