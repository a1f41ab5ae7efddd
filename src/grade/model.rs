//! The grading report (`dmbench grade --report FILE.json`): the labs, the
//! submissions, and for every (submission, lab) pair its verdict, the step
//! that decided it and the lab run's own report as evidence. Shards write
//! the same shape and `--merge` reads it back.

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning; `--merge` refuses other versions.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeReport {
    pub format: u32,
    pub labs: Vec<LabInfo>,
    /// The submissions graded here, in the stable order (sorted by path).
    pub submissions: Vec<String>,
    /// Set when this is one slice of a sharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// Submission by submission, each with its labs in order.
    pub results: Vec<PairResult>,
    pub summary: Summary,
    /// True only if every pair passed.
    pub passed: bool,
    /// The run was stopped (Ctrl-C, SIGTERM) before every pair ran.
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInfo {
    /// Unique short name: the file's stem, with as many parent folders as
    /// it takes to tell labs apart (`01-first-target/lab-c`).
    pub name: String,
    /// As given on the command line.
    pub path: String,
    pub title: String,
    pub steps: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 1-based.
    pub index: usize,
    pub count: usize,
    /// Every submission of the whole run, in the stable order: merging
    /// checks that the slices come from one run and miss nobody.
    pub all_submissions: Vec<String>,
}

/// A pair's verdict. Only `Passed` is a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    /// The submission failed a step, does not build, crashed the guest,
    /// or is not a submission at all.
    Failed,
    /// It ran past the timeout.
    TimedOut,
    /// The run was interrupted before or while it ran.
    NotRun,
    /// The grading itself went wrong (the VM did not start): not the
    /// submission's fault, and not a pass either.
    Error,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "FAILED",
            Verdict::TimedOut => "TIMED OUT",
            Verdict::NotRun => "not run",
            Verdict::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    pub submission: String,
    /// The lab's `name`.
    pub lab: String,
    pub verdict: Verdict,
    /// Why, in one line (absent for a pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The step that failed, timed out or was running when interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    pub duration_ms: f64,
    /// When it started, UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub started: String,
    pub host: String,
    /// The lab run's own report (`dmbench --headless --report`): every
    /// step with its kernel-log lines, output, probe figures and verify
    /// results, build errors as file:line, a decoded crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
    /// The run's last lines of terminal output, when there is no report to
    /// say more (it timed out, or could not start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

/// The step a verdict points at, with what the lab file says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRef {
    /// 1-based.
    pub index: usize,
    pub kind: String,
    /// As the headless run labels it (`write first_dev bs=4096 ...`).
    pub label: String,
    /// Its line in the lab file.
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Build errors, `file:line:col: error: ...`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// The decoded kernel crash, when the guest crashed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<serde_json::Value>,
    /// Kernel-log lines logged during the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kmsg: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pairs: usize,
    pub passed: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub not_run: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(results: &[PairResult]) -> Summary {
        let mut s = Summary {
            pairs: results.len(),
            ..Summary::default()
        };
        for r in results {
            match r.verdict {
                Verdict::Passed => s.passed += 1,
                Verdict::Failed => s.failed += 1,
                Verdict::TimedOut => s.timed_out += 1,
                Verdict::NotRun => s.not_run += 1,
                Verdict::Error => s.errors += 1,
            }
        }
        s
    }
}

impl GradeReport {
    /// A report of `results`, sorted submission by submission in the
    /// stable order and, within one, in lab order: a whole run and the
    /// merge of its shards come out the same.
    pub fn new(
        labs: Vec<LabInfo>,
        submissions: Vec<String>,
        shard: Option<ShardInfo>,
        mut results: Vec<PairResult>,
        interrupted: bool,
    ) -> GradeReport {
        let position = |list: &[String], name: &str| list.iter().position(|s| s == name);
        let lab_names: Vec<String> = labs.iter().map(|l| l.name.clone()).collect();
        results.sort_by_key(|r| {
            (
                position(&submissions, &r.submission),
                position(&lab_names, &r.lab),
            )
        });
        let summary = Summary::of(&results);
        GradeReport {
            format: FORMAT,
            passed: summary.passed == summary.pairs && !interrupted,
            labs,
            submissions,
            shard,
            results,
            summary,
            interrupted,
        }
    }

    pub fn result(&self, submission: &str, lab: &str) -> Option<&PairResult> {
        self.results
            .iter()
            .find(|r| r.submission == submission && r.lab == lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn pair(submission: &str, lab: &str, verdict: Verdict) -> PairResult {
        PairResult {
            submission: submission.into(),
            lab: lab.into(),
            verdict,
            reason: None,
            step: None,
            duration_ms: 1.0,
            started: "2026-11-30T01:02:03".into(),
            host: "localhost".into(),
            report: None,
            log: Vec::new(),
        }
    }

    fn lab(name: &str) -> LabInfo {
        LabInfo {
            name: name.into(),
            path: format!("{name}.toml"),
            title: name.into(),
            steps: 3,
        }
    }

    #[test]
    fn only_all_passes_pass_and_results_come_in_the_stable_order() {
        let report = GradeReport::new(
            vec![lab("a"), lab("b")],
            vec!["s1".into(), "s2".into()],
            None,
            vec![
                pair("s2", "b", Verdict::Passed),
                pair("s1", "b", Verdict::Passed),
                pair("s2", "a", Verdict::Passed),
                pair("s1", "a", Verdict::Passed),
            ],
            false,
        );
        assert!(report.passed);
        let order: Vec<(&str, &str)> = report
            .results
            .iter()
            .map(|r| (r.submission.as_str(), r.lab.as_str()))
            .collect();
        assert_eq!(order, [("s1", "a"), ("s1", "b"), ("s2", "a"), ("s2", "b")]);
        for verdict in [
            Verdict::Failed,
            Verdict::TimedOut,
            Verdict::NotRun,
            Verdict::Error,
        ] {
            let report = GradeReport::new(
                vec![lab("a")],
                vec!["s1".into(), "s2".into()],
                None,
                vec![pair("s1", "a", Verdict::Passed), pair("s2", "a", verdict)],
                false,
            );
            assert!(!report.passed, "{verdict:?} is not a pass");
        }
    }

    #[test]
    fn verdicts_round_trip_through_json() {
        let mut p = pair("s1", "a", Verdict::TimedOut);
        p.reason = Some("ran past the 20 s timeout".into());
        let json = serde_json::to_string(&p).expect("json");
        assert!(json.contains("\"verdict\":\"timed_out\""), "{json}");
        let back: PairResult = serde_json::from_str(&json).expect("back");
        assert_eq!(back, p);
    }
}
