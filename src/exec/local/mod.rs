//! Direct syscalls on the kernel this process runs on.

pub mod blockstat;
pub mod dm;
pub mod executor;
pub mod kmod;
pub mod kmsg;
pub mod log_window;
pub mod loops;
pub mod probe;
pub mod stamp;
pub mod stats_sampler;
pub mod tracefs;

pub use executor::LocalExecutor;
