//! Each bio of a probe followed through the block layer, from the kernel's
//! tracepoints: queued on the DM device, remapped by a target onto
//! another device (again and again when devices are stacked), issued to
//! and completed by the disk, completed back at the DM device:
//!
//! ```text
//! 254:0 +10 (1 sector) W -> basic_target -> 7:0 +8010 -> done 97 µs
//! ```
//!
//! This shows a target's `map()` as the kernel saw it: where it sent the
//! bio, or that it failed or completed it without sending it anywhere.

use serde::Serialize;

use crate::exec::protocol::{TableLine, TraceRecord};
use crate::table::DevT;

/// Journeys kept per probe: one small probe's bios, not a workload's.
pub const MAX_JOURNEYS: usize = 16;

/// Where one remap sent (part of) a bio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The target of the segment that remapped it.
    pub target: String,
    pub device: String,
    pub sector: u64,
    pub sectors: u64,
    /// From issue to completion at that device, when it is a disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_ns: Option<u64>,
    /// Further remaps, when that device is a DM device too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<Hop>,
    /// A bio the target made and submitted itself (flakey's corrupting
    /// copy), not the remapped clone DM submits for it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub own_bio: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BioJourney {
    pub text: String,
    pub device: String,
    pub sector: u64,
    pub sectors: u64,
    /// The kernel's rwbs: `W`, `WS`, `R`, `FWS`...
    pub op: String,
    /// The target of the segment the bio arrived in.
    pub target: Option<String>,
    pub hops: Vec<Hop>,
    /// From queue to completion at the DM device.
    pub done_ns: Option<u64>,
    /// The errno name it completed with, when it failed.
    pub error: Option<String>,
}

/// What the session knows about the devices a journey may cross.
pub trait Devices {
    /// The table of a DM device (None for a disk or an unknown device).
    fn table(&self, dev: DevT) -> Option<&[TableLine]>;
}

/// The journeys of the bios queued on `root`, in order, at most `cap`,
/// and how many there were.
pub fn journeys(
    records: &[TraceRecord],
    root: DevT,
    devices: &dyn Devices,
    cap: usize,
) -> (Vec<BioJourney>, usize) {
    let mut used = vec![false; records.len()];
    let starts: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].event == "block_bio_queue" && dev(&records[i]) == root)
        .collect();
    let total = starts.len();
    let mut out = Vec::new();
    for i in starts.into_iter().take(cap) {
        used[i] = true;
        out.push(follow_bio(records, i, devices, &mut used));
    }
    (out, total)
}

fn follow_bio(
    records: &[TraceRecord],
    queued: usize,
    devices: &dyn Devices,
    used: &mut [bool],
) -> BioJourney {
    let q = &records[queued];
    let root = dev(q);
    let target = segment_target(devices, root, q.sector);
    let completion = (queued + 1..records.len()).find(|&j| {
        let r = &records[j];
        !used[j]
            && r.event == "block_bio_complete"
            && dev(r) == root
            && r.sector >= q.sector
            && r.sector < q.sector + q.sectors.max(1)
    });
    let mut hops = remaps(
        records,
        queued,
        root,
        q.sector,
        q.sector + q.sectors,
        devices,
        used,
    );
    if hops.is_empty() {
        let end = completion.map_or(u64::MAX, |j| records[j].ts_ns);
        hops = own_bios(records, queued, end, target.as_deref(), devices, used);
    }
    let (done_ns, error) = match completion {
        Some(j) => {
            used[j] = true;
            let r = &records[j];
            (
                Some(r.ts_ns.saturating_sub(q.ts_ns)),
                (r.error != 0).then(|| errno_name(r.error)),
            )
        }
        None => (None, None),
    };
    let mut journey = BioJourney {
        text: String::new(),
        device: root.to_string(),
        sector: q.sector,
        sectors: q.sectors,
        op: q.rwbs.clone(),
        target,
        hops,
        done_ns,
        error,
    };
    journey.text = describe(&journey);
    journey
}

/// The remaps of sectors `lo..hi` of `from` after record `after`, each
/// followed further when it lands on another DM device.
fn remaps(
    records: &[TraceRecord],
    after: usize,
    from: DevT,
    lo: u64,
    hi: u64,
    devices: &dyn Devices,
    used: &mut [bool],
) -> Vec<Hop> {
    let mut hops = Vec::new();
    for j in after + 1..records.len() {
        let r = &records[j];
        let Some((major, minor, old)) = r.from else {
            continue;
        };
        if used[j]
            || r.event != "block_bio_remap"
            || DevT::new(major, minor) != from
            || old < lo
            || old >= hi.max(lo + 1)
        {
            continue;
        }
        used[j] = true;
        mark_clone_queue(records, j, used);
        let target = segment_target(devices, from, old).unwrap_or_else(|| "?".into());
        hops.push(follow(records, j, target, false, devices, used));
    }
    hops
}

