//! Kernel source: Debian's linux-source fetched with a private apt state,
//! or a directory or tarball the user names.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

use super::toolchain::version_tuple;

/// Puts a kernel source tree into the directory it is given.
pub type Unpack = Box<dyn FnOnce(&Path) -> Result<()>>;

/// The version a source will build and how to unpack it; a Debian
/// package is resolved and fetched (or found in the download cache) here.
pub fn plan(source: Source, progress: &mut dyn FnMut(&str)) -> Result<(String, Unpack)> {
    Ok(match source {
        Source::Debian { package } => {
            progress("resolving linux-source in the Debian archive (private apt state)");
            let apt = PrivateApt::new()?;
            let (package, version) = resolve_debian_package(&apt, package.as_deref())?;
            progress(&format!("{package} {version}"));
            let deb = fetch_deb(&apt, &package, &version)?;
            (
                version,
                Box::new(move |dest: &Path| extract_deb(&deb, &package, dest)),
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
    })
}

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
        let root = crate::vm::cache_subdir("apt")?;
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
    let downloads = crate::vm::cache_subdir("downloads")?;
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

/// Runs `script` with bash's pipefail: with plain sh only a pipeline's last
/// command decides, and tar exits 0 on a stream cut at a member boundary,
/// so a failed `dpkg-deb` or `xz` before it would leave a partial tree.
fn sh(script: &str, what: &str) -> Result<()> {
    let status = Command::new("bash")
        .args(["-o", "pipefail", "-c", script])
        .status()
        .with_context(|| format!("{what}: running bash"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Parts of the kernel source an x86 build of the lab configuration never
/// reads, left out when unpacking (with NEVER_BUILT below: 55 % of the
/// files; unpacking, file creation more than decompression, was most of
/// the time before `make`). Every `Kconfig` stays, since configuring reads
/// them all, and so does the rest of `Documentation` (device-mapper's
/// pages, checkpatch's). A configuration that needed a part left out would
/// fail to build, not build something else.
const NEVER_READ: &[&str] = &[
    "Documentation/devicetree/*",
    "Documentation/ABI/*",
    "Documentation/translations/*",
    "Documentation/userspace-api/*",
    "Documentation/driver-api/*",
    "Documentation/networking/*",
    "Documentation/hwmon/*",
    "Documentation/arch/*",
    "Documentation/gpu/*",
    "tools/testing/*",
    "tools/perf/*",
];

/// Directories whose sources (C, headers, assembly, device trees) are
/// left out but whose `Kconfig` files stay: drivers the fragment never
/// enables, and the other architectures (crypto/Kconfig reads theirs).
const NEVER_BUILT: &[&str] = &[
    "drivers/gpu",
    "drivers/net",
    "drivers/media",
    "drivers/staging",
    "drivers/infiniband",
    "drivers/iio",
    "sound",
    "arch/alpha",
    "arch/arc",
    "arch/arm",
    "arch/arm64",
    "arch/csky",
    "arch/hexagon",
    "arch/loongarch",
    "arch/m68k",
    "arch/microblaze",
    "arch/mips",
    "arch/nios2",
    "arch/openrisc",
    "arch/parisc",
    "arch/powerpc",
    "arch/riscv",
    "arch/s390",
    "arch/sh",
    "arch/sparc",
    "arch/um",
    "arch/xtensa",
];

/// `--exclude` arguments for tar, quoted for the shell: anchored at `top`, the
/// tarball's top directory (so `sound` is not `include/sound`); tar's `*`
/// matches `/` in them, so each covers a whole subtree. None when `top`
/// is not a plain directory name: then everything is unpacked.
fn excludes(top: &str) -> String {
    let plain = !top.is_empty()
        && top
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if !plain {
        return String::new();
    }
    let never_read = NEVER_READ.iter().map(|p| format!("{top}/{p}"));
    let sources = NEVER_BUILT.iter().flat_map(|dir| {
        [
            format!("{top}/{dir}/*.[chS]"),
            format!("{top}/{dir}/*.dts*"),
        ]
    });
    let patterns: String = never_read
        .chain(sources)
        .map(|p| format!(" --exclude={}", shell_quote(Path::new(&p))))
        .collect();
    format!(" --anchored{patterns}")
}

/// Unpacks the kernel tarball inside a linux-source .deb into `dest`,
/// without what the build never reads. The tarball
/// (`usr/src/PACKAGE.tar.xz`, its files under `PACKAGE/`) is xz in
/// independent blocks, so xz decompresses it on every core.
fn extract_deb(deb: &Path, package: &str, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    sh(
        &format!(
            "dpkg-deb --fsys-tarfile {deb} | tar -xO --wildcards './usr/src/linux-source-*.tar.*' \
             | xz -dc -T0 | tar -x --strip-components=1 -C {dest}{excludes}",
            deb = shell_quote(deb),
            dest = shell_quote(dest),
            excludes = excludes(package),
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

#[cfg(test)]
mod tests {
    use super::excludes;

    #[test]
    fn excludes_are_anchored_at_the_top_directory() {
        let args = excludes("linux-source-7.3");
        assert!(args.starts_with(" --anchored "), "{args}");
        assert!(args.contains(" --exclude='linux-source-7.3/sound/*.[chS]'"));
        assert!(args.contains(" --exclude='linux-source-7.3/arch/arm64/*.dts*'"));
        assert!(args.contains(" --exclude='linux-source-7.3/Documentation/ABI/*'"));
        // Every pattern starts at the top, so include/sound is kept.
        for pattern in args.split(" --exclude=").skip(1) {
            assert!(pattern.starts_with("'linux-source-7.3/"), "{pattern}");
        }
    }

    #[test]
    fn an_odd_top_directory_unpacks_everything() {
        assert_eq!(excludes(""), "");
        assert_eq!(excludes("a'b"), "");
        assert_eq!(excludes("a/b"), "");
    }
}
