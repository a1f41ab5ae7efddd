//! The lab kernel: Debian's kernel source (or any tree the user names),
//! `make tinyconfig` + `assets/kernel/dmbench.config`, built once and cached
//! under `~/.cache/dmbench/kernel/<version>-<fragment hash>-rustc<version>`.
//! The built tree stays usable as KDIR for out-of-tree C and Rust modules.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::kbuild::{TOOLCHAIN_FILE, Toolchain};

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
    super::cache_dir().join("kernel")
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
    let mut found: Vec<BuiltKernel> = std::fs::read_dir(super::cache_subdir("kernel").ok()?)
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
    super::cache_subdir("kernel")?;
    find_cached().map(|k| k.image()).ok_or_else(|| {
        anyhow!(
            "no lab kernel is cached under {}: run `dmbench kernel build` first (about 7 \
             minutes on 2 cores)",
            kernel_root().display()
        )
    })
}

// ---- prerequisites ---------------------------------------------------------

/// The compilers the build will use, found or explained.
pub fn resolve_toolchain() -> Result<(Toolchain, String)> {
    let mut missing: Vec<String> = Vec::new();
    for (tool, package) in [
        ("make", "make"),
        ("gcc", "gcc"),
        ("flex", "flex"),
        ("bison", "bison"),
        ("bc", "bc"),
        ("perl", "perl"),
        ("xz", "xz-utils"),
        ("tar", "tar"),
    ] {
        if which(tool).is_none() {
            missing.push(format!("{tool} (apt-get install {package})"));
        }
    }
    for (header, package) in [
        ("/usr/include/libelf.h", "libelf-dev"),
        ("/usr/include/openssl/ssl.h", "libssl-dev"),
    ] {
        if !Path::new(header).exists() {
            missing.push(format!("{header} (apt-get install {package})"));
        }
    }
    // Debian's rustc-web (1.96, from the system's own security suite) is
    // preferred: its rust-src comes from the same archive, so the pair never
    // drifts apart.
    let rustc = std::env::var_os("DMBENCH_RUSTC")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/rustc")).filter(|p| p.is_file()))
        .or_else(|| which("rustc"));
    let mut rustc_version = String::new();
    match &rustc {
        None => missing.push("rustc (apt-get install rustc-web rust-web-src)".into()),
        Some(rustc) => {
            rustc_version = tool_version(rustc, "--version").unwrap_or_default();
            let sysroot = Command::new(rustc)
                .args(["--print", "sysroot"])
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            let core = Path::new(&sysroot).join("lib/rustlib/src/rust/library/core/src/lib.rs");
            if !core.is_file() {
                missing.push(format!(
                    "rust-src for {} {rustc_version} (expected {}; for /usr/bin/rustc: \
                     apt-get install rust-web-src)",
                    rustc.display(),
                    core.display()
                ));
            }
        }
    }
    let bindgen = std::env::var_os("DMBENCH_BINDGEN")
        .map(PathBuf::from)
        .or_else(|| which("bindgen"))
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cargo/bin/bindgen"))
                .filter(|p| p.is_file())
        });
    match &bindgen {
        None => missing.push("bindgen-cli >= 0.71.1 (cargo install --locked bindgen-cli)".into()),
        Some(b) => {
            let v = tool_version(b, "--version").unwrap_or_default();
            if version_tuple(&v) < (0, 71, 1) {
                missing.push(format!(
                    "bindgen-cli >= 0.71.1 ({} is {v}; cargo install --locked bindgen-cli)",
                    b.display()
                ));
            }
        }
    }
    let libclang = newest_libclang();
    match &libclang {
        Some((_, major)) if *major >= 17 => {}
        Some((dir, major)) => missing.push(format!(
            "libclang >= 17 (found {major} in {}; apt-get install libclang-19-dev)",
            dir.display()
        )),
        None => missing.push("libclang >= 17 (apt-get install libclang-19-dev)".into()),
    }
    if !missing.is_empty() {
        bail!(
            "cannot build the lab kernel; missing:\n  - {}",
            missing.join("\n  - ")
        );
    }
    Ok((
        Toolchain {
            rustc,
            bindgen,
            libclang_path: libclang.map(|(d, _)| d),
        },
        rustc_version,
    ))
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// "rustc 1.96.0 (ac68faa20 2026-05-25)" -> "1.96.0"
fn tool_version(tool: &Path, flag: &str) -> Option<String> {
    let out = Command::new(tool).arg(flag).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

fn version_tuple(v: &str) -> (u32, u32, u32) {
    let mut it = v.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    });
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// /usr/lib/llvm-N/lib with the highest N that has libclang.
fn newest_libclang() -> Option<(PathBuf, u32)> {
    if let Some(dir) = std::env::var_os("LIBCLANG_PATH") {
        let dir = PathBuf::from(dir);
        let major = dir
            .to_string_lossy()
            .split("llvm-")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(17);
        return Some((dir, major));
    }
    std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let major: u32 = name.strip_prefix("llvm-")?.parse().ok()?;
            let lib = e.path().join("lib");
            let has = std::fs::read_dir(&lib)
                .ok()?
                .flatten()
                .any(|f| f.file_name().to_string_lossy().starts_with("libclang"));
            has.then_some((lib, major))
        })
        .max_by_key(|(_, m)| *m)
}

