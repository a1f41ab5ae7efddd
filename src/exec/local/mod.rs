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

pub use executor::LocalExecutor;
