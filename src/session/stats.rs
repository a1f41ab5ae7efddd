//! DM statistics regions the session owns: when it creates or reloads a
//! device it asks the kernel to count I/O on it (one region per table
//! segment, with a latency histogram, for per-segment figures; one
//! region over the whole device in many areas, for the sector map), keeps
//! each region in the ledger, and deletes them on reload, removal and
//! teardown. A region the kernel refuses becomes a notice; it never fails
//! the step that made the device.

use serde::Serialize;

use super::ledger::Resource;
use super::{Session, UUID_PREFIX};
use crate::exec::dmstats::{self, HISTOGRAM_NS};
use crate::exec::protocol::{
    AreaCounters, ErrorKind, ProbeResult, RegionCounters, Request, Response, StatsSpec, TableLine,
};

/// Areas of the sector-map region: two per column of an 80-column bar,
/// about one per column at 160.
pub const MAP_AREAS: u64 = 160;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionRole {
    /// Counts one table segment (index into the table), with a histogram.
    Segment(usize),
    /// The whole device in `MAP_AREAS` areas.
    Map,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRegion {
    pub region: u32,
    pub role: RegionRole,
    pub start: u64,
    pub length: u64,
}

/// What the session counts on one device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStats {
    pub regions: Vec<StatsRegion>,
    /// Why the device has no statistics (the kernel refused a region).
    pub notice: Option<String>,
}

impl DeviceStats {
    pub fn spec(&self, device: &str) -> Option<StatsSpec> {
        (!self.regions.is_empty()).then(|| StatsSpec {
            device: device.to_string(),
            regions: self.regions.iter().map(|r| r.region).collect(),
        })
    }
}

/// The kernel's latency histogram: `counts[i]` I/Os took less than
/// `boundaries_ns[i]` (and at least the boundary before); the last count
/// is everything slower than the last boundary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Histogram {
    pub boundaries_ns: Vec<u64>,
    pub counts: Vec<u64>,
}

/// One table segment's share of a probe, from its statistics region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentFigures {
    pub start: u64,
    pub length: u64,
    pub target: String,
    pub reads: u64,
    pub writes: u64,
    pub read_sectors: u64,
    pub write_sectors: u64,
    /// Time the I/Os took in total (nanoseconds).
    pub read_ns: u64,
    pub write_ns: u64,
    pub histogram: Histogram,
}

/// A probe's DM statistics, arranged by segment and by map area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsView {
    pub segments: Vec<SegmentFigures>,
    /// Areas of the map region that saw I/O (sectors of the device).
    pub map: Vec<AreaCounters>,
}

impl StatsView {
    /// Matches the regions read back with what each one counts.
    pub fn new(table: &[TableLine], stats: &DeviceStats, counters: &[RegionCounters]) -> Self {
        let mut view = StatsView::default();
        for region in &stats.regions {
            let areas = counters
                .iter()
                .find(|c| c.region == region.region)
                .map(|c| c.areas.as_slice())
                .unwrap_or_default();
            match region.role {
                RegionRole::Map => view.map = areas.to_vec(),
                RegionRole::Segment(index) => {
                    let Some(line) = table.get(index) else {
                        continue;
                    };
                    let sum = dmstats::total(areas);
                    let mut counts = sum.histogram;
                    counts.resize(HISTOGRAM_NS.len() + 1, 0);
                    view.segments.push(SegmentFigures {
                        start: line.start,
                        length: line.length,
                        target: line.target.clone(),
                        reads: sum.reads,
                        writes: sum.writes,
                        read_sectors: sum.read_sectors,
                        write_sectors: sum.write_sectors,
                        read_ns: sum.read_ns,
                        write_ns: sum.write_ns,
                        histogram: Histogram {
                            boundaries_ns: HISTOGRAM_NS.to_vec(),
                            counts,
                        },
                    });
                }
            }
        }
        view
    }
}

impl Session {
    /// The program id the session's regions carry (`@stats_list` shows it).
    fn stats_program(&self) -> String {
        format!("{UUID_PREFIX}{}", self.id)
    }

    /// What the session counts on a device.
    pub fn device_stats(&self, name: &str) -> Option<&DeviceStats> {
        self.stats.get(name)
    }

