//! The local executor's building blocks: direct syscalls on this machine.

pub mod blockstat;
pub mod kmsg;
pub mod probe;
pub mod stamp;
