//! The sector map's data: for each DM device, where the recent probes'
//! I/O landed (the map region's areas from DM statistics, reads and
//! writes apart), the probe in flight as it goes (`Event::DmStats`), and
//! the same I/O carried through the table onto the backing disks.

use std::collections::{BTreeMap, VecDeque};

use crate::exec::protocol::{AreaCounters, BlockStatDelta, RegionCounters, TableLine};
use crate::table::{Table, TargetArgs};

/// Probes whose I/O the heat shows.
pub const RECENT: usize = 8;

/// What landed where on one device.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceHeat {
    /// The map areas of recent probes, oldest first.
    pub recent: VecDeque<Vec<AreaCounters>>,
    /// The probe in flight: its areas so far, and for how long it ran.
    pub live: Option<(Vec<AreaCounters>, u64)>,
    /// The backing disks' block counters over the last (or running) probe.
    pub disks: Vec<BlockStatDelta>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maps {
    devices: BTreeMap<String, DeviceHeat>,
}

impl Maps {
    pub fn get(&self, device: &str) -> Option<&DeviceHeat> {
        self.devices.get(device)
    }

    /// A sample of the probe in flight: `map_region` picks the map's
    /// region out of the device's regions.
    pub fn live(
        &mut self,
        device: &str,
        map_region: Option<u32>,
        regions: &[RegionCounters],
        disks: &[BlockStatDelta],
        elapsed_ms: u64,
    ) {
        let heat = self.devices.entry(device.to_string()).or_default();
        if let Some(areas) = map_region.and_then(|id| regions.iter().find(|r| r.region == id)) {
            heat.live = Some((areas.areas.clone(), elapsed_ms));
        }
        heat.disks = disks.to_vec();
    }

    /// A probe ended: its areas join the recent ones.
    pub fn finish(&mut self, device: &str, areas: Vec<AreaCounters>, disks: Vec<BlockStatDelta>) {
        let heat = self.devices.entry(device.to_string()).or_default();
        heat.live = None;
        heat.recent.push_back(areas);
        while heat.recent.len() > RECENT {
            heat.recent.pop_front();
        }
        heat.disks = disks;
    }

    /// A device that is gone (or reloaded) starts over.
    pub fn forget(&mut self, device: &str) {
        self.devices.remove(device);
    }
}

impl DeviceHeat {
    /// Recent and live I/O, as areas of the device.
    pub fn areas(&self) -> Vec<AreaCounters> {
        let mut all: Vec<AreaCounters> = self.recent.iter().flatten().cloned().collect();
        if let Some((live, _)) = &self.live {
            all.extend(live.iter().cloned());
        }
        all
    }

    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }
}

/// Read and written sectors per cell when `[0, sectors)` is drawn in
/// `width` cells; an area across a cell boundary is shared by overlap.
pub fn cells(areas: &[AreaCounters], sectors: u64, width: usize) -> Vec<(u64, u64)> {
    let mut out = vec![(0u64, 0u64); width];
    if sectors == 0 || width == 0 {
        return out;
    }
    let cell_of =
        |sector: u64| ((u128::from(sector) * width as u128) / u128::from(sectors)) as usize;
    for a in areas {
        let len = a.length.max(1);
        let end = (a.start + len).min(sectors);
        if a.start >= end {
            continue;
        }
        let first = cell_of(a.start).min(width - 1);
        let last = cell_of(end - 1).min(width - 1);
        for (cell, slot) in out.iter_mut().enumerate().take(last + 1).skip(first) {
            let lo = (cell as u128 * u128::from(sectors)).div_ceil(width as u128) as u64;
            let hi = ((cell as u128 + 1) * u128::from(sectors)).div_ceil(width as u128) as u64;
            let overlap = end.min(hi).saturating_sub(a.start.max(lo));
            slot.0 += a.read_sectors * overlap / len;
            slot.1 += a.write_sectors * overlap / len;
        }
    }
    out
}

