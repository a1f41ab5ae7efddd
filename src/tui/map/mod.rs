//! The sector map: where a device's recent I/O landed, segment by
//! segment and on its backing disks, from the kernel's DM statistics;
//! drawn at the top of the Probes pane and live while a probe runs.

pub mod model;
pub mod pane;

#[cfg(test)]
mod tests;

pub use model::Maps;