// ---- source ----------------------------------------------------------------

pub enum Source {
    /// Debian's `linux-source-X.Y` (newest offered, or the one named).
    Debian {
        package: Option<String>,
    },
    Dir(PathBuf),
    Tarball(PathBuf),
}

/// apt with a private state directory: never touches the system's sources.
struct PrivateApt {
    root: PathBuf,
}

impl PrivateApt {
    fn new() -> Result<Self> {
        let root = super::cache_subdir("apt")?;
        for d in ["lists/partial", "cache/archives/partial", "etc"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        let mirror = debian_mirror()?;
        // Newest kernels (with the Rust and DM support the lab needs) live
        // in backports; its index is small, so an update is quick.
        let suite = std::env::var("DMBENCH_KERNEL_SUITE")
            .unwrap_or_else(|_| "trixie-backports".to_string());
        let sources = format!("deb {mirror} {suite} main\n");
        std::fs::write(root.join("etc/sources.list"), sources)?;
        Ok(PrivateApt { root })
    }

    fn options(&self) -> Vec<String> {
        vec![
            format!(
                "-oDir::Etc::SourceList={}",
                self.root.join("etc/sources.list").display()
            ),
            "-oDir::Etc::SourceParts=/dev/null".into(),
            format!("-oDir::State::Lists={}", self.root.join("lists").display()),
            format!("-oDir::Cache={}", self.root.join("cache").display()),
            "-oAPT::Sandbox::User=root".into(),
        ]
    }

    fn run(&self, tool: &str, args: &[&str], cwd: Option<&Path>) -> Result<String> {
        let mut cmd = Command::new(tool);
        cmd.args(self.options()).args(args);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let out = cmd
            .output()
            .with_context(|| format!("running {tool} (Debian's apt)"))?;
        if !out.status.success() {
            bail!(
                "{tool} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The Debian archive this machine already uses (its apt sources), so no
/// host is hard-coded; `DMBENCH_DEBIAN_MIRROR` overrides.
fn debian_mirror() -> Result<String> {
    if let Ok(m) = std::env::var("DMBENCH_DEBIAN_MIRROR") {
        return Ok(m);
    }
    let mut texts = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/etc/apt/sources.list") {
        texts.push(t);
    }
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sources") || name.ends_with(".list") {
                texts.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(|line| {
            let line = line.trim();
            let uri = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().next()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                rest.split_whitespace().find(|w| w.contains("://"))
            } else {
                None
            }?;
            (uri.trim_end_matches('/').ends_with("/debian")).then(|| uri.to_string())
        })
        .next()
        .ok_or_else(|| {
            anyhow!(
                "no Debian archive found in /etc/apt/sources*: set DMBENCH_DEBIAN_MIRROR or \
                 pass --source DIR|TARBALL"
            )
        })
}

/// Newest `linux-source-X.Y` the archive offers, with its version.
fn resolve_debian_package(apt: &PrivateApt, wanted: Option<&str>) -> Result<(String, String)> {
    apt.run("apt-get", &["-q", "update"], None)?;
    let package = match wanted {
        Some(p) => p.to_string(),
        None => {
            let listing = apt.run(
                "apt-cache",
                &["search", "--names-only", "^linux-source-[0-9.]+$"],
                None,
            )?;
            listing
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .max_by_key(|name| version_tuple(name.trim_start_matches("linux-source-")))
                .map(str::to_string)
                .ok_or_else(|| anyhow!("the archive offers no linux-source-* package"))?
        }
    };
    let policy = apt.run("apt-cache", &["policy", &package], None)?;
    let version = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(|v| v.trim().to_string())
        .filter(|v| v != "(none)")
        .ok_or_else(|| anyhow!("package {package} is not offered by the archive"))?;
    Ok((package, version))
}

/// The .deb, downloaded once and kept, so a rebuild never needs the archive.
fn fetch_deb(apt: &PrivateApt, package: &str, version: &str) -> Result<PathBuf> {
    let downloads = super::cache_subdir("downloads")?;
    let prefix = format!("{package}_{}", version.replace(':', "%3a"));
    if let Some(found) = find_file(&downloads, &prefix, ".deb") {
        return Ok(found);
    }
    apt.run(
        "apt-get",
        &["-q", "download", &format!("{package}={version}")],
        Some(&downloads),
    )?;
    find_file(&downloads, &prefix, ".deb")
        .ok_or_else(|| anyhow!("apt-get download {package} produced no .deb"))
}

fn find_file(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
}

fn sh(script: &str, what: &str) -> Result<()> {
    let status = Command::new("sh")
        .args(["-c", script])
        .status()
        .with_context(|| format!("{what}: running sh"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Unpacks the kernel tarball inside a linux-source .deb into `dest`.
fn extract_deb(deb: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    sh(
        &format!(
            "dpkg-deb --fsys-tarfile {deb} | tar -xO --wildcards './usr/src/linux-source-*.tar.*' \
             | tar -xJ --strip-components=1 -C {dest}",
            deb = shell_quote(deb),
            dest = shell_quote(dest)
        ),
        "extracting the kernel source",
    )
}

fn extract_tarball(tarball: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    sh(
        &format!(
            "tar -xf {} --strip-components=1 -C {}",
            shell_quote(tarball),
            shell_quote(dest)
        ),
        "extracting the kernel tarball",
    )
}

fn make_kernelversion(tree: &Path) -> Result<String> {
    let out = Command::new("make")
        .args(["-s", "kernelversion"])
        .current_dir(tree)
        .output()
        .context("make kernelversion")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// ---- build -----------------------------------------------------------------

/// Puts a kernel source tree into the directory it is given.
type Unpack = Box<dyn FnOnce(&Path) -> Result<()>>;

pub struct BuildRequest {
    pub source: Source,
}

/// Builds (or finds) the lab kernel. `progress` gets human lines.
pub fn build(request: BuildRequest, progress: &mut dyn FnMut(&str)) -> Result<BuiltKernel> {
    let (toolchain, rustc_version) = resolve_toolchain()?;
    if let Source::Debian { package: None } = request.source
        && let Some(k) = find_cached().filter(|k| k.rustc_version == rustc_version)
    {
        progress(&format!("cached: {}", k.tree().display()));
        return Ok(k);
    }
    let (version, prepare): (String, Unpack) = match request.source {
        Source::Debian { package } => {
            progress("resolving linux-source in the Debian archive (private apt state)");
            let apt = PrivateApt::new()?;
            let (package, version) = resolve_debian_package(&apt, package.as_deref())?;
            progress(&format!("{package} {version}"));
            let deb = fetch_deb(&apt, &package, &version)?;
            (
                version,
                Box::new(move |dest: &Path| extract_deb(&deb, dest)),
            )
        }
        Source::Tarball(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let version = name
                .trim_end_matches(".tar.xz")
                .trim_end_matches(".tar.gz")
                .trim_start_matches("linux-")
                .to_string();
            (
                version,
                Box::new(move |dest: &Path| extract_tarball(&path, dest)),
            )
        }
        Source::Dir(dir) => {
            let version = format!("tree-{}", make_kernelversion(&dir)?);
            (
                version,
                Box::new(move |dest: &Path| {
                    sh(
                        &format!("cp -a {}/. {}", shell_quote(&dir), shell_quote(dest)),
                        "copying the kernel tree",
                    )
                }),
            )
        }
    };
    let dir = super::cache_subdir("kernel")?.join(cache_key(&version, &rustc_version));
    if let Ok(text) = std::fs::read(dir.join(BUILT_FILE))
        && let Ok(mut k) = serde_json::from_slice::<BuiltKernel>(&text)
    {
        k.dir = dir;
        progress(&format!("cached: {}", k.tree().display()));
        return Ok(k);
    }
    let tree = dir.join("src");
    if !tree.join("Makefile").is_file() {
        // A half-extracted tree from an interrupted run is discarded.
        let _ = std::fs::remove_dir_all(&tree);
        progress("unpacking kernel source");
        prepare(&tree)?;
    }
    configure(&tree, &toolchain, progress)?;
    let expected = previous_steps().unwrap_or(1600);
    let started = Instant::now();
    let steps = run_make(&tree, &toolchain, expected, progress)?;
    std::fs::write(
        tree.join(TOOLCHAIN_FILE),
        serde_json::to_vec_pretty(&toolchain)?,
    )?;
    let built = BuiltKernel {
        version,
        fragment_hash: fragment_hash(),
        rustc_version,
        build_seconds: started.elapsed().as_secs_f64(),
        build_steps: steps,
        dir: dir.clone(),
    };
    std::fs::write(dir.join(BUILT_FILE), serde_json::to_vec_pretty(&built)?)?;
    progress(&format!(
        "built in {:.0} s: {}",
        built.build_seconds,
        built.tree().display()
    ));
    Ok(built)
}

fn previous_steps() -> Option<u64> {
    find_cached().map(|k| k.build_steps).filter(|s| *s > 0)
}

fn make_cmd(tree: &Path, toolchain: &Toolchain) -> Command {
    let mut cmd = Command::new("make");
    cmd.current_dir(tree);
    toolchain.apply(&mut cmd);
    cmd
}

/// tinyconfig + fragment, then checks every fragment line survived
/// olddefconfig (a dropped CONFIG_RUST means the toolchain is unusable).
fn configure(tree: &Path, toolchain: &Toolchain, progress: &mut dyn FnMut(&str)) -> Result<()> {
    progress("configuring: tinyconfig + assets/kernel/dmbench.config");
    let fragment = tree.join("dmbench.config");
    std::fs::write(&fragment, FRAGMENT)?;
    let quiet = |mut c: Command, what: &str| -> Result<()> {
        let out = c.output().with_context(|| what.to_string())?;
        if !out.status.success() {
            bail!(
                "{what} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    let mut c = make_cmd(tree, toolchain);
    c.arg("tinyconfig");
    quiet(c, "make tinyconfig")?;
    let mut c = Command::new("sh");
    c.current_dir(tree).args([
        "scripts/kconfig/merge_config.sh",
        "-m",
        ".config",
        "dmbench.config",
    ]);
    quiet(c, "merge_config.sh")?;
    let mut c = make_cmd(tree, toolchain);
    c.arg("olddefconfig");
    quiet(c, "make olddefconfig")?;
    let config = std::fs::read_to_string(tree.join(".config"))?;
    let dropped: Vec<&str> = FRAGMENT
        .lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter(|l| !config.lines().any(|c| c == *l))
        .collect();
    if !dropped.is_empty() {
        let mut hint = String::new();
        if dropped.contains(&"CONFIG_RUST=y") {
            let mut c = make_cmd(tree, toolchain);
            c.arg("rustavailable");
            if let Ok(out) = c.output() {
                hint = format!(
                    "\n`make rustavailable` says: {}{}",
                    String::from_utf8_lossy(&out.stdout).trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        bail!(
            "the kernel configuration dropped {} option(s) of the fragment: {}{hint}",
            dropped.len(),
            dropped.join(", ")
        );
    }
    Ok(())
}

/// `make vmlinux modules` with a progress bar scaled by the last build.
fn run_make(
    tree: &Path,
    toolchain: &Toolchain,
    expected: u64,
    progress: &mut dyn FnMut(&str),
) -> Result<u64> {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let log_path = tree.join("dmbench-build.log");
    let mut log = std::fs::File::create(&log_path)?;
    let mut cmd = make_cmd(tree, toolchain);
    cmd.arg(format!("-j{jobs}"))
        .args(["vmlinux", "modules"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("running make")?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let err_lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut steps = 0u64;
    let mut last_report = Instant::now() - Duration::from_secs(60);
    let mut last_percent = 0u64;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        steps += 1;
        let _ = writeln!(log, "{line}");
        let percent = (steps * 100 / expected.max(1)).min(99);
        let due = if tty {
            last_report.elapsed() > Duration::from_millis(500)
        } else {
            percent >= last_percent + 10
        };
        if due {
            last_report = Instant::now();
            last_percent = percent;
            progress(&format!(
                "building kernel: {} {percent:>2}% ({:.0} s) {}",
                bar(percent),
                started.elapsed().as_secs_f64(),
                line.trim()
            ));
        }
    }
    let errors = err_lines.join().unwrap_or_default();
    for l in &errors {
        let _ = writeln!(log, "{l}");
    }
    let status = child.wait()?;
    if !status.success() {
        let tail: Vec<&String> = errors.iter().rev().take(25).collect();
        bail!(
            "kernel build failed ({status}); full log in {}:\n{}",
            log_path.display(),
            tail.into_iter()
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    progress(&format!("building kernel: {} 100%", bar(100)));
    Ok(steps)
}

fn bar(percent: u64) -> String {
    let filled = (percent / 5) as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(20 - filled))
}

#[cfg(test)]
mod tests {
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
