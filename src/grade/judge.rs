//! A pair's verdict from how its run ended, the lab run's report and its
//! output. A pass needs everything: the run exited 0, its report says it
//! passed, and it has a passed record for every step of the lab. A skipped
//! step, a missing report, a timeout or an interruption is never a pass.

use std::time::Duration;

use serde_json::Value;

use super::model::{StepRef, Verdict};
use crate::lab::model::Lab;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself: success or not.
    Exited(bool),
    TimedOut,
    Interrupted,
    /// It could not be started.
    Unstarted(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub step: Option<StepRef>,
}

/// Kernel-log lines kept with a step reference (the report has them all).
const KMSG_KEPT: usize = 40;

pub fn judge(
    lab: &Lab,
    ending: &Ending,
    report: Option<&Value>,
    log: &[String],
    timeout: Duration,
) -> Judged {
    let steps = report
        .and_then(|r| r["steps"].as_array())
        .cloned()
        .unwrap_or_default();
    let failed = steps
        .iter()
        .find(|s| s["outcome"] == "failed")
        .map(|s| step_ref(lab, s));
    match ending {
        Ending::Unstarted(why) => Judged {
            verdict: Verdict::Error,
            reason: Some(format!("the run could not start: {why}")),
            step: None,
        },
        Ending::TimedOut | Ending::Interrupted => {
            // A run that was stopped reports the step in flight as failed
            // ("interrupted"); one that had to be killed left only its
            // output, whose last progress line is the step before.
            let step = failed.or_else(|| running_step(lab, log));
            let place = step.as_ref().map_or_else(
                || "before its first step (while the sandbox VM started)".to_string(),
                |s| format!("in step {} {} (line {})", s.index, s.label, s.line),
            );
            let (verdict, reason) = if *ending == Ending::TimedOut {
                (
                    Verdict::TimedOut,
                    format!("ran past the {} s timeout {place}", timeout.as_secs()),
                )
            } else {
                (Verdict::NotRun, format!("interrupted {place}"))
            };
            Judged {
                verdict,
                reason: Some(reason),
                step,
            }
        }
        Ending::Exited(success) => exited(lab, *success, report, &steps, failed, log),
    }
}

