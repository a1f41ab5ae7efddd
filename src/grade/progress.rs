//! What the terminal shows while grading and after: a progress bar
//! redrawn in place on a terminal (one line per finished pair when the
//! output is a file or a CI log, never a redraw), then a table of
//! submission x lab and a summary line.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::model::{GradeReport, PairResult, Verdict};
use crate::output;

pub struct Progress {
    total: usize,
    done: usize,
    passed: usize,
    running: usize,
    started: Instant,
    tty: bool,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            passed: 0,
            running: 0,
            started: Instant::now(),
            tty: std::io::stdout().is_terminal(),
        }
    }

    pub fn started(&mut self) {
        self.running += 1;
        self.draw();
    }

    pub fn finished(&mut self, result: &PairResult) {
        self.running = self.running.saturating_sub(1);
        self.done += 1;
        if result.verdict == Verdict::Passed {
            self.passed += 1;
        }
        if self.tty {
            self.draw();
        } else {
            output::line(&format!(
                "[{:>w$}/{}] {:<9} {} x {} ({:.1} s){}",
                self.done,
                self.total,
                result.verdict.word(),
                result.submission,
                result.lab,
                result.duration_ms / 1e3,
                result
                    .reason
                    .as_deref()
                    .map(|r| format!(": {}", r.lines().next().unwrap_or("")))
                    .unwrap_or_default(),
                w = self.total.to_string().len()
            ));
        }
    }

    /// Redraws the bar (on a terminal only); called on events and ticks.
    pub fn draw(&self) {
        if !self.tty {
            return;
        }
        const WIDTH: usize = 30;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        let elapsed = self.started.elapsed().as_secs();
        output::text(&format!(
            "\r\x1b[2K[{}{}] {}/{} pairs, {} passed, {} failed, {} running, {}:{:02}",
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            self.done,
            self.total,
            self.passed,
            self.done - self.passed,
            self.running,
            elapsed / 60,
            elapsed % 60
        ));
    }

    /// Ends the bar's line, so what follows starts on its own.
    pub fn finish(&self) {
        if self.tty {
            self.draw();
            output::text("\n");
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// The table: one row per submission, one column per lab.
pub fn table(report: &GradeReport) -> String {
    let header = "submission".to_string();
    let first = report
        .submissions
        .iter()
        .map(|s| s.chars().count())
        .chain([header.len()])
        .max()
        .unwrap_or(10);
    let cell = |r: Option<&PairResult>| match r {
        None => "-".to_string(),
        Some(r) => match (&r.verdict, &r.step) {
            (Verdict::Passed, _) => "passed".into(),
            (v, Some(step)) => format!("{} @{}", v.word(), step.index),
            (v, None) => v.word().into(),
        },
    };
    let widths: Vec<usize> = report
        .labs
        .iter()
        .map(|lab| {
            report
                .submissions
                .iter()
                .map(|s| cell(report.result(s, &lab.name)).len())
                .chain([lab.name.chars().count()])
                .max()
                .unwrap_or(6)
        })
        .collect();
    let mut out = format!("{header:<first$}");
    for (lab, w) in report.labs.iter().zip(&widths) {
        out.push_str(&format!("  {:<w$}", lab.name));
    }
    let mut out = format!("{}\n", out.trim_end());
    for s in &report.submissions {
        let mut row = format!("{s:<first$}");
        for (lab, w) in report.labs.iter().zip(&widths) {
            row.push_str(&format!("  {:<w$}", cell(report.result(s, &lab.name))));
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    let sum = &report.summary;
    out.push_str(&format!(
        "\n{} of {} pairs passed; {} failed, {} timed out, {} not run, {} grading errors{}\n",
        sum.passed,
        sum.pairs,
        sum.failed,
        sum.timed_out,
        sum.not_run,
        sum.errors,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    ));
    out
}

/// Every pair that did not pass, with its reason: under the table.
pub fn reasons(report: &GradeReport) -> String {
    let mut out = String::new();
    for r in report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Passed)
    {
        out.push_str(&format!(
            "{} x {}: {}: {}\n",
            r.submission,
            r.lab,
            r.verdict.word(),
            r.reason
                .as_deref()
                .map(|t| t.lines().next().unwrap_or(""))
                .unwrap_or("")
        ));
    }
    out
}
