//! Hot reload in the sandbox VM: a rebuilt module is swapped in under a
//! live device (the shipped lab assets/labs/05-hot-reload.toml shows the
//! swap keeps data and gives a new instance); here, a new build that does
//! not compile, or does not load, leaves the device working with the old
//! module and the reason in the report. Runs in CI.

use crate::common;
use crate::common::repo;

use std::path::{Path, PathBuf};

/// A copy of kmod/c with `edit` applied to its source.
fn broken_copy(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    common::edited_c_project(&dir.join("broken"), edit).join("kmod/c")
}

/// The lab: data written through the module, a reload from `source` that
/// must fail as `error` says, then the device still serves the data.
fn lab(source: &Path, error: &str, status_after: &str) -> String {
    format!(
        r#"title = "a reload that fails"

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
name = "hot"
table = "0 20000 basic_target {{disk1}} 0"

[[steps]]
run = "write"
device = "hot"
bs = 4096
seek = 10
count = 4
direct = true

[[steps]]
run = "reload-module"
module = "basic_target"
source = "{}"
[steps.expect]
error = "{error}"

[[steps]]
run = "status"
device = "hot"
[steps.expect]
output = "{status_after}"

[[steps]]
run = "read"
device = "hot"
bs = 4096
skip = 10
count = 4
verify = "stamp"
direct = true

[[steps]]
run = "remove"
device = "hot"
"#,
        source.display()
    )
}

fn run(lab: &Path) -> (bool, String, serde_json::Value) {
    let run = common::Headless::run_in(lab, &repo());
    (run.ok, run.text, run.report)
}

#[test]
fn a_new_build_that_does_not_compile_leaves_the_old_module_in_place() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let source = broken_copy(dir.path(), |c| {
        c.replacen("return DM_MAPIO_REMAPPED;", "return DM_MAPIO_REMAPPED", 1)
    });
    let file = dir.path().join("lab.toml");
    // The old instance keeps counting: the write before the failed reload
    // is still in its status.
    std::fs::write(&file, lab(&source, "error:", "writes=4 ")).expect("lab");
    let (ok, text, report) = run(&file);
    assert!(ok, "{text}");
    let reload = &report["steps"][5];
    assert_eq!(reload["kind"], "reload-module");
    let refusal = reload["refusal"].as_str().expect("the reason is kept");
    assert!(refusal.contains("basic_target.c:"), "file:line: {refusal}");
    let diagnostics = reload["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diagnostics.iter().any(|d| d
            .as_str()
            .is_some_and(|d| d.contains("basic_target.c:") && d.contains(": error: "))),
        "{diagnostics:?}"
    );
}

#[test]
fn a_new_build_that_does_not_load_brings_the_old_one_back() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let source = broken_copy(dir.path(), |c| {
        c.replace(
            "module_dm(basic_target);",
            "static int __init basic_target_init(void)\n{\n\treturn -ENODEV;\n}\n\
             module_init(basic_target_init);\n",
        )
    });
    let file = dir.path().join("lab.toml");
    // The old build is loaded again (a fresh instance), the device gets its
    // table back and serves the data written before.
    std::fs::write(&file, lab(&source, "ENODEV|No such device", "writes=0 ")).expect("lab");
    let (ok, text, report) = run(&file);
    assert!(ok, "{text}");
    let refusal = report["steps"][5]["refusal"].as_str().expect("reason");
    assert!(
        refusal.contains("loading the new 'basic_target'"),
        "{refusal}"
    );
    assert_eq!(report["steps"][7]["outcome"], "passed", "{text}");
}