    /// Creates the regions of a device's current table. A refusal is kept
    /// as the device's notice (and said in the action log); regions made
    /// before it are deleted again so a device is counted whole or not.
    pub(super) fn start_stats(&mut self, name: &str) {
        if !self.statistics {
            return;
        }
        let Some(table) = self.devices.get(name).map(|d| d.table.clone()) else {
            return;
        };
        let sectors: u64 = table.iter().map(|l| l.start + l.length).max().unwrap_or(0);
        let mut wanted: Vec<(RegionRole, u64, u64, u64, bool)> = table
            .iter()
            .enumerate()
            .map(|(i, l)| (RegionRole::Segment(i), l.start, l.length, 1, true))
            .collect();
        wanted.push((RegionRole::Map, 0, sectors, MAP_AREAS.min(sectors), false));
        let program = self.stats_program();
        let mut stats = DeviceStats::default();
        for (role, start, length, areas, histogram) in wanted {
            let text = dmstats::create_message(start, length, areas, histogram, &program);
            let answer = self
                .call(Request::DmMessage {
                    name: name.to_string(),
                    sector: Some(0),
                    text,
                })
                .map_err(|e| e.to_string())
                .and_then(|r| match r {
                    Response::Message { output } => dmstats::parse_region_id(output.as_deref()),
                    other => Err(format!("unexpected answer {other:?}")),
                });
            let region = match answer {
                Ok(region) => region,
                Err(why) => {
                    self.stop_regions(name, &stats.regions);
                    stats.regions.clear();
                    stats.notice = Some(format!(
                        "no I/O statistics for {name}: the kernel refused a region ({why})"
                    ));
                    break;
                }
            };
            if self
                .record(Resource::DmStats {
                    device: name.to_string(),
                    region,
                })
                .is_err()
            {
                // Unrecorded, it could outlive a crash: take it back.
                self.delete_region(name, region);
                stats.notice = Some(format!("no I/O statistics for {name}: the ledger failed"));
                self.stop_regions(name, &stats.regions);
                stats.regions.clear();
                break;
            }
            stats.regions.push(StatsRegion {
                region,
                role,
                start,
                length,
            });
        }
        if let Some(notice) = &stats.notice {
            self.action(notice.clone());
        }
        self.stats.insert(name.to_string(), stats);
    }

    /// Deletes the regions of a device (before a reload or removal).
    pub(super) fn stop_stats(&mut self, name: &str) {
        if let Some(stats) = self.stats.remove(name) {
            self.stop_regions(name, &stats.regions);
        }
    }

    fn stop_regions(&mut self, name: &str, regions: &[StatsRegion]) {
        for r in regions {
            self.delete_region(name, r.region);
        }
    }

    fn delete_region(&mut self, name: &str, region: u32) {
        let outcome = self.call(Request::DmMessage {
            name: name.to_string(),
            sector: Some(0),
            text: format!("@stats_delete {region}"),
        });
        let gone = match &outcome {
            Ok(_) => true,
            Err(e) => e.kind() == Some(ErrorKind::NotFound),
        };
        if gone {
            let _ = self.forget(&Resource::DmStats {
                device: name.to_string(),
                region,
            });
        } else if let Err(e) = outcome {
            self.action(format!(
                "device {name}: statistics region {region} stays: {e}"
            ));
        }
    }

    /// Forgets the regions of a device the kernel removed (they went
    /// with it).
    pub(super) fn forget_stats(&mut self, name: &str) {
        if let Some(stats) = self.stats.remove(name) {
            for r in stats.regions {
                let _ = self.forget(&Resource::DmStats {
                    device: name.to_string(),
                    region: r.region,
                });
            }
        }
    }

    /// The statistics of a probe of a device, arranged.
    pub(super) fn stats_view(&self, name: &str, result: &ProbeResult) -> StatsView {
        match (self.devices.get(name), self.stats.get(name)) {
            (Some(device), Some(stats)) => StatsView::new(&device.table, stats, &result.dm_stats),
            _ => StatsView::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(start: u64, length: u64, target: &str) -> TableLine {
        TableLine {
            start,
            length,
            target: target.into(),
            params: String::new(),
        }
    }

    #[test]
    fn regions_become_segment_figures_and_the_map() {
        let table = [line(0, 100, "linear"), line(100, 50, "delay")];
        let stats = DeviceStats {
            regions: vec![
                StatsRegion {
                    region: 4,
                    role: RegionRole::Segment(0),
                    start: 0,
                    length: 100,
                },
                StatsRegion {
                    region: 5,
                    role: RegionRole::Segment(1),
                    start: 100,
                    length: 50,
                },
                StatsRegion {
                    region: 6,
                    role: RegionRole::Map,
                    start: 0,
                    length: 150,
                },
            ],
            notice: None,
        };
        let area = |index, writes, histogram: Vec<u64>| AreaCounters {
            index,
            writes,
            write_sectors: writes * 8,
            histogram,
            ..Default::default()
        };
        let counters = vec![
            RegionCounters {
                region: 5,
                areas: vec![area(0, 2, vec![0, 0, 0, 0, 0, 2, 0])],
            },
            RegionCounters {
                region: 6,
                areas: vec![area(100, 2, Vec::new())],
            },
        ];
        let view = StatsView::new(&table, &stats, &counters);
        assert_eq!(view.segments.len(), 2);
        assert_eq!(view.segments[0].writes, 0, "an idle segment still shows");
        assert_eq!(view.segments[0].histogram.counts, vec![0; 7]);
        let delay = &view.segments[1];
        assert_eq!(
            (delay.start, delay.length, delay.target.as_str()),
            (100, 50, "delay")
        );
        assert_eq!((delay.writes, delay.write_sectors), (2, 16));
        assert_eq!(delay.histogram.boundaries_ns, HISTOGRAM_NS.to_vec());
        assert_eq!(delay.histogram.counts[5], 2);
        assert_eq!(view.map.len(), 1);
        assert_eq!(view.map[0].index, 100);
    }
}
