//! Directories and files dmbench keeps for itself, and the checks that let
//! it trust one it finds. On a shared machine another local user may have
//! created any predictable name first (`/tmp/dmbench-<uid>`, a socket dir,
//! a cache), so a directory is used only when it is a real directory (not a
//! symlink) owned by the effective user and writable by nobody else, below
//! parents that nobody else can rename it out of. New ones are made mode
//! 0700 with mkdir, then checked the same way (never following symlinks).

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use nix::unistd::geteuid;

/// A path dmbench will not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {why}: refusing to use it", path.display())]
pub struct Untrusted {
    pub path: PathBuf,
    pub why: String,
}

impl Untrusted {
    fn new(path: &Path, why: impl Into<String>) -> Self {
        Untrusted {
            path: path.to_path_buf(),
            why: why.into(),
        }
    }
}

/// Why a directory someone else could have made or can change is not ours
/// to use: it must be a real directory, owned by the effective user, and
/// not writable by group or others. `meta` comes from lstat.
pub fn check_dir_metadata(meta: &fs::Metadata) -> Result<(), String> {
    if meta.file_type().is_symlink() {
        return Err("is a symlink".into());
    }
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    check_owner_and_mode(meta)
}

/// Owned by the effective user and writable only by them.
fn check_owner_and_mode(meta: &fs::Metadata) -> Result<(), String> {
    let me = geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!("is owned by uid {}, not you ({me})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "is writable by group or others (mode {:04o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Every directory from `dir` up to `/` must be one that nobody but root
/// and the effective user can rename entries in: owned by one of them, and
/// group/other-writable only with the sticky bit (as /tmp is). `dir` must
/// be canonical.
fn check_ancestors(dir: &Path, for_path: &Path) -> Result<(), Untrusted> {
    let me = geteuid().as_raw();
    for ancestor in dir.ancestors() {
        let meta = fs::symlink_metadata(ancestor)
            .map_err(|e| Untrusted::new(for_path, format!("cannot be checked ({e})")))?;
        let owner_ok = meta.uid() == 0 || meta.uid() == me;
        let sticky = meta.mode() & 0o1000 != 0;
        if !owner_ok {
            return Err(Untrusted::new(
                for_path,
                format!(
                    "lies below {}, which is owned by uid {}, not you ({me}) or root",
                    ancestor.display(),
                    meta.uid()
                ),
            ));
        }
        if meta.mode() & 0o022 != 0 && !sticky {
            return Err(Untrusted::new(
                for_path,
                format!(
                    "lies below {}, which others can write to without the sticky bit \
                     (mode {:04o})",
                    ancestor.display(),
                    meta.mode() & 0o7777
                ),
            ));
        }
    }
    Ok(())
}

/// `path` made absolute, its parent resolved (symlinks in the parents are
/// fine, the last component is never followed), and the parent chain
/// checked. The parent is created first (mode 0700) when `create`.
fn resolve_parent(path: &Path, create: bool) -> Result<PathBuf, Untrusted> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Untrusted::new(path, format!("cannot be made absolute ({e})")))?
            .join(path)
    };
    let name = match absolute.components().next_back() {
        Some(Component::Normal(name)) => name.to_os_string(),
        _ => return Err(Untrusted::new(path, "does not end in a plain name")),
    };
    let parent = absolute
        .parent()
        .ok_or_else(|| Untrusted::new(path, "has no parent directory"))?;
    if create && fs::symlink_metadata(parent).is_err() {
        // Check what exists before making anything below it.
        if let Some(existing) = parent.ancestors().find(|a| fs::symlink_metadata(a).is_ok()) {
            let existing = existing
                .canonicalize()
                .map_err(|e| Untrusted::new(path, format!("cannot be resolved ({e})")))?;
            check_ancestors(&existing, &absolute)?;
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| Untrusted::new(path, format!("cannot be created ({e})")))?;
    }
    let parent = parent
        .canonicalize()
        .map_err(|e| Untrusted::new(path, format!("cannot be resolved ({e})")))?;
    let resolved = parent.join(name);
    check_ancestors(&parent, &resolved)?;
    Ok(resolved)
}

/// Creates `path` mode 0700 (and missing parents) when absent, then checks
/// it with lstat. Returns the path with its parents resolved.
pub fn ensure_private_dir(path: &Path) -> Result<PathBuf, Untrusted> {
    let resolved = resolve_parent(path, true)?;
    match fs::DirBuilder::new().mode(0o700).create(&resolved) {
        Ok(()) => {}
        Err(e) if e.kind() == IoKind::AlreadyExists => {}
        Err(e) => {
            return Err(Untrusted::new(
                &resolved,
                format!("cannot be created ({e})"),
            ));
        }
    }
    check_dir(&resolved)?;
    Ok(resolved)
}

/// Checks an existing directory without creating anything.
pub fn verify_private_dir(path: &Path) -> Result<PathBuf, Untrusted> {
    let resolved = resolve_parent(path, false)?;
    check_dir(&resolved)?;
    Ok(resolved)
}

fn check_dir(path: &Path) -> Result<(), Untrusted> {
    let meta = fs::symlink_metadata(path)
        .map_err(|e| Untrusted::new(path, format!("cannot be checked ({e})")))?;
    check_dir_metadata(&meta).map_err(|why| Untrusted::new(path, why))
}

/// A new directory under `parent` with a random name (mkdtemp: mode 0700,
/// created with O_EXCL semantics, so never one that existed before).
/// `parent` itself is created or verified first.
pub fn fresh_private_dir(parent: &Path, prefix: &str) -> Result<PathBuf, Untrusted> {
    let parent = ensure_private_dir_or_shared_tmp(parent)?;
    let template = parent.join(format!("{prefix}XXXXXX"));
    let dir = nix::unistd::mkdtemp(&template)
        .map_err(|e| Untrusted::new(&template, format!("cannot be created ({})", e.desc())))?;
    let meta = fs::symlink_metadata(&dir)
        .map_err(|e| Untrusted::new(&dir, format!("cannot be checked ({e})")))?;
    check_dir_metadata(&meta).map_err(|why| Untrusted::new(&dir, why))?;
    if meta.mode() & 0o077 != 0 {
        return Err(Untrusted::new(
            &dir,
            format!(
                "was not created private (mode {:04o})",
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(dir)
}

/// A world-writable sticky directory such as /tmp is a fine parent for a
/// fresh mkdtemp directory (nobody can rename or replace what we create
/// there); anything else must be private.
fn ensure_private_dir_or_shared_tmp(parent: &Path) -> Result<PathBuf, Untrusted> {
    if let Ok(meta) = fs::symlink_metadata(parent)
        && meta.is_dir()
        && meta.mode() & 0o1000 != 0
        && meta.uid() == 0
    {
        let resolved = parent
            .canonicalize()
            .map_err(|e| Untrusted::new(parent, format!("cannot be resolved ({e})")))?;
        check_ancestors(&resolved, &resolved)?;
        return Ok(resolved);
    }
    ensure_private_dir(parent)
}

/// The directory for dmbench's ledgers, work dirs, VM sockets and locks:
/// `$XDG_RUNTIME_DIR/dmbench` (XDG_RUNTIME_DIR itself must be the user's
/// own private directory), else `/run/dmbench` for root, else
/// `$TMPDIR/dmbench-<uid>` (normally `/tmp`). Created 0700 when absent,
/// verified when present; a directory that fails is never used.
pub fn runtime_dir() -> Result<PathBuf, Untrusted> {
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        let xdg = PathBuf::from(xdg);
        let meta = fs::symlink_metadata(&xdg).map_err(|e| {
            Untrusted::new(&xdg, format!("(XDG_RUNTIME_DIR) cannot be checked ({e})"))
        })?;
        check_dir_metadata(&meta)
            .map_err(|why| Untrusted::new(&xdg, format!("(XDG_RUNTIME_DIR) {why}")))?;
        return ensure_private_dir(&xdg.join("dmbench"));
    }
    let euid = geteuid();
    if euid.is_root() {
        return ensure_private_dir(Path::new("/run/dmbench"));
    }
    ensure_private_dir(&std::env::temp_dir().join(format!("dmbench-{euid}")))
}

/// `runtime_dir()/name`, created or verified the same way.
pub fn runtime_subdir(name: &str) -> Result<PathBuf, Untrusted> {
    ensure_private_dir(&runtime_dir()?.join(name))
}

/// Opens a file for reading only if it is a regular file (O_NOFOLLOW, then
/// fstat: no symlink, FIFO or device) owned by the effective user and not
/// writable by group or others; reads at most `limit` bytes.
pub fn read_owned_file(path: &Path, limit: u64) -> Result<Vec<u8>, Untrusted> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Untrusted::new(path, "is a symlink"),
            _ => Untrusted::new(path, format!("cannot be opened ({e})")),
        })?;
    check_owned_file(&file, path)?;
    let mut text = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut text)
        .map_err(|e| Untrusted::new(path, format!("cannot be read ({e})")))?;
    if text.len() as u64 > limit {
        return Err(Untrusted::new(
            path,
            format!("is larger than {limit} bytes"),
        ));
    }
    Ok(text)
}

