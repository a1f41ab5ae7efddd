//! Configuring (`tinyconfig` + the fragment) and making the lab kernel.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use super::source::{self, Source};
use super::toolchain::resolve_toolchain;
use super::*;
use crate::kbuild::{TOOLCHAIN_FILE, Toolchain};

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
    let (version, prepare) = source::plan(request.source, progress)?;
    let dir = crate::vm::cache_subdir("kernel")?.join(cache_key(&version, &rustc_version));
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

pub(super) fn bar(percent: u64) -> String {
    let filled = (percent / 5) as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(20 - filled))
}
