//! Session behaviour over the fake executor: ownership rules, ledger and
//! teardown. (The same paths run against a real kernel in tests/vm_*.rs.)

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::*;
use crate::exec::fake::FakeExecutor;

fn session() -> (
    Session,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<Mutex<Vec<Event>>>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    let sink: EventSink = Arc::new(move |e| {
        if let Ok(mut v) = sink_seen.lock() {
            v.push(e);
        }
    });
    let mut live = None;
    let s = Session::open(
        |sink| {
            let fake = FakeExecutor::new(sink);
            live = Some(fake.live_counter());
            Ok(Box::new(fake))
        },
        sink,
        SessionOptions {
            work_dir: "/tmp/dmbench-test".into(),
            ledger_dir: None,
        },
    )
    .expect("session starts");
    (s, live.expect("the fake executor was made"), seen)
}

fn linear(disk: &Disk, len: u64) -> Vec<TableLine> {
    vec![TableLine {
        start: 0,
        length: len,
        target: "linear".into(),
        params: format!("{} 0", disk.device.display()),
    }]
}

#[test]
fn teardown_removes_everything_in_reverse_order() {
    let (mut s, live, _) = session();
    let disk = s
        .add_disk("disk1", 20000 * 512, false, false)
        .expect("disk");
    s.create_device("dev1", &linear(&disk, 20000))
        .expect("create");
    assert!(live.load(Ordering::SeqCst) >= 3);
    let report = s.teardown();
    assert!(report.all_ok(), "{report}");
    let order: Vec<&str> = report.steps.iter().map(|s| s.resource.as_str()).collect();
    // The device's statistics regions (one segment, the map) go first.
    assert!(
        order[0].starts_with("statistics region 1 of DM device dev1"),
        "{order:?}"
    );
    assert!(
        order[1].starts_with("statistics region 0 of DM device dev1"),
        "{order:?}"
    );
    assert!(order[2].starts_with("DM device dev1"), "{order:?}");
    assert!(order[3].starts_with("loop device"), "{order:?}");
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn device_uuid_carries_the_session_prefix() {
    let (mut s, _, _) = session();
    let disk = s.add_disk("d", 1 << 20, false, false).expect("disk");
    let dev = s.create_device("x", &linear(&disk, 2048)).expect("create");
    assert!(dev.uuid.starts_with(UUID_PREFIX));
    assert!(dev.uuid.contains(s.id()));
}

#[test]
fn a_table_naming_a_foreign_device_is_refused_before_any_ioctl() {
    let (mut s, _, _) = session();
    s.add_disk("d", 1 << 20, false, false).expect("disk");
    let table = vec![TableLine {
        start: 0,
        length: 8,
        target: "linear".into(),
        params: "/dev/sda 0".into(),
    }];
    let err = s.create_device("x", &table).expect_err("foreign device");
    let text = format!("{err:#}");
    assert!(text.contains("/dev/sda"), "{text}");
    assert!(s.devices().next().is_none());
}

#[test]
fn a_kernel_refusal_keeps_the_kernel_reason_and_creates_nothing() {
    let (mut s, live, _) = session();
    let before = live.load(Ordering::SeqCst);
    let table = vec![TableLine {
        start: 0,
        length: 8,
        target: "no_such_target".into(),
        params: String::new(),
    }];
    let err = s.create_device("x", &table).expect_err("refused");
    let text = format!("{err:#}");
    assert!(text.contains("device-mapper: table:"), "{text}");
    assert_eq!(live.load(Ordering::SeqCst), before);
}

#[test]
fn modules_in_use_cannot_be_unloaded_and_probes_stay_in_the_session() {
    let (mut s, _, events) = session();
    let ko = tempfile::NamedTempFile::new().expect("tmp");
    s.register_module(
        "basic_target",
        ModuleBuild {
            image: ko.path().to_path_buf(),
            ..Default::default()
        },
    );
    s.load_module("basic_target", "").expect("load");
    let disk = s
        .add_disk("disk1", 20000 * 512, false, false)
        .expect("disk");
    let table = vec![TableLine {
        start: 0,
        length: 20000,
        target: "basic_target".into(),
        params: format!("{} 0", disk.device.display()),
    }];
    s.create_device("my_dev", &table).expect("create");
    let err = s.unload_module("basic_target").expect_err("in use");
    assert!(err.to_string().contains("my_dev"), "{err}");

    let probe = ProbeRequest {
        target: ProbeTarget::Device("my_dev".into()),
        op: ProbeOp::Write,
        bs: 512,
        count: 1,
        offset_blocks: 10,
        pattern: Some(crate::exec::protocol::Pattern::Stamp),
        direct: true,
        random_order: false,
        stamp_shift: 0,
    };
    let probed = s.probe(&probe).expect("probe");
    let result = &probed.result;
    assert_eq!(result.bytes, 512);
    assert!(
        result.attribution.iter().any(|a| a.device == "loop0"),
        "attributed to the backing loop: {:?}",
        result.attribution
    );
    let saw_log = events.lock().expect("lock").iter().any(
        |e| matches!(e, Event::Kmsg(r) if r.text.contains("write request: sector 10 size 512")),
    );
    assert!(saw_log);

    let foreign = ProbeRequest {
        target: ProbeTarget::Device("not_mine".into()),
        ..probe
    };
    assert!(s.probe(&foreign).is_err());
}

#[test]
fn names_are_checked() {
    assert!(validate_name("disk", "disk1").is_ok());
    assert!(validate_name("disk", "../etc").is_err());
    assert!(validate_name("disk", "").is_err());
    assert!(validate_name("device", "a b").is_err());
}

fn probe_of(device: &str, op: ProbeOp, bs: u32, offset_blocks: u64, count: u64) -> ProbeRequest {
    ProbeRequest {
        target: ProbeTarget::Device(device.into()),
        op,
        bs,
        count,
        offset_blocks,
        pattern: Some(crate::exec::protocol::Pattern::Stamp),
        direct: true,
        random_order: false,
        stamp_shift: 0,
    }
}

fn concat(a: &Disk, b: &Disk) -> Vec<TableLine> {
    vec![
        TableLine {
            start: 0,
            length: 1000,
            target: "linear".into(),
            params: format!("{} 0", a.device.display()),
        },
        TableLine {
            start: 1000,
            length: 1000,
            target: "linear".into(),
            params: format!("{} 0", b.device.display()),
        },
    ]
}

#[test]
fn a_device_is_counted_per_segment_and_the_figures_reach_the_probe() {
    let (mut s, _, _) = session();
    let a = s.add_disk("a", 1000 * 512, false, false).expect("disk");
    let b = s.add_disk("b", 1000 * 512, false, false).expect("disk");
    s.create_device("cat", &concat(&a, &b)).expect("create");
    let stats = s.device_stats("cat").expect("stats").clone();
    assert_eq!(stats.notice, None);
    let roles: Vec<RegionRole> = stats.regions.iter().map(|r| r.role.clone()).collect();
    assert_eq!(
        roles,
        [
            RegionRole::Segment(0),
            RegionRole::Segment(1),
            RegionRole::Map
        ]
    );
    let in_ledger = s
        .ledger
        .resources()
        .iter()
        .filter(|r| matches!(r, Resource::DmStats { device, .. } if device == "cat"))
        .count();
    assert_eq!(in_ledger, 3);

    // 4 KiB blocks 100..150: sectors 800..1200 straddle the boundary.
    let probed = s
        .probe(&probe_of("cat", ProbeOp::Write, 4096, 100, 50))
        .expect("probe");
    let segs = &probed.stats.segments;
    assert_eq!(segs.len(), 2);
    assert_eq!((segs[0].write_sectors, segs[1].write_sectors), (200, 200));
    assert_eq!(segs[0].reads, 0);
    assert!(!probed.stats.map.is_empty());
    assert_eq!(
        segs[1].histogram.counts.len(),
        segs[1].histogram.boundaries_ns.len() + 1
    );
}

#[test]
fn reload_replaces_the_regions_and_remove_forgets_them() {
    let (mut s, _, _) = session();
    let a = s.add_disk("a", 1000 * 512, false, false).expect("disk");
    let b = s.add_disk("b", 1000 * 512, false, false).expect("disk");
    s.create_device("d", &linear(&a, 1000)).expect("create");
    assert_eq!(s.device_stats("d").map(|st| st.regions.len()), Some(2));
    s.reload_device("d", &concat(&a, &b)).expect("reload");
    assert_eq!(s.device_stats("d").map(|st| st.regions.len()), Some(3));
    let stats_in_ledger = |s: &Session| {
        s.ledger
            .resources()
            .iter()
            .filter(|r| matches!(r, Resource::DmStats { .. }))
            .count()
    };
    assert_eq!(stats_in_ledger(&s), 3, "the old table's regions are gone");
    s.remove_device("d").expect("remove");
    assert_eq!(stats_in_ledger(&s), 0);
    assert!(s.device_stats("d").is_none());
}

#[test]
fn a_disk_probe_has_no_segments_and_no_journey() {
    let (mut s, _, _) = session();
    s.add_disk("a", 1000 * 512, false, false).expect("disk");
    let request = ProbeRequest {
        target: ProbeTarget::Disk("a".into()),
        ..probe_of("x", ProbeOp::Write, 512, 0, 1)
    };
    let probed = s.probe(&request).expect("probe");
    assert!(probed.stats.segments.is_empty());
    assert!(probed.bios.is_empty());
}

/// An executor whose kernel refuses DM statistics (as for a
/// request-based device).
struct NoStats(FakeExecutor);

impl Executor for NoStats {
    fn call(&mut self, request: Request) -> Result<Response, crate::exec::ExecError> {
        match &request {
            Request::DmMessage { text, .. } if text.starts_with("@stats_create") => Err(
                crate::exec::ExecError::new(ErrorKind::Kernel, "Invalid argument"),
            ),
            _ => self.0.call(request),
        }
    }
    fn canceller(&self) -> Canceller {
        self.0.canceller()
    }
    fn kind(&self) -> Placement {
        self.0.kind()
    }
}

#[test]
fn a_refused_region_is_a_notice_never_a_failure() {
    let mut s = Session::open(
        |sink| Ok(Box::new(NoStats(FakeExecutor::new(sink)))),
        crate::exec::discard_events(),
        SessionOptions {
            work_dir: "/tmp/dmbench-test".into(),
            ledger_dir: None,
        },
    )
    .expect("session");
    let disk = s.add_disk("a", 1000 * 512, false, false).expect("disk");
    s.create_device("d", &linear(&disk, 1000))
        .expect("the device is made all the same");
    let stats = s.device_stats("d").expect("stats");
    assert!(stats.regions.is_empty());
    let notice = stats.notice.clone().expect("a notice");
    assert!(
        notice.contains("refused a region") && notice.contains("Invalid argument"),
        "{notice}"
    );
    let probed = s
        .probe(&probe_of("d", ProbeOp::Write, 512, 0, 1))
        .expect("the probe runs");
    assert!(probed.stats.segments.is_empty());
    assert!(
        probed.notes.iter().any(|n| n == &notice),
        "{:?}",
        probed.notes
    );
    assert!(s.teardown().all_ok());
}
