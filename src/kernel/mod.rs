//! The lab kernel: Debian's kernel source (or any tree the user names),
//! `make tinyconfig` + `assets/kernel/dmbench.config`, built once and cached
//! under `~/.cache/dmbench/kernel/<version>-<fragment hash>-rustc<version>`.
//! The built tree stays usable as KDIR for out-of-tree C and Rust modules.
//!
//! `toolchain` finds the compilers, `source` fetches or unpacks the source,
//! `build` configures and makes it; this file is the cache.

mod build;
mod source;
mod toolchain;

pub use build::{BuildRequest, build};
pub use source::Source;
pub use toolchain::resolve_toolchain;

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The config fragment, compiled in so the binary alone can build a kernel.
pub const FRAGMENT: &str = include_str!("../../assets/kernel/dmbench.config");

/// Written last, only after a successful build: its presence means "done".
const BUILT_FILE: &str = "built.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuiltKernel {
    /// Debian package version or the tree's `make kernelversion`.
    pub version: String,
    pub fragment_hash: String,
    pub rustc_version: String,
    pub build_seconds: f64,
    /// Output lines of the build, to scale the next build's progress bar.
    pub build_steps: u64,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl BuiltKernel {
    /// The kernel tree (KDIR).
    pub fn tree(&self) -> PathBuf {
        self.dir.join("src")
    }

    /// What QEMU boots: the uncompressed image, entered at its PVH note.
    pub fn image(&self) -> PathBuf {
        self.tree().join("vmlinux")
    }
}

pub fn fragment_hash() -> String {
    let digest = Sha256::digest(FRAGMENT.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn kernel_root() -> PathBuf {
    crate::vm::cache_dir().join("kernel")
}

/// Characters outside [A-Za-z0-9._-] become '_' (Debian versions carry
/// '~' and '+').
fn sanitize(version: &str) -> String {
    version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn cache_key(version: &str, rustc_version: &str) -> String {
    format!(
        "{}-{}-rustc{}",
        sanitize(version),
        fragment_hash(),
        rustc_version
    )
}

/// The newest finished build for the current fragment, if any.
pub fn find_cached() -> Option<BuiltKernel> {
    let hash = fragment_hash();
    let mut found: Vec<BuiltKernel> = std::fs::read_dir(crate::vm::cache_subdir("kernel").ok()?)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            let text = std::fs::read(dir.join(BUILT_FILE)).ok()?;
            let mut k: BuiltKernel = serde_json::from_slice(&text).ok()?;
            k.dir = dir;
            (k.fragment_hash == hash && k.image().is_file()).then_some(k)
        })
        .collect();
    found.sort_by_key(|k| {
        std::fs::metadata(k.dir.join(BUILT_FILE))
            .and_then(|m| m.modified())
            .ok()
    });
    found.pop()
}

/// `DMBENCH_KERNEL` (a tree or an image) wins over the cache.
pub fn locate() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("DMBENCH_KERNEL") {
        let p = PathBuf::from(p);
        return Ok(if p.is_dir() { p.join("vmlinux") } else { p });
    }
    crate::vm::cache_subdir("kernel")?;
    find_cached().map(|k| k.image()).ok_or_else(|| {
        anyhow!(
            "no lab kernel is cached under {}: run `dmbench kernel build` first (5 to 7 \
             minutes on 2 cores)",
            kernel_root().display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::build::bar;
    use super::toolchain::version_tuple;
    use super::*;

    #[test]
    fn cache_keys_are_path_safe_and_name_their_inputs() {
        let key = cache_key("7.3.4-1~bpo13+1", "1.96.0");
        assert!(key.starts_with("7.3.4-1_bpo13_1-"), "{key}");
        assert!(key.ends_with("-rustc1.96.0"), "{key}");
        assert!(key.contains(&fragment_hash()));
        assert!(!key.contains('/') && !key.contains('~') && !key.contains('+'));
    }

    #[test]
    fn the_fragment_asks_for_every_piece_the_lab_needs() {
        for opt in [
            "CONFIG_RUST=y",
            "CONFIG_BLK_DEV_DM=y",
            "CONFIG_BLK_DEV_LOOP=y",
            "CONFIG_MODULE_UNLOAD=y",
            "CONFIG_VIRTIO_CONSOLE=y",
            "CONFIG_DEVTMPFS=y",
            "CONFIG_DM_DUST=y",
            "CONFIG_SERIAL_8250_CONSOLE=y",
        ] {
            assert!(FRAGMENT.lines().any(|l| l == opt), "missing {opt}");
        }
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_tuple("7.10") > version_tuple("7.3"));
        assert_eq!(version_tuple("0.73.2"), (0, 73, 2));
        assert!(version_tuple("0.71.1") >= (0, 71, 1));
    }

    #[test]
    fn progress_bar_is_twenty_wide() {
        assert_eq!(bar(50), "[##########..........]");
        assert_eq!(bar(100).len(), 22);
    }
}
