//! DM statistics around a probe: the regions are cleared before the first
//! block, sampled every ~200 ms while the probe runs (the worker waits in
//! the probe, so the executor itself sends the live sector map as
//! `Event::DmStats`), and read and cleared again after the last block.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::blockstat;
use super::dm::Dm;
use crate::exec::EventSink;
use crate::exec::dmstats;
use crate::exec::protocol::{BlockStatDelta, Event, IoCounters, RegionCounters, StatsSpec};

pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Reads every region of `spec` (clearing it when `clear`), leaving out
/// idle areas. A region that cannot be read becomes a note, never an
/// error: statistics never fail a probe.
pub fn read_regions(
    dm: &Dm,
    spec: &StatsSpec,
    clear: bool,
    notes: &mut Vec<String>,
) -> Vec<RegionCounters> {
    let verb = if clear {
        "@stats_print_clear"
    } else {
        "@stats_print"
    };
    let mut regions = Vec::with_capacity(spec.regions.len());
    for &region in &spec.regions {
        let reply = dm.message(&spec.device, Some(0), &format!("{verb} {region}"));
        let areas = reply
            .map_err(|e| e.full_text())
            .and_then(|text| dmstats::parse_print(text.as_deref().unwrap_or(""), None, false));
        match areas {
            Ok(areas) => regions.push(RegionCounters { region, areas }),
            Err(why) => {
                notes.push(format!(
                    "statistics region {region} of {}: {why}",
                    spec.device
                ));
                regions.push(RegionCounters {
                    region,
                    areas: Vec::new(),
                });
            }
        }
    }
    regions
}

/// Block counters of `devices` now (a device that cannot be read is left
/// out).
pub fn disk_counters(devices: &[String]) -> Vec<(String, IoCounters)> {
    devices
        .iter()
        .filter_map(|d| blockstat::read_stat(d).ok().map(|c| (d.clone(), c)))
        .collect()
}

/// Sends `Event::DmStats` every `SAMPLE_EVERY` until `done` is set. Runs
/// on its own thread beside the probe, with its own control-device handle.
pub fn sample_until(spec: &StatsSpec, disks: &[String], events: &EventSink, done: &AtomicBool) {
    let dm = Dm::open().ok();
    let before = disk_counters(disks);
    let started = Instant::now();
    let mut next = started + SAMPLE_EVERY;
    loop {
        // Sleep in short steps so the probe's end is not held up.
        while Instant::now() < next {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        next += SAMPLE_EVERY;
        let mut ignored = Vec::new();
        let regions = match &dm {
            Some(dm) => read_regions(dm, spec, false, &mut ignored),
            None => Vec::new(),
        };
        let disks = deltas(&before, &disk_counters(disks));
        events(Event::DmStats {
            device: spec.device.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            regions,
            disks,
        });
    }
}

fn deltas(before: &[(String, IoCounters)], after: &[(String, IoCounters)]) -> Vec<BlockStatDelta> {
    after
        .iter()
        .filter_map(|(device, now)| {
            let (_, then) = before.iter().find(|(d, _)| d == device)?;
            Some(BlockStatDelta {
                device: device.clone(),
                delta: now.delta_since(then),
            })
        })
        .collect()
}
