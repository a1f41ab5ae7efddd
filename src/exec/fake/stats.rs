//! DM statistics in the fake executor: regions answer `@stats_create`,
//! `@stats_delete` and `@stats_list` as the kernel does, and a probe's
//! counters are made up from the probe's range so the sector map has
//! something true to the request to show.

use std::collections::BTreeMap;

use crate::exec::dmstats::HISTOGRAM_NS;
use crate::exec::protocol::{
    AreaCounters, ErrorKind, ExecError, ProbeOp, ProbeSpec, RegionCounters,
};

#[derive(Debug, Clone, Default)]
pub struct FakeRegion {
    start: u64,
    length: u64,
    step: u64,
    histogram: bool,
    program: String,
}

/// Regions of one device.
#[derive(Debug, Default)]
pub struct FakeStats {
    regions: BTreeMap<u32, FakeRegion>,
}

impl FakeStats {
    /// Answers a message starting with `@stats_`; None for other text.
    pub fn message(&mut self, text: &str) -> Option<Result<Option<String>, ExecError>> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let invalid = || Err(ExecError::new(ErrorKind::Kernel, "Invalid argument"));
        Some(match words.first().copied()? {
            "@stats_create" => match parse_create(&words) {
                Some(region) => {
                    let id = (0..).find(|i| !self.regions.contains_key(i)).unwrap_or(0);
                    self.regions.insert(id, region);
                    Ok(Some(id.to_string()))
                }
                None => invalid(),
            },
            "@stats_delete" => match words.get(1).and_then(|w| w.parse::<u32>().ok()) {
                Some(id) if self.regions.remove(&id).is_some() => Ok(None),
                Some(_) => Err(ExecError::new(
                    ErrorKind::NotFound,
                    "No such file or directory",
                )),
                None => invalid(),
            },
            "@stats_list" => Ok(Some(
                self.regions
                    .iter()
                    .map(|(id, r)| {
                        format!(
                            "{id}: {}+{} {} {} - precise_timestamps{}\n",
                            r.start,
                            r.length,
                            r.step,
                            r.program,
                            if r.histogram { " histogram:10000" } else { "" }
                        )
                    })
                    .collect(),
            )),
            // Counters live in the probe's answer (see `counters`).
            w if w.starts_with("@stats_print") => Ok(Some(String::new())),
            _ => invalid(),
        })
    }

    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// What the kernel would have counted for `spec` in each region.
    pub fn counters(&self, spec: &ProbeSpec, ids: &[u32]) -> Vec<RegionCounters> {
        let first = spec.offset_blocks * u64::from(spec.bs) / 512;
        let end = first + (spec.count * u64::from(spec.bs)).div_ceil(512);
        ids.iter()
            .map(|&id| RegionCounters {
                region: id,
                areas: self
                    .regions
                    .get(&id)
                    .map(|r| areas(r, first, end, spec))
                    .unwrap_or_default(),
            })
            .collect()
    }
}

fn areas(r: &FakeRegion, first: u64, end: u64, spec: &ProbeSpec) -> Vec<AreaCounters> {
    let mut out = Vec::new();
    let mut index = 0u32;
    let mut start = r.start;
    while start < r.start + r.length {
        let area_end = (start + r.step).min(r.start + r.length);
        let overlap = end.min(area_end).saturating_sub(first.max(start));
        if overlap > 0 {
            let ios = overlap.div_ceil((u64::from(spec.bs) / 512).max(1));
            let mut a = AreaCounters {
                index,
                start,
                length: area_end - start,
                ..Default::default()
            };
            match spec.op {
                ProbeOp::Write => (a.writes, a.write_sectors) = (ios, overlap),
                ProbeOp::Read => (a.reads, a.read_sectors) = (ios, overlap),
            }
            if r.histogram {
                // The fake's latencies are tens of microseconds.
                a.histogram = vec![0; HISTOGRAM_NS.len() + 1];
                a.histogram[1] = ios;
            }
            out.push(a);
        }
        index += 1;
        start = area_end;
    }
    out
}

/// `@stats_create <start>+<length> /<areas> <n> <options>... <program>`.
fn parse_create(words: &[&str]) -> Option<FakeRegion> {
    let (start, length) = words.get(1)?.split_once('+')?;
    let (start, length): (u64, u64) = (start.parse().ok()?, length.parse().ok()?);
    let areas: u64 = words.get(2)?.strip_prefix('/')?.parse().ok()?;
    if length == 0 || areas == 0 {
        return None;
    }
    let options: usize = words.get(3)?.parse().ok()?;
    let histogram = words
        .iter()
        .skip(4)
        .take(options)
        .any(|w| w.starts_with("histogram:"));
    Some(FakeRegion {
        start,
        length,
        step: length.div_ceil(areas),
        histogram,
        program: words.get(4 + options).unwrap_or(&"-").to_string(),
    })
}
