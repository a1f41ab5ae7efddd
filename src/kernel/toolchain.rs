//! The compilers a lab kernel build uses, found or explained.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::kbuild::Toolchain;

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

pub(super) fn version_tuple(v: &str) -> (u32, u32, u32) {
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
