//! The ledger: every resource a session created, in creation order,
//! persisted after each change so a killed session can be cleaned up by
//! `dmbench cleanup`. Teardown walks it in reverse.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

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
    /// A ledger persisted at `dir/<session>.json`.
    pub fn persistent(dir: &Path, session: &str, executor: &str) -> Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let ledger = Ledger {
            file: LedgerFile {
                session: session.to_string(),
                executor: executor.to_string(),
                pid: std::process::id(),
                resources: Vec::new(),
            },
            path: Some(dir.join(format!("{session}.json"))),
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
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(&self.file)?;
        let mut f = fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&text)?;
        f.sync_data()?;
        fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// Where ledgers live: $XDG_RUNTIME_DIR/dmbench, else /run/dmbench for root,
/// else the temp dir.
pub fn ledger_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DMBENCH_LEDGER_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(dir).join("dmbench");
    }
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/run/dmbench");
    }
    std::env::temp_dir().join(format!("dmbench-{}", nix::unistd::geteuid()))
}

/// Ledgers left by sessions whose process is gone.
pub fn orphaned_ledgers(dir: &Path) -> Result<Vec<(PathBuf, LedgerFile)>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let Ok(file) = serde_json::from_slice::<LedgerFile>(&text) else {
            continue;
        };
        if !process_alive(file.pid) {
            found.push((path, file));
        }
    }
    Ok(found)
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
        let orphans = orphaned_ledgers(dir.path()).expect("scan");
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].1.session, "dmb-dead");
    }
}
