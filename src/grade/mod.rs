//! `dmbench grade`: a class's submissions against a set of labs, each
//! (submission, lab) pair in its own sandbox VM, N at a time; a table on
//! the terminal, JUnit XML for CI dashboards, a JSON report with every
//! step's evidence; `--shard I/N` and `--merge` to spread a class over
//! machines with the CI engines people already run. See docs/grading.md.

mod child;
mod judge;
pub mod junit;
mod merge;
pub mod model;
pub mod plan;
mod progress;
mod run;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::output;
use model::GradeReport;

#[derive(Debug, Args)]
pub struct GradeArgs {
    /// A lab every submission is graded with (repeat for several).
    #[arg(
        long = "lab",
        value_name = "LAB.toml",
        required_unless_present = "merge"
    )]
    pub labs: Vec<PathBuf>,

    /// Pairs graded at once, each in its own VM (default: one per core,
    /// as many as memory holds).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,

    /// Seconds one (submission, lab) pair may take; past it, it fails as
    /// timed out.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Write JUnit XML: one testsuite per submission, one testcase per lab.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write the JSON report with every pair's evidence (what --merge reads).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Grade only the I-th of N slices of the submissions (1-based; the
    /// same slice whatever order the submissions are given in).
    #[arg(long, value_name = "I/N", conflicts_with = "merge")]
    pub shard: Option<plan::Shard>,

    /// Combine the JSON reports of every shard into one result instead of
    /// grading.
    #[arg(long, value_name = "REPORT.json", num_args = 1.., conflicts_with_all = ["labs", "submissions"])]
    pub merge: Vec<PathBuf>,

    /// Lab kernel tree to boot and build against (default: the cached one).
    #[arg(long, value_name = "DIR")]
    pub kernel: Option<PathBuf>,

    /// Guest memory of each VM, in MiB.
    #[arg(long, default_value_t = 512)]
    pub vm_memory: u32,

    /// Submission directories, each used as --root for every lab.
    #[arg(value_name = "SUBMISSION", required_unless_present = "merge")]
    pub submissions: Vec<PathBuf>,
}

/// Ok(true) only if every pair passed.
pub fn run(args: GradeArgs) -> Result<bool> {
    let report = if args.merge.is_empty() {
        run::grade(run::Options {
            labs: args.labs,
            submissions: args.submissions,
            jobs: args.jobs.map(|j| j as usize),
            timeout: Duration::from_secs(args.timeout),
            shard: args.shard,
            kernel: args.kernel,
            vm_memory: args.vm_memory,
        })?
    } else {
        let reports = args
            .merge
            .iter()
            .map(merge::read)
            .collect::<Result<Vec<_>>>()?;
        merge::merge(reports)?
    };
    write_reports(&report, args.report.as_deref(), args.junit.as_deref())?;
    output::text(&progress::table(&report));
    let reasons = progress::reasons(&report);
    if !reasons.is_empty() {
        output::text(&format!("\n{reasons}"));
    }
    if report.interrupted {
        bail!("interrupted: the pairs that did not run are marked not run in the reports");
    }
    Ok(report.passed)
}

fn write_reports(report: &GradeReport, json: Option<&Path>, junit: Option<&Path>) -> Result<()> {
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    if let Some(path) = junit {
        std::fs::write(path, junit::render(report))
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    Ok(())
}
