//! The Disks feature: the session's backing files on loop devices and its
//! DM devices, with live I/O counters; adding, detaching and removing
//! them; and the pane that lists them.

pub(crate) mod commands;
pub mod keys;
pub mod pane;
pub mod stats;

pub use stats::{StatView, record_stats};
