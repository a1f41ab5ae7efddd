//! The Probes feature: dd-style write and read probes (form, the probe in
//! flight with its progress, results with latency and per-disk
//! attribution) and the pane that shows them.

pub(crate) mod commands;
pub mod keys;
pub mod model;
pub mod pane;

pub use model::{ProbeRecord, Probes, RunningProbe};
