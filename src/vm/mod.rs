//! The sandbox VM: a lab kernel built and cached by dmbench, a guest image
//! holding only the dmbench binary, QEMU, and the executor that talks to
//! the agent inside.

pub mod accel;
pub mod client;
pub mod image_cache;
pub mod initramfs;
pub mod kernel;
pub mod qemu;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};

pub use client::{VmConfig, VmExecutor};

/// `~/.cache/dmbench` (or `$DMBENCH_CACHE`, or `$XDG_CACHE_HOME/dmbench`).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DMBENCH_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("dmbench");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache").join("dmbench")
}

/// A fresh private directory for one VM's socket (kept short: unix socket
/// paths are limited to 108 bytes).
pub fn run_dir() -> Result<PathBuf> {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dmbench-vm-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
