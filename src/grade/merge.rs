//! `dmbench grade --merge REPORT.json...`: the reports of a sharded run
//! combined into what one run over every submission gives. The slices must
//! come from one run (the same labs, the same submissions in the same
//! order, the same number of shards) and all be there: a missing or
//! doubled slice is an error, never a smaller green result.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::model::{FORMAT, GradeReport};

pub fn read(path: &PathBuf) -> Result<GradeReport> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let report: GradeReport = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a dmbench grade report", path.display()))?;
    if report.format != FORMAT {
        bail!(
            "{} is a grade report of format {}, this dmbench reads {FORMAT}",
            path.display(),
            report.format
        );
    }
    Ok(report)
}

/// More shards than any class has students: a count above it is a
/// damaged or foreign report.
const MAX_SHARDS: usize = 65_536;

pub fn merge(reports: Vec<GradeReport>) -> Result<GradeReport> {
    let Some(first) = reports.first() else {
        bail!("nothing to merge");
    };
    let labs = first.labs.clone();
    if let Some(other) = reports.iter().find(|r| r.labs != labs) {
        bail!(
            "the reports were graded with different labs ({} vs {}): not one run",
            names(&labs),
            names(&other.labs)
        );
    }
    let submissions = match &first.shard {
        Some(shard) => {
            // Index and count come from files: checked before they size or
            // index anything.
            if shard.count == 0 || shard.count > MAX_SHARDS {
                bail!(
                    "shard count {} is not one dmbench grades with (1 to {MAX_SHARDS})",
                    shard.count
                );
            }
            let mut seen = vec![false; shard.count];
            for r in &reports {
                let Some(s) = &r.shard else {
                    bail!("a whole run's report cannot be merged with shards");
                };
                if s.count != shard.count || s.all_submissions != shard.all_submissions {
                    bail!(
                        "shard {}/{} comes from another run (other submissions or shard count)",
                        s.index,
                        s.count
                    );
                }
                let Some(slot) = s.index.checked_sub(1).and_then(|i| seen.get_mut(i)) else {
                    bail!("shard {}/{} is not a shard of that run", s.index, s.count);
                };
                if std::mem::replace(slot, true) {
                    bail!("shard {}/{} is given twice", s.index, s.count);
                }
            }
            let missing: Vec<String> = seen
                .iter()
                .enumerate()
                .filter(|(_, seen)| !**seen)
                .map(|(i, _)| format!("{}/{}", i + 1, shard.count))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "shard(s) {} missing: the merge would leave submissions out",
                    missing.join(", ")
                );
            }
            shard.all_submissions.clone()
        }
        None => {
            if reports.iter().any(|r| r.shard.is_some()) {
                bail!("a whole run's report cannot be merged with shards");
            }
            let mut all: Vec<String> = reports
                .iter()
                .flat_map(|r| r.submissions.iter().cloned())
                .collect();
            all.sort();
            let count = all.len();
            all.dedup();
            if all.len() != count {
                bail!("a submission is graded in more than one report");
            }
            all
        }
    };
    let interrupted = reports.iter().any(|r| r.interrupted);
    let results: Vec<_> = reports.into_iter().flat_map(|r| r.results).collect();
    check_coverage(&submissions, &labs, &results)?;
    Ok(GradeReport::new(
        labs,
        submissions,
        None,
        results,
        interrupted,
    ))
}

/// Every submission has exactly one result per lab: a report with pairs
/// left out (edited, or cut short by hand) must not merge into a smaller
/// result that passes.
fn check_coverage(
    submissions: &[String],
    labs: &[super::model::LabInfo],
    results: &[super::model::PairResult],
) -> Result<()> {
    let mut pairs: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r.submission.as_str(), r.lab.as_str()))
        .collect();
    pairs.sort_unstable();
    let mut expected: Vec<(&str, &str)> = submissions
        .iter()
        .flat_map(|s| labs.iter().map(move |l| (s.as_str(), l.name.as_str())))
        .collect();
    expected.sort_unstable();
    if pairs != expected {
        let missing = expected.iter().find(|p| !pairs.contains(p));
        let extra = pairs.iter().find(|p| !expected.contains(p));
        let detail = match (missing, extra) {
            (Some((s, l)), _) => format!("{s} has no result for lab {l}"),
            (None, Some((s, l))) => format!("{s} × {l} is not a pair of this run, or is doubled"),
            (None, None) => "a pair is doubled".to_string(),
        };
        bail!("the reports do not hold one result per submission and lab: {detail}");
    }
    Ok(())
}

