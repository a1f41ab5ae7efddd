//! One lab engine for both front ends: every shipped lab, and a lab that
//! fails on purpose, run headless and through the TUI's worker (the very
//! thread the interactive workbench drives with `n`), in the sandbox VM,
//! reach the same outcome for every step. These run in CI.

use crate::common;

use common::Verdict;

use std::path::Path;
use std::time::{Duration, Instant};

use dmbench::lab::engine::{LabContext, Outcome, StepRecord};
use dmbench::lab::model::load_lab;
use dmbench::lab::roots::SourceRoots;
use dmbench::session::{Session, SessionOptions};
use dmbench::tui::action::{Command as UiCommand, Job, Update};
use dmbench::tui::worker::{self, WorkerConfig};
use dmbench::vm::VmExecutor;

fn headless(lab: &Path) -> Vec<Verdict> {
    common::Headless::run(lab, &[]).verdicts()
}

/// Runs the lab step by step through the TUI's worker, as `n` does: a
/// failed step stops the lab, and the steps after it do not run.
fn through_the_tui_worker(lab_path: &Path) -> Vec<Verdict> {
    let config = common::vm_config().expect("vm");
    let lab = load_lab(lab_path).expect("the lab parses");
    let kdir = dmbench::kernel::find_cached().map(|k| k.tree());
    let (tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let handle = worker::spawn(
        Box::new(move |events| {
            Session::open(
                |sink| Ok(Box::new(VmExecutor::boot(config, sink)?)),
                events,
                SessionOptions {
                    work_dir: "/run/dmbench".into(),
                    ledger_dir: None,
                },
            )
        }),
        tx,
        WorkerConfig {
            context: LabContext {
                roots: SourceRoots::new(Some(lab_path), None),
                kdir,
                builder: dmbench::kbuild::default_builder(),
            },
            lab: Some(lab.clone()),
            stats_interval: None,
        },
    );
    let mut verdicts = Vec::new();
    let mut failed = false;
    for (index, step) in lab.steps.iter().enumerate() {
        if failed {
            verdicts.push(Verdict {
                kind: step.kind.name().to_string(),
                outcome: "skipped".into(),
                refused: false,
            });
            continue;
        }
        let ticket = index as u64 + 1;
        assert!(handle.send(Job {
            ticket,
            command: UiCommand::RunLabStep { index },
        }));
        let record = wait_for_record(&mut updates, ticket);
        failed = record.outcome != Outcome::Passed;
        verdicts.push(Verdict {
            kind: record.kind.to_string(),
            outcome: match record.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed => "failed",
                Outcome::Skipped => "skipped",
            }
            .into(),
            refused: record.refusal.is_some(),
        });
    }
    let _ = handle.send(Job {
        ticket: 0,
        command: UiCommand::Teardown,
    });
    let torn_down = loop {
        match updates.blocking_recv() {
            Some(Update::TornDown(report)) => break report,
            Some(_) => {}
            None => panic!("the worker ended without a teardown report"),
        }
    };
    assert!(torn_down.all_ok(), "{torn_down}");
    handle.join();
    verdicts
}

fn wait_for_record(
    updates: &mut tokio::sync::mpsc::UnboundedReceiver<Update>,
    ticket: u64,
) -> StepRecord {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(Instant::now() < deadline, "no record for step {ticket}");
        match updates.blocking_recv() {
            Some(Update::LabStep { ticket: t, record }) if t == ticket => return *record,
            Some(Update::StartFailed(why)) => panic!("the session did not start: {why}"),
            Some(_) => {}
            None => panic!("the worker is gone"),
        }
    }
}

#[test]
fn every_shipped_lab_reaches_the_same_verdicts_headless_and_in_the_tui() {
    if common::vm_config().is_none() {
        return;
    }
    let labs = common::shipped_labs();
    for lab in labs {
        // The shipped lab's headless run, shared with the tests that read it.
        let headless = common::Headless::shipped(&lab).verdicts();
        let tui = through_the_tui_worker(&lab);
        assert_eq!(tui, headless, "{}", lab.display());
        assert!(
            headless.iter().all(|v| v.outcome == "passed"),
            "{}: {headless:?}",
            lab.display()
        );
    }
}

#[test]
fn a_lab_that_fails_fails_at_the_same_step_in_both() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let lab = dir.path().join("fails.toml");
    std::fs::write(
        &lab,
        r#"title = "a refusal that is a lesson, then a verify that is not"
[[steps]]
run = "disk"
name = "d"
size = "1MiB"
[[steps]]
run = "create"
name = "z"
table = "0 2048 zero"
[[steps]]
run = "create"
name = "z"
table = "0 2048 zero"
[steps.expect]
error = "EBUSY"
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
    let headless = headless(&lab);
    let tui = through_the_tui_worker(&lab);
    assert_eq!(tui, headless);
    let outcomes: Vec<&str> = headless.iter().map(|v| v.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["passed", "passed", "passed", "failed", "skipped"]
    );
    assert!(headless[2].refused, "{headless:?}");
}
