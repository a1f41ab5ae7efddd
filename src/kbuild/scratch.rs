//! The scratch copy a boxed build works in: the source's files (exactly
//! those the module cache's digest covers: no kbuild output, no hidden
//! directories) copied into a fresh private directory, so the build never
//! writes to the source itself and two builds of one source never meet.
//! Symlinks are not copied: one could point anywhere on this host, and
//! the copy is made outside the box.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::cache::is_build_output;

/// More than any module source holds: a bigger tree is refused, not copied.
const MAX_FILES: usize = 10_000;
const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// A fresh private directory, removed with everything in it when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new directory under the temporary directory (mkdtemp, 0700).
    pub fn new() -> Result<Scratch> {
        let dir = crate::private_dir::fresh_private_dir(&std::env::temp_dir(), "dmbench-build-")?;
        Ok(Scratch { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What a copy left out that a reader of the build log should know.
#[derive(Debug, Default)]
pub struct Copied {
    pub files: usize,
    pub bytes: u64,
    /// Symlinks and other non-regular files, relative to the source.
    pub skipped: Vec<PathBuf>,
}

/// Copies the source tree `from` into the (empty) directory `to`.
pub fn copy_source(from: &Path, to: &Path) -> Result<Copied> {
    let mut copied = Copied::default();
    copy_dir(from, from, to, &mut copied)?;
    Ok(copied)
}

fn copy_dir(root: &Path, dir: &Path, to: &Path, copied: &mut Copied) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let shown = name.to_string_lossy();
        let kind = entry
            .file_type()
            .with_context(|| format!("checking {}", entry.path().display()))?;
        let relative = entry.path().strip_prefix(root).map(Path::to_path_buf)?;
        let target = to.join(&name);
        if kind.is_dir() {
            if shown.starts_with('.') {
                continue;
            }
            fs::create_dir(&target).with_context(|| format!("creating {}", target.display()))?;
            copy_dir(root, &entry.path(), &target, copied)?;
        } else if kind.is_file() {
            if is_build_output(&shown) {
                continue;
            }
            copied.files += 1;
            copied.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            if copied.files > MAX_FILES || copied.bytes > MAX_BYTES {
                bail!(
                    "{} holds more than {MAX_FILES} files or {} MiB: not a module source",
                    root.display(),
                    MAX_BYTES >> 20
                );
            }
            copy_file(&entry.path(), &target)?;
        } else {
            copied.skipped.push(relative);
        }
    }
    Ok(())
}

/// Copies one regular file, never through a symlink put in its place
/// since it was listed; the copy keeps the execute bits, nothing else.
fn copy_file(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut source = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(from)
        .with_context(|| format!("opening {}", from.display()))?;
    let meta = source.metadata()?;
    if !meta.is_file() {
        bail!("{} changed while it was copied", from.display());
    }
    let mut target = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644 | (meta.permissions().mode() & 0o111))
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    std::io::copy(&mut source, &mut target)
        .with_context(|| format!("copying {}", from.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_copied_and_build_output_hidden_dirs_and_symlinks_are_not() {
        let from = tempfile::tempdir().expect("tmp");
        let to = tempfile::tempdir().expect("tmp");
        let f = from.path();
        fs::create_dir_all(f.join("source")).expect("mkdir");
        fs::create_dir_all(f.join(".git")).expect("mkdir");
        fs::write(f.join("Makefile"), "obj-m := source/dmp.o\n").expect("w");
        fs::write(f.join("source/dmp.c"), "int x;\n").expect("w");
        fs::write(f.join("source/dmp.o"), "stale").expect("w");
        fs::write(f.join(".git/config"), "[core]").expect("w");
        std::os::unix::fs::symlink("/etc/hostname", f.join("host")).expect("ln");
        let copied = copy_source(f, to.path()).expect("copy");
        assert_eq!(copied.files, 2);
        assert_eq!(copied.skipped, vec![PathBuf::from("host")]);
        assert_eq!(
            fs::read_to_string(to.path().join("source/dmp.c")).expect("r"),
            "int x;\n"
        );
        assert!(!to.path().join("source/dmp.o").exists());
        assert!(!to.path().join(".git").exists());
        assert!(fs::symlink_metadata(to.path().join("host")).is_err());
    }

    #[test]
    fn a_scratch_directory_is_private_and_goes_away() {
        let scratch = Scratch::new().expect("scratch");
        let path = scratch.path().to_path_buf();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(&path).expect("meta").mode() & 0o777, 0o700);
        fs::write(path.join("x"), "x").expect("w");
        drop(scratch);
        assert!(!path.exists());
    }
}
