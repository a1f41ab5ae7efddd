//! Loop devices over backing files (loopdev-3), plus sparse backing files.

use std::fs::OpenOptions;
use std::io::ErrorKind as IoKind;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use loopdev::{LoopControl, LoopDevice};

use crate::exec::protocol::{ErrorKind, ExecError};

/// Another process can take the device between GET_FREE and SET_FD; that
/// race shows up as EBUSY and is retried this many times.
const ATTACH_ATTEMPTS: u32 = 8;

pub fn attach(
    backing: &Path,
    read_only: bool,
    direct_io: bool,
) -> Result<(PathBuf, u32, u32), ExecError> {
    let control = LoopControl::open().map_err(|e| io_error("open /dev/loop-control", &e))?;
    let mut last_err = None;
    for attempt in 0..ATTACH_ATTEMPTS {
        let device = control
            .next_free()
            .map_err(|e| io_error("find a free loop device", &e))?;
        match device
            .with()
            .read_only(read_only)
            .set_direct_io(direct_io)
            .attach(backing)
        {
            Ok(()) => {
                let path = device.path().ok_or_else(|| {
                    ExecError::new(ErrorKind::Io, "attached loop device has no path")
                })?;
                let major = device
                    .major()
                    .map_err(|e| io_error("stat loop device", &e))?;
                let minor = device
                    .minor()
                    .map_err(|e| io_error("stat loop device", &e))?;
                return Ok((path, major, minor));
            }
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                last_err = Some(e);
                sleep(Duration::from_millis(10 << attempt.min(5)));
            }
            Err(e) => {
                return Err(io_error(
                    &format!("attach loop device to {}", backing.display()),
                    &e,
                ));
            }
        }
    }
    Err(io_error(
        &format!(
            "attach loop device to {} (lost the race {ATTACH_ATTEMPTS} times)",
            backing.display()
        ),
        &last_err.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::EBUSY)),
    ))
}

pub fn detach(device: &Path) -> Result<(), ExecError> {
    let loop_dev = LoopDevice::open(device).map_err(|e| {
        let kind = if e.kind() == IoKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        ExecError::new(kind, format!("open {}: {e}", device.display()))
    })?;
    loop_dev.detach().map_err(|e| {
        if e.raw_os_error() == Some(libc::ENXIO) {
            // Not attached (any more): nothing to undo.
            ExecError::new(
                ErrorKind::NotFound,
                format!("{} is not attached", device.display()),
            )
        } else {
            io_error(&format!("detach {}", device.display()), &e)
        }
    })
}

/// A sparse file of exactly `size` bytes: ftruncate, never written.
pub fn create_backing(path: &Path, size: u64) -> Result<(), ExecError> {
    // The session's work dir: made private (0700) when new, and an existing
    // one is used only if it is ours and nobody else can write to it.
    if let Some(dir) = path.parent() {
        crate::private_dir::ensure_private_dir(dir)
            .map_err(|e| ExecError::new(ErrorKind::Invalid, e.to_string()))?;
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == IoKind::AlreadyExists {
                ExecError::new(
                    ErrorKind::Exists,
                    format!("{} already exists: refusing to reuse it", path.display()),
                )
            } else {
                io_error(&format!("create {}", path.display()), &e)
            }
        })?;
    file.set_len(size)
        .map_err(|e| io_error(&format!("size {} to {size} B", path.display()), &e))
}

/// Removes a backing file, or a session directory once it is empty.
pub fn remove_backing(path: &Path) -> Result<(), ExecError> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    result.map_err(|e| {
        let kind = if e.kind() == IoKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        ExecError::new(kind, format!("remove {}: {e}", path.display()))
    })
}

/// Attached loop devices, from sysfs (`/sys/block/loopN/loop/backing_file`).
pub fn attached() -> Vec<crate::exec::protocol::LoopInfo> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return found;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("loop") {
            continue;
        }
        if let Ok(backing) = std::fs::read_to_string(e.path().join("loop/backing_file")) {
            found.push(crate::exec::protocol::LoopInfo {
                device: PathBuf::from("/dev").join(&name),
                backing: PathBuf::from(backing.trim()),
            });
        }
    }
    found.sort_by(|a, b| a.device.cmp(&b.device));
    found
}

/// Every file and directory below `dir` (and `dir` itself if it exists).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
        out.push(p);
    }
    out.sort();
    out
}

fn io_error(what: &str, e: &std::io::Error) -> ExecError {
    ExecError::from_io(format!("{what}: {e}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_files_are_sparse_and_never_reused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/disk1.img");
        create_backing(&path, 10 << 20).expect("create");
        let meta = std::fs::metadata(&path).expect("stat");
        assert_eq!(meta.len(), 10 << 20);
        use std::os::unix::fs::MetadataExt;
        assert_eq!(meta.blocks(), 0, "nothing was written");
        let err = create_backing(&path, 512).expect_err("exists");
        assert_eq!(err.kind, ErrorKind::Exists);
        use std::os::unix::fs::PermissionsExt;
        let dir_meta = std::fs::symlink_metadata(path.parent().expect("dir")).expect("stat");
        assert_eq!(
            dir_meta.permissions().mode() & 0o777,
            0o700,
            "a new work dir is private"
        );
        remove_backing(&path).expect("remove file");
        remove_backing(path.parent().expect("dir")).expect("remove empty dir");
        assert_eq!(
            remove_backing(&path).expect_err("gone").kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn backing_files_are_not_made_in_a_dir_others_can_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = create_backing(&open.join("d.img"), 512).expect_err("refused");
        assert!(
            err.message.contains("refusing to use it"),
            "{}",
            err.message
        );
        assert!(!open.join("d.img").exists());
    }
}
