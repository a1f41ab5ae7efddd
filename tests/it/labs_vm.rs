//! Every shipped lab runs headless in the sandbox VM and passes; malformed
//! labs and tables are refused with a precise message and leave nothing
//! behind. These run in CI.

use crate::common;
use crate::common::repo;

use std::path::Path;

use dmbench::exec::discard_events;
use dmbench::exec::protocol::{Response, TableLine};
use dmbench::session::{Session, SessionOptions};
use dmbench::vm::VmExecutor;

fn run_lab(lab: &Path) -> (bool, String, serde_json::Value) {
    let run = common::Headless::run(lab, &[]);
    (run.ok, run.text, run.report)
}

/// A shipped lab's run, shared with the other tests that read it.
fn shipped_lab(lab: &Path) -> (bool, String, serde_json::Value) {
    let run = common::Headless::shipped(lab);
    (run.ok, run.text, run.report)
}

#[test]
fn every_shipped_lab_passes_in_the_vm() {
    if common::vm_config().is_none() {
        return;
    }
    let labs = common::shipped_labs();
    for lab in labs {
        let (ok, text, report) = shipped_lab(&lab);
        assert!(ok, "{} failed:\n{text}", lab.display());
        assert_eq!(report["passed"], true, "{text}");
        let steps = report["steps"].as_array().expect("steps");
        assert!(steps.iter().all(|s| s["outcome"] == "passed"), "{text}");
        let teardown = report["teardown"].as_array().expect("teardown");
        assert!(teardown.iter().all(|t| t["error"].is_null()), "{text}");
    }
}

