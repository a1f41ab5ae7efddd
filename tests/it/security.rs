//! A second local user against dmbench: planted ledgers, squatted and
//! symlinked directories. Each attack must be refused and delete nothing.
//!
//! Playing two users needs root (files are chowned to unused uids, and
//! dmbench runs as uid 65534 through setpriv). Without root these tests
//! say so and pass, except under CI or DMBENCH_REQUIRE_VM=1, where they
//! fail: a skipped test would hide that the checks are not being run.

use crate::common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dmbench::exec::protocol::{Request, Response};
use dmbench::exec::{Executor, discard_events};
use dmbench::vm::VmExecutor;

/// The user running dmbench in these tests (nobody).
const USER: u32 = 65534;
/// Another local user, the attacker.
const OTHER: u32 = 65533;
/// A pid no process has (above the largest pid_max).
const DEAD_PID: u32 = 4_194_304 + 17;

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1")
}

fn can_run(test: &str, needs: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root".to_string());
    }
    for path in needs {
        if !Path::new(path).exists() {
            missing.push((*path).to_string());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let reason = format!("{test}: needs {}", missing.join(" and "));
    assert!(!required(), "{reason} (CI or DMBENCH_REQUIRE_VM=1 is set)");
    eprintln!("SKIPPED {reason}");
    false
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
}

fn mkdir(path: &Path, uid: u32, mode: u32) {
    fs::create_dir_all(path).expect("mkdir");
    chmod(path, mode);
    chown(path, uid);
}

fn write(path: &Path, text: &str, uid: u32, mode: u32) {
    fs::write(path, text).expect("write");
    chmod(path, mode);
    chown(path, uid);
}

/// A machine in miniature: a home for USER, a shared sticky temp dir
/// (their TMPDIR), and a copy of dmbench they can run.
struct Machine {
    root: tempfile::TempDir,
    home: PathBuf,
    tmp: PathBuf,
    bin: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let root = tempfile::tempdir().expect("tmp");
        chmod(root.path(), 0o755);
        let base = root.path().canonicalize().expect("canon");
        let home = base.join("home");
        mkdir(&home, USER, 0o700);
        let tmp = base.join("tmp");
        mkdir(&tmp, 0, 0o1777);
        // The build tree may be somewhere USER cannot reach (/root).
        let bin = base.join("dmbench");
        fs::copy(env!("CARGO_BIN_EXE_dmbench"), &bin).expect("copy dmbench");
        chmod(&bin, 0o755);
        Machine {
            root,
            home,
            tmp,
            bin,
        }
    }

    /// Where dmbench keeps ledgers for USER without XDG_RUNTIME_DIR.
    fn runtime(&self) -> PathBuf {
        self.tmp.join(format!("dmbench-{USER}"))
    }

    /// `dmbench <args>` as USER, with only the environment given here.
    fn dmbench_as_user(&self, args: &[&str], xdg_runtime_dir: Option<&Path>) -> Output {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            format!("--reuid={USER}"),
            format!("--regid={USER}"),
            "--clear-groups".into(),
            "--".into(),
        ])
        .arg(&self.bin)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", &self.home)
        .env("TMPDIR", &self.tmp)
        .current_dir(self.root.path());
        if let Some(dir) = xdg_runtime_dir {
            cmd.env("XDG_RUNTIME_DIR", dir);
        }
        let out = cmd.output().expect("running setpriv (util-linux)");
        eprintln!(
            "$ dmbench {} (uid {USER})\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

fn ledger_json(session: &str, resources: &[serde_json::Value]) -> String {
    serde_json::json!({
        "session": session,
        "executor": "local",
        "pid": DEAD_PID,
        "resources": resources,
    })
    .to_string()
}

fn backing_file(path: &Path) -> serde_json::Value {
    serde_json::json!({"resource": "backing_file", "path": path})
}

fn work_dir(path: &Path) -> serde_json::Value {
    serde_json::json!({"resource": "work_dir", "path": path})
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_ledger_planted_in_a_dir_another_user_made_is_refused_and_deletes_nothing() {
    if !can_run("planted ledger", &[]) {
        return;
    }
    let m = Machine::new();
    let thesis = m.home.join("thesis.txt");
    write(&thesis, "my thesis", USER, 0o644);
    // The attacker made the victim's predictable runtime dir first.
    let squat = m.runtime();
    mkdir(&squat, OTHER, 0o777);
    let planted = squat.join("dmbevil0001.json");
    write(
        &planted,
        &ledger_json("dmbevil0001", &[backing_file(&thesis)]),
        OTHER,
        0o666,
    );

    let out = m.dmbench_as_user(&["cleanup"], None);
    assert!(!out.status.success(), "cleanup must fail: {}", text(&out));
    let expected = format!(
        "{} is owned by uid {OTHER}, not you ({USER}): refusing to use it",
        squat.display()
    );
    assert!(text(&out).contains(&expected), "{}", text(&out));
    assert!(!text(&out).contains("removed"), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(&thesis).expect("thesis survives"),
        "my thesis"
    );
    assert!(
        planted.exists(),
        "the attacker's file is not touched either"
    );

    // The same dir handed over as XDG_RUNTIME_DIR is refused too.
    let out = m.dmbench_as_user(&["cleanup"], Some(&squat));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("(XDG_RUNTIME_DIR) is owned by uid 65533"),
        "{}",
        text(&out)
    );
    assert!(thesis.exists());

    // Owned by the user but left open to everyone: refused as well.
    chown(&squat, USER);
    let out = m.dmbench_as_user(&["cleanup"], None);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is writable by group or others (mode 0777)"),
        "{}",
        text(&out)
    );
    assert!(thesis.exists());
}

