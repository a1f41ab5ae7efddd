//! dmbench's integration tests, in one binary: each file is one concern
//! (the VM end to end, labs in both front ends, grading, security, ...).
//! One binary links once instead of once per file, and `--test-threads`
//! keeps every core busy until the last test, whichever file it is in.
//! The VM tests need the lab kernel: without it they say why and return,
//! except where DMBENCH_REQUIRE_VM=1 (CI, `scripts/dev.sh test`) makes a
//! missing kernel a failure.

#[allow(dead_code)]
mod common;

mod build_box;
mod course;
mod crash_decode;
mod grade;
mod grading_examples;
mod hot_reload;
mod labs_both_front_ends;
mod labs_vm;
mod local_in_guest;
mod probe_host;
mod scaffold;
mod security;
mod shipped_binary;
mod tui_tmux;
mod vm_clock;
mod vm_e2e;
mod vm_stats;
