//! The course in assets/course: every exercise's solution passes its labs
//! and every skeleton builds, loads and then fails at the step that checks
//! what it is missing, in Rust and in C. Also: the exercises carry the glue
//! unchanged, their two labs agree, and every source is kernel style.
//! The VM tests run in CI (DMBENCH_REQUIRE_VM=1 makes a missing lab kernel
//! a failure, not a skip).

use crate::common;
use crate::common::repo;

use std::path::{Path, PathBuf};
use std::process::Command;

fn course() -> PathBuf {
    repo().join("assets/course")
}

/// An exercise and the step (1-based, as the headless output numbers them)
/// at which its skeleton must fail, with that step's kind.
struct Exercise {
    dir: &'static str,
    skeleton_fails_at: usize,
    kind: &'static str,
}

const EXERCISES: &[Exercise] = &[
    Exercise {
        dir: "01-first-target",
        skeleton_fails_at: 9,
        kind: "read",
    },
    Exercise {
        dir: "02-read-only",
        skeleton_fails_at: 7,
        kind: "write",
    },
    Exercise {
        dir: "03-counting-proxy",
        skeleton_fails_at: 7,
        kind: "status",
    },
    Exercise {
        dir: "04-striping",
        skeleton_fails_at: 7,
        kind: "write",
    },
    Exercise {
        dir: "05-fault-injection",
        skeleton_fails_at: 6,
        kind: "read",
    },
    Exercise {
        dir: "06-mirror",
        skeleton_fails_at: 10,
        kind: "read",
    },
];

type Run = common::Headless;

fn run_lab(lab: &Path, root: &Path) -> Run {
    common::Headless::run_in(lab, root)
}

fn steps(run: &Run) -> Vec<serde_json::Value> {
    run.steps()
}

/// The build step's output has no compiler or objtool warning: the course
/// builds clean, skeletons included.
fn assert_clean_build(run: &Run, what: &str) {
    let build = &steps(run)[0];
    assert_eq!(build["kind"], "build", "{what}:\n{}", run.text);
    assert_eq!(build["outcome"], "passed", "{what}:\n{}", run.text);
    let warnings: Vec<&str> = build["output"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(|l| l.as_str())
                .filter(|l| l.starts_with("warning") || l.contains(": warning:"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        warnings.is_empty(),
        "{what} builds with warnings: {warnings:?}"
    );
}

fn check_exercise(name: &str) {
    if common::vm_config().is_none() {
        return;
    }
    let ex = EXERCISES
        .iter()
        .find(|e| e.dir == name)
        .expect("a listed exercise");
    let dir = course().join(ex.dir);
    for lab in ["lab.toml", "lab-c.toml"] {
        let lab = dir.join(lab);
        let what = format!("{} with solution/", lab.display());
        let run = run_lab(&lab, &dir.join("solution"));
        assert!(run.ok, "{what} failed:\n{}", run.text);
        assert_eq!(run.report["passed"], true, "{what}:\n{}", run.text);
        assert!(
            steps(&run).iter().all(|s| s["outcome"] == "passed"),
            "{what}:\n{}",
            run.text
        );
        assert_clean_build(&run, &what);

        let what = format!("{} with skeleton/", lab.display());
        let run = run_lab(&lab, &dir.join("skeleton"));
        assert!(
            !run.ok,
            "{what} passed, but a skeleton must fail:\n{}",
            run.text
        );
        assert_eq!(run.report["passed"], false, "{what}:\n{}", run.text);
        let steps = steps(&run);
        assert_clean_build(&run, &what);
        let failed: Vec<usize> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s["outcome"] == "failed")
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            failed,
            [ex.skeleton_fails_at],
            "{what} must fail at step {} (the check of what it lacks), not elsewhere:\n{}",
            ex.skeleton_fails_at,
            run.text
        );
        let step = &steps[ex.skeleton_fails_at - 1];
        assert_eq!(step["kind"], ex.kind, "{what}:\n{}", run.text);
        assert!(
            steps[..ex.skeleton_fails_at - 1]
                .iter()
                .all(|s| s["outcome"] == "passed"),
            "{what}: build, load and set-up pass first:\n{}",
            run.text
        );
        assert_eq!(steps[1]["kind"], "load", "{what}");
        let torn_down = run.report["teardown"].as_array().expect("teardown");
        assert!(
            torn_down.iter().all(|t| t["error"].is_null()),
            "{what}: teardown left something:\n{}",
            run.text
        );
    }
}

#[test]
fn exercise_01_first_target() {
    check_exercise("01-first-target");
}

#[test]
fn exercise_02_read_only() {
    check_exercise("02-read-only");
}

#[test]
fn exercise_03_counting_proxy() {
    check_exercise("03-counting-proxy");
}

#[test]
fn exercise_04_striping() {
    check_exercise("04-striping");
}

#[test]
fn exercise_05_fault_injection() {
    check_exercise("05-fault-injection");
}

#[test]
fn exercise_06_mirror() {
    check_exercise("06-mirror");
}