#[test]
fn a_ledger_naming_a_file_outside_its_work_dir_is_refused() {
    if !can_run("ledger naming a foreign file", &[]) {
        return;
    }
    let m = Machine::new();
    // dmbench makes the user's runtime dir itself.
    let out = m.dmbench_as_user(&["cleanup"], None);
    assert!(out.status.success(), "{}", text(&out));
    let runtime = m.runtime();
    let meta = fs::symlink_metadata(&runtime).expect("runtime dir made");
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (USER, 0o700));

    let thesis = m.home.join("thesis.txt");
    write(&thesis, "my thesis", USER, 0o644);
    let session = "dmbown0001";
    let work = runtime.join("work").join(session);
    mkdir(&runtime.join("work"), USER, 0o700);
    mkdir(&work, USER, 0o700);
    let img = work.join("d.img");
    write(&img, "", USER, 0o600);
    let ledger = runtime.join(format!("{session}.json"));
    write(
        &ledger,
        &ledger_json(
            session,
            &[work_dir(&work), backing_file(&img), backing_file(&thesis)],
        ),
        USER,
        0o600,
    );

    let out = m.dmbench_as_user(&["cleanup"], None);
    let said = text(&out);
    assert!(
        !out.status.success(),
        "a refusal makes cleanup fail: {said}"
    );
    assert!(
        said.contains(&format!(
            "REFUSED backing file {}: lies outside this session's work dir {}",
            thesis.display(),
            work.display()
        )),
        "{said}"
    );
    assert!(said.contains(&format!("removed backing file {}", img.display())));
    assert_eq!(
        fs::read_to_string(&thesis).expect("thesis survives"),
        "my thesis"
    );
    assert!(!img.exists(), "the session's own file is removed");
    // The refused entry stays in the ledger, nothing else.
    let left: serde_json::Value =
        serde_json::from_slice(&fs::read(&ledger).expect("ledger stays")).expect("json");
    assert_eq!(
        left["resources"],
        serde_json::json!([backing_file(&thesis)])
    );
}

#[test]
fn a_work_dir_replaced_by_a_symlink_is_refused() {
    if !can_run("symlinked work dir", &[]) {
        return;
    }
    let m = Machine::new();
    let runtime = m.runtime();
    mkdir(&runtime, USER, 0o700);
    mkdir(&runtime.join("work"), USER, 0o700);
    let victim = m.home.join("project");
    mkdir(&victim, USER, 0o755);
    for name in ["d.img", "notes.txt"] {
        write(&victim.join(name), "keep", USER, 0o644);
    }
    let session = "dmbsym0001";
    let work = runtime.join("work").join(session);
    std::os::unix::fs::symlink(&victim, &work).expect("symlink");
    chown(&work, USER);
    let ledger = runtime.join(format!("{session}.json"));
    write(
        &ledger,
        &ledger_json(
            session,
            &[
                work_dir(&work),
                backing_file(&work.join("d.img")),
                backing_file(&work.join("notes.txt")),
            ],
        ),
        USER,
        0o600,
    );

    let out = m.dmbench_as_user(&["cleanup"], None);
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert_eq!(said.matches("REFUSED").count(), 3, "{said}");
    assert!(!said.contains("removed"), "{said}");
    assert!(said.contains("is not this session's work dir"), "{said}");
    for name in ["d.img", "notes.txt"] {
        assert_eq!(
            fs::read_to_string(victim.join(name)).expect("victim's file survives"),
            "keep"
        );
    }
    assert!(fs::symlink_metadata(&work).expect("link").is_symlink());
    assert!(ledger.exists());
}

