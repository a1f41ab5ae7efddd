//! Where privileged operations run. Everything the workbench does to a
//! kernel goes through one [`Executor`]; the code that decides *what* to do
//! (Session) never knows *where* it runs.

pub mod agent;
pub mod blocktrace;
pub mod dmstats;
// The test double is always compiled, with no feature to select it: one
// build then serves the binary, the tests and the benchmarks
// (scripts/dev.sh). Nothing in the binary reaches it, so the linker drops
// its code from the shipped binary, which is also the guest's /init
// (tests/it/shipped_binary.rs checks the symbols).
#[doc(hidden)]
pub mod fake;
pub mod local;
pub mod protocol;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use protocol::{ErrorKind, Event, ExecError, Request, Response};

/// Where an executor delivers events (kernel log, DM events, progress).
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

/// Stops the probe in flight; may be called from any thread.
pub type Canceller = Arc<dyn Fn() + Send + Sync>;

/// Where a session's operations run, and so where its resources live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// This host's own kernel (root and device-mapper needed).
    Local,
    /// The sandbox VM: everything lives in the guest and ends with it.
    Vm,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Local => "local",
            Placement::Vm => "vm",
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One privileged operation at a time, answered synchronously. Front ends
/// call it from a worker thread, never from the thread that draws.
pub trait Executor: Send {
    fn call(&mut self, request: Request) -> Result<Response, ExecError>;

    /// A handle that cancels the running probe.
    fn canceller(&self) -> Canceller;

    /// Where the operations run, for the status line, reports and ledgers.
    fn kind(&self) -> Placement;
}

/// An event sink that drops everything (tests, one-shot commands).
pub fn discard_events() -> EventSink {
    Arc::new(|_| {})
}