fn exercise_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(course())
        .expect("assets/course")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_exercise_is_tested_and_has_its_parts() {
    let dirs = exercise_dirs();
    let listed: Vec<&str> = EXERCISES.iter().map(|e| e.dir).collect();
    assert_eq!(dirs, listed, "every exercise shipped is one this test runs");
    assert!(dirs.len() >= 5);
    for dir in &dirs {
        let dir = course().join(dir);
        for part in ["lab.toml", "lab-c.toml", "README.md"] {
            assert!(dir.join(part).is_file(), "{}/{part}", dir.display());
        }
        for tree in ["skeleton", "solution"] {
            for lang in ["rust", "c"] {
                let kmod = dir.join(tree).join("kmod").join(lang);
                assert!(kmod.join("Makefile").is_file(), "{}", kmod.display());
                // A student copies the tree whole: nothing in it but sources.
                let wanted: &[&str] = if lang == "c" {
                    &["c", "h"]
                } else {
                    &["rs", "c", "h"]
                };
                for entry in std::fs::read_dir(&kmod).expect("tree").flatten() {
                    let path = entry.path();
                    let is_source = path
                        .extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| wanted.contains(&x))
                        && !path.to_string_lossy().contains('*');
                    assert!(
                        is_source || path.file_name().is_some_and(|n| n == "Makefile"),
                        "not a source of a {lang} tree: {}",
                        path.display()
                    );
                }
            }
        }
        let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            readme.contains(&format!("dmbench --headless assets/course/{name}/lab.toml")),
            "{name}'s README says how to run it"
        );
    }
}

#[test]
fn the_c_lab_is_the_rust_lab_with_the_c_module() {
    for dir in exercise_dirs() {
        let dir = course().join(dir);
        let rust = std::fs::read_to_string(dir.join("lab.toml")).expect("lab.toml");
        let c = std::fs::read_to_string(dir.join("lab-c.toml")).expect("lab-c.toml");
        assert_eq!(rust.matches("source = \"kmod/rust\"").count(), 1);
        let expected = rust
            .replacen("(Rust)\"", "(C)\"", 1)
            .replace("source = \"kmod/rust\"", "source = \"kmod/c\"");
        assert_eq!(
            c,
            expected,
            "{}: the two labs check the same",
            dir.display()
        );
    }
}

/// Every Rust module dmbench ships carries the generic glue unchanged: one
/// copy to maintain, kmod/rust's.
#[test]
fn every_rust_tree_carries_the_glue_unchanged() {
    let glue = ["dm.rs", "dm_glue.c", "dm_glue.h"];
    let mut trees = 0;
    for dir in exercise_dirs() {
        for tree in ["skeleton", "solution"] {
            let kmod = course().join(&dir).join(tree).join("kmod/rust");
            for file in glue {
                let ours = std::fs::read(kmod.join(file)).expect("glue file");
                let shipped = std::fs::read(repo().join("kmod/rust").join(file)).expect("glue");
                assert!(
                    ours == shipped,
                    "{} differs from kmod/rust/{file}: copy it again",
                    kmod.join(file).display()
                );
            }
            trees += 1;
        }
    }
    assert!(trees >= 10);
}

fn sources(ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![repo().join("kmod/c"), repo().join("kmod/rust")];
    for dir in exercise_dirs() {
        for tree in ["skeleton", "solution"] {
            for lang in ["rust", "c"] {
                dirs.push(course().join(&dir).join(tree).join("kmod").join(lang));
            }
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).expect("kmod dir").flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // kbuild's generated NAME.mod.c is not ours.
            if name.ends_with(ext) && !name.ends_with(".mod.c") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_c_source_is_checkpatch_clean() {
    let Some(kernel) = dmbench::kernel::find_cached() else {
        assert!(
            !common::vm_required(),
            "checkpatch needs the lab kernel tree"
        );
        eprintln!("SKIPPED (no lab kernel tree for checkpatch)");
        return;
    };
    let checkpatch = kernel.tree().join("scripts/checkpatch.pl");
    let mut files = sources(".c");
    files.extend(sources(".h"));
    assert!(files.len() >= 25, "{files:?}");
    // One checkpatch for every file: its start-up (the spelling and
    // structure tables) costs more than checking one small file.
    let out = Command::new(&checkpatch)
        .args(["--no-tree", "-f"])
        .args(&files)
        .output()
        .expect("checkpatch runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for file in &files {
        assert!(
            text.contains(&format!("{} has no obvious style problems", file.display())),
            "{}:\n{text}",
            file.display()
        );
    }
    assert_eq!(
        text.matches("total: 0 errors, 0 warnings").count(),
        files.len(),
        "{text}"
    );
}

#[test]
fn every_rust_source_is_rustfmt_clean() {
    if Command::new("rustfmt").arg("--version").output().is_err() {
        assert!(
            !common::vm_required(),
            "rustfmt is needed to check the modules"
        );
        eprintln!("SKIPPED (no rustfmt)");
        return;
    }
    // The crate roots; rustfmt follows `mod dm;`. Options as the Makefiles'.
    let roots: Vec<PathBuf> = sources("_main.rs");
    assert!(roots.len() >= 13, "{roots:?}");
    for root in roots {
        let out = common::rustfmt_check(&root);
        assert!(
            out.status.success(),
            "{} is not rustfmt clean:\n{}",
            root.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
