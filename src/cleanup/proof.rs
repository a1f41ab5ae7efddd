//! Proofs that a resource named in a ledger read back from disk belongs to
//! that dead session, before `dmbench cleanup` touches it. The ledger was
//! written by the user's own dmbench, but a path, device or module named
//! in it is only acted on when the system itself confirms it: files by
//! where they really are, loop devices by their backing file, DM devices
//! by their UUID, modules by who still uses them.

use std::fs;
use std::io::ErrorKind as IoKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::exec::Executor;
use crate::exec::protocol::{ErrorKind, Request, Response};
use crate::session::UUID_PREFIX;
use crate::session::ledger::Resource;
use crate::session::teardown::Verdict;

pub struct Ownership {
    /// `DMBENCH-<session>-`.
    uuid_prefix: String,
    /// `<runtime dir>/work/<session>`, the runtime dir resolved: the only
    /// place the session's files can be.
    work_dir: PathBuf,
    /// `/sys/block` (tests point it at a fake tree).
    sys_block: PathBuf,
}

impl Ownership {
    /// `runtime` must be the verified runtime directory; `session` a plain
    /// name (the ledger scan refuses any other).
    pub fn new(runtime: &Path, session: &str) -> Ownership {
        Ownership {
            uuid_prefix: format!("{UUID_PREFIX}{session}-"),
            work_dir: runtime.join("work").join(session),
            sys_block: PathBuf::from("/sys/block"),
        }
    }

    pub fn with_sys_block(mut self, sys_block: &Path) -> Ownership {
        self.sys_block = sys_block.to_path_buf();
        self
    }

    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    pub fn check(&self, exec: &mut dyn Executor, resource: &Resource) -> Verdict {
        match resource {
            Resource::WorkDir { path } => self.file(path, true).map_or_else(Verdict::Refuse, |p| {
                p.map_or(Verdict::Gone, |path| {
                    Verdict::Remove(Resource::WorkDir { path })
                })
            }),
            Resource::BackingFile { path } => {
                self.file(path, false).map_or_else(Verdict::Refuse, |p| {
                    p.map_or(Verdict::Gone, |path| {
                        Verdict::Remove(Resource::BackingFile { path })
                    })
                })
            }
            Resource::LoopDevice { device, .. } => self.loop_device(device, resource),
            Resource::DmDevice { name } => self.dm_device(exec, name, resource),
            // A region lives on a device: it is the session's when the
            // device is (and goes with it).
            Resource::DmStats { device, .. } => self.dm_device(exec, device, resource),
            Resource::Module { name } => self.module(exec, name, resource),
        }
    }

