//! Where privileged operations run. Everything the workbench does to a
//! kernel goes through one [`Executor`]; the code that decides *what* to do
//! (Session) never knows *where* it runs.

pub mod agent;
pub mod fake;
pub mod local;
pub mod protocol;

use std::sync::Arc;

pub use protocol::{ErrorKind, Event, ExecError, Request, Response};

/// Where an executor delivers events (kernel log, DM events, progress).
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

/// Stops the probe in flight; may be called from any thread.
pub type Canceller = Arc<dyn Fn() + Send + Sync>;

/// One privileged operation at a time, answered synchronously. Front ends
/// call it from a worker thread, never from the thread that draws.
pub trait Executor: Send {
    fn call(&mut self, request: Request) -> Result<Response, ExecError>;

    /// A handle that cancels the running probe.
    fn canceller(&self) -> Canceller;

    /// "local" or "vm", for the status line and reports.
    fn kind(&self) -> &'static str;
}

/// An event sink that drops everything (tests, one-shot commands).
pub fn discard_events() -> EventSink {
    Arc::new(|_| {})
}
