//! DM statistics and bio journeys against the sandbox VM's real kernel:
//! regions are created per segment and deleted without leftovers (also
//! by a cleanup that proves ownership), per-segment figures add up for
//! concatenated and striped tables, the map updates while a probe runs,
//! and the seed's single write has a journey.

use crate::common;

use std::time::Instant;

use dmbench::cleanup::proof::Ownership;
use dmbench::exec::dmstats::{self, ListedRegion};
use dmbench::exec::protocol::{ProbeOp, Request, Response, TableLine};
use dmbench::exec::{Event, Executor, discard_events};
use dmbench::session::ledger::{Ledger, Resource};
use dmbench::session::teardown::unwind_guarded;
use dmbench::session::{Disk, ProbeRequest, ProbeTarget, Session};
use dmbench::vm::VmExecutor;

fn line(start: u64, length: u64, target: &str, params: String) -> TableLine {
    TableLine {
        start,
        length,
        target: target.into(),
        params,
    }
}

fn probe(device: &str, op: ProbeOp, bs: u32, offset_blocks: u64, count: u64) -> ProbeRequest {
    ProbeRequest {
        target: ProbeTarget::Device(device.into()),
        op,
        bs,
        count,
        offset_blocks,
        pattern: Some(dmbench::exec::protocol::Pattern::Stamp),
        direct: true,
        random_order: false,
        stamp_shift: 0,
    }
}

fn listed(s: &mut Session, device: &str) -> Vec<ListedRegion> {
    let reply = s
        .message(device, Some(0), "@stats_list")
        .expect("@stats_list")
        .unwrap_or_default();
    dmstats::parse_list(&reply).expect("parses")
}

fn dev(disk: &Disk) -> String {
    disk.device.display().to_string()
}

#[test]
fn regions_follow_the_table_and_leave_nothing_behind() {
    let Some(mut s) = common::start_session(discard_events()) else {
        return;
    };
    let a = s.add_disk("a", 1024 * 512, false, false).expect("disk");
    let b = s.add_disk("b", 1024 * 512, false, false).expect("disk");
    let concat = vec![
        line(0, 1024, "linear", format!("{} 0", dev(&a))),
        line(1024, 1024, "linear", format!("{} 0", dev(&b))),
    ];
    s.create_device("cat", &concat).expect("create");
    let regions = listed(&mut s, "cat");
    assert_eq!(regions.len(), 3, "{regions:?}");
    let program = format!("DMBENCH-{}", s.id());
    assert!(regions.iter().all(|r| r.program == program && r.precise));
    let segments: Vec<(u64, u64, u64)> = regions
        .iter()
        .filter(|r| !r.histogram.is_empty())
        .map(|r| (r.start, r.length, r.step))
        .collect();
    assert_eq!(segments, [(0, 1024, 1024), (1024, 1024, 1024)]);
    let map = regions
        .iter()
        .find(|r| r.histogram.is_empty())
        .expect("map");
    assert_eq!((map.start, map.length), (0, 2048));
    assert_eq!(map.step, 2048_u64.div_ceil(160));

    // A reload replaces the regions: only the new table's are left.
    s.reload_device("cat", &[line(0, 1024, "linear", format!("{} 0", dev(&a)))])
        .expect("reload");
    let after = listed(&mut s, "cat");
    assert_eq!(after.len(), 2, "{after:?}");
    let ids: Vec<u32> = after.iter().map(|r| r.region).collect();
    let stats = s.device_stats("cat").expect("stats");
    let mut owned: Vec<u32> = stats.regions.iter().map(|r| r.region).collect();
    owned.sort_unstable();
    assert_eq!(ids, owned);

    let report = s.teardown();
    assert!(report.all_ok(), "{report}");
    let removed: Vec<&str> = report
        .steps
        .iter()
        .map(|st| st.resource.as_str())
        .filter(|r| r.starts_with("statistics region"))
        .collect();
    assert_eq!(removed.len(), 2, "{report}");
    match s.inventory().expect("inventory") {
        Response::Inventory { dm, .. } => assert!(dm.is_empty(), "{dm:?}"),
        other => panic!("unexpected {other:?}"),
    }
}