    /// The path with every symlink resolved when it lies in the work dir
    /// (the work dir itself when `is_work_dir`), None when nothing is
    /// there; the reason otherwise.
    fn file(&self, path: &Path, is_work_dir: bool) -> Result<Option<PathBuf>, String> {
        if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
            return Err("is not a plain absolute path".into());
        }
        let (resolved, exists) = resolve(path)?;
        let inside = if is_work_dir {
            resolved == self.work_dir
        } else {
            resolved.starts_with(&self.work_dir) && resolved != self.work_dir
        };
        if !inside {
            let shown = if resolved == path {
                String::new()
            } else {
                format!("resolves to {}, which ", resolved.display())
            };
            return Err(if is_work_dir {
                format!(
                    "{shown}is not this session's work dir {}",
                    self.work_dir.display()
                )
            } else {
                format!(
                    "{shown}lies outside this session's work dir {}",
                    self.work_dir.display()
                )
            });
        }
        if !exists {
            return Ok(None);
        }
        let meta =
            fs::symlink_metadata(&resolved).map_err(|e| format!("cannot be checked ({e})"))?;
        let me = nix::unistd::geteuid().as_raw();
        if meta.uid() != me {
            return Err(format!("is owned by uid {}, not you ({me})", meta.uid()));
        }
        Ok(Some(resolved))
    }

    fn loop_device(&self, device: &Path, resource: &Resource) -> Verdict {
        let Some(name) = loop_name(device) else {
            return Verdict::Refuse(format!("{} is not a loop device", device.display()));
        };
        let file = self.sys_block.join(&name).join("loop/backing_file");
        let text = match fs::read_to_string(&file) {
            Ok(text) => text,
            // Not attached (or no such device): nothing to detach.
            Err(e) if e.kind() == IoKind::NotFound => return Verdict::Gone,
            Err(e) => return Verdict::Refuse(format!("cannot read {}: {e}", file.display())),
        };
        let backing = text.trim_end_matches('\n');
        let backing = Path::new(backing.strip_suffix(" (deleted)").unwrap_or(backing));
        // The kernel reports the resolved path of the file it holds.
        let inside = backing.is_absolute()
            && !backing.components().any(|c| c == Component::ParentDir)
            && backing.starts_with(&self.work_dir)
            && backing != self.work_dir;
        if inside {
            Verdict::Remove(resource.clone())
        } else {
            Verdict::Refuse(format!(
                "its backing file {} lies outside this session's work dir {}",
                backing.display(),
                self.work_dir.display()
            ))
        }
    }

    fn dm_device(&self, exec: &mut dyn Executor, name: &str, resource: &Resource) -> Verdict {
        match exec.call(Request::DmInfo {
            name: name.to_string(),
        }) {
            Ok(Response::Dm(info)) if info.uuid.starts_with(&self.uuid_prefix) => {
                Verdict::Remove(resource.clone())
            }
            Ok(Response::Dm(info)) if info.uuid.is_empty() => Verdict::Refuse(format!(
                "it has no UUID, so it is not this session's ({}*)",
                self.uuid_prefix
            )),
            Ok(Response::Dm(info)) => Verdict::Refuse(format!(
                "its UUID '{}' is not this session's ({}*)",
                info.uuid, self.uuid_prefix
            )),
            Ok(other) => Verdict::Refuse(format!("unexpected answer to info: {other:?}")),
            Err(e) if e.kind == ErrorKind::NotFound => Verdict::Gone,
            Err(e) => Verdict::Refuse(format!("its UUID cannot be checked: {}", e.full_text())),
        }
    }

    fn module(&self, exec: &mut dyn Executor, name: &str, resource: &Resource) -> Verdict {
        match exec.call(Request::ListModules) {
            Ok(Response::Modules { modules }) if !modules.iter().any(|m| m.name == name) => {
                return Verdict::Gone;
            }
            Ok(Response::Modules { .. }) => {}
            Ok(other) => return Verdict::Refuse(format!("unexpected answer: {other:?}")),
            Err(e) => {
                return Verdict::Refuse(format!("cannot list modules: {}", e.full_text()));
            }
        }
        match self.outside_users(exec, name) {
            Ok(users) if users.is_empty() => Verdict::Remove(resource.clone()),
            Ok(users) => Verdict::Refuse(format!(
                "DM device(s) {} (not this session's) use its target",
                users.join(", ")
            )),
            Err(why) => Verdict::Refuse(why),
        }
    }

    /// DM devices outside the session whose table names `target`.
    fn outside_users(&self, exec: &mut dyn Executor, target: &str) -> Result<Vec<String>, String> {
        let devices = match exec.call(Request::DmList) {
            Ok(Response::DmDevices { devices }) => devices,
            Ok(other) => return Err(format!("unexpected answer: {other:?}")),
            Err(e) => {
                return Err(format!(
                    "cannot list DM devices to see who uses it: {}",
                    e.full_text()
                ));
            }
        };
        let mut users = Vec::new();
        for device in devices {
            if device.uuid.starts_with(&self.uuid_prefix) {
                continue;
            }
            match exec.call(Request::DmTable {
                name: device.name.clone(),
            }) {
                Ok(Response::Table { lines, .. }) => {
                    if lines.iter().any(|l| l.target == target) {
                        users.push(device.name);
                    }
                }
                // Removed meanwhile: it uses nothing.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Ok(other) => return Err(format!("unexpected answer: {other:?}")),
                Err(e) => {
                    return Err(format!(
                        "cannot read the table of {}: {}",
                        device.name,
                        e.full_text()
                    ));
                }
            }
        }
        Ok(users)
    }
}

/// `loopN` for `/dev/loopN`, nothing else.
fn loop_name(device: &Path) -> Option<String> {
    let name = device.strip_prefix("/dev").ok()?.to_str()?;
    let digits = name.strip_prefix("loop")?;
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())).then(|| name.to_string())
}

