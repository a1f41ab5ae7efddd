//! The modules a build made, found the way kbuild records them: every
//! object of `obj-m` is a line of `modules.order` in the build directory,
//! wherever the Makefile puts it (`obj-m := source/dmp.o`, several objects).
//! The build directory was written by code we do not trust, so a listed
//! name is used only when it stays inside that directory and names a
//! regular file there (no `..`, no absolute path, no symlink out).

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};

/// kbuild's list of the modules it built, one per line.
pub const MODULES_ORDER: &str = "modules.order";

/// More than any real module directory lists: a bigger file is not kbuild's.
const ORDER_LIMIT: u64 = 64 * 1024;

/// The `.ko` files `modules.order` lists in `dir` (canonical), in its order.
pub fn find_modules(dir: &Path) -> Result<Vec<PathBuf>> {
    let order = dir.join(MODULES_ORDER);
    let text = match read_regular(&order, ORDER_LIMIT) {
        Ok(text) => text,
        Err(why) => bail!(
            "make succeeded but left no usable {MODULES_ORDER} ({why}): \
             the Makefile must build its module with obj-m (obj-m := NAME.o)"
        ),
    };
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for entry in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match module_file(dir, entry) {
            Ok(path) if !found.contains(&path) => found.push(path),
            Ok(_) => {}
            Err(why) => problems.push(format!("'{entry}' {why}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{MODULES_ORDER} lists what this build did not produce: {}",
            problems.join("; ")
        );
    }
    if found.is_empty() {
        bail!(
            "make succeeded but {MODULES_ORDER} lists no module: \
             the Makefile must set obj-m (obj-m := NAME.o)"
        );
    }
    Ok(found)
}

/// The module an entry of modules.order names: `sub/name.o` (kbuild since
/// 6.2) or `sub/name.ko` (before) becomes `sub/name.ko` under `dir`.
fn module_file(dir: &Path, entry: &str) -> Result<PathBuf, String> {
    let relative = Path::new(entry);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("is not a path inside the build directory".into());
    }
    let stem = entry
        .strip_suffix(".ko")
        .or_else(|| entry.strip_suffix(".o"))
        .ok_or("is not an object (.o) or module (.ko)")?;
    let path = dir.join(format!("{stem}.ko"));
    let resolved = path
        .canonicalize()
        .map_err(|_| format!("has no {}", path.display()))?;
    if !resolved.starts_with(dir) {
        return Err(format!(
            "leads outside the build directory, to {}",
            resolved.display()
        ));
    }
    let meta = std::fs::symlink_metadata(&resolved).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    Ok(resolved)
}

/// A regular file (not a symlink, FIFO or device) of at most `limit` bytes.
fn read_regular(path: &Path, limit: u64) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    file.take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(text)
}

/// A module's name: its file name without `.ko`.
pub fn module_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tmp");
        let canonical = dir.path().canonicalize().expect("canon");
        (dir, canonical)
    }

    #[test]
    fn modules_are_found_in_subdirectories_and_in_order() {
        let (_keep, dir) = build_dir();
        std::fs::create_dir(dir.join("source")).expect("mkdir");
        std::fs::write(dir.join("source/dmp.ko"), b"\x7fELF").expect("w");
        std::fs::write(dir.join("helper.ko"), b"\x7fELF").expect("w");
        std::fs::write(dir.join(MODULES_ORDER), "source/dmp.o\nhelper.o\n").expect("w");
        let found = find_modules(&dir).expect("found");
        assert_eq!(
            found,
            vec![dir.join("source/dmp.ko"), dir.join("helper.ko")]
        );
        assert_eq!(module_name(&found[0]), "dmp");
    }

    #[test]
    fn the_older_ko_spelling_is_read_too() {
        let (_keep, dir) = build_dir();
        std::fs::write(dir.join("x.ko"), b"\x7fELF").expect("w");
        std::fs::write(dir.join(MODULES_ORDER), "x.ko\n").expect("w");
        assert_eq!(find_modules(&dir).expect("found"), vec![dir.join("x.ko")]);
    }

    #[test]
    fn nothing_outside_the_build_directory_is_taken() {
        let (_keep, dir) = build_dir();
        let (_other_keep, other) = build_dir();
        std::fs::write(other.join("secret.ko"), b"secret").expect("w");
        std::os::unix::fs::symlink(other.join("secret.ko"), dir.join("link.ko")).expect("ln");
        for entry in ["../secret.o", "/etc/passwd.o", "link.o"] {
            std::fs::write(dir.join(MODULES_ORDER), entry).expect("w");
            let err = find_modules(&dir).expect_err(entry).to_string();
            assert!(err.contains(entry), "{err}");
        }
        // modules.order itself may not be a symlink to a file elsewhere.
        std::fs::remove_file(dir.join(MODULES_ORDER)).expect("rm");
        std::fs::write(other.join("order"), "link.o\n").expect("w");
        std::os::unix::fs::symlink(other.join("order"), dir.join(MODULES_ORDER)).expect("ln");
        assert!(find_modules(&dir).is_err());
    }

    #[test]
    fn a_listed_module_that_is_missing_is_named() {
        let (_keep, dir) = build_dir();
        std::fs::write(dir.join(MODULES_ORDER), "gone.o\n").expect("w");
        let err = find_modules(&dir).expect_err("missing").to_string();
        assert!(err.contains("'gone.o' has no"), "{err}");
        std::fs::write(dir.join(MODULES_ORDER), "").expect("w");
        let err = find_modules(&dir).expect_err("empty").to_string();
        assert!(err.contains("lists no module"), "{err}");
    }
}
