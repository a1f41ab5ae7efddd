//! Guest images are cached per agent binary (path, size, mtime), so
//! repeated boots of the same build do not rewrite the archive.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// `DMBENCH_INITRD_GZIP=1` writes a gzip'd image (smaller, but the guest
/// then spends boot time inflating it under TCG).
fn compress() -> bool {
    std::env::var("DMBENCH_INITRD_GZIP").is_ok_and(|v| v == "1")
}

pub fn initramfs_for(binary: &Path) -> Result<PathBuf> {
    let meta =
        std::fs::metadata(binary).with_context(|| format!("agent binary {}", binary.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let gz = compress();
    let mut h = Sha256::new();
    h.update(binary.to_string_lossy().as_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(mtime.to_le_bytes());
    h.update([gz as u8]);
    for extra in super::initramfs::extra_programs() {
        h.update(extra.to_string_lossy().as_bytes());
    }
    let key: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Verified first: the image becomes the guest's init.
    let dir = super::cache_subdir("images")?;
    let path = dir.join(format!("{key}.cpio{}", if gz { ".gz" } else { "" }));
    if path.is_file() {
        return Ok(path);
    }
    let image = super::initramfs::build_image(binary, gz)?;
    // Unique per writer: threads of one process may build the same image at
    // once, and each must rename a complete file of its own.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, image).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    prune(&dir, &path);
    Ok(path)
}

/// Keeps the few newest images: every rebuild of dmbench makes a new one.
fn prune(dir: &Path, keep: &Path) {
    const KEEP: usize = 4;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut images: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .filter(|(_, p)| p != keep)
        .collect();
    images.sort();
    let excess = images.len().saturating_sub(KEEP - 1);
    for (_, old) in images.into_iter().take(excess) {
        let _ = std::fs::remove_file(old);
    }
}