#[test]
fn the_textbook_write_shows_in_the_report_with_its_figures() {
    if common::vm_config().is_none() {
        return;
    }
    let (ok, text, report) = shipped_lab(&repo().join("assets/labs/01-basic-target.toml"));
    assert!(ok, "{text}");
    let write = &report["steps"][4];
    assert_eq!(write["kind"], "write");
    let kmsg: Vec<String> = write["kmsg"]
        .as_array()
        .expect("kmsg")
        .iter()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    assert!(
        kmsg.iter()
            .any(|l| l == "basic_target: write request: sector 10 size 512"),
        "{kmsg:?}"
    );
    assert_eq!(write["probe"]["bytes"], 512);
    assert!(write["probe"]["mib_per_s"].as_f64().expect("figure") > 0.0);
    // The kernel's own figures: the one segment took the one write, and
    // the bio's journey runs through basic_target to the loop device.
    let segment = &write["probe"]["segments"][0];
    assert_eq!(segment["target"], "basic_target");
    assert_eq!(
        (segment["writes"].as_u64(), segment["reads"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(segment["write_sectors"], 1);
    let counts = segment["histogram"]["counts"]
        .as_array()
        .expect("histogram");
    assert_eq!(counts.iter().filter_map(|c| c.as_u64()).sum::<u64>(), 1);
    let journey = write["probe"]["bios"][0]["text"]
        .as_str()
        .expect("a journey");
    assert!(
        journey.starts_with("254:0 +10 (1 sector) W")
            && journey.contains(" -> basic_target -> 7:0 +10 -> done "),
        "{journey}"
    );
    let status = &report["steps"][6];
    let line = status["output"][0].as_str().expect("status line");
    assert_eq!(
        line,
        "0 20000 basic_target reads=1 writes=1 read_bytes=512 write_bytes=512"
    );
}

#[test]
fn a_failing_step_stops_the_run_tears_down_and_exits_nonzero() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let lab = dir.path().join("fails.toml");
    std::fs::write(
        &lab,
        r#"title = "fails at step 3"
[[steps]]
run = "disk"
name = "d"
size = "1MiB"
[[steps]]
run = "create"
name = "z"
table = "0 2048 zero"
[[steps]]
run = "read"
device = "z"
bs = 4096
count = 1
verify = "0xA5"
[[steps]]
run = "remove"
device = "z"
"#,
    )
    .expect("write lab");
    let (ok, text, report) = run_lab(&lab);
    assert!(!ok, "{text}");
    assert!(text.contains("[ 3/4] read z"), "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(text.contains("line 10"), "the failing step's line: {text}");
    assert_eq!(report["steps"][3]["outcome"], "skipped");
    let removed: Vec<&str> = report["teardown"]
        .as_array()
        .expect("teardown")
        .iter()
        .filter_map(|t| t["resource"].as_str())
        .collect();
    assert!(
        removed.iter().any(|r| r.starts_with("DM device z")),
        "{removed:?}"
    );
    assert!(
        removed.iter().any(|r| r.starts_with("loop device")),
        "{removed:?}"
    );
}

#[test]
fn a_malformed_lab_is_refused_with_file_and_line_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let lab = dir.path().join("bad.toml");
    std::fs::write(
        &lab,
        "title = \"bad\"\n[[steps]]\nrun = \"disk\"\nname = \"d\"\nsize = \"10MB\"\n\
         [[steps]]\nrun = \"create\"\nname = \"x\"\ntable = \"0 8 linear {nodisk} 0\"\n\
         [[steps]]\nrun = \"frobnicate\"\n",
    )
    .expect("write");
    let started = std::time::Instant::now();
    let (ok, text, _) = run_lab(&lab);
    assert!(!ok);
    let file = lab.display().to_string();
    assert!(
        text.contains(&format!("{file}:5:")),
        "bad size at line 5: {text}"
    );
    assert!(text.contains("nodisk"), "unknown disk named: {text}");
    assert!(
        text.contains(&format!("{file}:11:")),
        "unknown step at line 11: {text}"
    );
    assert!(!text.contains("ready:"), "no session was started: {text}");
    // Refused up front: no VM was booted.
    assert!(started.elapsed().as_secs() < 5);
}

/// A dozen malformed tables through one VM session: each is refused with a
/// message naming the problem, and nothing is left behind.
#[test]
fn malformed_tables_are_refused_with_reasons_and_leave_nothing() {
    let Some(config) = common::vm_config() else {
        return;
    };
    let mut s = Session::open(
        |sink| Ok(Box::new(VmExecutor::boot(config, sink)?)),
        discard_events(),
        SessionOptions {
            work_dir: "/run/dmbench".into(),
            ledger_dir: None,
        },
    )
    .expect("session");
    let a = s.add_disk("a", 8 << 20, false, false).expect("disk a");
    let b = s.add_disk("b", 8 << 20, false, false).expect("disk b");
    let (a, b) = (
        a.device.display().to_string(),
        b.device.display().to_string(),
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "gap",
            format!("0 100 linear {a} 0\n200 100 linear {a} 0"),
            "line 2",
        ),
        (
            "overlap",
            format!("0 100 linear {a} 0\n50 100 linear {a} 0"),
            "line 2",
        ),
        ("not from zero", format!("8 100 linear {a} 0"), "line 1"),
        ("zero length", format!("0 0 linear {a} 0"), "line 1"),
        ("linear arg count", format!("0 100 linear {a}"), "line 1"),
        ("bad offset", format!("0 100 linear {a} ten"), "ten"),
        ("past the end", format!("0 100 linear {a} 16380"), "line 1"),
        (
            "unknown device",
            "0 100 linear /dev/loop77 0".to_string(),
            "/dev/loop77",
        ),
        (
            "stripe chunk",
            format!("0 1024 striped 2 12 {a} 0 {b} 0"),
            "chunk",
        ),
        (
            "stripe count",
            format!("0 1024 striped 3 8 {a} 0 {b} 0"),
            "line 1",
        ),
        ("zero with args", "0 100 zero 5".to_string(), "line 1"),
        ("dust block size", format!("0 100 dust {a} 0 100"), "line 1"),
        ("delay args", format!("0 100 delay {a} 0"), "line 1"),
        (
            "crypt key",
            format!("0 100 crypt aes-xts-plain64 zz 0 {a} 0"),
            "line 1",
        ),
    ];
    for (what, table, needle) in &cases {
        let parsed = dmbench::table::parse(table);
        let err = match parsed {
            Err(errors) => errors.to_string(),
            Ok(t) => format!(
                "{:#}",
                s.create_device("bad", &t.to_lines())
                    .expect_err(&format!("{what} must be refused"))
            ),
        };
        assert!(err.contains(needle), "{what}: '{needle}' not in: {err}");
    }
    // The kernel's own reason, when only the kernel can know.
    let err = s
        .create_device_unvalidated(
            "kernel_says_no",
            &[TableLine {
                start: 0,
                length: 100,
                target: "no_such_target".into(),
                params: String::new(),
            }],
        )
        .expect_err("unknown target type");
    let text = format!("{err:#}");
    assert!(text.contains("device-mapper: table:"), "{text}");
    match s.inventory().expect("inventory") {
        Response::Inventory { dm, .. } => assert!(dm.is_empty(), "{dm:?}"),
        other => panic!("unexpected {other:?}"),
    }
    let report = s.close();
    assert!(report.all_ok(), "{report}");
}

#[test]
fn the_flakey_lab_shows_where_each_faulty_write_went() {
    if common::vm_config().is_none() {
        return;
    }
    let (ok, text, report) = shipped_lab(&repo().join("assets/labs/06-flakey-faults.toml"));
    assert!(ok, "{text}");
    let journeys = |step: usize| -> Vec<String> {
        report["steps"][step]["probe"]["bios"]
            .as_array()
            .expect("bios")
            .iter()
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect()
    };
    // Dropped writes complete at flakey and reach no disk.
    let dropped = journeys(2);
    assert_eq!(dropped.len(), 8, "{dropped:?}");
    assert!(
        dropped
            .iter()
            .all(|j| j.contains("-> flakey -> completed without reaching a disk")),
        "{dropped:?}"
    );
    // Corrupted writes go to the disk as flakey's own copies.
    let corrupted = journeys(7);
    assert!(
        corrupted
            .iter()
            .all(|j| j.contains("(its own bio) -> done")),
        "{corrupted:?}"
    );
}
