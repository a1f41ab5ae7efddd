//! The ledger: every resource a session created, in creation order,
//! persisted after each change so a killed session can be cleaned up by
//! `dmbench cleanup`. Teardown walks it in reverse.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::private_dir;

/// Something a session made and must unmake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resource", rename_all = "snake_case")]
pub enum Resource {
    /// A directory the session created for its files (removed when empty).
    WorkDir {
        path: PathBuf,
    },
    BackingFile {
        path: PathBuf,
    },
    LoopDevice {
        device: PathBuf,
        backing: PathBuf,
    },
    DmDevice {
        name: String,
    },
    /// A DM statistics region (`@stats_create`) on one of the session's
    /// devices.
    DmStats {
        device: String,
        region: u32,
    },
    Module {
        name: String,
    },
}

impl Resource {
    pub fn describe(&self) -> String {
        match self {
            Resource::WorkDir { path } => format!("work dir {}", path.display()),
            Resource::BackingFile { path } => format!("backing file {}", path.display()),
            Resource::LoopDevice { device, backing } => {
                format!("loop device {} ({})", device.display(), backing.display())
            }
            Resource::DmDevice { name } => format!("DM device {name}"),
            Resource::DmStats { device, region } => {
                format!("statistics region {region} of DM device {device}")
            }
            Resource::Module { name } => format!("module {name}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerFile {
    pub session: String,
    /// "local" or "vm": where the resources live.
    pub executor: String,
    /// Process that owns the session, to tell a live session from a dead one.
    pub pid: u32,
    pub resources: Vec<Resource>,
}

pub struct Ledger {
    file: LedgerFile,
    path: Option<PathBuf>,
}

impl Ledger {
    /// A ledger persisted at `dir/<session>.json`; `dir` is created private
    /// or must pass the private-directory check.
    pub fn persistent(dir: &Path, session: &str, executor: &str) -> Result<Self> {
        Self::adopt(
            dir,
            LedgerFile {
                session: session.to_string(),
                executor: executor.to_string(),
                pid: std::process::id(),
                resources: Vec::new(),
            },
        )
    }

    /// Takes over the ledger of a dead session (`dmbench cleanup`): the
    /// same file, now owned by this process, saved in one write so nothing
    /// in it is lost if this process dies too.
    pub fn adopt(dir: &Path, mut file: LedgerFile) -> Result<Self> {
        if !private_dir::is_safe_name(file.session.as_ref()) {
            bail!("session id '{}' is not a plain name", file.session);
        }
        let dir = private_dir::ensure_private_dir(dir)?;
        file.pid = std::process::id();
        let path = dir.join(format!("{}.json", file.session));
        let ledger = Ledger {
            file,
            path: Some(path),
        };
        ledger.save()?;
        Ok(ledger)
    }

    /// A ledger kept in memory only (tests).
    pub fn in_memory(session: &str, executor: &str) -> Self {
        Ledger {
            file: LedgerFile {
                session: session.to_string(),
                executor: executor.to_string(),
                pid: std::process::id(),
                resources: Vec::new(),
            },
            path: None,
        }
    }

    pub fn record(&mut self, resource: Resource) -> Result<()> {
        self.file.resources.push(resource);
        self.save()
    }

    pub fn forget(&mut self, resource: &Resource) -> Result<()> {
        if let Some(pos) = self.file.resources.iter().rposition(|r| r == resource) {
            self.file.resources.remove(pos);
        }
        self.save()
    }

    pub fn resources(&self) -> &[Resource] {
        &self.file.resources
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Deletes the ledger file once everything in it is gone.
    pub fn close(&mut self) -> Result<()> {
        if let Some(path) = &self.path
            && self.file.resources.is_empty()
        {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        // Write then rename, so a crash never leaves a half-written ledger.
        // The directory is private; the file is still never opened through
        // a symlink and is the user's own, mode 0600.
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(&self.file)?;
        let mut f = private_dir::open_private_file(&tmp, true)?;
        f.write_all(&text)?;
        f.sync_data()?;
        fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// Where ledgers live: the runtime directory (see
/// `private_dir::runtime_dir`), or `DMBENCH_LEDGER_DIR`, which must pass
/// the same check.
pub fn ledger_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DMBENCH_LEDGER_DIR") {
        return Ok(private_dir::ensure_private_dir(Path::new(&dir))?);
    }
    Ok(private_dir::runtime_dir()?)
}

/// A ledger is never larger than this; a bigger file is not one of ours.
const LEDGER_LIMIT: u64 = 1 << 20;

/// What a scan of the ledger directory found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Ledgers left by sessions whose process is gone.
    pub orphans: Vec<(PathBuf, LedgerFile)>,
    /// Files that look like ledgers but are not read, and why.
    pub refused: Vec<(PathBuf, String)>,
}

/// Scans `dir` (already verified private) for ledgers of dead sessions. A
/// ledger is read only if it is a regular file owned by the effective user
/// and not writable by group or others, and names the session its file
/// name says.
pub fn orphaned_ledgers(dir: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(scan),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    paths.sort();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        match read_ledger(&path) {
            Ok(file) if !process_alive(file.pid) => scan.orphans.push((path, file)),
            Ok(_) => {}
            Err(why) => scan.refused.push((path, why)),
        }
    }
    Ok(scan)
}

fn read_ledger(path: &Path) -> Result<LedgerFile, String> {
    let text = private_dir::read_owned_file(path, LEDGER_LIMIT).map_err(|e| e.why)?;
    let file: LedgerFile =
        serde_json::from_slice(&text).map_err(|e| format!("is not a ledger ({e})"))?;
    if !private_dir::is_safe_name(file.session.as_ref()) {
        return Err(format!(
            "names session '{}', not a plain name",
            file.session
        ));
    }
    if path.file_stem() != Some(file.session.as_ref()) {
        return Err(format!(
            "names session '{}', not the one its file name says",
            file.session
        ));
    }
    Ok(file)
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_ledger_tracks_record_and_forget() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ledger = Ledger::persistent(dir.path(), "dmb-test", "local").expect("ledger");
        let file = Resource::BackingFile {
            path: "/tmp/x.img".into(),
        };
        let dev = Resource::DmDevice { name: "d".into() };
        ledger.record(file.clone()).expect("record");
        ledger.record(dev.clone()).expect("record");
        let path = ledger.path().expect("has path").to_path_buf();
        let on_disk: LedgerFile =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(on_disk.resources, vec![file.clone(), dev.clone()]);

        ledger.forget(&dev).expect("forget");
        ledger.forget(&file).expect("forget");
        ledger.close().expect("close");
        assert!(!path.exists(), "an empty ledger is deleted on close");
    }

    #[test]
    fn a_ledger_of_a_dead_process_is_orphaned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = LedgerFile {
            session: "dmb-dead".into(),
            executor: "local".into(),
            pid: u32::MAX - 1,
            resources: vec![Resource::DmDevice { name: "x".into() }],
        };
        fs::write(
            dir.path().join("dmb-dead.json"),
            serde_json::to_vec(&file).expect("json"),
        )
        .expect("write");
        let _live = Ledger::persistent(dir.path(), "dmb-live", "local").expect("ledger");
        let scan = orphaned_ledgers(dir.path()).expect("scan");
        assert_eq!(scan.orphans.len(), 1);
        assert_eq!(scan.orphans[0].1.session, "dmb-dead");
        assert!(scan.refused.is_empty(), "{:?}", scan.refused);
    }

    fn write_ledger(dir: &Path, file_name: &str, session: &str) -> PathBuf {
        let file = LedgerFile {
            session: session.into(),
            executor: "local".into(),
            pid: u32::MAX - 1,
            resources: vec![Resource::BackingFile {
                path: "/home/someone/thesis.txt".into(),
            }],
        };
        let path = dir.join(file_name);
        fs::write(&path, serde_json::to_vec(&file).expect("json")).expect("write");
        path
    }

    fn refusal(scan: &Scan, path: &Path) -> String {
        scan.refused
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, why)| why.clone())
            .unwrap_or_else(|| panic!("{} was not refused: {scan:?}", path.display()))
    }

    #[test]
    fn ledgers_others_could_have_written_are_not_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let writable = write_ledger(dir.path(), "dmbw.json", "dmbw");
        fs::set_permissions(&writable, fs::Permissions::from_mode(0o666)).expect("chmod");
        let target = write_ledger(dir.path(), "elsewhere.txt", "dmbl");
        let link = dir.path().join("dmbl.json");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let renamed = write_ledger(dir.path(), "dmbx.json", "dmby");
        let unsafe_name = write_ledger(dir.path(), "..json", "..");
        fs::write(dir.path().join("junk.json"), b"not json").expect("write");

        let scan = orphaned_ledgers(dir.path()).expect("scan");
        assert!(scan.orphans.is_empty(), "{:?}", scan.orphans);
        assert!(refusal(&scan, &writable).contains("writable by group or others"));
        assert_eq!(refusal(&scan, &link), "is a symlink");
        assert!(refusal(&scan, &renamed).contains("not the one its file name says"));
        assert!(refusal(&scan, &unsafe_name).contains("not a plain name"));
        assert!(refusal(&scan, &dir.path().join("junk.json")).contains("is not a ledger"));
    }

    #[test]
    fn a_ledger_owned_by_another_user_is_not_read() {
        if !crate::private_dir::tests::need_root() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let planted = write_ledger(dir.path(), "dmbp.json", "dmbp");
        std::os::unix::fs::lchown(&planted, Some(65534), Some(65534)).expect("chown");
        let scan = orphaned_ledgers(dir.path()).expect("scan");
        assert!(scan.orphans.is_empty());
        assert_eq!(
            refusal(&scan, &planted),
            "is owned by uid 65534, not you (0)"
        );
    }

    #[test]
    fn a_ledger_is_never_written_through_a_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        fs::write(&victim, b"keep").expect("write");
        std::os::unix::fs::symlink(&victim, dir.path().join("dmbs.json.tmp")).expect("symlink");
        assert!(Ledger::persistent(dir.path(), "dmbs", "local").is_err());
        assert_eq!(fs::read(&victim).expect("read"), b"keep");
    }
}