/// The device's I/O carried through its table onto one disk (named as in
/// the table, e.g. `/dev/loop0`), as areas of that disk. Linear-like
/// targets and striped are followed; others (zero, error, mirror, crypt's
/// unknown layouts) are not drawn on disks.
pub fn project(table: &[TableLine], areas: &[AreaCounters], disk: &str) -> Vec<AreaCounters> {
    let table = Table::from_lines(table);
    let mut out = Vec::new();
    for seg in &table.segments {
        let Ok(decoded) = seg.decode() else { continue };
        let seg_end = seg.start + seg.length;
        for a in areas {
            let lo = a.start.max(seg.start);
            let hi = (a.start + a.length.max(1)).min(seg_end);
            if lo >= hi {
                continue;
            }
            let share = |sectors: u64| sectors * (hi - lo) / a.length.max(1);
            let (r, w) = (share(a.read_sectors), share(a.write_sectors));
            let mut put = |start: u64, length: u64, part: u64, whole: u64| {
                out.push(AreaCounters {
                    start,
                    length,
                    read_sectors: r * part / whole.max(1),
                    write_sectors: w * part / whole.max(1),
                    ..Default::default()
                });
            };
            let rel = lo - seg.start;
            match &decoded.args {
                TargetArgs::Linear(d) | TargetArgs::BasicTarget(d) if d.device == disk => {
                    put(d.offset + rel, hi - lo, 1, 1)
                }
                TargetArgs::Flakey(f) if f.backing.device == disk => {
                    put(f.backing.offset + rel, hi - lo, 1, 1)
                }
                TargetArgs::Dust(d) if d.backing.device == disk => {
                    put(d.backing.offset + rel, hi - lo, 1, 1)
                }
                TargetArgs::Delay(d) => {
                    if let Some(c) = d.classes.first().filter(|c| c.backing.device == disk) {
                        put(c.backing.offset + rel, hi - lo, 1, 1);
                    }
                }
                TargetArgs::Striped(s) => {
                    let chunk = u64::from(s.chunk_size.max(1));
                    let n = s.stripes.len().max(1) as u64;
                    let mut at = rel;
                    while at < hi - seg.start {
                        let c = at / chunk;
                        let within = at % chunk;
                        let take = (chunk - within).min(hi - seg.start - at);
                        let stripe = &s.stripes[(c % n) as usize];
                        if stripe.device == disk {
                            put(
                                stripe.offset + (c / n) * chunk + within,
                                take,
                                take,
                                hi - lo,
                            );
                        }
                        at += take;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(start: u64, length: u64, r: u64, w: u64) -> AreaCounters {
        AreaCounters {
            start,
            length,
            read_sectors: r,
            write_sectors: w,
            ..Default::default()
        }
    }

    fn line(start: u64, length: u64, target: &str, params: &str) -> TableLine {
        TableLine {
            start,
            length,
            target: target.into(),
            params: params.into(),
        }
    }

    #[test]
    fn cells_share_areas_by_overlap() {
        // 100 sectors in 4 cells of 25; an area 20..40 writes 20.
        let c = cells(&[area(20, 20, 0, 20)], 100, 4);
        assert_eq!(c, vec![(0, 5), (0, 15), (0, 0), (0, 0)]);
        let c = cells(&[area(0, 100, 100, 0)], 100, 2);
        assert_eq!(c, vec![(50, 0), (50, 0)]);
        assert!(cells(&[], 0, 3).iter().all(|c| *c == (0, 0)));
    }

    #[test]
    fn io_is_carried_onto_the_disks_through_the_table() {
        let table = [
            line(0, 100, "linear", "/dev/loop0 1000"),
            line(100, 64, "striped", "2 8 /dev/loop0 0 /dev/loop1 0"),
        ];
        // Writes on 90..110: 10 sectors in each segment.
        let areas = [area(90, 20, 0, 20)];
        let a = project(&table, &areas, "/dev/loop0");
        assert_eq!(
            (a[0].start, a[0].length, a[0].write_sectors),
            (1090, 10, 10)
        );
        // The striped part (100..110): chunk 0 (8 sectors) on loop0 at 0,
        // chunk 1 (2 sectors) on loop1 at 0.
        assert_eq!((a[1].start, a[1].length, a[1].write_sectors), (0, 8, 8));
        let b = project(&table, &areas, "/dev/loop1");
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].start, b[0].length, b[0].write_sectors), (0, 2, 2));
    }

    #[test]
    fn recent_probes_and_the_live_one_add_up() {
        let mut maps = Maps::default();
        maps.finish("d", vec![area(0, 10, 0, 10)], Vec::new());
        let regions = vec![RegionCounters {
            region: 3,
            areas: vec![area(10, 10, 4, 0)],
        }];
        maps.live("d", Some(3), &regions, &[], 200);
        let heat = maps.get("d").expect("heat");
        assert!(heat.is_live());
        assert_eq!(heat.areas().len(), 2);
        for _ in 0..RECENT + 2 {
            maps.finish("d", Vec::new(), Vec::new());
        }
        let heat = maps.get("d").expect("heat");
        assert_eq!(heat.recent.len(), RECENT);
        assert!(heat.areas().is_empty(), "old probes fade out");
    }
}
