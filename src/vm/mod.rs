//! The sandbox VM: a guest image
//! holding only the dmbench binary, QEMU, and the executor that talks to
//! the agent inside.

pub mod accel;
pub mod client;
pub mod image_cache;
pub mod initramfs;
pub mod qemu;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::private_dir;

pub use client::{VmConfig, VmExecutor};

/// `~/.cache/dmbench` (or `$DMBENCH_CACHE`, or `$XDG_CACHE_HOME/dmbench`).
/// Use `cache_subdir` for anything read or written there: it checks the
/// directory first.
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

/// `cache_dir()/name` (or the cache dir itself for ""), each level created
/// mode 0700 or verified: a kernel or guest image someone else could have
/// planted would run as the sandbox and report whatever it likes.
pub fn cache_subdir(name: &str) -> Result<PathBuf> {
    let root = private_dir::ensure_private_dir(&cache_dir())?;
    if name.is_empty() {
        return Ok(root);
    }
    Ok(private_dir::ensure_private_dir(&root.join(name))?)
}

/// A fresh private directory for one VM's socket: a new random name made
/// with mkdtemp (mode 0700) in the verified runtime directory, so no other
/// user can have made it first or reach the socket inside. Unix socket
/// paths are limited to 108 bytes; a runtime directory too deep for that
/// falls back to a fresh directory in /tmp.
pub fn run_dir() -> Result<PathBuf> {
    run_dir_in(&private_dir::runtime_dir()?)
}

fn run_dir_in(runtime: &Path) -> Result<PathBuf> {
    const SOCKET_NAME_MAX: usize = 107;
    let longest = runtime.join("vm-XXXXXX").join(SOCKET);
    if longest.as_os_str().len() <= SOCKET_NAME_MAX {
        return Ok(private_dir::fresh_private_dir(runtime, "vm-")?);
    }
    Ok(private_dir::fresh_private_dir(
        Path::new("/tmp"),
        "dmbench-vm-",
    )?)
}

/// The agent's socket in a `run_dir()`.
pub const SOCKET: &str = "agent.sock";

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn socket_dirs_are_fresh_and_fit_a_socket_address() {
        let tmp = tempfile::tempdir().expect("tmp");
        let runtime = private_dir::ensure_private_dir(&tmp.path().join("rt")).expect("rt");
        let a = run_dir_in(&runtime).expect("a");
        let b = run_dir_in(&runtime).expect("b");
        assert_ne!(a, b);
        assert!(a.starts_with(&runtime));
        assert_eq!(std::fs::metadata(&a).expect("stat").mode() & 0o777, 0o700);

        let deep = private_dir::ensure_private_dir(&runtime.join("d".repeat(100))).expect("deep");
        let c = run_dir_in(&deep).expect("fallback");
        assert!(
            c.to_string_lossy().starts_with("/tmp/dmbench-vm-"),
            "{}",
            c.display()
        );
        assert!(c.join(SOCKET).as_os_str().len() < 108);
        assert_eq!(std::fs::metadata(&c).expect("stat").mode() & 0o777, 0o700);
        std::fs::remove_dir(&c).expect("cleanup");
    }
}