fn check_owned_file(file: &File, path: &Path) -> Result<(), Untrusted> {
    let meta = file
        .metadata()
        .map_err(|e| Untrusted::new(path, format!("cannot be checked ({e})")))?;
    if !meta.is_file() {
        return Err(Untrusted::new(path, "is not a regular file"));
    }
    check_owner_and_mode(&meta).map_err(|why| Untrusted::new(path, why))
}

/// Opens (creating mode 0600 when absent) a file in a directory that has
/// been verified private, never following a symlink in its place, and
/// checks it is the user's own regular file.
pub fn open_private_file(path: &Path, truncate: bool) -> Result<File, Untrusted> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Untrusted::new(path, "is a symlink"),
            _ => Untrusted::new(path, format!("cannot be opened ({e})")),
        })?;
    check_owned_file(&file, path)?;
    Ok(file)
}

/// A name that stays one path component: letters, digits, '_', '-', '.',
/// not starting with '.' (so never "..", never containing '/').
pub fn is_safe_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn chown(path: &Path, uid: u32) {
        std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    }

    /// Root can play another user by chown; elsewhere these tests say so,
    /// and fail where every test must run (CI, DMBENCH_REQUIRE_VM=1).
    pub(crate) fn need_root() -> bool {
        if geteuid().is_root() {
            return true;
        }
        let required = std::env::var_os("CI").is_some()
            || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "this test must run as root here (it makes files owned by another uid)"
        );
        eprintln!("SKIPPED: not root, cannot make a file owned by another user");
        false
    }

    #[test]
    fn a_new_dir_is_created_private() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = ensure_private_dir(&tmp.path().join("a/b")).expect("create");
        let meta = fs::symlink_metadata(&dir).expect("stat");
        assert_eq!(meta.mode() & 0o777, 0o700);
        assert_eq!(meta.uid(), geteuid().as_raw());
        // A second call verifies and accepts it.
        assert_eq!(ensure_private_dir(&dir).expect("again"), dir);
    }

    #[test]
    fn a_symlinked_dir_is_refused_and_not_followed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let target = tmp.path().join("target");
        fs::create_dir(&target).expect("mkdir");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let err = ensure_private_dir(&link).expect_err("symlink");
        assert_eq!(err.why, "is a symlink");
        assert!(
            err.to_string()
                .ends_with("is a symlink: refusing to use it")
        );
    }

    #[test]
    fn a_group_or_world_writable_dir_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("open");
        fs::create_dir(&dir).expect("mkdir");
        chmod(&dir, 0o777);
        let err = ensure_private_dir(&dir).expect_err("777");
        assert!(
            err.why.contains("writable by group or others (mode 0777)"),
            "{err}"
        );
        chmod(&dir, 0o770);
        assert!(verify_private_dir(&dir).is_err());
        // Readable by others is fine (a cache made with umask 022).
        chmod(&dir, 0o755);
        verify_private_dir(&dir).expect("0755 is not writable by others");
    }

    #[test]
    fn a_file_in_place_of_a_dir_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("f");
        fs::write(&file, b"x").expect("write");
        assert_eq!(
            ensure_private_dir(&file).expect_err("file").why,
            "is not a directory"
        );
    }

    #[test]
    fn a_dir_owned_by_someone_else_is_refused_with_both_uids() {
        if !need_root() {
            return;
        }
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("squatted");
        fs::create_dir(&dir).expect("mkdir");
        chmod(&dir, 0o700);
        chown(&dir, 65534);
        let err = ensure_private_dir(&dir).expect_err("foreign");
        assert_eq!(err.why, "is owned by uid 65534, not you (0)");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is owned by uid 65534, not you (0): refusing to use it",
                dir.display()
            )
        );
    }

    #[test]
    fn a_dir_below_a_foreign_parent_is_refused() {
        if !need_root() {
            return;
        }
        let tmp = tempfile::tempdir().expect("tmp");
        let parent = tmp.path().join("theirs");
        fs::create_dir(&parent).expect("mkdir");
        chown(&parent, 65534);
        let err = ensure_private_dir(&parent.join("mine")).expect_err("foreign parent");
        assert!(err.why.contains("owned by uid 65534"), "{err}");
        assert!(!parent.join("mine").exists(), "nothing is created below it");
    }

    #[test]
    fn fresh_dirs_are_new_private_and_distinct() {
        let tmp = tempfile::tempdir().expect("tmp");
        let a = fresh_private_dir(tmp.path(), "vm-").expect("a");
        let b = fresh_private_dir(tmp.path(), "vm-").expect("b");
        assert_ne!(a, b);
        for d in [&a, &b] {
            assert!(d.starts_with(tmp.path().canonicalize().expect("canon")));
            let meta = fs::symlink_metadata(d).expect("stat");
            assert_eq!(meta.mode() & 0o777, 0o700);
        }
    }

    #[test]
    fn fresh_dirs_may_live_in_a_sticky_shared_tmp() {
        let dir = fresh_private_dir(Path::new("/tmp"), "dmbench-test-").expect("fresh");
        let meta = fs::symlink_metadata(&dir).expect("stat");
        assert_eq!(meta.mode() & 0o777, 0o700);
        fs::remove_dir(&dir).expect("cleanup");
    }

    #[test]
    fn owned_files_are_read_and_others_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("l.json");
        fs::write(&file, b"{}").expect("write");
        chmod(&file, 0o600);
        assert_eq!(read_owned_file(&file, 100).expect("read"), b"{}");
        assert!(read_owned_file(&file, 1).is_err(), "over the limit");

        chmod(&file, 0o622);
        assert!(
            read_owned_file(&file, 100)
                .expect_err("g+w")
                .why
                .contains("writable")
        );
        chmod(&file, 0o600);

        let link = tmp.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert_eq!(
            read_owned_file(&link, 100).expect_err("link").why,
            "is a symlink"
        );

        let fifo = tmp.path().join("fifo.json");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        assert_eq!(
            read_owned_file(&fifo, 100).expect_err("fifo").why,
            "is not a regular file"
        );
    }

    #[test]
    fn a_private_file_is_never_opened_through_a_symlink() {
        let tmp = tempfile::tempdir().expect("tmp");
        let victim = tmp.path().join("victim");
        fs::write(&victim, b"keep").expect("write");
        let link = tmp.path().join("x.lock");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        assert!(open_private_file(&link, true).is_err());
        assert_eq!(fs::read(&victim).expect("read"), b"keep");
        let fresh = open_private_file(&tmp.path().join("y.lock"), false).expect("create");
        assert_eq!(fresh.metadata().expect("stat").mode() & 0o777, 0o600);
    }

    #[test]
    fn safe_names_are_one_component() {
        for ok in ["dmb0011aabb", "a.b-c_d"] {
            assert!(is_safe_name(OsStr::new(ok)), "{ok}");
        }
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(!is_safe_name(OsStr::new(bad)), "{bad}");
        }
    }
}
