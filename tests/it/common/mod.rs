//! Shared by the end-to-end tests: boot the sandbox VM or explain why not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use dmbench::exec::{Event, EventSink};
use dmbench::vm::VmConfig;

/// The VM configuration, or None (with a printed reason) when no lab kernel
/// is cached — but in CI, or with DMBENCH_REQUIRE_VM=1, a missing kernel
/// fails the test instead of skipping it.
pub fn vm_config() -> Option<VmConfig> {
    match dmbench::kernel::locate() {
        Ok(kernel) => Some(VmConfig::new(
            kernel,
            PathBuf::from(env!("CARGO_BIN_EXE_dmbench")),
        )),
        Err(e) => {
            let required = std::env::var_os("CI").is_some()
                || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1");
            if required {
                panic!("the VM end-to-end tests must run here: {e:#}");
            }
            eprintln!("SKIPPED (no lab kernel; run scripts/dev.sh setup): {e:#}");
            None
        }
    }
}

/// An event sink that records everything, for assertions.
pub fn recorder() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    let sink: EventSink = Arc::new(move |e| {
        if std::env::var_os("DMBENCH_TEST_EVENTS").is_some() {
            eprintln!("event: {e:?}");
        }
        if let Ok(mut v) = sink_seen.lock() {
            v.push(e);
        }
    });
    (sink, seen)
}

pub fn kmsg_lines(events: &Arc<Mutex<Vec<Event>>>) -> Vec<String> {
    events
        .lock()
        .map(|v| {
            v.iter()
                .filter_map(|e| match e {
                    Event::Kmsg(r) => Some(r.text.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the VM tests must run here (CI, or DMBENCH_REQUIRE_VM=1): then a
/// missing prerequisite is a failure, not a skip.
pub fn vm_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1")
}

/// A headless run of a lab in the sandbox VM, as a user starts it.
#[derive(Clone)]
pub struct Headless {
    pub ok: bool,
    /// stdout and stderr.
    pub text: String,
    /// The `--report` JSON, or Null when there is none.
    pub report: serde_json::Value,
}

impl Headless {
    /// `dmbench --headless LAB --vm --report TMP [extra...]`.
    pub fn run(lab: &std::path::Path, extra: &[&std::ffi::OsStr]) -> Headless {
        let report = tempfile::NamedTempFile::new().expect("tmp");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dmbench"))
            .arg("--headless")
            .arg(lab)
            .arg("--vm")
            .arg("--report")
            .arg(report.path())
            .args(extra)
            .output()
            .expect("dmbench runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report = std::fs::read(report.path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        Headless {
            ok: out.status.success(),
            text,
            report,
        }
    }

    /// The one headless run of a shipped lab that every test reading it
    /// shares: several tests assert different things of the same run, and
    /// each run boots a VM (the first test to ask runs it; the others wait
    /// for it). A test that needs a run of its own calls `run`.
    pub fn shipped(lab: &std::path::Path) -> Headless {
        type Runs = BTreeMap<PathBuf, Arc<OnceLock<Headless>>>;
        static RUNS: Mutex<Runs> = Mutex::new(BTreeMap::new());
        let cell = {
            let mut runs = RUNS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(runs.entry(lab.to_path_buf()).or_default())
        };
        cell.get_or_init(|| Headless::run(lab, &[])).clone()
    }

    /// With `--root DIR`.
    pub fn run_in(lab: &std::path::Path, root: &std::path::Path) -> Headless {
        Headless::run(lab, &[std::ffi::OsStr::new("--root"), root.as_os_str()])
    }

    pub fn steps(&self) -> Vec<serde_json::Value> {
        self.report["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("no steps in the report:\n{}", self.text))
            .clone()
    }

    /// Per step: kind, outcome, and whether it was refused as it expected.
    pub fn verdicts(&self) -> Vec<Verdict> {
        verdicts(&self.report)
    }
}

/// What two runs of one lab must agree on, per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: String,
    pub outcome: String,
    pub refused: bool,
}

pub fn verdicts(report: &serde_json::Value) -> Vec<Verdict> {
    report["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| Verdict {
                    kind: s["kind"].as_str().unwrap_or_default().to_string(),
                    outcome: s["outcome"].as_str().unwrap_or_default().to_string(),
                    refused: s.get("refusal").is_some_and(|r| !r.is_null()),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A project whose kmod/c is the shipped basic_target with `edit` applied
/// to its source (a bug put in on purpose, a different build).
pub fn edited_c_project(dir: &std::path::Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let kmod = dir.join("kmod/c");
    std::fs::create_dir_all(&kmod).expect("mkdir");
    for name in ["Makefile", "basic_target.c"] {
        let text = std::fs::read_to_string(repo.join("kmod/c").join(name)).expect("read");
        let text = if name.ends_with(".c") {
            edit(&text)
        } else {
            text
        };
        std::fs::write(kmod.join(name), text).expect("write");
    }
    dir.to_path_buf()
}

/// The project's root (where Cargo.toml is).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every lab in `assets/labs`, sorted.
pub fn shipped_labs() -> Vec<PathBuf> {
    let mut labs: Vec<PathBuf> = std::fs::read_dir(repo().join("assets/labs"))
        .expect("labs dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    labs.sort();
    assert!(labs.len() >= 8, "the shipped labs: {labs:?}");
    labs
}

/// A session over a freshly booted sandbox VM, or None (with the reason
/// printed) without a lab kernel.
pub fn start_session(events: EventSink) -> Option<dmbench::session::Session> {
    let config = vm_config()?;
    Some(
        dmbench::session::Session::open(
            |sink| Ok(Box::new(dmbench::vm::VmExecutor::boot(config, sink)?)),
            events,
            dmbench::session::SessionOptions {
                work_dir: "/run/dmbench".into(),
                ledger_dir: None,
            },
        )
        .expect("session over the VM"),
    )
}

/// `rustfmt --check` of a module's crate root (rustfmt follows its `mod`
/// lines), with the options the kernel's Makefiles use.
pub fn rustfmt_check(root: &std::path::Path) -> std::process::Output {
    std::process::Command::new("rustfmt")
        .args([
            "--edition",
            "2021",
            "--config",
            "newline_style=Unix",
            "--check",
        ])
        .arg(root)
        .output()
        .expect("rustfmt runs")
}
