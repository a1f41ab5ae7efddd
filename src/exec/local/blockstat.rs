//! I/O counters of a block device from `/sys/block/<dev>/stat`.
//!
//! Sampling these before and after a probe shows which devices the I/O
//! really reached: a write through a DM device that never shows up on its
//! backing loop device was dropped or misrouted by the target.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::exec::protocol::{ErrorKind, ExecError, IoCounters};

/// Counters of one block device, e.g. `read_stat("loop0")`.
pub fn read_stat(dev: &str) -> Result<IoCounters, ExecError> {
    check_name(dev)?;
    // Whole disks are under /sys/block; partitions only under
    // /sys/class/block, which also lists whole disks.
    let primary = format!("/sys/block/{dev}/stat");
    let text = match fs::read_to_string(&primary) {
        Ok(text) => text,
        Err(_) => {
            let fallback = format!("/sys/class/block/{dev}/stat");
            fs::read_to_string(&fallback).map_err(|e| {
                ExecError::from_io(
                    format!("no block device named {dev:?} ({primary}: {e})"),
                    &e,
                )
            })?
        }
    };
    parse_stat(&text).map_err(|e| ExecError::new(e.kind, format!("{primary}: {}", e.message)))
}

/// Parses the text of a `stat` file. Field numbers follow
/// Documentation/block/stat.rst; kernels older than 4.18 (no discard
/// fields) and 5.5 (no flush fields) print fewer, which count as 0.
pub fn parse_stat(text: &str) -> Result<IoCounters, ExecError> {
    let mut fields = Vec::with_capacity(17);
    for word in text.split_ascii_whitespace() {
        let value = word.parse::<u64>().map_err(|_| {
            ExecError::new(
                ErrorKind::Io,
                format!("unexpected field {word:?} in block stat"),
            )
        })?;
        fields.push(value);
    }
    // Everything up to write sectors (field 7) has existed since 2.6.
    if fields.len() < 7 {
        return Err(ExecError::new(
            ErrorKind::Io,
            format!(
                "block stat has {} fields, expected at least 7",
                fields.len()
            ),
        ));
    }
    let field = |n: usize| fields.get(n - 1).copied().unwrap_or(0);
    Ok(IoCounters {
        read_ios: field(1),
        read_sectors: field(3),
        write_ios: field(5),
        write_sectors: field(7),
        discard_ios: field(12),
        flush_ios: field(16),
    })
}

/// The kernel's name (`loop0`, `dm-3`) of the block device at `path`,
/// following symlinks such as `/dev/mapper/NAME`. This is the name
/// [`read_stat`] and `ProbeSpec::attribute` take.
pub fn kernel_name(path: &Path) -> Result<String, ExecError> {
    let meta = fs::metadata(path)
        .map_err(|e| ExecError::from_io(format!("{}: {e}", path.display()), &e))?;
    if !meta.file_type().is_block_device() {
        return Err(ExecError::new(
            ErrorKind::Invalid,
            format!("{} is not a block device", path.display()),
        ));
    }
    let rdev = meta.rdev();
    let link = format!(
        "/sys/dev/block/{}:{}",
        nix::sys::stat::major(rdev),
        nix::sys::stat::minor(rdev)
    );
    let target = fs::read_link(&link).map_err(|e| {
        ExecError::new(
            ErrorKind::NotFound,
            format!("{}: no sysfs entry {link}: {e}", path.display()),
        )
    })?;
    target
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| ExecError::new(ErrorKind::Io, format!("odd sysfs link {link}")))
}

/// Device names come from users and lab files; they are joined into a
/// sysfs path, so anything that could leave /sys/block is refused.
fn check_name(dev: &str) -> Result<(), ExecError> {
    if dev.is_empty() || dev.contains('/') || dev.contains("..") || dev.contains('\0') {
        return Err(ExecError::new(
            ErrorKind::Invalid,
            format!("invalid block device name {dev:?} (expected a kernel name such as loop0)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_stat_has_all_fields() {
        // 17 fields as printed by 5.5+ kernels.
        let text = "  120  3  9000  40  250  7  20480  300  0  500  340  11  0  88  2  9  5\n";
        let c = parse_stat(text).expect("parses");
        assert_eq!(
            c,
            IoCounters {
                read_ios: 120,
                read_sectors: 9000,
                write_ios: 250,
                write_sectors: 20480,
                discard_ios: 11,
                flush_ios: 9,
            }
        );
    }

    #[test]
    fn old_kernels_lack_discard_and_flush() {
        let text = "5 0 40 1 6 0 48 2 0 3 3";
        let c = parse_stat(text).expect("parses");
        assert_eq!((c.read_ios, c.write_sectors), (5, 48));
        assert_eq!((c.discard_ios, c.flush_ios), (0, 0));
    }

    #[test]
    fn fifteen_fields_have_discard_but_no_flush() {
        let text = "1 0 8 0 2 0 16 0 0 0 0 4 0 32 0";
        let c = parse_stat(text).expect("parses");
        assert_eq!((c.discard_ios, c.flush_ios), (4, 0));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("1 2 3").is_err());
        assert!(parse_stat("1 2 x 4 5 6 7").is_err());
    }

    #[test]
    fn names_that_escape_sysfs_are_refused() {
        for bad in ["", "../sda", "loop0/..", "a/b", ".."] {
            let err = read_stat(bad).expect_err(bad);
            assert_eq!(err.kind, ErrorKind::Invalid, "{bad}");
        }
    }

    #[test]
    fn missing_device_is_not_found() {
        let err = read_stat("no-such-dev-xyz").expect_err("absent");
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
}
