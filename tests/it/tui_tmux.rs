//! The real TUI, driven by keys through tmux, on the sandbox VM: build the
//! Rust basic_target, load it, add a disk, compose `0 20000 basic_target
//! <disk> 0` in the composer, apply, write one block at sector 10, see the
//! kernel-log line in the Events pane, quit, and check that teardown left
//! nothing. Runs in CI.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A tmux server of its own (socket `<name>-<pid>`) with one 160x48
    /// session, "bench", running `command`.
    fn start(name: &str, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("{name}-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            "160",
            "-y",
            "48",
            command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "bench", "-S", "-200"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "bench", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "bench", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("'{needle}' did not appear within {timeout:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn have_tmux() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

#[test]
fn compose_apply_probe_and_quit_through_the_real_tui() {
    if common::vm_config().is_none() {
        return;
    }
    if !have_tmux() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required for this test in CI"
        );
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let ledgers = tempfile::tempdir().expect("tmp");
    let repo = env!("CARGO_MANIFEST_DIR");
    let command = format!(
        "cd {repo} && DMBENCH_LEDGER_DIR={} {} --vm; echo EXITED rc=$?; sleep 600",
        ledgers.path().display(),
        env!("CARGO_BIN_EXE_dmbench")
    );
    let tmux = Tmux::start("dmbench-test", &command);
    let slow = Duration::from_secs(60);
    tmux.wait_for("ready on the vm executor", slow);

    // Module: build the Rust target, then load it.
    tmux.keys(&["b"]);
    tmux.wait_for("type to narrow", slow);
    tmux.text("rust");
    tmux.keys(&["Enter"]);
    tmux.wait_for("basic_target built in", Duration::from_secs(180));
    tmux.keys(&["l"]);
    tmux.wait_for("module basic_target: loaded", slow);

    // Disk: the form's defaults are disk1 and 20000s.
    tmux.keys(&["d"]);
    tmux.wait_for("name: disk1", slow);
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("disk disk1: 20000s", slow);

    // Composer: name the device, add one basic_target segment over disk1.
    tmux.keys(&["4", "c"]);
    tmux.text("my_basic_target_device");
    tmux.keys(&["Enter", "a"]);
    tmux.wait_for("length: 20000", slow);
    tmux.keys(&["Enter"]);
    tmux.text("basic_target");
    tmux.keys(&["Enter", "Enter", "Enter"]);
    let screen = tmux.wait_for("0 20000 basic_target /dev/loop", slow);
    assert!(screen.contains("valid"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("created /dev/mapper/my_basic_target_device", slow);

    // Probe: one 512-byte stamped block at seek 10.
    tmux.keys(&["w"]);
    tmux.wait_for("pattern: stamp", slow);
    tmux.keys(&["Enter", "Enter", "Enter"]);
    tmux.text("10");
    tmux.keys(&["Enter", "Enter", "Enter"]);
    tmux.wait_for("basic_target: write request: sector 10 size 512", slow);

    // Quit: teardown, each step shown, terminal restored.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED rc=", slow);
    assert!(screen.contains("EXITED rc=0"), "{screen}");
    for removed in [
        "removed DM device my_basic_target_device",
        "removed loop device /dev/loop",
        "removed backing file",
        "removed module basic_target",
    ] {
        assert!(screen.contains(removed), "'{removed}' missing:\n{screen}");
    }
    assert!(!screen.contains("FAILED"), "{screen}");
    // The ledger of a cleanly ended session is gone.
    let left: Vec<_> = std::fs::read_dir(ledgers.path())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "ledger files left: {left:?}");
}

/// Ledger files left in `dir` once `deadline` passes, waiting for them to go.
fn ledgers_left_after(dir: &Path, deadline: Duration) -> Vec<std::path::PathBuf> {
    let until = Instant::now() + deadline;
    loop {
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Closing the terminal window with a shell between it and dmbench: the
/// shell dies of SIGHUP, and the kernel then hangs up the whole foreground
/// process group. The sandbox VM must live on long enough for the
/// teardown, and the session's ledger must go.
#[test]
fn closing_the_terminal_window_tears_the_session_down() {
    if common::vm_config().is_none() {
        return;
    }
    if !have_tmux() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required for this test in CI"
        );
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let ledgers = tempfile::tempdir().expect("tmp");
    let repo = env!("CARGO_MANIFEST_DIR");
    let command = format!(
        "sh -c 'cd {repo} && DMBENCH_LEDGER_DIR={} {} --vm assets/labs/00-seed-linear.toml; \
         echo EXITED'",
        ledgers.path().display(),
        env!("CARGO_BIN_EXE_dmbench")
    );
    let tmux = Tmux::start("dmbench-close", &command);
    let slow = Duration::from_secs(60);
    tmux.wait_for("ready on the vm executor", slow);
    // Two lab steps: a disk and a device exist in the guest.
    tmux.keys(&["n"]);
    tmux.wait_for("1/7 passed", slow);
    tmux.keys(&["n"]);
    tmux.wait_for("2/7 passed", slow);
    let before = ledgers_left_after(ledgers.path(), Duration::ZERO);
    assert_eq!(before.len(), 1, "the live session has one ledger");
    let ledger = std::fs::read_to_string(&before[0]).expect("ledger");
    assert!(ledger.contains("dm_device"), "{ledger}");

    // The window closes.
    tmux.run(&["kill-server"]);
    let left = ledgers_left_after(ledgers.path(), Duration::from_secs(30));
    assert!(
        left.is_empty(),
        "closing the window left the ledger behind: {left:?}"
    );
}

/// Ctrl-C in the terminal of a headless run goes to the whole foreground
/// process group (dmbench and QEMU alike): the run stops, and the
/// teardown inside the VM still happens and is printed.
#[test]
fn ctrl_c_on_a_headless_run_still_tears_down_inside_the_vm() {
    use std::os::unix::process::CommandExt;
    if common::vm_config().is_none() {
        return;
    }
    let ledgers = tempfile::tempdir().expect("tmp");
    let lab = ledgers.path().join("slow.toml");
    std::fs::write(
        &lab,
        r#"title = "A long write to interrupt"

[[steps]]
run = "disk"
name = "disk1"
size = "64MiB"

[[steps]]
run = "create"
name = "lin"
table = "0 131072 linear {disk1} 0"

[[steps]]
run = "write"
device = "lin"
bs = 512
direct = true
"#,
    )
    .expect("lab");
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmbench"));
    command
        .arg("--headless")
        .arg(&lab)
        .arg("--vm")
        .env("DMBENCH_LEDGER_DIR", ledgers.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own group, as a shell with job control gives a command.
        .process_group(0);
    let child = command.spawn().expect("dmbench runs");
    let pgid = child.id() as i32;
    // Let it reach the long write, then press Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ledgers_left_after(ledgers.path(), Duration::ZERO).is_empty()
        || !std::fs::read_to_string(&ledgers_left_after(ledgers.path(), Duration::ZERO)[0])
            .unwrap_or_default()
            .contains("dm_device")
    {
        assert!(
            Instant::now() < deadline,
            "the run never created its device"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signals the process group this test created.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("dmbench ends");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("interrupted"), "{text}");
    assert!(text.contains("teardown: removed DM device lin"), "{text}");
    assert!(!text.contains("teardown: FAILED"), "{text}");
    assert!(
        ledgers_left_after(ledgers.path(), Duration::ZERO).is_empty(),
        "{text}"
    );
}