/// Bios queued on other devices while the bio at `queued` was in flight,
/// with no remap to explain them: ones its target submitted itself. Taken
/// until they add up to the bio's size.
fn own_bios(
    records: &[TraceRecord],
    queued: usize,
    end_ns: u64,
    target: Option<&str>,
    devices: &dyn Devices,
    used: &mut [bool],
) -> Vec<Hop> {
    let q = &records[queued];
    let mut hops = Vec::new();
    let mut sectors = 0;
    for j in queued + 1..records.len() {
        let r = &records[j];
        if r.ts_ns > end_ns || sectors >= q.sectors {
            break;
        }
        if used[j] || r.event != "block_bio_queue" || dev(r) == dev(q) || r.sectors > q.sectors {
            continue;
        }
        used[j] = true;
        sectors += r.sectors;
        let target = target.unwrap_or("?").to_string();
        hops.push(follow(records, j, target, true, devices, used));
    }
    hops
}

/// The hop of the bio queued at record `j`, `target` having sent it there,
/// followed on: through the table of a DM device, to its completion on a
/// disk.
fn follow(
    records: &[TraceRecord],
    j: usize,
    target: String,
    own_bio: bool,
    devices: &dyn Devices,
    used: &mut [bool],
) -> Hop {
    let r = &records[j];
    let to = dev(r);
    let mut hop = Hop {
        target,
        device: to.to_string(),
        sector: r.sector,
        sectors: r.sectors,
        disk_ns: None,
        then: Vec::new(),
        own_bio,
    };
    if devices.table(to).is_some() {
        hop.then = remaps(
            records,
            j,
            to,
            r.sector,
            r.sector + r.sectors,
            devices,
            used,
        );
    } else {
        hop.disk_ns = disk_time(records, j, to, r.sector, used);
    }
    hop
}

/// Marks the queue record of a remapped clone, so it is not taken for a
/// bio of its own.
fn mark_clone_queue(records: &[TraceRecord], remap: usize, used: &mut [bool]) {
    let r = &records[remap];
    if let Some(j) = (remap + 1..records.len()).find(|&j| {
        let q = &records[j];
        !used[j] && q.event == "block_bio_queue" && dev(q) == dev(r) && q.sector == r.sector
    }) {
        used[j] = true;
    }
}

/// Issue to completion of the request that carried `sector` on a disk.
fn disk_time(
    records: &[TraceRecord],
    after: usize,
    disk: DevT,
    sector: u64,
    used: &mut [bool],
) -> Option<u64> {
    let covers = |r: &TraceRecord| {
        dev(r) == disk && r.sector <= sector && sector < r.sector + r.sectors.max(1)
    };
    let issue = (after + 1..records.len())
        .find(|&j| records[j].event == "block_rq_issue" && covers(&records[j]))?;
    let complete = (issue + 1..records.len())
        .find(|&j| !used[j] && records[j].event == "block_rq_complete" && covers(&records[j]))?;
    // A request may carry several bios: its issue stays for the others.
    used[complete] = true;
    Some(records[complete].ts_ns.saturating_sub(records[issue].ts_ns))
}

fn segment_target(devices: &dyn Devices, dev: DevT, sector: u64) -> Option<String> {
    devices
        .table(dev)?
        .iter()
        .find(|l| l.start <= sector && sector < l.start + l.length)
        .map(|l| l.target.clone())
}

fn dev(r: &TraceRecord) -> DevT {
    DevT::new(r.major, r.minor)
}

fn errno_name(error: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(error.abs()))
}

/// `254:0 +10 (1 sector) W -> basic_target -> 7:0 +8010 -> done 97 µs`.
pub fn describe(j: &BioJourney) -> String {
    let mut text = format!(
        "{} +{} ({} sector{}) {}",
        j.device,
        j.sector,
        j.sectors,
        if j.sectors == 1 { "" } else { "s" },
        j.op
    );
    if !j.hops.is_empty() {
        text.push_str(&format!(" -> {}", describe_hops(&j.hops)));
    } else if let Some(target) = &j.target {
        text.push_str(&format!(" -> {target}"));
    }
    let took = j.done_ns.map(format_ns);
    match (&j.error, took, j.hops.is_empty()) {
        (Some(e), Some(t), _) => text.push_str(&format!(" -> failed {e} after {t}")),
        (None, Some(t), false) => text.push_str(&format!(" -> done {t}")),
        (None, Some(t), true) => {
            text.push_str(&format!(" -> completed without reaching a disk after {t}"))
        }
        (_, None, _) => text.push_str(" -> no completion seen"),
    }
    text
}

