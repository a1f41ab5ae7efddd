//! The Events feature: the bounded, folding log of kernel lines, DM
//! events, the session's actions and the UI's notes, with filters, pause,
//! scroll-back and search, and the pane that shows it.

pub mod keys;
pub mod log;
pub mod pane;

pub use log::{DEFAULT_CAPACITY, Entry, EventLog, Filter, Source};
