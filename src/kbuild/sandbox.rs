//! The box every build of a module source runs in. A Makefile is code:
//! `$(shell ...)` runs as whoever builds, so a submission's Makefile could
//! read another student's work or the grader's files, or phone home.
//! Under bubblewrap the build sees only:
//!
//! - the toolchain, read-only: /usr (with the /bin, /lib symlinks of a
//!   merged-/usr system), the compilers the kernel tree records
//!   (`dmbench-toolchain.json`) when they live elsewhere, and the few
//!   files under /etc the dynamic loader and `cc` alternatives need;
//! - the kernel tree, read-only;
//! - a scratch copy of its own source, mounted where the source really is
//!   (so compiler messages, `__FILE__` in a WARN and the module's debug
//!   information name the student's own files), its only writable place;
//!
//! plus a private /tmp, /proc and a minimal /dev. No network, no home, no
//! other source, a new session (no terminal to push keystrokes into), all
//! capabilities dropped, and CPU-time, memory and file-size limits.
//! When the process that started it dies, the box dies with it.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

/// Per-process limits inside the box. Generous for a module (a Rust
/// module's rustc takes seconds and a few hundred MiB) and small enough
/// that a runaway `$(shell)` ends.
const CPU_SECONDS: u64 = 300;
const ADDRESS_SPACE: u64 = 4 << 30;
const FILE_SIZE: u64 = 1 << 30;

/// Directories and files a compiler needs that are not under /usr.
const SYSTEM_FILES: [&str; 4] = [
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
];

/// Merged-/usr links every shell script and `#!` line expects.
const USR_LINKS: [(&str, &str); 4] = [
    ("usr/bin", "/bin"),
    ("usr/sbin", "/sbin"),
    ("usr/lib", "/lib"),
    ("usr/lib64", "/lib64"),
];

/// bubblewrap's `bwrap`, or why there is none.
pub fn bwrap() -> Result<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("bwrap"))
                .find(|p| p.is_file())
        })
        .unwrap_or(None);
    match found {
        Some(path) => Ok(path),
        None => bail!(
            "bubblewrap is not installed (no `bwrap` on PATH): module sources are built \
             in its box, because a Makefile is code that runs on this host. Install \
             Debian's `bubblewrap` package (scripts/dev.sh setup does), or build a source \
             you trust with `dmbench build --unboxed`"
        ),
    }
}

