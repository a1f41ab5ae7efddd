//! Built modules, kept by what they were built from: the exact source
//! (every file of the kmod directory but kbuild's own output) and the
//! exact kernel (its release and build stamp, `uname -r` and `uname -v`).
//! A second build of the same source for the same kernel is a lookup:
//! a class's labs build each submission once, and a kernel without its
//! build tree (the sandbox guest running dmbench locally) still finds
//! the modules built for it on the host.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Which kernel a module is for: what `uname -r` and `uname -v` say on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelIdentity {
    pub release: String,
    pub version: String,
}

impl KernelIdentity {
    /// The kernel a built tree makes.
    pub fn of_tree(kdir: &Path) -> Option<KernelIdentity> {
        let release = std::fs::read_to_string(kdir.join("include/config/kernel.release")).ok()?;
        let header = std::fs::read_to_string(kdir.join("include/generated/utsversion.h")).ok()?;
        let version = header.lines().find_map(|l| {
            l.strip_prefix("#define UTS_VERSION ")
                .map(|v| v.trim().trim_matches('"').to_string())
        })?;
        Some(KernelIdentity {
            release: release.trim().to_string(),
            version,
        })
    }

    /// The kernel this program runs on.
    pub fn running() -> Option<KernelIdentity> {
        let uts = nix::sys::utsname::uname().ok()?;
        Some(KernelIdentity {
            release: uts.release().to_string_lossy().into_owned(),
            version: uts.version().to_string_lossy().into_owned(),
        })
    }

    /// The kernel, and how modules are built for it (a change of build
    /// flags must not find builds made without them).
    fn digest(&self) -> String {
        let text = format!(
            "{}\n{}\n{}",
            self.release,
            self.version,
            super::BUILD_RECIPE
        );
        hex(&Sha256::digest(text.as_bytes())[..8])
    }
}

/// Files kbuild writes into a module directory: not part of the source.
pub fn is_build_output(name: &str) -> bool {
    const SUFFIXES: [&str; 9] = [
        ".o", ".ko", ".mod", ".mod.c", ".a", ".cmd", ".d", ".rmeta", ".lock",
    ];
    const NAMES: [&str; 3] = ["modules.order", "Module.symvers", ".tmp_versions"];
    NAMES.contains(&name) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// A digest of every source file under `dir` (names and contents, in a
/// fixed order), kbuild's output and hidden directories left out.
pub fn source_digest(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut hash = Sha256::new();
    for relative in &files {
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update([0]);
        let mut file = std::fs::File::open(dir.join(relative))
            .with_context(|| format!("reading {}", dir.join(relative).display()))?;
        let mut buffer = Vec::new();
        file.read_to_end(&mut buffer)?;
        hash.update((buffer.len() as u64).to_le_bytes());
        hash.update(&buffer);
    }
    Ok(hex(&hash.finalize()[..12]))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_dir() && !name.starts_with('.') {
            collect(root, &entry.path(), out)?;
        } else if kind.is_file()
            && !is_build_output(&name)
            && let Ok(relative) = entry.path().strip_prefix(root)
        {
            out.push(relative.to_path_buf());
        }
    }
    Ok(())
}

/// The build with debug information kept beside a cached module.
pub fn debug_image(module: &Path) -> Option<PathBuf> {
    let mut name = module.file_name()?.to_os_string();
    name.push(".debug");
    let debug = module.with_file_name(name);
    debug.is_file().then_some(debug)
}

/// `objcopy --strip-debug`; without objcopy the module is kept whole.
fn strip_debug(from: &Path, to: &Path) -> Result<()> {
    let stripped = std::process::Command::new("objcopy")
        .arg("--strip-debug")
        .arg(from)
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(from, to).with_context(|| format!("keeping {}", from.display()))?;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where and how a build was made: its debug information names files in
/// `dir`.
#[derive(Debug, Clone, Copy)]
pub struct Built<'a> {
    pub dir: &'a Path,
    pub boxed: bool,
}

/// Where built modules are kept: `<dmbench cache>/modules/<source>-<kernel>/`.
pub struct ModuleCache {
    root: PathBuf,
}

impl ModuleCache {
    pub fn new(root: PathBuf) -> Self {
        ModuleCache { root }
    }

    /// The cache under dmbench's cache directory, made private or checked
    /// to be (a module another local user could plant there would be
    /// loaded as a student's build, and graded as theirs).
    pub fn default_location() -> Result<Self> {
        Ok(ModuleCache::new(crate::vm::cache_subdir("modules")?))
    }

    fn entry(&self, source: &str, kernel: &KernelIdentity) -> PathBuf {
        self.root.join(format!("{source}-{}", kernel.digest()))
    }

