//! Crashes in source terms, in the sandbox VM: a target that dereferences
//! NULL on one sector takes the guest down, and the report names the
//! function and the source line; a target that WARNs is decoded too, and
//! the lab goes on. Runs in CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project with kmod/c = basic_target with `edit` applied.
fn project(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let kmod = dir.join("kmod/c");
    std::fs::create_dir_all(&kmod).expect("mkdir");
    for name in ["Makefile", "basic_target.c"] {
        let text = std::fs::read_to_string(repo().join("kmod/c").join(name)).expect("read");
        let text = if name.ends_with(".c") {
            edit(&text)
        } else {
            text
        };
        std::fs::write(kmod.join(name), text).expect("write");
    }
    dir.to_path_buf()
}

const LAB: &str = r#"title = "a target with a bug at sector 10"

[[steps]]
run = "build"
source = "kmod/c"

[[steps]]
run = "load"
module = "basic_target"

[[steps]]
run = "disk"
name = "disk1"
size = "20000s"

[[steps]]
run = "create"
name = "buggy"
table = "0 20000 basic_target {disk1} 0"

[[steps]]
run = "write"
device = "buggy"
seek = 10
count = 1
direct = true

[[steps]]
run = "read"
device = "buggy"
skip = 10
count = 1
verify = "stamp"
direct = true
"#;

fn run(root: &Path) -> (bool, String, serde_json::Value) {
    let lab = root.join("lab.toml");
    std::fs::write(&lab, LAB).expect("lab");
    let report = root.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("--headless")
        .arg(&lab)
        .arg("--vm")
        .arg("--report")
        .arg(&report)
        .output()
        .expect("dmbench runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.success(), text, json)
}

/// The line number of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .expect("source")
        .lines()
        .position(|l| l.contains(needle))
        .expect("the needle is in the source")
        + 1
}

#[test]
fn a_null_dereference_is_decoded_to_its_source_line() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let root = project(dir.path(), |c| {
        c.replacen(
            "\tunsigned int size = bio->bi_iter.bi_size;\n",
            "\tunsigned int size = bio->bi_iter.bi_size;\n\n\
             \tif (dm_target_offset(ti, sector) == 10)\n\t\tbc = NULL;\n",
            1,
        )
    });
    let (ok, text, report) = run(&root);
    assert!(!ok, "{text}");
    let source = root.join("kmod/c/basic_target.c");
    // The first use of bc after it was set to NULL.
    let line = line_of(&source, "if (READ_ONCE(bc->log))");
    let write = &report["steps"][4];
    assert_eq!(write["outcome"], "failed", "{text}");
    let crash = &write["crash"];
    assert_eq!(crash["kind"], "bug", "{text}");
    assert_eq!(crash["module"], "basic_target");
    assert_eq!(crash["function"], "basic_target_map");
    let location = crash["location"].as_str().expect("a location");
    assert!(
        location.ends_with(&format!("kmod/c/basic_target.c:{line}")),
        "{location} is not line {line}:\n{text}"
    );
    assert!(
        crash["source_line"]
            .as_str()
            .is_some_and(|l| l.contains("bc->log")),
        "{crash}"
    );
    assert!(!crash["trace"].as_array().expect("trace").is_empty());
    assert!(
        crash["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("BUG: kernel NULL pointer dereference")),
        "{crash}"
    );
    // Printed once, decoded, and the teardown says the VM is gone once.
    assert_eq!(
        text.matches("NULL pointer dereference").count(),
        1,
        "{text}"
    );
    assert!(text.contains(&format!("basic_target.c:{line}")), "{text}");
    assert_eq!(text.matches("the sandbox VM is gone").count(), 1, "{text}");
    let teardown = report["teardown"].as_array().expect("teardown");
    assert!(
        teardown.iter().all(|t| t["outcome"] == "moot"),
        "{teardown:?}"
    );
}

#[test]
fn a_warn_is_decoded_and_the_lab_goes_on() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let root = project(dir.path(), |c| {
        c.replacen(
            "\tunsigned int size = bio->bi_iter.bi_size;\n",
            "\tunsigned int size = bio->bi_iter.bi_size;\n\n\
             \tWARN_ON_ONCE(dm_target_offset(ti, sector) == 10 && size);\n",
            1,
        )
    });
    let (ok, text, report) = run(&root);
    assert!(ok, "the guest survives a WARN and the lab passes:\n{text}");
    let source = root.join("kmod/c/basic_target.c");
    let line = line_of(&source, "WARN_ON_ONCE(");
    let crash = &report["steps"][4]["crash"];
    assert_eq!(crash["kind"], "warn", "{text}");
    assert_eq!(crash["function"], "basic_target_map", "{crash}");
    let location = crash["location"].as_str().expect("a location");
    assert!(
        location.ends_with(&format!("basic_target.c:{line}")),
        "{location} is not line {line}"
    );
    assert!(text.contains("kernel WARNING"), "{text}");
    // The read after it ran and verified.
    assert_eq!(report["steps"][5]["outcome"], "passed", "{text}");
}
