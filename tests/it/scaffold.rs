//! `dmbench new`: names are checked with the reason, nothing is ever
//! overwritten or half written, and the generated target's lab passes in the
//! sandbox VM exactly as generated, in Rust and in C. The VM tests run in CI
//! (DMBENCH_REQUIRE_VM=1 makes a missing lab kernel a failure, not a skip).

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

fn dmbench_new(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("new")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("dmbench runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_name_is_refused_with_the_reason_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, reason) in [
        ("my-target", "character 3 is '-'"),
        ("9lives", "must be a C identifier"),
        ("sixteen_letters_", "at most 15"),
        ("linear", "stock device-mapper target"),
        ("while", "C keyword"),
        ("", "empty"),
    ] {
        let out = dmbench_new(dir.path(), &[name]);
        assert!(!out.status.success(), "{name:?} accepted");
        let err = stderr(&out);
        assert!(err.contains(reason), "{name:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
}

#[test]
fn an_existing_directory_is_never_overwritten() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dmbench_new(dir.path(), &["mine", "--lang", "c"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = dir.path().join("mine/kmod/c/mine.c");
    std::fs::write(&source, "my own work").expect("edit");
    for lang in ["c", "rust"] {
        let out = dmbench_new(dir.path(), &["mine", "--lang", lang]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    }
    assert_eq!(
        std::fs::read_to_string(&source).expect("read"),
        "my own work"
    );
    assert!(!dir.path().join("mine/kmod/rust").exists());
}

#[test]
fn rust_is_the_default_and_c_is_asked_for() {
    let dir = tempfile::tempdir().expect("tmp");
    assert!(dmbench_new(dir.path(), &["rs_t"]).status.success());
    assert!(
        dmbench_new(dir.path(), &["c_t", "--lang", "c"])
            .status
            .success()
    );
    for file in [
        "rs_t/rs_t.toml",
        "rs_t/README.md",
        "rs_t/kmod/rust/rs_t_main.rs",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    for file in ["c_t/c_t.toml", "c_t/README.md", "c_t/kmod/c/c_t.c"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    assert!(!dir.path().join("rs_t/kmod/c").exists());
    assert!(!dir.path().join("c_t/kmod/rust").exists());
}

/// Generates NAME and runs its lab headless in the VM, unchanged.
fn generated_lab_passes(name: &str, lang: &str) {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let out = dmbench_new(dir.path(), &[name, "--lang", lang]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lab = dir.path().join(name).join(format!("{name}.toml"));
    let run = common::Headless::run(&lab, &[]);
    let text = &run.text;
    assert!(run.ok, "{lab:?} failed:\n{text}");
    let steps = run.steps();
    assert!(steps.len() >= 12, "{text}");
    assert!(steps.iter().all(|s| s["outcome"] == "passed"), "{text}");
    let kinds: Vec<&str> = steps.iter().filter_map(|s| s["kind"].as_str()).collect();
    for kind in [
        "build", "load", "disk", "create", "write", "read", "status", "message", "remove", "unload",
    ] {
        assert!(
            kinds.contains(&kind),
            "the lab has a {kind} step: {kinds:?}"
        );
    }
    // The message reply comes from the generated target itself.
    assert!(
        text.contains("reads=16 writes=16"),
        "the stats reply and status: {text}"
    );
}

#[test]
fn a_generated_rust_target_passes_its_lab_in_the_vm() {
    generated_lab_passes("new_rs", "rust");
}

#[test]
fn a_generated_c_target_passes_its_lab_in_the_vm() {
    generated_lab_passes("new_c", "c");
}

/// Names at both ends of what is allowed, and ones whose Rust type name
/// would clash, still give code that builds clean and is kernel style.
#[test]
fn generated_code_builds_clean_and_is_kernel_style_for_any_valid_name() {
    let Some(kernel) = dmbench::kernel::find_cached() else {
        assert!(!common::vm_required(), "building needs the lab kernel tree");
        eprintln!("SKIPPED (no lab kernel tree)");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let checkpatch = kernel.tree().join("scripts/checkpatch.pl");
    for (name, lang) in [
        ("abcdefghijklmno", "rust"),
        ("Target_", "rust"),
        ("x", "c"),
        ("abcdefghijklmno", "c"),
    ] {
        let sub = dir.path().join(lang);
        std::fs::create_dir_all(&sub).expect("mkdir");
        let out = dmbench_new(&sub, &[name, "--lang", lang]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let kmod = sub.join(name).join("kmod").join(lang);
        let built = dmbench::kbuild::build(&kmod, &kernel.tree(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{name} ({lang}) does not build: {e:#}"));
        assert_eq!(built.name, name);
        assert!(
            built.warnings.is_empty(),
            "{name} ({lang}): {:?}",
            built.warnings
        );
        if lang == "c" {
            let out = Command::new(&checkpatch)
                .args(["--no-tree", "-f"])
                .arg(kmod.join(format!("{name}.c")))
                .output()
                .expect("checkpatch");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("total: 0 errors, 0 warnings"),
                "{name}: {text}"
            );
        } else if Command::new("rustfmt").arg("--version").output().is_ok() {
            let root = kmod.join(format!("{}_main.rs", name.to_ascii_lowercase()));
            let out = common::rustfmt_check(&root);
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

/// The glue's less travelled paths, in a target of their own (generated,
/// then given this source): splitting with `accept_partial`, answering a
/// read with zeros and no I/O, the guard against a bio remapped to
/// nowhere, and a killed bio whose clone is already on its way.
const GLUE_PATHS: &str = r#"// SPDX-License-Identifier: GPL-2.0
//! glue_paths: exercises dm.rs paths the shipped targets do not.
use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};
mod dm;
use dm::{Args, Bio, BioSet, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter, Target};
dm::module_dm_target! {
    type: GluePaths,
    name: "glue_paths",
    version: [0, 0, 1],
    authors: ["dmbench tests"],
    description: "glue_paths",
    license: "GPL",
}
struct GluePaths {
    dev: Device,
    pool: BioSet,
    writes: Atomic<u64>,
}
#[vtable]
impl dm::TargetOps for GluePaths {
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let Some(path) = args.get(0) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let dev = ti.get_device(path).map_err(|e| CtrError::new(e, c"device lookup failed"))?;
        let pool = BioSet::new(4).map_err(|e| CtrError::new(e, c"no pool"))?;
        ti.set_num_bios(1, 0, 0, 0);
        Ok(GluePaths { dev, pool, writes: Atomic::new(0) })
    }
    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        let Some(offset) = ti.offset(bio.sector()) else {
            return MapResult::Kill;
        };
        if bio.size() == 0 {
            bio.set_dev(&self.dev);
            return MapResult::Remapped;
        }
        match (bio.op(), offset) {
            (ReqOp::Read, o) if o >= 8192 => {
                bio.zero_fill();
                MapResult::Complete(Ok(()))
            }
            (ReqOp::Read, 4096) => MapResult::Remapped,
            (ReqOp::Write, 6144) => {
                if bio.clone_to(&self.pool, &self.dev, offset + 8192).is_err() {
                    return MapResult::Kill;
                }
                MapResult::Kill
            }
            (op, _) => {
                if op == ReqOp::Write {
                    self.writes.add(1, Relaxed);
                    bio.accept_partial(8);
                }
                bio.remap(&self.dev, offset);
                MapResult::Remapped
            }
        }
    }
    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        if kind == StatusType::Info {
            let _ = out.write_fmt(fmt!("writes={}", self.writes.load(Relaxed)));
        }
    }
    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, 0, ti.len())
    }
}
"#;

const GLUE_PATHS_LAB: &str = r#"title = "glue paths"
[[steps]]
run = "build"
source = "kmod/rust"
[[steps]]
run = "load"
module = "glue_paths"
[[steps]]
run = "disk"
name = "d"
size = "8MiB"
[[steps]]
run = "write"
device = "d"
bs = 4096
seek = 1024
count = 2
pattern = "0xA5"
direct = true
[[steps]]
run = "create"
name = "paths"
table = "0 16384 glue_paths {d}"
[[steps]]
run = "write"
device = "paths"
bs = "64KiB"
count = 8
pattern = "stamp"
direct = true
[[steps]]
run = "status"
device = "paths"
[steps.expect]
output = "glue_paths writes=128$"
[[steps]]
run = "read"
device = "paths"
bs = "64KiB"
count = 8
verify = "stamp"
direct = true
[[steps]]
run = "read"
device = "paths"
bs = 4096
skip = 1024
count = 2
verify = "zero"
direct = true
[[steps]]
run = "read"
device = "paths"
bs = 512
skip = 4096
count = 1
direct = true
[steps.expect]
error = "EIO"
[[steps]]
run = "write"
device = "paths"
bs = 4096
seek = 768
count = 1
pattern = "stamp"
direct = true
[steps.expect]
error = "EIO"
[[steps]]
run = "read"
device = "d"
bs = 4096
skip = 1792
count = 1
verify = "stamp"
stamp_shift = "8192s"
direct = true
[[steps]]
run = "remove"
device = "paths"
[[steps]]
run = "unload"
module = "glue_paths"
"#;

#[test]
fn the_glue_splits_zero_fills_and_guards_in_the_vm() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let out = dmbench_new(dir.path(), &["glue_paths"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let root = dir.path().join("glue_paths");
    std::fs::write(root.join("kmod/rust/glue_paths_main.rs"), GLUE_PATHS).expect("source");
    let lab = root.join("paths.toml");
    std::fs::write(&lab, GLUE_PATHS_LAB).expect("lab");
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("--headless")
        .arg(&lab)
        .arg("--vm")
        .arg("--report")
        .arg(&report)
        .output()
        .expect("dmbench runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    // 64 KiB writes taken 8 sectors at a time (status), reads past sector
    // 8192 answered with zeros over a disk holding 0xA5, the read remapped
    // to nowhere failed (not looping), the killed write's clone landed.
    assert!(out.status.success(), "{text}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let guard = &report["steps"][9];
    assert_eq!(guard["kind"], "read");
    assert!(
        guard["kmsg"]
            .as_array()
            .expect("kmsg")
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains(
                "glue_paths: map returned Remapped without pointing the bio at a device"
            ))),
        "{guard}"
    );
}
