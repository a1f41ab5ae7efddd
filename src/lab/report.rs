//! The machine-readable report of a headless run (`--report FILE.json`).

use serde::Serialize;

use super::engine::StepRecord;
use crate::exec::Placement;
use crate::exec::protocol::{Latency, ProbeResult};
use crate::session::{BioJourney, Probed, SegmentFigures, TeardownReport};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub lab: String,
    pub title: String,
    pub executor: Placement,
    pub kernel: String,
    pub passed: bool,
    pub steps: Vec<StepRecord>,
    pub teardown: Vec<TeardownEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeFigures {
    pub bytes: u64,
    pub mib_per_s: f64,
    pub latency: Option<Latency>,
    pub mismatch: Option<String>,
    pub io_error: Option<String>,
    /// Kernel device name -> sectors read + written during the probe.
    pub attribution: Vec<(String, u64)>,
    /// Per table segment, from the kernel's DM statistics (empty for a
    /// probe of a disk, or when the kernel refused the regions: `notes`).
    pub segments: Vec<SegmentFigures>,
    /// The first bios' journeys through the block layer (small probes).
    pub bios: Vec<BioJourney>,
    /// How many bios the probe made in all, when they were traced.
    pub bios_total: usize,
    /// Why statistics or journeys are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ProbeFigures {
    pub fn from_probed(p: &Probed) -> Self {
        ProbeFigures {
            segments: p.stats.segments.clone(),
            bios: p.bios.clone(),
            bios_total: p.bios_total,
            notes: p.notes.clone(),
            ..ProbeFigures::from_result(&p.result)
        }
    }

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
            segments: Vec::new(),
            bios: Vec::new(),
            bios_total: 0,
            notes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeardownOutcome {
    Removed,
    Failed,
    /// It lived in a sandbox VM that is gone: nothing to remove.
    Moot,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeardownEntry {
    pub resource: String,
    pub outcome: TeardownOutcome,
    pub error: Option<String>,
}

impl TeardownEntry {
    pub fn all(report: &TeardownReport) -> Vec<TeardownEntry> {
        report
            .steps
            .iter()
            .map(|s| TeardownEntry {
                resource: s.resource.clone(),
                outcome: match (&s.error, s.moot) {
                    (Some(_), _) => TeardownOutcome::Failed,
                    (None, true) => TeardownOutcome::Moot,
                    (None, false) => TeardownOutcome::Removed,
                },
                error: s.error.clone(),
            })
            .collect()
    }
}
