//! Building a target module from a kmod source directory with kbuild
//! (`make -C KDIR M=SRC modules`), streaming the output line by line and
//! explaining the usual failures in plain words.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

pub mod cache;
mod diagnostics;
pub mod failures;
pub mod modules;
pub mod sandbox;
pub mod scratch;

pub use diagnostics::{BuildFailure, Diagnostic, Diagnostics};

use cache::{KernelIdentity, ModuleCache};

/// The compilers a kernel tree was built with, stored beside a cached lab
/// kernel; modules must be built with the same ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toolchain {
    pub rustc: Option<PathBuf>,
    pub bindgen: Option<PathBuf>,
    pub libclang_path: Option<PathBuf>,
}

pub const TOOLCHAIN_FILE: &str = "dmbench-toolchain.json";

impl Toolchain {
    /// The toolchain recorded in a lab kernel tree, or the defaults.
    pub fn for_tree(kdir: &Path) -> Toolchain {
        std::fs::read(kdir.join(TOOLCHAIN_FILE))
            .ok()
            .and_then(|t| serde_json::from_slice(&t).ok())
            .unwrap_or_default()
    }

    /// The compilers as make variables, for a module build.
    pub fn make_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        if let Some(rustc) = &self.rustc {
            args.push(format!("RUSTC={}", rustc.display()).into());
        }
        if let Some(bindgen) = &self.bindgen {
            args.push(format!("BINDGEN={}", bindgen.display()).into());
        }
        args
    }

    /// Passes the compilers to a `make` of a kernel tree or module.
    pub fn apply(&self, cmd: &mut Command) {
        if let Some(rustc) = &self.rustc {
            cmd.arg(format!("RUSTC={}", rustc.display()));
        }
        if let Some(bindgen) = &self.bindgen {
            cmd.arg(format!("BINDGEN={}", bindgen.display()));
        }
        if let Some(lib) = &self.libclang_path {
            cmd.env("LIBCLANG_PATH", lib);
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuiltModule {
    /// Module name (the .ko's stem), e.g. "basic_target".
    pub name: String,
    pub path: PathBuf,
    pub duration: Duration,
    pub warnings: Vec<Diagnostic>,
    /// Found in the module cache: this exact source was built for this
    /// exact kernel before.
    pub cached: bool,
    /// Every other module the same build made (a Makefile with several
    /// objects in obj-m), loadable by name like the first.
    pub others: Vec<OtherModule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherModule {
    pub name: String,
    pub path: PathBuf,
}

impl BuiltModule {
    /// The unstripped build beside the loadable one, for decoding crashes.
    pub fn debug_image(&self) -> Option<PathBuf> {
        cache::debug_image(&self.path)
    }

    /// Every module of the build: (name, loadable file, debug image).
    pub fn all(&self) -> Vec<(String, PathBuf, Option<PathBuf>)> {
        std::iter::once((self.name.clone(), self.path.clone()))
            .chain(self.others.iter().map(|o| (o.name.clone(), o.path.clone())))
            .map(|(name, path)| {
                let debug = cache::debug_image(&path);
                (name, path, debug)
            })
            .collect()
    }

    /// The names of every module of the build.
    pub fn names(&self) -> Vec<String> {
        self.all().into_iter().map(|(name, _, _)| name).collect()
    }

    fn from_files(files: Vec<PathBuf>, duration: Duration, cached: bool) -> Result<BuiltModule> {
        let mut files = files.into_iter();
        let path = files.next().context("a build without a module")?;
        Ok(BuiltModule {
            name: modules::module_name(&path),
            path,
            duration,
            warnings: Vec::new(),
            cached,
            others: files
                .map(|path| OtherModule {
                    name: modules::module_name(&path),
                    path,
                })
                .collect(),
        })
    }
}

/// What every module build adds to make's command line: DWARF for C and
/// Rust objects, which the crash decoder reads (the copy that is loaded
/// is stripped), with the build directory's paths recorded as `.`: a
/// build is the same wherever its source was when it was built (the
/// module cache shares it by content), and the decoder finds the files in
/// the source the session registered it with.
pub fn debug_flags(build_dir: &Path) -> [String; 2] {
    let dir = build_dir.display();
    [
        format!("KCFLAGS=-g -fdebug-prefix-map={dir}=."),
        format!("KRUSTFLAGS=-Cdebuginfo=2 --remap-path-prefix={dir}=."),
    ]
}

/// Names the build recipe above in the module cache's key: a change of
/// flags must not find builds made without them.
pub const BUILD_RECIPE: &str = "dwarf, paths relative to the source (1)";

/// Builds a kmod source against a kernel tree, reporting output lines:
/// [`build`] in real use, a stand-in in UI tests.
pub type Builder =
    std::sync::Arc<dyn Fn(&Path, &Path, &mut dyn FnMut(&str)) -> Result<BuiltModule> + Send + Sync>;

pub fn default_builder() -> Builder {
    std::sync::Arc::new(build)
}

/// The modules a kmod directory's Makefile or Kbuild declares (`obj-m :=
/// name.o`, `obj-m += a.o sub/b.o`), before anything is built: what the
/// UI can name a source by. Variables and conditionals are not expanded.
pub fn declared_modules(source: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for file in ["Kbuild", "Makefile"] {
        let Ok(text) = std::fs::read_to_string(source.join(file)) else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("obj-m") else {
                continue;
            };
            let Some((_, objects)) = rest.split_once('=') else {
                continue;
            };
            for object in objects.split_whitespace() {
                let name = object.rsplit('/').next().unwrap_or(object);
                if let Some(stem) = name.strip_suffix(".o")
                    && !stem.contains('$')
                    && !names.iter().any(|n| n == stem)
                {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names
}

/// The host's own kernel build tree, used when no lab kernel is given.
pub fn host_kdir() -> PathBuf {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    PathBuf::from(format!("/lib/modules/{release}/build"))
}

/// Checks a kernel tree can build this source, before running make.
pub fn preflight(source: &Path, kdir: &Path) -> Result<()> {
    if !source.join("Makefile").is_file() && !source.join("Kbuild").is_file() {
        bail!(
            "{} has no Makefile or Kbuild: not a kmod source directory",
            source.display()
        );
    }
    if !kdir.join("Makefile").is_file() {
        bail!(
            "kernel tree {} has no Makefile: the kernel headers/build tree is missing \
             (build the lab kernel with `dmbench kernel build`, or install your \
             distribution's kernel headers package)",
            kdir.display()
        );
    }
    let config = std::fs::read_to_string(kdir.join(".config")).with_context(|| {
        format!(
            "kernel tree {} has no .config: it was never configured",
            kdir.display()
        )
    })?;
    if !config.lines().any(|l| l == "CONFIG_MODULES=y") {
        bail!(
            "kernel tree {} was built without CONFIG_MODULES: it cannot load modules",
            kdir.display()
        );
    }
    if has_rust_sources(source) {
        if !config.lines().any(|l| l == "CONFIG_RUST=y") {
            bail!(
                "{} is a Rust module but kernel tree {} was built without CONFIG_RUST=y: \
                 use the lab kernel (`dmbench kernel build`) or a Rust-enabled tree",
                source.display(),
                kdir.display()
            );
        }
        check_rustc_matches(kdir, &config)?;
    }
    Ok(())
}

fn has_rust_sources(source: &Path) -> bool {
    std::fs::read_dir(source)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().and_then(|x| x.to_str()) == Some("rs"))
        })
        .unwrap_or(false)
}

/// Rust modules must be compiled by the exact rustc the kernel was.
fn check_rustc_matches(kdir: &Path, config: &str) -> Result<()> {
    let Some(tree_version) = config
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_RUSTC_VERSION="))
        .and_then(|v| v.parse::<u32>().ok())
    else {
        return Ok(());
    };
    let toolchain = Toolchain::for_tree(kdir);
    let rustc = toolchain
        .rustc
        .clone()
        .unwrap_or_else(|| PathBuf::from("rustc"));
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", rustc.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ours = text
        .split_whitespace()
        .nth(1)
        .and_then(parse_semver_number)
        .unwrap_or(0);
    if ours != tree_version {
        bail!(
            "rustc mismatch: kernel tree {} was built with rustc {} but {} is {}: \
             Rust modules must use the same compiler as the kernel",
            kdir.display(),
            format_semver_number(tree_version),
            rustc.display(),
            text.trim()
        );
    }
    Ok(())
}

/// "1.96.0" -> 109600, the kernel's CONFIG_RUSTC_VERSION encoding.
fn parse_semver_number(v: &str) -> Option<u32> {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    let (a, b, c) = (
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    );
    Some(a * 100_000 + b * 100 + c)
}

fn format_semver_number(n: u32) -> String {
    format!("{}.{}.{}", n / 100_000, (n / 100) % 1000, n % 100)
}

/// How a build runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions {
    /// In the bubblewrap box, from a scratch copy of the source (see
    /// `sandbox`). Off only for a source the user says they trust.
    pub boxed: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { boxed: true }
    }
}

/// A build that runs longer than this is stopped: a `$(shell sleep ...)`
/// uses no CPU time, so the CPU limit alone would not end it.
const BUILD_DEADLINE: Duration = Duration::from_secs(900);

/// Builds in the box, calling `on_line` with every output line as it
/// arrives; a source built before for the same kernel comes from the
/// module cache.
pub fn build(source: &Path, kdir: &Path, on_line: &mut dyn FnMut(&str)) -> Result<BuiltModule> {
    build_with(source, kdir, BuildOptions::default(), on_line)
}

pub fn build_with(
    source: &Path,
    kdir: &Path,
    options: BuildOptions,
    on_line: &mut dyn FnMut(&str),
) -> Result<BuiltModule> {
    let source = source
        .canonicalize()
        .with_context(|| format!("kmod source {}", source.display()))?;
    confined(&source)?;
    // Without its tree, the kernel this program runs on is still known,
    // and the host may have built for it.
    let kernel = KernelIdentity::of_tree(kdir).or_else(|| {
        (kdir == host_kdir())
            .then(KernelIdentity::running)
            .flatten()
    });
    // One spelling of the kernel tree for the box's mount and make's -C:
    // a relative or symlinked path would mean another place inside the box.
    let resolved_kdir = kdir.canonicalize().unwrap_or_else(|_| kdir.to_path_buf());
    let kdir = resolved_kdir.as_path();
    let digest = cache::source_digest(&source)?;
    let modules = ModuleCache::default_location()?;
    let can_build = kdir.join("Makefile").is_file();
    let built_at = cache::Built {
        dir: &source,
        boxed: options.boxed,
    };
    // Looked up again once this source's turn comes (below).
    let look_up = |on_line: &mut dyn FnMut(&str)| {
        cached(
            &modules,
            &digest,
            &built_at,
            kernel.as_ref(),
            can_build,
            on_line,
        )
    };
    if let Some(found) = look_up(on_line) {
        return Ok(found);
    }
    let memo = failures::FailureMemo::from_env();
    let memo_key = kernel
        .as_ref()
        .map(|k| modules.key_at(&digest, k, &built_at));
    let recall = |on_line: &mut dyn FnMut(&str)| {
        let failure = memo.as_ref()?.recall(memo_key.as_deref()?)?;
        on_line(
            "note: this source failed to build earlier in this grading run: the same failure, not built again",
        );
        Some(failure)
    };
    if let Some(failure) = recall(on_line) {
        return Err(failure.into());
    }
    if !can_build && let Some(kernel) = &kernel {
        bail!(
            "no kernel tree at {} to build {} against, and no build of this source for \
             kernel {} {} is cached",
            kdir.display(),
            source.display(),
            kernel.release,
            kernel.version
        );
    }
    if options.boxed {
        // Said before the source is looked at: without the box, nothing
        // is built.
        sandbox::bwrap()?;
    }
    preflight(&source, kdir)?;
    // Two builds of one source at once (a class's labs running side by
    // side) take turns, and the second finds the first's in the cache:
    // each source is built once per kernel. Unboxed, kbuild writes into
    // the source directory, and the turns also keep the builds apart.
    let _turn = lock_source(&source)?;
    if let Some(found) = look_up(on_line) {
        return Ok(found);
    }
    if let Some(failure) = recall(on_line) {
        return Err(failure.into());
    }
    let started = Instant::now();
    let mut digest = digest;
    let scratch = if options.boxed {
        let scratch = scratch::Scratch::new()?;
        let copied = scratch::copy_source(&source, scratch.path())?;
        // Kept under what is built: the copy, should the source have
        // changed since it was first read.
        digest = cache::source_digest(scratch.path())?;
        for skipped in &copied.skipped {
            on_line(&format!(
                "note: {} is not a regular file: left out of the build box",
                skipped.display()
            ));
        }
        Some(scratch)
    } else {
        None
    };
    let toolchain = Toolchain::for_tree(kdir);
    let (program, args, env) = make_invocation(&source, kdir, &toolchain);
    let (mut cmd, visible) = match &scratch {
        Some(scratch) => {
            let tools: Vec<PathBuf> = [
                &toolchain.rustc,
                &toolchain.bindgen,
                &toolchain.libclang_path,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
            let boxed = sandbox::BuildBox::new(&source, scratch.path(), kdir, &tools)?;
            (boxed.command(program, &args, &env), Some(boxed.visible()))
        }
        None => {
            let mut cmd = Command::new(program);
            cmd.args(&args).envs(env.iter().map(|(k, v)| (k, v)));
            (cmd, None)
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| match &scratch {
        Some(_) => "starting the build box (bwrap)".to_string(),
        None => "running make (is `make` installed?)".to_string(),
    })?;

    // stdout and stderr interleave through one channel, in arrival order.
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(spawn_line_reader(out, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(spawn_line_reader(err, tx.clone()));
    }
    drop(tx);
    let mut diagnostics = Diagnostics::default();
    let mut tail: Vec<String> = Vec::new();
    let mut outside: Vec<String> = Vec::new();
    let deadline = started + BUILD_DEADLINE;
    let mut overran = false;
    loop {
        let line = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() > deadline && !overran {
                    // The box dies with its first process, and everything
                    // in it (its own PID namespace) with the box.
                    let _ = child.kill();
                    overran = true;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        diagnostics.line(&line);
        if let Some(visible) = &visible
            && let Some(reach) = sandbox::reached_outside(&line, visible, &source)
            && !outside.contains(&reach)
        {
            // make reads a Makefile more than once: say each reach once.
            outside.push(reach);
        }
        tail.push(line.clone());
        if tail.len() > 30 {
            tail.remove(0);
        }
        on_line(&line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().context("waiting for make")?;
    let diagnostics = diagnostics.finish();
    if !status.success() || !outside.is_empty() || overran {
        let failure = BuildFailure {
            source: source.clone(),
            status: if overran {
                format!("stopped after {} s", BUILD_DEADLINE.as_secs())
            } else {
                status.to_string()
            },
            errors: diagnostics
                .into_iter()
                .filter(|d| d.severity == "error")
                .collect(),
            tail,
            outside,
        };
        if let (Some(memo), Some(key)) = (&memo, &memo_key)
            && failures::is_the_sources_own(&failure, overran, status.code().is_some())
        {
            memo.remember(key, &failure);
        }
        return Err(failure.into());
    }
    let build_dir = scratch.as_ref().map_or(source.as_path(), |s| s.path());
    let build_dir = build_dir.canonicalize()?;
    let found = modules::find_modules(&build_dir)?;
    let kept = match &kernel {
        Some(kernel) => {
            let kept = modules.store_at(&digest, kernel, &built_at, &found)?;
            modules.store(&digest, kernel, &found)?;
            kept
        }
        // Nothing to key a cache entry by: keep this build's modules in
        // a private directory of their own (the scratch copy goes away).
        None if scratch.is_some() => keep_uncached(&found)?,
        None => found,
    };
    let mut built = BuiltModule::from_files(kept, started.elapsed(), false)?;
    built.warnings = diagnostics
        .into_iter()
        .filter(|d| d.severity == "warning")
        .collect();
    Ok(built)
}

/// make's program, arguments and environment for building `source`.
fn make_invocation(
    source: &Path,
    kdir: &Path,
    toolchain: &Toolchain,
) -> (&'static str, Vec<OsString>, Vec<(String, OsString)>) {
    let mut args: Vec<OsString> = vec![
        "-C".into(),
        kdir.into(),
        format!("M={}", source.display()).into(),
        format!(
            "-j{}",
            std::thread::available_parallelism().map_or(2, |n| n.get())
        )
        .into(),
    ];
    // Line tables for the crash decoder, in the module only: the lab
    // kernel itself is built without debug information. The box shows the
    // copy at the source's own path, so that is the build directory.
    args.extend(debug_flags(source).into_iter().map(OsString::from));
    args.push("modules".into());
    args.extend(toolchain.make_args());
    let mut env: Vec<(String, OsString)> = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        // Compiler messages in one language, which the diagnostics read.
        ("LC_ALL".into(), "C".into()),
        ("HOME".into(), "/tmp".into()),
    ];
    if let Some(lib) = &toolchain.libclang_path {
        env.push(("LIBCLANG_PATH".into(), lib.into()));
    }
    ("make", args, env)
}

/// The cached build of this source for this kernel, if there is one that
/// fits: where this host can build, one built from this very directory
/// (its debug information names the files the crash decoder shows, and
/// another student's identical copy must not put their path in this
/// one's report); where it cannot, any build of the same files.
fn cached(
    modules: &ModuleCache,
    digest: &str,
    built_at: &cache::Built,
    kernel: Option<&KernelIdentity>,
    can_build: bool,
    on_line: &mut dyn FnMut(&str),
) -> Option<BuiltModule> {
    let kernel = kernel?;
    let found = if can_build {
        modules.lookup_at(digest, kernel, built_at)?
    } else {
        modules.lookup(digest, kernel)?
    };
    on_line(&format!(
        "{} is unchanged since it was built for kernel {} {}: using that build",
        built_at.dir.display(),
        kernel.release,
        kernel.version
    ));
    BuiltModule::from_files(found, Duration::ZERO, true).ok()
}

fn keep_uncached(found: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let dir = crate::private_dir::fresh_private_dir(
        &crate::private_dir::runtime_subdir("modules")?,
        "build-",
    )?;
    found
        .iter()
        .map(|module| {
            let kept = dir.join(module.file_name().context("a module without a name")?);
            std::fs::copy(module, &kept)
                .with_context(|| format!("keeping {}", module.display()))?;
            Ok(kept)
        })
        .collect()
}

/// Set by the grader for each run: the submission's own directory. A
/// source is built only from inside it, checked here on the resolved path
/// (the grader checked too, before the run; a student who can still write
/// to their directory could have swapped in a symlink since).
pub const CONFINE_ENV: &str = "DMBENCH_SOURCES_WITHIN";

fn confined(source: &Path) -> Result<()> {
    match std::env::var_os(CONFINE_ENV) {
        Some(root) => confined_to(source, Path::new(&root)),
        None => Ok(()),
    }
}

/// `source` (canonical) lies inside `root`, once that is resolved too.
fn confined_to(source: &Path, root: &Path) -> Result<()> {
    let root = root
        .canonicalize()
        .with_context(|| format!("the submission {}", root.display()))?;
    if source.starts_with(&root) {
        Ok(())
    } else {
        bail!(
            "module source {} lies outside the submission {} (a symlink or '..'): only \
             the submission's own files are graded",
            source.display(),
            root.display()
        )
    }
}

fn lock_source(source: &Path) -> Result<nix::fcntl::Flock<std::fs::File>> {
    let path = lock_path(source)?;
    let file = crate::private_dir::open_private_file(&path, false)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking {}: {}", path.display(), e.desc()))
}

/// The lock for one (canonical) source directory lives in the verified
/// runtime directory, keyed by a hash of the path: nothing is created in
/// the source tree, which someone else may be able to write to.
fn lock_path(source: &Path) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    use std::os::unix::ffi::OsStrExt;
    let digest = Sha256::digest(source.as_os_str().as_bytes());
    let key: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let locks = crate::private_dir::runtime_subdir("locks")?;
    Ok(locks.join(format!("build-{key}.lock")))
}

fn spawn_line_reader(
    stream: impl std::io::Read + Send + 'static,
    tx: mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graded_source_must_resolve_inside_its_submission() {
        let class = tempfile::tempdir().expect("tmp");
        let alice = class.path().join("alice/kmod/c");
        std::fs::create_dir_all(&alice).expect("mkdir");
        std::fs::create_dir_all(class.path().join("mallory/kmod")).expect("mkdir");
        let link = class.path().join("mallory/kmod/c");
        std::os::unix::fs::symlink(&alice, &link).expect("ln");
        let real = link.canonicalize().expect("resolves");
        assert!(confined_to(&real, &class.path().join("alice")).is_ok());
        let err = confined_to(&real, &class.path().join("mallory"))
            .expect_err("alice's tree under mallory's name")
            .to_string();
        assert!(err.contains("outside the submission"), "{err}");
    }

    #[test]
    fn the_build_lock_lives_in_the_runtime_dir_and_never_follows_a_symlink() {
        let source = tempfile::tempdir().expect("tmp");
        let path = lock_path(source.path()).expect("lock path");
        assert_eq!(path, lock_path(source.path()).expect("again"), "stable");
        assert!(path.starts_with(crate::private_dir::runtime_dir().expect("runtime")));
        drop(lock_source(source.path()).expect("lock"));
        assert_eq!(
            std::fs::read_dir(source.path()).expect("ls").count(),
            0,
            "nothing is made in the source tree"
        );
        // A symlink in the lock's place is not followed.
        std::fs::remove_file(&path).expect("rm");
        let victim = source.path().join("victim");
        std::fs::write(&victim, b"keep").expect("write");
        std::os::unix::fs::symlink(&victim, &path).expect("symlink");
        let refused = lock_source(source.path()).map(drop);
        std::fs::remove_file(&path).expect("rm link");
        assert!(refused.is_err());
        assert_eq!(std::fs::read(&victim).expect("read"), b"keep");
    }

    #[test]
    fn declared_modules_are_read_from_obj_m() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("Makefile"),
            "ifneq ($(KERNELRELEASE),)\nobj-m := crashy.o\nobj-m += sub/dmp.o $(EXTRA).o\n\
             crashy-y := crashy_main.o dm_glue.o\nendif\n",
        )
        .expect("write");
        assert_eq!(declared_modules(dir.path()), ["crashy", "dmp"]);
    }

    #[test]
    fn rustc_versions_encode_like_the_kernel() {
        assert_eq!(parse_semver_number("1.96.0"), Some(109600));
        assert_eq!(format_semver_number(109600), "1.96.0");
    }

    #[test]
    fn preflight_explains_a_missing_tree() {
        let src = tempfile::tempdir().expect("tmp");
        std::fs::write(src.path().join("Makefile"), "obj-m := x.o\n").expect("write");
        let err = preflight(src.path(), Path::new("/nonexistent/kdir")).expect_err("no tree");
        assert!(err.to_string().contains("no Makefile"), "{err}");
    }

    #[test]
    fn preflight_refuses_rust_on_a_tree_without_config_rust() {
        let src = tempfile::tempdir().expect("tmp");
        std::fs::write(src.path().join("Makefile"), "obj-m := x.o\n").expect("write");
        std::fs::write(src.path().join("x.rs"), "").expect("write");
        let kdir = tempfile::tempdir().expect("tmp");
        std::fs::write(kdir.path().join("Makefile"), "").expect("write");
        std::fs::write(kdir.path().join(".config"), "CONFIG_MODULES=y\n").expect("write");
        let err = preflight(src.path(), kdir.path()).expect_err("no rust");
        assert!(err.to_string().contains("CONFIG_RUST"), "{err}");
    }
}
