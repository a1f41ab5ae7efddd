//! `dmbench new`: names are checked with the reason, nothing is ever
//! overwritten or half written, and the generated target's lab passes in the
//! sandbox VM exactly as generated, in Rust and in C. The VM tests run in CI
//! (DMBENCH_REQUIRE_VM=1 makes a missing lab kernel a failure, not a skip).

mod common;

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

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1")
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
    assert!(out.status.success(), "{lab:?} failed:\n{text}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let steps = report["steps"].as_array().expect("steps");
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
    let Some(kernel) = dmbench::vm::kernel::find_cached() else {
        assert!(!required(), "building needs the lab kernel tree");
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
            let out = Command::new("rustfmt")
                .args([
                    "--edition",
                    "2021",
                    "--config",
                    "newline_style=Unix",
                    "--check",
                ])
                .arg(&root)
                .output()
                .expect("rustfmt");
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}