fn names(labs: &[super::model::LabInfo]) -> String {
    labs.iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::model::{LabInfo, PairResult, ShardInfo, Verdict};
    use super::super::plan::{Shard, slice};
    use super::*;

    fn lab() -> Vec<LabInfo> {
        vec![LabInfo {
            name: "a".into(),
            path: "a.toml".into(),
            title: "A".into(),
            steps: 2,
        }]
    }

    fn pair(s: &str, verdict: Verdict) -> PairResult {
        PairResult {
            submission: s.into(),
            lab: "a".into(),
            verdict,
            reason: None,
            step: None,
            duration_ms: 1.0,
            started: "2026-11-30T01:02:03".into(),
            host: "h".into(),
            report: None,
            log: Vec::new(),
        }
    }

    fn verdict(s: &str) -> Verdict {
        if s.ends_with('3') {
            Verdict::TimedOut
        } else {
            Verdict::Passed
        }
    }

    fn shards(all: &[String], count: usize) -> Vec<GradeReport> {
        (1..=count)
            .map(|index| {
                let mine = slice(all, Some(Shard { index, count }));
                let results = mine.iter().map(|s| pair(s, verdict(s))).collect();
                GradeReport::new(
                    lab(),
                    mine,
                    Some(ShardInfo {
                        index,
                        count,
                        all_submissions: all.to_vec(),
                    }),
                    results,
                    false,
                )
            })
            .collect()
    }

    #[test]
    fn merged_shards_are_the_whole_run() {
        let all: Vec<String> = (0..7).map(|i| format!("s{i}")).collect();
        let whole = GradeReport::new(
            lab(),
            all.clone(),
            None,
            all.iter().map(|s| pair(s, verdict(s))).collect(),
            false,
        );
        let mut parts = shards(&all, 3);
        parts.reverse();
        let merged = merge(parts).expect("merge");
        assert_eq!(merged, whole);
        assert!(!merged.passed, "s3 timed out");
    }

    #[test]
    fn a_missing_or_doubled_shard_is_refused() {
        let all: Vec<String> = (0..7).map(|i| format!("s{i}")).collect();
        let mut parts = shards(&all, 3);
        parts.remove(1);
        let err = merge(parts).expect_err("missing").to_string();
        assert!(err.contains("2/3"), "{err}");
        let mut parts = shards(&all, 3);
        parts.push(parts[0].clone());
        let err = merge(parts).expect_err("doubled").to_string();
        assert!(err.contains("twice"), "{err}");
        let mut parts = shards(&all, 3);
        parts[2]
            .shard
            .as_mut()
            .expect("shard")
            .all_submissions
            .pop();
        assert!(merge(parts).is_err(), "slices of another run");
    }

    #[test]
    fn a_damaged_shard_index_or_count_is_an_error_not_a_panic() {
        let all: Vec<String> = (0..4).map(|i| format!("s{i}")).collect();
        for (index, count) in [(0, 2), (3, 2), (1, usize::MAX)] {
            let mut parts = shards(&all, 2);
            let shard = parts[0].shard.as_mut().expect("shard");
            shard.index = index;
            shard.count = count;
            let err = merge(parts).expect_err("damaged").to_string();
            assert!(err.contains("shard"), "{index}/{count}: {err}");
        }
    }

    #[test]
    fn a_report_with_a_pair_left_out_does_not_merge() {
        let all: Vec<String> = (0..5).map(|i| format!("s{i}")).collect();
        let mut parts = shards(&all, 2);
        parts[1].results.pop();
        let err = merge(parts).expect_err("pair missing").to_string();
        assert!(err.contains("no result for lab a"), "{err}");
    }
}