fn describe_hops(hops: &[Hop]) -> String {
    // Hops through one target read as `target -> a, b`.
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < hops.len() {
        let target = &hops[i].target;
        let same: Vec<&Hop> = hops[i..]
            .iter()
            .take_while(|h| &h.target == target)
            .collect();
        let several = same.len() > 1;
        let places: Vec<String> = same
            .iter()
            .map(|h| {
                let mut place = format!("{} +{}", h.device, h.sector);
                if several {
                    place.push_str(&format!(" ({})", h.sectors));
                }
                if h.own_bio {
                    place.push_str(" (its own bio)");
                }
                if !h.then.is_empty() {
                    place.push_str(&format!(" -> {}", describe_hops(&h.then)));
                }
                place
            })
            .collect();
        parts.push(format!("{target} -> {}", places.join(", ")));
        i += same.len();
    }
    parts.join(", ")
}

fn format_ns(ns: u64) -> String {
    if ns < 10_000_000 {
        format!("{} µs", ns / 1000)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::blocktrace;

    struct Map(Vec<(DevT, Vec<TableLine>)>);

    impl Devices for Map {
        fn table(&self, dev: DevT) -> Option<&[TableLine]> {
            self.0
                .iter()
                .find(|(d, _)| *d == dev)
                .map(|(_, t)| t.as_slice())
        }
    }

    fn line(start: u64, length: u64, target: &str) -> TableLine {
        TableLine {
            start,
            length,
            target: target.into(),
            params: String::new(),
        }
    }

    fn records(text: &str) -> Vec<TraceRecord> {
        blocktrace::parse(text)
    }

    #[test]
    fn the_textbook_write_through_basic_target() {
        let trace = "\
 dmbench-1 [000] ..... 12.000010: block_bio_queue: 254,0 WS 10 + 1 [dmbench]
 dmbench-1 [000] ..... 12.000020: block_bio_remap: 7,0 WS 8010 + 1 <- (254,0) 10
 dmbench-1 [000] ..... 12.000025: block_bio_queue: 7,0 WS 8010 + 1 [dmbench]
 loop0-9   [000] ..... 12.000040: block_rq_issue: 7,0 WS 512 () 8010 + 1 none,0,0 [loop0]
 <idle>-0  [000] ..s1. 12.000090: block_rq_complete: 7,0 WS () 8010 + 1 none,0,0 [0]
 <idle>-0  [000] ..s1. 12.000107: block_bio_complete: 254,0 WS 10 + 1 [0]
";
        let map = Map(vec![(
            DevT::new(254, 0),
            vec![line(0, 20000, "basic_target")],
        )]);
        let (journeys, total) = journeys(&records(trace), DevT::new(254, 0), &map, 16);
        assert_eq!(total, 1);
        let j = &journeys[0];
        assert_eq!(
            j.text,
            "254:0 +10 (1 sector) WS -> basic_target -> 7:0 +8010 -> done 97 µs"
        );
        assert_eq!(j.hops[0].disk_ns, Some(50_000));
        assert_eq!(j.error, None);
    }

    #[test]
    fn a_bio_a_target_fails_or_drops_never_reaches_a_disk() {
        let trace = "\
 d-1 [000] ..... 1.000000: block_bio_queue: 254,0 R 20 + 1 [d]
 d-1 [000] ..... 1.000040: block_bio_complete: 254,0 R 20 + 1 [-5]
 d-1 [000] ..... 1.000100: block_bio_queue: 254,0 W 30 + 1 [d]
 d-1 [000] ..... 1.000112: block_bio_complete: 254,0 W 30 + 1 [0]
";
        let map = Map(vec![(DevT::new(254, 0), vec![line(0, 100, "dust")])]);
        let (journeys, _) = journeys(&records(trace), DevT::new(254, 0), &map, 16);
        assert_eq!(
            journeys[0].text,
            "254:0 +20 (1 sector) R -> dust -> failed EIO after 40 µs"
        );
        assert_eq!(journeys[0].error.as_deref(), Some("EIO"));
        assert_eq!(
            journeys[1].text,
            "254:0 +30 (1 sector) W -> dust -> completed without reaching a disk after 12 µs"
        );
    }

    #[test]
    fn striped_splits_and_stacked_devices_are_followed() {
        let trace = "\
 d-1 [000] ..... 1.000000: block_bio_queue: 254,1 W 0 + 16 [d]
 d-1 [000] ..... 1.000001: block_bio_remap: 254,0 W 0 + 16 <- (254,1) 0
 d-1 [000] ..... 1.000002: block_bio_remap: 7,0 W 0 + 8 <- (254,0) 0
 d-1 [000] ..... 1.000003: block_bio_remap: 7,1 W 0 + 8 <- (254,0) 8
 d-1 [000] ..... 1.000010: block_rq_issue: 7,0 W 4096 () 0 + 8 none,0,0 [d]
 d-1 [000] ..... 1.000011: block_rq_issue: 7,1 W 4096 () 0 + 8 none,0,0 [d]
 d-1 [000] ..... 1.000020: block_rq_complete: 7,0 W () 0 + 8 none,0,0 [0]
 d-1 [000] ..... 1.000030: block_rq_complete: 7,1 W () 0 + 8 none,0,0 [0]
 d-1 [000] ..... 1.000050: block_bio_complete: 254,1 W 0 + 16 [0]
";
        let map = Map(vec![
            (DevT::new(254, 1), vec![line(0, 64, "linear")]),
            (DevT::new(254, 0), vec![line(0, 64, "striped")]),
        ]);
        let (journeys, _) = journeys(&records(trace), DevT::new(254, 1), &map, 16);
        assert_eq!(
            journeys[0].text,
            "254:1 +0 (16 sectors) W -> linear -> 254:0 +0 -> striped -> 7:0 +0 (8), \
             7:1 +0 (8) -> done 50 µs"
        );
    }

    #[test]
    fn a_bio_the_target_submits_itself_is_followed_too() {
        // flakey corrupting a write: a copy goes to the disk, no remap.
        let trace = "\
 d-1 [000] ..... 1.000000: block_bio_queue: 254,0 WS 0 + 8 [d]
 d-1 [000] ..... 1.000010: block_bio_queue: 7,0 WS 0 + 8 [d]
 d-1 [000] ..... 1.000020: block_rq_issue: 7,0 WS 4096 () 0 + 8 none,0,0 [d]
 d-1 [000] ..... 1.000060: block_rq_complete: 7,0 WS () 0 + 8 none,0,0 [0]
 d-1 [000] ..... 1.000070: block_bio_complete: 254,0 WS 0 + 8 [0]
 d-1 [000] ..... 1.000100: block_bio_queue: 254,0 WS 8 + 8 [d]
 d-1 [000] ..... 1.000110: block_bio_remap: 7,0 WS 8 + 8 <- (254,0) 8
 d-1 [000] ..... 1.000111: block_bio_queue: 7,0 WS 8 + 8 [d]
 d-1 [000] ..... 1.000170: block_bio_complete: 254,0 WS 8 + 8 [0]
";
        let map = Map(vec![(DevT::new(254, 0), vec![line(0, 100, "flakey")])]);
        let (journeys, _) = journeys(&records(trace), DevT::new(254, 0), &map, 16);
        assert_eq!(
            journeys[0].text,
            "254:0 +0 (8 sectors) WS -> flakey -> 7:0 +0 (its own bio) -> done 70 µs"
        );
        assert_eq!(journeys[0].hops[0].disk_ns, Some(40_000));
        assert_eq!(
            journeys[1].text,
            "254:0 +8 (8 sectors) WS -> flakey -> 7:0 +8 -> done 70 µs"
        );
    }

    #[test]
    fn journeys_are_capped_and_counted() {
        let mut trace = String::new();
        for i in 0..20 {
            trace.push_str(&format!(
                " d-1 [000] ..... 1.{:06}: block_bio_queue: 254,0 W {i} + 1 [d]\n",
                i
            ));
        }
        let map = Map(vec![(DevT::new(254, 0), vec![line(0, 100, "linear")])]);
        let (journeys, total) = journeys(&records(&trace), DevT::new(254, 0), &map, 16);
        assert_eq!((journeys.len(), total), (16, 20));
        assert!(
            journeys[0]
                .text
                .ends_with("-> linear -> no completion seen")
        );
    }
}
