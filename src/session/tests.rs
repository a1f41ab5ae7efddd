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
    assert!(order[0].starts_with("DM device dev1"), "{order:?}");
    assert!(order[1].starts_with("loop device"), "{order:?}");
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
    let result = s.probe(&probe).expect("probe");
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