fn message(exec: &mut dyn Executor, name: &str, text: &str) -> Option<String> {
    match exec.call(Request::DmMessage {
        name: name.into(),
        sector: Some(0),
        text: text.into(),
    }) {
        Ok(Response::Message { output }) => output,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn cleanup_deletes_a_dead_sessions_regions_only_on_its_own_devices() {
    let Some(config) = common::vm_config() else {
        return;
    };
    let mut exec = VmExecutor::boot(config, discard_events()).expect("vm");
    let exec: &mut dyn Executor = &mut exec;
    for (name, uuid) in [("mine", "DMBENCH-dmbdead-mine"), ("theirs", "LVM-xyz")] {
        exec.call(Request::DmCreate {
            name: name.into(),
            uuid: uuid.into(),
            table: vec![line(0, 64, "zero", String::new())],
        })
        .expect("create");
    }
    let mut ledger = Ledger::in_memory("dmbdead", "vm");
    for name in ["mine", "theirs"] {
        let reply = message(exec, name, &dmstats::create_message(0, 64, 8, true, "p"));
        let region = dmstats::parse_region_id(reply.as_deref()).expect("region id");
        ledger
            .record(Resource::DmStats {
                device: name.into(),
                region,
            })
            .expect("record");
    }
    let runtime = tempfile::tempdir().expect("tmp");
    let proof = Ownership::new(runtime.path(), "dmbdead");
    let report = unwind_guarded(exec, &mut ledger, &discard_events(), &mut |e, r| {
        proof.check(e, r)
    });
    assert_eq!(report.refused().count(), 1, "{report}");
    assert_eq!(message(exec, "mine", "@stats_list").unwrap_or_default(), "");
    let theirs = message(exec, "theirs", "@stats_list").unwrap_or_default();
    assert_eq!(dmstats::parse_list(&theirs).expect("list").len(), 1);
    for name in ["mine", "theirs"] {
        exec.call(Request::DmRemove {
            name: name.into(),
            deferred: false,
        })
        .expect("remove");
    }
}

#[test]
fn per_segment_figures_of_concatenated_and_striped_tables() {
    let Some(mut s) = common::start_session(discard_events()) else {
        return;
    };
    let a = s.add_disk("a", 2048 * 512, false, false).expect("disk");
    let b = s.add_disk("b", 2048 * 512, false, false).expect("disk");
    let concat = vec![
        line(0, 1024, "linear", format!("{} 0", dev(&a))),
        line(1024, 1024, "linear", format!("{} 0", dev(&b))),
    ];
    s.create_device("cat", &concat).expect("create");
    let w = s
        .probe(&probe("cat", ProbeOp::Write, 65536, 0, 16))
        .expect("write");
    assert_eq!(w.stats.segments.len(), 2);
    for seg in &w.stats.segments {
        assert_eq!(seg.write_sectors, 1024, "{seg:?}");
        assert!(seg.writes >= 8, "{seg:?}");
        assert_eq!((seg.reads, seg.read_sectors), (0, 0));
        // Every write is in the histogram (the times themselves may read 0
        // while the guest's clock is still the coarse one it boots with).
        assert_eq!(seg.histogram.counts.iter().sum::<u64>(), seg.writes);
    }
    let mapped: u64 = w.stats.map.iter().map(|a| a.write_sectors).sum();
    assert_eq!(mapped, 2048, "the map covers the whole device");
    // A read of the first half only touches the first segment.
    let r = s
        .probe(&probe("cat", ProbeOp::Read, 65536, 0, 8))
        .expect("read");
    assert_eq!(r.stats.segments[0].read_sectors, 1024);
    assert_eq!(r.stats.segments[1].reads, 0);
    assert_eq!(r.stats.segments[0].writes, 0, "figures are per probe");
    s.remove_device("cat").expect("remove");

    // Two striped segments over the same two disks: both serve the probe.
    let striped = vec![
        line(
            0,
            1024,
            "striped",
            format!("2 64 {} 0 {} 0", dev(&a), dev(&b)),
        ),
        line(
            1024,
            1024,
            "striped",
            format!("2 64 {} 512 {} 512", dev(&a), dev(&b)),
        ),
    ];
    s.create_device("stripes", &striped).expect("create");
    let w = s
        .probe(&probe("stripes", ProbeOp::Write, 65536, 0, 16))
        .expect("write");
    let sectors: Vec<u64> = w.stats.segments.iter().map(|g| g.write_sectors).collect();
    assert_eq!(sectors, [1024, 1024]);
    let areas_hit = w.stats.map.len();
    assert!(
        areas_hit > 100,
        "the map shows the whole range: {areas_hit} areas"
    );
    assert!(s.teardown().all_ok());
}

#[test]
fn the_map_is_sampled_while_a_slow_probe_runs() {
    let (events, seen) = common::recorder();
    let Some(mut s) = common::start_session(events) else {
        return;
    };
    let a = s.add_disk("a", 2048 * 512, false, false).expect("disk");
    s.create_device(
        "slow",
        &[line(0, 2048, "delay", format!("{} 0 100", dev(&a)))],
    )
    .expect("create");
    s.probe(&probe("slow", ProbeOp::Write, 4096, 0, 6))
        .expect("write");
    let samples: Vec<(u64, u64, u64)> = seen
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|e| match e {
            Event::DmStats {
                device,
                elapsed_ms,
                regions,
                disks,
            } if device == "slow" => Some((
                *elapsed_ms,
                regions
                    .iter()
                    .flat_map(|r| &r.areas)
                    .map(|a| a.write_sectors)
                    .sum(),
                disks.iter().map(|d| d.delta.write_sectors).sum(),
            )),
            _ => None,
        })
        .collect();
    assert!(samples.len() >= 2, "{samples:?}");
    assert!(
        samples.iter().any(|(_, dm, disk)| *dm > 0 && *disk > 0),
        "the map and the disk counters moved during the probe: {samples:?}"
    );
    assert!(samples.windows(2).all(|w| w[0].1 <= w[1].1), "{samples:?}");
    assert!(s.teardown().all_ok());
}

#[test]
fn the_seed_write_has_a_journey_and_tracing_costs_little() {
    let Some(mut s) = common::start_session(discard_events()) else {
        return;
    };
    let a = s.add_disk("a", 20000 * 512, false, false).expect("disk");
    s.create_device(
        "seed",
        &[line(0, 10000, "linear", format!("{} 5000", dev(&a)))],
    )
    .expect("create");
    let w = s
        .probe(&probe("seed", ProbeOp::Write, 512, 10, 1))
        .expect("write");
    assert_eq!(w.bios_total, 1, "{:?}", w.bios);
    let journey = &w.bios[0];
    let re = regex::Regex::new(
        r"^254:\d+ \+10 \(1 sector\) W\S* -> linear -> 7:\d+ \+5010 -> done \d+(\.\d)? (µs|ms)$",
    )
    .expect("regex");
    assert!(re.is_match(&journey.text), "{}", journey.text);
    assert_eq!(journey.hops[0].sector, 5010);
    assert!(journey.done_ns.is_some() && journey.error.is_none());

    // What the tracing costs a probe: the same write, traced and not.
    let timed = |s: &mut Session, on: bool| {
        s.set_journeys(on);
        let started = Instant::now();
        for _ in 0..10 {
            s.probe(&probe("seed", ProbeOp::Write, 512, 10, 1))
                .expect("write");
        }
        started.elapsed().as_secs_f64() * 100.0
    };
    let off = timed(&mut s, false);
    let on = timed(&mut s, true);
    eprintln!("one 512-byte write probe: {off:.1} ms untraced, {on:.1} ms traced");
    s.set_journeys(false);
    let untraced = s
        .probe(&probe("seed", ProbeOp::Write, 512, 10, 1))
        .expect("write");
    assert!(untraced.bios.is_empty());
    assert!(s.teardown().all_ok());
}
