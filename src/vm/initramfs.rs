//! The guest image: a cpio "newc" archive holding the dmbench binary as
//! /init and exactly the shared libraries it needs. Under QEMU TCG every
//! megabyte costs boot time, so nothing else goes in.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A cpio newc writer (the format the kernel unpacks into rootfs).
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;
const S_IFLNK: u32 = 0o120000;

impl Default for Cpio {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpio {
    pub fn new() -> Self {
        Cpio {
            out: Vec::new(),
            ino: 1,
        }
    }

    fn header(&mut self, name: &str, mode: u32, size: usize, rdev: (u32, u32)) {
        let name_len = name.len() + 1;
        let ino = self.ino;
        self.ino += 1;
        let header = format!(
            "070701{ino:08x}{mode:08x}{uid:08x}{gid:08x}{nlink:08x}{mtime:08x}{size:08x}\
             {devmaj:08x}{devmin:08x}{rmaj:08x}{rmin:08x}{name_len:08x}{check:08x}",
            uid = 0,
            gid = 0,
            nlink = if mode & S_IFDIR != 0 { 2 } else { 1 },
            mtime = 0,
            devmaj = 0,
            devmin = 0,
            rmaj = rdev.0,
            rmin = rdev.1,
            check = 0,
        );
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
    }

    fn pad4(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    pub fn dir(&mut self, name: &str) {
        self.header(name, S_IFDIR | 0o755, 0, (0, 0));
    }

    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.header(name, S_IFREG | mode, data.len(), (0, 0));
        self.out.extend_from_slice(data);
        self.pad4();
    }

    pub fn symlink(&mut self, name: &str, target: &str) {
        self.header(name, S_IFLNK | 0o777, target.len(), (0, 0));
        self.out.extend_from_slice(target.as_bytes());
        self.pad4();
    }

    pub fn char_dev(&mut self, name: &str, major: u32, minor: u32) {
        self.header(name, S_IFCHR | 0o600, 0, (major, minor));
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 0, (0, 0));
        // The kernel reads in 512-byte blocks; pad like cpio(1) does.
        while !self.out.len().is_multiple_of(512) {
            self.out.push(0);
        }
        self.out
    }
}

/// Shared libraries a dynamic executable loads, by asking the loader.
pub fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .context("running ldd (package libc-bin)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("not a dynamic executable") || text.contains("statically linked") {
        return Ok(Vec::new());
    }
    if !out.status.success() {
        bail!(
            "ldd {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rhs)) => rhs.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path
            && p.starts_with('/')
        {
            if line.contains("not found") {
                bail!(
                    "{} needs a library that is not installed: {line}",
                    binary.display()
                );
            }
            libs.push(PathBuf::from(p));
        }
    }
    Ok(libs)
}

/// Every directory on the way to `path`, outermost first.
fn parents(path: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut acc = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(part);
        dirs.push(acc.clone());
    }
    dirs
}

/// Extra host programs to put in the guest's /bin (benchmarks use a static
/// busybox for `dd`): `DMBENCH_IMAGE_EXTRA=/bin/busybox:/path/x`.
pub fn extra_programs() -> Vec<PathBuf> {
    std::env::var_os("DMBENCH_IMAGE_EXTRA")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

/// The agent's bytes without its symbol table: the guest never needs it
/// (a panic there prints its message, not a backtrace), and under TCG
/// every megabyte of the image costs boot time (~10 ms/MiB to unpack).
/// Without binutils' objcopy the binary goes in as it is.
fn stripped(binary: &Path) -> Result<Vec<u8>> {
    if let Some(bytes) = objcopy_strip(binary) {
        return Ok(bytes);
    }
    std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))
}

fn objcopy_strip(binary: &Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::DirBuilderExt;
    // A fresh directory only we can enter: mkdir fails on anything that
    // already exists under that name, so no one can plant the output path.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dmbench-strip-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).ok()?;
    let out = dir.join("init");
    let ok = Command::new("objcopy")
        .arg("--strip-all")
        .arg(binary)
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let bytes = if ok { std::fs::read(&out).ok() } else { None };
    let _ = std::fs::remove_dir_all(&dir);
    bytes.filter(|b| !b.is_empty())
}