/// `path` with every symlink resolved, and whether it exists. A path that
/// does not (fully) exist is resolved as far as it does; the rest cannot
/// be a symlink.
fn resolve(path: &Path) -> Result<(PathBuf, bool), String> {
    let mut existing = path;
    let mut missing = Vec::new();
    loop {
        match fs::symlink_metadata(existing) {
            Ok(_) => break,
            Err(e) if e.kind() == IoKind::NotFound => {
                missing.push(existing.file_name().ok_or("cannot be resolved")?);
                existing = existing.parent().ok_or("cannot be resolved")?;
            }
            Err(e) => return Err(format!("cannot be checked ({e})")),
        }
    }
    let mut resolved = existing
        .canonicalize()
        .map_err(|e| format!("cannot be resolved ({e})"))?;
    let exists = missing.is_empty();
    for part in missing.into_iter().rev() {
        resolved.push(part);
    }
    Ok((resolved, exists))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::discard_events;
    use crate::exec::fake::FakeExecutor;
    use crate::exec::protocol::TableLine;

    struct Setup {
        _tmp: tempfile::TempDir,
        runtime: PathBuf,
        outside: PathBuf,
    }

    fn setup() -> Setup {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let runtime = root.join("runtime");
        fs::create_dir_all(runtime.join("work/dmbs1")).expect("mkdir");
        let outside = root.join("victim");
        fs::create_dir(&outside).expect("mkdir");
        fs::write(outside.join("thesis.txt"), b"keep").expect("write");
        Setup {
            _tmp: tmp,
            runtime,
            outside,
        }
    }

    fn backing(path: PathBuf) -> Resource {
        Resource::BackingFile { path }
    }

    fn refused(v: Verdict) -> String {
        match v {
            Verdict::Refuse(why) => why,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn files_inside_the_work_dir_are_removed_by_their_real_path() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        let img = s.runtime.join("work/dmbs1/d.img");
        fs::write(&img, b"").expect("write");
        assert_eq!(
            proof.check(&mut exec, &backing(img.clone())),
            Verdict::Remove(backing(img.clone()))
        );
        // A roundabout spelling resolves to the same file.
        let roundabout = s.runtime.join("work/dmbs1/./d.img");
        assert_eq!(
            proof.check(&mut exec, &backing(roundabout)),
            Verdict::Remove(backing(img))
        );
        let dir = Resource::WorkDir {
            path: s.runtime.join("work/dmbs1"),
        };
        assert_eq!(proof.check(&mut exec, &dir), Verdict::Remove(dir.clone()));
        // Already gone: nothing to do.
        let gone = backing(s.runtime.join("work/dmbs1/never.img"));
        assert_eq!(proof.check(&mut exec, &gone), Verdict::Gone);
    }

    #[test]
    fn files_outside_the_work_dir_are_refused() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        let victim = s.outside.join("thesis.txt");
        let why = refused(proof.check(&mut exec, &backing(victim.clone())));
        assert!(
            why.contains("lies outside this session's work dir"),
            "{why}"
        );
        // Even when it does not exist.
        refused(proof.check(&mut exec, &backing(s.outside.join("nothing"))));
        // '..' out of the work dir.
        let dotdot = s.runtime.join("work/dmbs1/../../../victim/thesis.txt");
        refused(proof.check(&mut exec, &backing(dotdot)));
        // Another session's work dir is not this one's.
        fs::create_dir_all(s.runtime.join("work/dmbs2")).expect("mkdir");
        fs::write(s.runtime.join("work/dmbs2/d.img"), b"").expect("write");
        refused(proof.check(&mut exec, &backing(s.runtime.join("work/dmbs2/d.img"))));
        let other_dir = Resource::WorkDir {
            path: s.runtime.join("work/dmbs2"),
        };
        refused(proof.check(&mut exec, &other_dir));
        // The work dir itself is not a backing file.
        refused(proof.check(&mut exec, &backing(s.runtime.join("work/dmbs1"))));
    }

    #[test]
    fn symlinks_out_of_the_work_dir_are_refused() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        // A backing file that is a symlink to the victim's file.
        let link = s.runtime.join("work/dmbs1/d.img");
        std::os::unix::fs::symlink(s.outside.join("thesis.txt"), &link).expect("symlink");
        let why = refused(proof.check(&mut exec, &backing(link)));
        assert!(why.contains("resolves to"), "{why}");
        // The whole work dir replaced by a symlink to the victim's dir.
        let work = s.runtime.join("work/dmbs1");
        fs::remove_dir_all(&work).expect("rm");
        std::os::unix::fs::symlink(&s.outside, &work).expect("symlink");
        refused(proof.check(&mut exec, &backing(work.join("thesis.txt"))));
        let why = refused(proof.check(&mut exec, &Resource::WorkDir { path: work }));
        assert!(why.contains("is not this session's work dir"), "{why}");
    }

    fn fake_loop(sys: &Path, name: &str, backing: &str) {
        fs::create_dir_all(sys.join(name).join("loop")).expect("mkdir");
        fs::write(
            sys.join(name).join("loop/backing_file"),
            format!("{backing}\n"),
        )
        .expect("write");
    }

    #[test]
    fn loop_devices_are_detached_only_over_the_sessions_files() {
        let s = setup();
        let sys = s.runtime.parent().expect("root").join("sys-block");
        let work = s.runtime.join("work/dmbs1");
        fake_loop(&sys, "loop3", &format!("{}/d.img", work.display()));
        fake_loop(
            &sys,
            "loop4",
            &format!("{}/d.img (deleted)", work.display()),
        );
        fake_loop(
            &sys,
            "loop5",
            &s.outside.join("thesis.txt").display().to_string(),
        );
        fake_loop(&sys, "loop6", &format!("{}/../x.img", work.display()));
        let proof = Ownership::new(&s.runtime, "dmbs1").with_sys_block(&sys);
        let mut exec = FakeExecutor::new(discard_events());
        let dev = |n: &str| Resource::LoopDevice {
            device: PathBuf::from(format!("/dev/{n}")),
            backing: work.join("d.img"),
        };
        assert_eq!(
            proof.check(&mut exec, &dev("loop3")),
            Verdict::Remove(dev("loop3"))
        );
        assert_eq!(
            proof.check(&mut exec, &dev("loop4")),
            Verdict::Remove(dev("loop4"))
        );
        assert!(refused(proof.check(&mut exec, &dev("loop5"))).contains("thesis.txt"));
        refused(proof.check(&mut exec, &dev("loop6")));
        assert_eq!(proof.check(&mut exec, &dev("loop9")), Verdict::Gone);
        let not_loop = Resource::LoopDevice {
            device: "/dev/sda".into(),
            backing: work.join("d.img"),
        };
        refused(proof.check(&mut exec, &not_loop));
    }

    fn create(exec: &mut FakeExecutor, name: &str, uuid: &str, target: &str) {
        exec.call(Request::DmCreate {
            name: name.into(),
            uuid: uuid.into(),
            table: vec![TableLine {
                start: 0,
                length: 8,
                target: target.into(),
                params: String::new(),
            }],
        })
        .expect("create");
    }

    #[test]
    fn dm_devices_are_removed_only_with_the_sessions_uuid() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        create(&mut exec, "mine", "DMBENCH-dmbs1-mine", "zero");
        create(&mut exec, "lvm", "LVM-abc", "linear");
        create(&mut exec, "other", "DMBENCH-dmbs10-other", "zero");
        create(&mut exec, "bare", "", "zero");
        let dm = |n: &str| Resource::DmDevice { name: n.into() };
        assert_eq!(
            proof.check(&mut exec, &dm("mine")),
            Verdict::Remove(dm("mine"))
        );
        assert!(refused(proof.check(&mut exec, &dm("lvm"))).contains("LVM-abc"));
        // A prefix of the session id is not the session.
        refused(proof.check(&mut exec, &dm("other")));
        assert!(refused(proof.check(&mut exec, &dm("bare"))).contains("no UUID"));
        assert_eq!(proof.check(&mut exec, &dm("absent")), Verdict::Gone);
    }

    #[test]
    fn statistics_regions_are_deleted_only_on_the_sessions_devices() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        create(&mut exec, "mine", "DMBENCH-dmbs1-mine", "zero");
        create(&mut exec, "lvm", "LVM-abc", "linear");
        let stats = |device: &str| Resource::DmStats {
            device: device.into(),
            region: 0,
        };
        assert_eq!(
            proof.check(&mut exec, &stats("mine")),
            Verdict::Remove(stats("mine"))
        );
        assert!(refused(proof.check(&mut exec, &stats("lvm"))).contains("LVM-abc"));
        // Gone with its device.
        assert_eq!(proof.check(&mut exec, &stats("absent")), Verdict::Gone);
    }

    #[test]
    fn modules_are_unloaded_only_when_no_other_device_uses_them() {
        let s = setup();
        let proof = Ownership::new(&s.runtime, "dmbs1");
        let mut exec = FakeExecutor::new(discard_events());
        for name in ["basic_target", "other_target"] {
            exec.call(Request::LoadModule {
                name: name.into(),
                image: Vec::new(),
                params: String::new(),
            })
            .expect("load");
        }
        create(&mut exec, "mine", "DMBENCH-dmbs1-mine", "basic_target");
        create(&mut exec, "theirs", "DMBENCH-dmbzz-x", "other_target");
        let m = |n: &str| Resource::Module { name: n.into() };
        assert_eq!(
            proof.check(&mut exec, &m("basic_target")),
            Verdict::Remove(m("basic_target"))
        );
        let why = refused(proof.check(&mut exec, &m("other_target")));
        assert!(why.contains("theirs"), "{why}");
        assert_eq!(proof.check(&mut exec, &m("not_loaded")), Verdict::Gone);
    }
}
