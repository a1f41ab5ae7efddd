//! Crashes in source terms, in the sandbox VM: a target that dereferences
//! NULL on one sector takes the guest down, and the report names the
//! function and the source line; a target that WARNs is decoded too, and
//! the lab goes on. Runs in CI.

use crate::common;

use std::path::Path;
use std::process::Command;

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
    let run = common::Headless::run(&lab, &[]);
    (run.ok, run.text, run.report)
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
    let root = common::edited_c_project(dir.path(), |c| {
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
    let root = common::edited_c_project(dir.path(), |c| {
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

#[test]
fn a_rust_target_crash_is_decoded_to_its_own_source_line() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let made = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .args(["new", "crashy", "--lang", "rust", "--dir"])
        .arg(dir.path())
        .output()
        .expect("dmbench new runs");
    assert!(made.status.success(), "{made:?}");
    let root = dir.path().join("crashy");
    let source = root.join("kmod/rust/crashy_main.rs");
    let text = std::fs::read_to_string(&source).expect("source");
    let needle = "    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {\n";
    assert!(text.contains(needle), "the scaffold's map: {text}");
    let text = text.replacen(
        needle,
        &format!(
            "{needle}        if ti.offset(bio.sector()) == Some(8) && bio.size() != 0 {{\n\
             \x20           let bad: *mut u64 = core::ptr::null_mut();\n\
             \x20           // SAFETY: none: this is the bug the lab finds.\n\
             \x20           unsafe {{ core::ptr::write_volatile(bad, 1) }};\n\
             \x20       }}\n"
        ),
        1,
    );
    std::fs::write(&source, text).expect("write");
    let run = common::Headless::run(&root.join("crashy.toml"), &[]);
    let stdout = &run.text;
    assert!(!run.ok, "{stdout}");
    let crash = run.report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find_map(|s| s.get("crash"))
        .expect("a crash in the report");
    let line = line_of(&source, "core::ptr::write_volatile(bad, 1)");
    let location = crash["location"].as_str().expect("location");
    assert!(
        location.ends_with(&format!("crashy_main.rs:{line}")),
        "{location} is not line {line}:\n{stdout}"
    );
    assert!(
        crash["function"]
            .as_str()
            .is_some_and(|f| f.contains("Crashy") && f.ends_with("::map")),
        "{crash}"
    );
    assert_eq!(crash["module"], "crashy");
}