/// The guest image for `binary` (normally the running dmbench), gzip'd
/// when `compress` (smaller to load, slower to unpack under TCG).
pub fn build_image(binary: &Path, compress: bool) -> Result<Vec<u8>> {
    let mut cpio = Cpio::new();
    let mut made = std::collections::BTreeSet::new();
    for dir in ["dev", "proc", "sys", "run", "tmp", "lib", "lib64"] {
        cpio.dir(dir);
        made.insert(dir.to_string());
    }
    // The kernel opens /dev/console for init's stdio before devtmpfs exists.
    cpio.char_dev("dev/console", 5, 1);
    let exe = stripped(binary)?;
    cpio.file("init", 0o755, &exe);
    let extras = extra_programs();
    let mut libs = std::collections::BTreeSet::new();
    for program in std::iter::once(binary).chain(extras.iter().map(PathBuf::as_path)) {
        libs.extend(shared_libraries(program)?);
    }
    for lib in libs {
        let real = std::fs::canonicalize(&lib).unwrap_or_else(|_| lib.clone());
        let data = std::fs::read(&real).with_context(|| format!("reading {}", real.display()))?;
        let name = lib.to_string_lossy().trim_start_matches('/').to_string();
        for dir in parents(&name) {
            if made.insert(dir.clone()) {
                cpio.dir(&dir);
            }
        }
        cpio.file(&name, 0o755, &data);
    }
    if !extras.is_empty() && made.insert("bin".to_string()) {
        cpio.dir("bin");
    }
    for program in extras {
        let data =
            std::fs::read(&program).with_context(|| format!("reading {}", program.display()))?;
        let name = program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cpio.file(&format!("bin/{name}"), 0o755, &data);
    }
    let raw = cpio.finish();
    if !compress {
        return Ok(raw);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw)?;
    Ok(gz.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_entries_are_aligned_and_terminated() {
        let mut c = Cpio::new();
        c.dir("dev");
        c.file("init", 0o755, b"abc");
        c.char_dev("dev/console", 5, 1);
        let out = c.finish();
        assert_eq!(out.len() % 512, 0);
        assert!(out.starts_with(b"070701"));
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("TRAILER!!!"));
        // "init" header then data "abc" padded to 4.
        let pos = text.find("init\0").expect("init entry");
        let data_start = (pos + 5).div_ceil(4) * 4;
        assert_eq!(&out[data_start..data_start + 3], b"abc");
    }

    #[test]
    fn cpio_round_trips_through_the_system_cpio_when_present() {
        let mut c = Cpio::new();
        c.dir("lib");
        c.file("lib/x.txt", 0o644, b"hello");
        let image = c.finish();
        let dir = tempfile::tempdir().expect("tmp");
        let Ok(mut child) = Command::new("cpio")
            .args(["-idm", "--quiet"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("cpio(1) not installed; skipping the cross-check");
            return;
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&image)
            .expect("write");
        assert!(child.wait().expect("wait").success());
        assert_eq!(
            std::fs::read(dir.path().join("lib/x.txt")).expect("extracted"),
            b"hello"
        );
    }

    #[test]
    fn the_agent_goes_into_the_image_without_its_symbol_table() {
        let exe = std::env::current_exe().expect("test binary");
        let raw = std::fs::read(&exe).expect("read");
        let image = stripped(&exe).expect("stripped or raw");
        assert!(image.starts_with(b"\x7fELF"));
        if objcopy_strip(&exe).is_some() {
            assert!(image.len() < raw.len(), "{} !< {}", image.len(), raw.len());
        } else {
            assert_eq!(image, raw, "without objcopy the binary goes in unchanged");
        }
    }

    #[test]
    fn parents_lists_each_directory_once() {
        assert_eq!(
            parents("lib/x86_64-linux-gnu/libc.so.6"),
            vec!["lib", "lib/x86_64-linux-gnu"]
        );
    }
}