fn exited(
    lab: &Lab,
    success: bool,
    report: Option<&Value>,
    steps: &[Value],
    failed: Option<StepRef>,
    log: &[String],
) -> Judged {
    let Some(report) = report else {
        let said = log
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or("no output".to_string(), |l| l.trim().to_string());
        return Judged {
            verdict: Verdict::Error,
            reason: Some(format!("the run ended without a report: {said}")),
            step: None,
        };
    };
    if let Some(step) = failed {
        let mut reason = format!(
            "step {} {} (line {}): {}",
            step.index,
            step.label,
            step.line,
            step.error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or("failed")
        );
        if let Some(place) = step.crash.as_ref().and_then(crash_place) {
            reason.push_str(&format!("; the kernel crashed {place}"));
        }
        return Judged {
            verdict: Verdict::Failed,
            reason: Some(reason),
            step: Some(step),
        };
    }
    let not_passed = steps.iter().find(|s| s["outcome"] != "passed");
    if let Some(step) = not_passed {
        let step = step_ref(lab, step);
        return Judged {
            verdict: Verdict::Failed,
            reason: Some(format!(
                "step {} {} (line {}) did not run",
                step.index, step.label, step.line
            )),
            step: Some(step),
        };
    }
    if steps.len() != lab.steps.len() {
        return Judged {
            verdict: Verdict::Failed,
            reason: Some(format!(
                "the run reported {} of the lab's {} steps",
                steps.len(),
                lab.steps.len()
            )),
            step: None,
        };
    }
    if report["passed"] != true || !success {
        let teardown: Vec<String> = report["teardown"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter(|e| e["outcome"] == "failed")
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e["resource"].as_str().unwrap_or("?"),
                            e["error"].as_str().unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Judged {
            verdict: Verdict::Failed,
            reason: Some(if teardown.is_empty() {
                "every step passed, but the run did not".to_string()
            } else {
                format!("teardown failed: {}", teardown.join("; "))
            }),
            step: None,
        };
    }
    Judged {
        verdict: Verdict::Passed,
        reason: None,
        step: None,
    }
}

/// A report's step record, with what the lab file says of the step.
fn step_ref(lab: &Lab, record: &Value) -> StepRef {
    let index = record["index"].as_u64().unwrap_or(0) as usize;
    let planned = index.checked_sub(1).and_then(|i| lab.steps.get(i));
    let strings = |key: &str| -> Vec<String> {
        record[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut kmsg = strings("kmsg");
    let skip = kmsg.len().saturating_sub(KMSG_KEPT);
    kmsg.drain(..skip);
    StepRef {
        index,
        kind: record["kind"].as_str().unwrap_or("?").to_string(),
        label: planned.map_or_else(
            || record["kind"].as_str().unwrap_or("?").to_string(),
            |s| s.kind.label(),
        ),
        line: record["line"].as_u64().map_or(0, |l| l as usize),
        error: record["error"].as_str().map(str::to_string),
        diagnostics: strings("diagnostics"),
        crash: Some(record["crash"].clone()).filter(|c| !c.is_null()),
        kmsg,
    }
}

/// `in FUNCTION [MODULE] at FILE:LINE`, from a decoded crash.
pub fn crash_place(crash: &Value) -> Option<String> {
    let mut out = String::new();
    if let Some(function) = crash["function"].as_str() {
        out.push_str(&format!("in {function}"));
        if let Some(module) = crash["module"].as_str() {
            out.push_str(&format!(" [{module}]"));
        }
    }
    if let Some(location) = crash["location"].as_str() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("at {location}"));
    }
    (!out.is_empty()).then_some(out)
}

/// The step a killed run was in: the one after its last progress line
/// (`[ 6/12] write ...  ok`), or that one if it says FAILED.
fn running_step(lab: &Lab, log: &[String]) -> Option<StepRef> {
    let last = log.iter().rev().find_map(|line| {
        let rest = line.trim_start().strip_prefix('[')?;
        let (done, _) = rest.split_once('/')?;
        let done: usize = done.trim().parse().ok()?;
        Some((done, line.contains(" FAILED ")))
    });
    let index = match last {
        Some((done, true)) => done,
        Some((done, false)) => done + 1,
        // Ready, and no step finished yet: the first one.
        None if log.iter().any(|l| l.starts_with("ready:")) => 1,
        None => return None,
    };
    let step = lab.steps.get(index.checked_sub(1)?)?;
    Some(StepRef {
        index,
        kind: step.kind.name().to_string(),
        label: step.kind.label(),
        line: step.line,
        error: None,
        diagnostics: Vec::new(),
        crash: None,
        kmsg: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lab() -> Lab {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("lab.toml");
        std::fs::write(
            &path,
            "title = \"t\"\n\n[[steps]]\nrun = \"build\"\nsource = \"kmod/c\"\n\n\
             [[steps]]\nrun = \"load\"\nmodule = \"m\"\n\n\
             [[steps]]\nrun = \"unload\"\nmodule = \"m\"\n",
        )
        .expect("lab");
        crate::lab::model::load_lab(&path).expect("lab loads")
    }

    fn step(index: usize, kind: &str, outcome: &str) -> Value {
        json!({"index": index, "kind": kind, "line": 3 * index, "outcome": outcome,
               "kmsg": [], "output": [], "error": null})
    }

    const T: Duration = Duration::from_secs(20);

    #[test]
    fn a_pass_needs_every_step_passed_the_report_and_exit_zero() {
        let lab = lab();
        let all = json!({"passed": true, "steps": [step(1, "build", "passed"),
            step(2, "load", "passed"), step(3, "unload", "passed")], "teardown": []});
        let j = judge(&lab, &Ending::Exited(true), Some(&all), &[], T);
        assert_eq!(j.verdict, Verdict::Passed);
        // Exit status non-zero with a passing report: not a pass.
        let j = judge(&lab, &Ending::Exited(false), Some(&all), &[], T);
        assert_eq!(j.verdict, Verdict::Failed);
        // A skipped step, even with passed = true: not a pass.
        let skipped = json!({"passed": true, "steps": [step(1, "build", "passed"),
            step(2, "load", "skipped"), step(3, "unload", "passed")], "teardown": []});
        let j = judge(&lab, &Ending::Exited(true), Some(&skipped), &[], T);
        assert_eq!(j.verdict, Verdict::Failed);
        assert!(
            j.reason
                .as_deref()
                .is_some_and(|r| r.contains("did not run")),
            "{j:?}"
        );
        // Fewer records than steps: not a pass.
        let short = json!({"passed": true, "steps": [step(1, "build", "passed")], "teardown": []});
        let j = judge(&lab, &Ending::Exited(true), Some(&short), &[], T);
        assert_eq!(j.verdict, Verdict::Failed);
        // No report at all: not a pass.
        let j = judge(
            &lab,
            &Ending::Exited(true),
            None,
            &["dmbench: boom".into()],
            T,
        );
        assert_eq!(j.verdict, Verdict::Error);
        assert!(j.reason.as_deref().is_some_and(|r| r.contains("boom")));
    }

    #[test]
    fn a_failed_step_names_its_line_and_the_crash_location() {
        let lab = lab();
        let mut load = step(2, "load", "failed");
        load["error"] = json!("the guest kernel crashed: BUG: oops\n  in m_ctr");
        load["crash"] = json!({"function": "m_ctr", "module": "m", "location": "kmod/c/m.c:42"});
        let report = json!({"passed": false, "steps": [step(1, "build", "passed"), load,
            step(3, "unload", "skipped")], "teardown": []});
        let j = judge(&lab, &Ending::Exited(false), Some(&report), &[], T);
        assert_eq!(j.verdict, Verdict::Failed);
        let reason = j.reason.expect("reason");
        assert!(
            reason.starts_with("step 2 load m (line 6): the guest kernel crashed: BUG: oops"),
            "{reason}"
        );
        assert!(
            reason.ends_with("the kernel crashed in m_ctr [m] at kmod/c/m.c:42"),
            "{reason}"
        );
        assert_eq!(j.step.expect("step").line, 6);
    }

    #[test]
    fn a_timeout_is_never_a_pass_and_names_the_step_in_flight() {
        let lab = lab();
        let log: Vec<String> = vec![
            "lab: t (3 steps)".into(),
            "ready: vm executor".into(),
            "[ 1/3] build kmod/c          ok   2.0 s  m.ko".into(),
        ];
        let all = json!({"passed": true, "steps": [step(1, "build", "passed"),
            step(2, "load", "passed"), step(3, "unload", "passed")], "teardown": []});
        // Even a complete, passing report does not turn a timeout green.
        let j = judge(&lab, &Ending::TimedOut, Some(&all), &log, T);
        assert_eq!(j.verdict, Verdict::TimedOut);
        let j = judge(&lab, &Ending::TimedOut, None, &log, T);
        assert_eq!(j.verdict, Verdict::TimedOut);
        let reason = j.reason.expect("reason");
        assert!(
            reason.contains("20 s timeout in step 2 load m (line 7)"),
            "{reason}"
        );
        let j = judge(&lab, &Ending::Interrupted, None, &log[..2], T);
        assert_eq!(j.verdict, Verdict::NotRun);
        assert!(j.reason.expect("reason").contains("step 1 build kmod/c"));
        let j = judge(&lab, &Ending::Interrupted, None, &[], T);
        assert!(j.reason.expect("reason").contains("before its first step"));
    }
}