#[test]
fn ledgers_another_user_wrote_or_could_write_are_not_read() {
    if !can_run("foreign ledger file", &[]) {
        return;
    }
    let m = Machine::new();
    let runtime = m.runtime();
    mkdir(&runtime, USER, 0o700);
    let thesis = m.home.join("thesis.txt");
    write(&thesis, "my thesis", USER, 0o644);
    // Same content, three ways a file could come from someone else.
    let foreign = runtime.join("dmbfor0001.json");
    write(
        &foreign,
        &ledger_json("dmbfor0001", &[backing_file(&thesis)]),
        OTHER,
        0o644,
    );
    let open = runtime.join("dmbopn0001.json");
    write(
        &open,
        &ledger_json("dmbopn0001", &[backing_file(&thesis)]),
        USER,
        0o666,
    );
    let target = m.home.join("elsewhere.json");
    write(
        &target,
        &ledger_json("dmblnk0001", &[backing_file(&thesis)]),
        USER,
        0o600,
    );
    let link = runtime.join("dmblnk0001.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    chown(&link, USER);

    let out = m.dmbench_as_user(&["cleanup"], None);
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    for (path, why) in [
        (
            &foreign,
            format!("is owned by uid {OTHER}, not you ({USER})"),
        ),
        (&open, "is writable by group or others".to_string()),
        (&link, "is a symlink".to_string()),
    ] {
        assert!(
            said.contains(&format!("REFUSED ledger {}: it {why}", path.display())),
            "{said}"
        );
    }
    assert!(thesis.exists());
}

/// A loop device attached for one test and detached however it ends. No
/// descriptor is kept open: an open one would defer any detach until it
/// closes.
struct Loop(PathBuf);

impl Loop {
    fn attach(file: &Path) -> Loop {
        let control = loopdev::LoopControl::open().expect("loop-control");
        let dev = control.next_free().expect("free loop");
        dev.attach_file(file).expect("attach");
        Loop(dev.path().expect("loop path"))
    }

    fn backing_file(&self) -> Option<String> {
        let name = self.0.file_name().and_then(|n| n.to_str()).expect("name");
        fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
            .ok()
            .map(|s| s.trim().to_string())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if self.backing_file().is_some()
            && let Ok(dev) = loopdev::LoopDevice::open(&self.0)
        {
            let _ = dev.detach();
        }
    }
}

#[test]
fn a_loop_device_over_someone_elses_file_is_not_detached() {
    if !can_run("foreign loop device", &["/dev/loop-control"]) {
        return;
    }
    let m = Machine::new();
    let disk = m.root.path().join("their-disk.img");
    fs::write(&disk, vec![0u8; 1 << 20]).expect("write");
    let dev = Loop::attach(&disk);
    let device = dev.0.clone();
    // Root's own ledger (only root could detach it), naming that device.
    let session = "dmblop0001";
    let xdg = m.root.path().join("xdg");
    mkdir(&xdg, 0, 0o700);
    let runtime = xdg.join("dmbench");
    mkdir(&runtime, 0, 0o700);
    let entry = serde_json::json!({
        "resource": "loop_device",
        "device": device,
        "backing": runtime.join("work").join(session).join("d.img"),
    });
    let ledger = runtime.join(format!("{session}.json"));
    write(&ledger, &ledger_json(session, &[entry]), 0, 0o600);

    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("cleanup")
        .env("XDG_RUNTIME_DIR", &xdg)
        .output()
        .expect("dmbench");
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "its backing file {} lies outside this session's work dir",
            disk.display()
        )),
        "{said}"
    );
    assert_eq!(
        dev.backing_file(),
        Some(disk.display().to_string()),
        "still attached"
    );
    assert!(ledger.exists(), "the refused entry stays in its ledger");
}

/// Dirs where dmbench used to put a VM's socket (`$TMPDIR/dmbench-vm-<pid>-<n>`),
/// and other plausible names, made first by another user, mode 0777.
fn squat_socket_dirs() -> Vec<PathBuf> {
    let pid = std::process::id();
    let mut dirs = Vec::new();
    for parent in [std::env::temp_dir(), PathBuf::from("/tmp")] {
        for n in 0..16 {
            dirs.push(parent.join(format!("dmbench-vm-{pid}-{n}")));
        }
        dirs.push(parent.join(format!("dmbench-vm-{pid}")));
    }
    dirs.sort();
    dirs.dedup();
    dirs.retain(|d| !d.exists());
    for d in &dirs {
        mkdir(d, OTHER, 0o777);
    }
    dirs
}