    /// The entry of a build made in the directory `built_at`, in the
    /// build box or not (a build made outside it never stands in for one
    /// that must run in it: the box is what fails a Makefile that reaches
    /// outside).
    fn entry_at(&self, source: &str, kernel: &KernelIdentity, built_at: &Built) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let mut hash = Sha256::new();
        hash.update(built_at.dir.as_os_str().as_bytes());
        hash.update(if built_at.boxed {
            b"\0boxed" as &[u8]
        } else {
            b"\0unboxed"
        });
        let at = hex(&hash.finalize()[..6]);
        self.root
            .join(format!("{source}-{}-at-{at}", kernel.digest()))
    }

    /// The name of the entry `lookup_at` reads: one source, kernel and
    /// build place (what a build's failure is remembered under, too).
    pub fn key_at(&self, source: &str, kernel: &KernelIdentity, built_at: &Built) -> String {
        self.entry_at(source, kernel, built_at)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The modules built from `source` for `kernel`, if any were kept.
    pub fn lookup(&self, source: &str, kernel: &KernelIdentity) -> Option<Vec<PathBuf>> {
        Self::modules_in(&self.entry(source, kernel))
    }

    /// The modules built from `source` for `kernel` in the directory
    /// `built_at` (whose paths their debug information carries).
    pub fn lookup_at(
        &self,
        source: &str,
        kernel: &KernelIdentity,
        built_at: &Built,
    ) -> Option<Vec<PathBuf>> {
        Self::modules_in(&self.entry_at(source, kernel, built_at))
    }

    fn modules_in(dir: &Path) -> Option<Vec<PathBuf>> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ko"))
            .collect();
        found.sort();
        (!found.is_empty()).then_some(found)
    }

    /// Keeps copies of `modules`: `NAME.ko` stripped of debug information
    /// (what is loaded: smaller on the wire) and `NAME.ko.debug` as built
    /// (what crashes are decoded with); returns the loadable ones. The
    /// entry appears whole or not at all (written aside, then renamed).
    pub fn store(
        &self,
        source: &str,
        kernel: &KernelIdentity,
        modules: &[PathBuf],
    ) -> Result<Vec<PathBuf>> {
        self.store_in(&self.entry(source, kernel), modules)
    }

    /// As `store`, for lookups from the directory `built_at` only.
    pub fn store_at(
        &self,
        source: &str,
        kernel: &KernelIdentity,
        built_at: &Built,
        modules: &[PathBuf],
    ) -> Result<Vec<PathBuf>> {
        self.store_in(&self.entry_at(source, kernel, built_at), modules)
    }

    fn store_in(&self, dir: &Path, modules: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        // A fresh, unpredictable name (mkdtemp): nothing another process
        // made first.
        let staging = nix::unistd::mkdtemp(&self.root.join(format!(".staging-{name}-XXXXXX")))
            .with_context(|| format!("creating a staging directory in {}", self.root.display()))?;
        let filled = modules.iter().try_for_each(|module| -> Result<()> {
            let name = module.file_name().context("a module path without a name")?;
            let kept = staging.join(name);
            let debug = staging.join(format!("{}.debug", name.to_string_lossy()));
            std::fs::copy(module, &debug)
                .with_context(|| format!("keeping {}", module.display()))?;
            strip_debug(&debug, &kept)
        });
        if let Err(e) = filled {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(dir);
        if std::fs::rename(&staging, dir).is_err() {
            // Another build of the same source won the race: use its copy.
            let _ = std::fs::remove_dir_all(&staging);
        }
        Self::modules_in(dir).context("the module cache entry vanished while it was written")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> KernelIdentity {
        KernelIdentity {
            release: "7.3.4".into(),
            version: "#1 PREEMPT Sun Nov 29 23:41:26 UTC 2026".into(),
        }
    }

    #[test]
    fn the_digest_follows_sources_and_ignores_build_output() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("Makefile"), "obj-m := x.o\n").expect("w");
        std::fs::write(dir.path().join("x.c"), "int x;\n").expect("w");
        let first = source_digest(dir.path()).expect("digest");
        for output in ["x.o", "x.ko", ".x.o.cmd", "modules.order", "x.mod.c"] {
            std::fs::write(dir.path().join(output), "output").expect("w");
        }
        assert_eq!(source_digest(dir.path()).expect("digest"), first);
        std::fs::write(dir.path().join("x.c"), "int y;\n").expect("w");
        assert_ne!(source_digest(dir.path()).expect("digest"), first);
    }

    #[test]
    fn a_stored_module_is_found_for_the_same_kernel_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let built = dir.path().join("x.ko");
        std::fs::write(&built, b"\x7fELF").expect("w");
        let cache = ModuleCache::new(dir.path().join("cache"));
        assert!(cache.lookup("abc", &kernel()).is_none());
        let kept = cache.store("abc", &kernel(), &[built]).expect("store");
        assert_eq!(kept.len(), 1);
        assert!(
            debug_image(&kept[0]).is_some(),
            "the unstripped build is kept"
        );
        assert_eq!(cache.lookup("abc", &kernel()), Some(kept));
        let other = KernelIdentity {
            version: "#2".into(),
            ..kernel()
        };
        assert!(cache.lookup("abc", &other).is_none());
    }

    #[test]
    fn a_tree_and_the_running_kernel_name_themselves_alike() {
        let tree = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(tree.path().join("include/config")).expect("mkdir");
        std::fs::create_dir_all(tree.path().join("include/generated")).expect("mkdir");
        std::fs::write(tree.path().join("include/config/kernel.release"), "7.3.4\n").expect("w");
        std::fs::write(
            tree.path().join("include/generated/utsversion.h"),
            "#define UTS_VERSION \"#1 PREEMPT Sun Nov 29 23:41:26 UTC 2026\"\n",
        )
        .expect("w");
        assert_eq!(KernelIdentity::of_tree(tree.path()), Some(kernel()));
    }
}
