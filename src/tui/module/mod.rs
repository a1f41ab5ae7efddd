//! The Module feature: the project's kmod sources (`kmod/rust`,
//! `kmod/c`), building them (the log streams in), loading and unloading
//! the module they build, and the pane that shows it all.

pub(crate) mod commands;
pub mod keys;
pub mod model;
pub mod pane;

pub use model::{BuildState, ModulePane, SourceView, scan_sources};
