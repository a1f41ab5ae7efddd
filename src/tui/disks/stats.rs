//! Live I/O of the session's block devices: the worker samples the
//! kernel's counters about once a second; rates come from the difference
//! between two samples.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::exec::protocol::{BlockStat, IoCounters};

/// Live I/O of one block device, from the worker's periodic samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatView {
    pub counters: IoCounters,
    /// Sectors per second since the previous sample.
    pub read_rate: f64,
    pub write_rate: f64,
    at: Instant,
}

/// Takes in one sample of every device (by kernel name, "loop0", "dm-1").
pub fn record_stats(views: &mut BTreeMap<String, StatView>, stats: Vec<BlockStat>, at: Instant) {
    for stat in stats {
        let previous = views.get(&stat.device).copied();
        let (read_rate, write_rate) = match previous {
            Some(p) => {
                let secs = at.duration_since(p.at).as_secs_f64();
                let rate = |now: u64, before: u64| {
                    if secs > 0.0 {
                        now.saturating_sub(before) as f64 / secs
                    } else {
                        0.0
                    }
                };
                (
                    rate(stat.counters.read_sectors, p.counters.read_sectors),
                    rate(stat.counters.write_sectors, p.counters.write_sectors),
                )
            }
            None => (0.0, 0.0),
        };
        views.insert(
            stat.device,
            StatView {
                counters: stat.counters,
                read_rate,
                write_rate,
                at,
            },
        );
    }
}
