//! The machine-readable report of a headless run (`--report FILE.json`).

use serde::Serialize;

use crate::exec::protocol::{Latency, ProbeResult};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub lab: String,
    pub title: String,
    pub executor: String,
    pub kernel: String,
    pub passed: bool,
    pub steps: Vec<StepReport>,
    pub teardown: Vec<TeardownEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run because an earlier step failed or the run was interrupted.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub index: usize,
    pub kind: String,
    /// Line of the step in the lab file.
    pub line: usize,
    pub duration_ms: f64,
    pub outcome: Outcome,
    /// Kernel-log lines logged while the step ran.
    pub kmsg: Vec<String>,
    /// status/table/info/message output.
    pub output: Vec<String>,
    pub probe: Option<ProbeFigures>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeFigures {
    pub bytes: u64,
    pub mib_per_s: f64,
    pub latency: Option<Latency>,
    pub mismatch: Option<String>,
    pub io_error: Option<String>,
    /// Kernel device name -> sectors read + written during the probe.
    pub attribution: Vec<(String, u64)>,
}

impl ProbeFigures {
    pub fn from_result(r: &ProbeResult) -> Self {
        ProbeFigures {
            bytes: r.bytes,
            mib_per_s: r.mib_per_s,
            latency: r.latency.clone(),
            mismatch: r.mismatch.as_ref().map(|m| {
                format!(
                    "at byte {}: expected {}, found {} ({} bad block(s))",
                    m.offset, m.expected, m.found, m.total_bad_blocks
                )
            }),
            io_error: r
                .io_error
                .as_ref()
                .map(|e| format!("{} at byte {}", e.name, e.offset)),
            attribution: r
                .attribution
                .iter()
                .map(|a| {
                    (
                        a.device.clone(),
                        a.delta.read_sectors + a.delta.write_sectors,
                    )
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TeardownEntry {
    pub resource: String,
    pub error: Option<String>,
}