#[test]
fn the_vm_socket_never_lives_in_a_squatted_dir() {
    if !can_run("squatted socket dirs", &[]) {
        return;
    }
    let Some(config) = common::vm_config() else {
        return;
    };
    let squatted = squat_socket_dirs();
    let booted = VmExecutor::boot(config, discard_events());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut vm = booted.expect("the sandbox VM boots");
        let dir = vm.socket_dir().to_path_buf();
        assert!(!squatted.contains(&dir), "{} was squatted", dir.display());
        let meta = fs::symlink_metadata(&dir).expect("socket dir");
        assert!(meta.is_dir() && !meta.file_type().is_symlink());
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw(), "ours");
        assert_eq!(meta.mode() & 0o7777, 0o700, "private");
        let runtime = dmbench::private_dir::runtime_dir().expect("runtime dir");
        assert!(
            dir.starts_with(&runtime) || dir.starts_with("/tmp"),
            "{} is in the runtime dir",
            dir.display()
        );
        use std::os::unix::fs::FileTypeExt;
        let socket = fs::symlink_metadata(dir.join(dmbench::vm::SOCKET)).expect("socket");
        assert!(socket.file_type().is_socket());
        match vm.call(Request::SystemInfo).expect("agent answers") {
            Response::SystemInfo { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
        for d in &squatted {
            assert_eq!(
                fs::read_dir(d).expect("squatted dir").count(),
                0,
                "{} was used",
                d.display()
            );
        }
        drop(vm);
        assert!(!dir.exists(), "the socket dir goes with the VM");
    }));
    for d in &squatted {
        let _ = fs::remove_dir(d);
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_vm_is_not_started_over_a_foreign_runtime_dir() {
    if !can_run("foreign runtime dir for the VM", &[]) {
        return;
    }
    if common::vm_config().is_none() {
        return;
    }
    let m = Machine::new();
    let squat = m.root.path().join("xdg");
    mkdir(&squat, OTHER, 0o777);
    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .args(["vm", "check"])
        .env("XDG_RUNTIME_DIR", &squat)
        .output()
        .expect("dmbench");
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "{} (XDG_RUNTIME_DIR) is owned by uid {OTHER}, not you (0)",
            squat.display()
        )),
        "{said}"
    );
    assert_eq!(
        fs::read_dir(&squat).expect("dir").count(),
        0,
        "nothing made there"
    );
}

#[test]
fn cleanup_still_removes_a_dead_sessions_own_disk() {
    if !can_run("cleanup of a session's own disk", &["/dev/loop-control"]) {
        return;
    }
    // What a killed local session leaves: its work dir, a backing file and
    // a loop device over it, all in its ledger.
    let m = Machine::new();
    let xdg = m.root.path().join("xdg");
    mkdir(&xdg, 0, 0o700);
    let runtime = xdg.join("dmbench");
    mkdir(&runtime, 0, 0o700);
    let session = "dmbdead001";
    let work = runtime.join("work").join(session);
    mkdir(&work, 0, 0o700);
    let img = work.join("disk1.img");
    fs::write(&img, vec![0u8; 1 << 20]).expect("write");
    let dev = Loop::attach(&img);
    let device = dev.0.clone();
    let ledger = runtime.join(format!("{session}.json"));
    let entries = [
        work_dir(&work),
        backing_file(&img),
        serde_json::json!({"resource": "loop_device", "device": device, "backing": img}),
    ];
    write(&ledger, &ledger_json(session, &entries), 0, 0o600);

    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("cleanup")
        .env("XDG_RUNTIME_DIR", &xdg)
        .output()
        .expect("dmbench");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert_eq!(said.matches("  removed ").count(), 3, "{said}");
    assert_eq!(dev.backing_file(), None, "detached");
    assert!(!work.exists() && !ledger.exists(), "{said}");
}

#[test]
fn a_live_local_sessions_teardown_removes_its_private_work_dir() {
    if !can_run("local session teardown", &["/dev/loop-control"]) {
        return;
    }
    use dmbench::exec::local::LocalExecutor;
    use dmbench::session::{Session, SessionOptions};
    // As the front end opens a local session.
    let work_root = dmbench::private_dir::runtime_subdir("work").expect("work root");
    let mut s = Session::open(
        |sink| Ok(Box::new(LocalExecutor::new(sink))),
        discard_events(),
        SessionOptions {
            work_dir: work_root.clone(),
            ledger_dir: None,
        },
    )
    .expect("session");
    let disk = s.add_disk("disk1", 1 << 20, false, false).expect("disk");
    let work = disk.backing.parent().expect("work dir").to_path_buf();
    assert_eq!(work, work_root.join(s.id()));
    let meta = fs::symlink_metadata(&work).expect("work dir");
    assert_eq!(meta.mode() & 0o7777, 0o700, "private");
    assert!(disk.backing.starts_with(&work));
    let report = s.teardown();
    assert!(report.all_ok(), "{report}");
    assert!(!work.exists());
    assert!(!disk.backing.exists());
}