/// `bwrap` found and able to make a box here: where user namespaces are
/// blocked (an AppArmor policy, a container without them) or a fresh /proc
/// cannot be mounted (a container's default procMount), it is installed
/// but every build would fail, and each student would be failed for it.
/// The probe is the build box itself (same mounts, limits and
/// capabilities) running `true`, so it cannot drift from what builds use.
pub fn working_bwrap() -> Result<PathBuf> {
    let bwrap = bwrap()?;
    let scratch = super::scratch::Scratch::new()?;
    let dir = scratch.path();
    let probe = BuildBox::new(dir, dir, dir, &[])?;
    let env = [("PATH".to_string(), "/usr/bin:/bin".into())];
    let tried = probe
        .command("true", &[], &env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output();
    match tried {
        Ok(out) if out.status.success() => Ok(bwrap),
        Ok(out) => bail!(
            "bubblewrap cannot make a build box on this machine ({}: {}): module builds \
             need one (user namespaces and a fresh /proc must be allowed for this user)",
            bwrap.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => bail!("bubblewrap ({}) does not run: {e}", bwrap.display()),
    }
}

/// One build's box: what it shows, where the source copy goes.
#[derive(Debug, Clone)]
pub struct BuildBox {
    bwrap: PathBuf,
    /// Read-only, each at its own path.
    read_only: Vec<PathBuf>,
    /// The scratch copy on this host, and where the build sees it.
    scratch: PathBuf,
    source: PathBuf,
}

impl BuildBox {
    /// A box for building `source` (canonical) from its copy in `scratch`
    /// against `kdir`; `tools` are the compilers the tree records.
    pub fn new(source: &Path, scratch: &Path, kdir: &Path, tools: &[PathBuf]) -> Result<BuildBox> {
        let mut read_only = vec![kdir.canonicalize().unwrap_or_else(|_| kdir.to_path_buf())];
        for tool in tools {
            if let Some(extra) = outside_usr(tool)
                && !read_only.contains(&extra)
            {
                read_only.push(extra);
            }
        }
        Ok(BuildBox {
            bwrap: bwrap()?,
            read_only,
            scratch: scratch.to_path_buf(),
            source: source.to_path_buf(),
        })
    }

    /// Every place the build can see of this host, for telling a reach
    /// outside from a file that is merely missing. Not /tmp: the box's own
    /// is empty, so a path there names something of the host's.
    pub fn visible(&self) -> Vec<PathBuf> {
        let mut seen: Vec<PathBuf> = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/proc", "/dev"]
            .iter()
            .chain(SYSTEM_FILES.iter())
            .map(PathBuf::from)
            .collect();
        seen.extend(self.read_only.iter().cloned());
        seen.push(self.source.clone());
        seen
    }

    /// `program args` inside the box, with exactly `env` as environment
    /// and the source as working directory.
    pub fn command(&self, program: &str, args: &[OsString], env: &[(String, OsString)]) -> Command {
        let mut cmd = Command::new(&self.bwrap);
        cmd.args(["--unshare-all", "--die-with-parent", "--new-session"])
            .args(["--cap-drop", "ALL"])
            .args(["--ro-bind", "/usr", "/usr"]);
        for (target, link) in USR_LINKS {
            if Path::new("/").join(target).is_dir() {
                cmd.args(["--symlink", target, link]);
            }
        }
        for file in SYSTEM_FILES {
            cmd.args(["--ro-bind-try", file, file]);
        }
        cmd.args(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
        for path in &self.read_only {
            cmd.arg("--ro-bind").arg(path).arg(path);
        }
        // Mounted last: a source below the kernel tree or /tmp still gets
        // its own writable copy.
        cmd.arg("--bind")
            .arg(&self.scratch)
            .arg(&self.source)
            .arg("--chdir")
            .arg(&self.source)
            .arg("--clearenv");
        for (key, value) in env {
            cmd.arg("--setenv").arg(key).arg(value);
        }
        cmd.arg("--").arg(program).args(args);
        limit(&mut cmd);
        cmd
    }
}

/// What must be shown for a compiler outside /usr: a Rust toolchain
/// directory (`<root>/bin/rustc` needs `<root>/lib/rustlib`), else the
/// file itself and nothing beside it. Whatever the box shows, a module
/// could carry into the VM and print into the report: `~/.cargo/bin/bindgen`
/// must not bring `~/.cargo` (and its credentials) along.
fn outside_usr(tool: &Path) -> Option<PathBuf> {
    let real = tool.canonicalize().ok()?;
    if real.starts_with("/usr") {
        return None;
    }
    if real.is_dir() {
        return Some(real);
    }
    let parent = real.parent()?;
    let root = parent.parent();
    match (parent.file_name(), root) {
        (Some(bin), Some(root)) if bin == "bin" && root.join("lib/rustlib").is_dir() => {
            Some(root.to_path_buf())
        }
        _ => Some(real),
    }
}

/// CPU time, address space, file size and no core dumps, set in the child
/// before bwrap runs, so they hold for every process in the box.
fn limit(cmd: &mut Command) {
    // SAFETY: setrlimit is async-signal-safe and touches only this child.
    unsafe {
        cmd.pre_exec(|| {
            for (resource, value) in [
                (libc::RLIMIT_CPU, CPU_SECONDS),
                (libc::RLIMIT_AS, ADDRESS_SPACE),
                (libc::RLIMIT_FSIZE, FILE_SIZE),
                (libc::RLIMIT_CORE, 0),
            ] {
                let limit = libc::rlimit {
                    rlim_cur: value,
                    rlim_max: value,
                };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// What a failed system call leaves in a build's output: a refused write
/// (anywhere but the source copy is read-only) ...
const REFUSED: [&str; 3] = [
    "Read-only file system",
    "Permission denied",
    "Operation not permitted",
];
/// ... a path the box does not show ...
const MISSING: [&str; 3] = [
    "No such file or directory",
    "Directory nonexistent",
    "cannot access",
];
/// ... or the network, which the box does not have.
const OFFLINE: [&str; 4] = [
    "Network is unreachable",
    "Could not resolve host",
    "Temporary failure in name resolution",
    "Name or service not known",
];

/// A line of build output that shows the build reaching outside its box:
/// writing anywhere but its source copy, a path of this host the box does
/// not show, or the network. `$(shell ...)` ignores such failures and make
/// goes on, so the output is the only place they show.
pub fn reached_outside(line: &str, visible: &[PathBuf], source: &Path) -> Option<String> {
    // `/bin/sh: 1: ...` names the program that speaks, not what it reached.
    let said = match line.split_once(": ") {
        Some((program, rest)) if program.starts_with('/') && !program.contains(' ') => rest,
        _ => line,
    };
    let paths = || {
        said.split(|c: char| c.is_whitespace() || "'\"`‘’:,;()[]=".contains(c))
            .filter(|word| word.starts_with('/') && word.len() > 1)
            .map(Path::new)
    };
    let reached = OFFLINE.iter().any(|w| line.contains(w))
        || (REFUSED.iter().any(|w| line.contains(w)) && paths().any(|p| !p.starts_with(source)))
        || (MISSING.iter().any(|w| line.contains(w))
            && paths().any(|p| !visible.iter().any(|v| p.starts_with(v))));
    reached.then(|| line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible() -> Vec<PathBuf> {
        ["/usr", "/dev", "/k/tree", "/home/alice/ex1/kmod/c"]
            .iter()
            .map(PathBuf::from)
            .collect()
    }

    const SOURCE: &str = "/home/alice/ex1/kmod/c";

    #[test]
    fn reaching_for_another_directory_is_seen() {
        let v = visible();
        for line in [
            "ls: cannot access '/home/bob/ex1': No such file or directory",
            "/bin/sh: 1: cannot create /home/alice/leak: Directory nonexistent",
            "Makefile:3: /etc/teacher.mk: No such file or directory",
            "cat: /root/.ssh/id_rsa: No such file or directory",
            "curl: (6) Could not resolve host: example.org",
            "ls: cannot access '/tmp/grading/bob': No such file or directory",
            "touch: cannot touch '/usr/lib/x': Read-only file system",
            "/bin/sh: 1: cannot create /k/tree/Makefile: Permission denied",
        ] {
            assert!(
                reached_outside(line, &v, Path::new(SOURCE)).is_some(),
                "{line}"
            );
        }
    }

    #[test]
    fn ordinary_build_output_and_errors_inside_are_not() {
        let v = visible();
        for line in [
            "  CC [M]  first_target.o",
            "first_target.c:12:10: fatal error: linux/nope.h: No such file or directory",
            "make[2]: *** No rule to make target '/home/alice/ex1/kmod/c/x.o'. Stop.",
            "/usr/bin/ld: cannot find -lfoo: No such file or directory",
            "/k/tree/scripts/Makefile.build:41: /home/alice/ex1/kmod/c/Kbuild: No such file or directory",
            "/bin/sh: 1: ./gen.sh: Permission denied",
        ] {
            assert!(
                reached_outside(line, &v, Path::new(SOURCE)).is_none(),
                "{line}"
            );
        }
    }

    #[test]
    fn a_rust_toolchain_outside_usr_is_shown_whole() {
        let root = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(root.path().join("bin")).expect("mkdir");
        std::fs::write(root.path().join("bin/rustc"), "").expect("w");
        let real = root.path().canonicalize().expect("canon");
        // A bin/ beside a lib/ is not a toolchain (~/.cargo may be that).
        std::fs::create_dir_all(root.path().join("lib")).expect("mkdir");
        assert_eq!(
            outside_usr(&root.path().join("bin/rustc")),
            Some(real.join("bin/rustc"))
        );
        std::fs::create_dir_all(root.path().join("lib/rustlib")).expect("mkdir");
        assert_eq!(
            outside_usr(&root.path().join("bin/rustc")),
            Some(real.clone())
        );
        std::fs::write(root.path().join("bindgen"), "").expect("w");
        assert_eq!(
            outside_usr(&root.path().join("bindgen")),
            Some(real.join("bindgen"))
        );
        assert_eq!(outside_usr(Path::new("/usr/bin/make")), None);
    }
}
