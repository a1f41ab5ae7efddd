//! End-to-end in the sandbox VM: a real kernel, real ioctls, real loop
//! devices. These run in CI (they fail there, rather than skip, when no lab
//! kernel is available).

use crate::common;

use std::time::Duration;

use dmbench::exec::protocol::{ErrorKind, Pattern, ProbeOp, Request, Response, TableLine};
use dmbench::exec::{Executor, discard_events};
use dmbench::session::{ProbeRequest, ProbeTarget};
use dmbench::vm::VmExecutor;

fn probe(device: &str, op: ProbeOp, pattern: Pattern, offset_blocks: u64) -> ProbeRequest {
    ProbeRequest {
        target: ProbeTarget::Device(device.into()),
        op,
        bs: 512,
        count: 1,
        offset_blocks,
        pattern: Some(pattern),
        direct: true,
        random_order: false,
        stamp_shift: 0,
    }
}

#[test]
fn linear_device_write_read_table_and_teardown_leave_nothing() {
    let (events, seen) = common::recorder();
    let Some(mut s) = common::start_session(events) else {
        return;
    };
    assert!(s.kernel_release().starts_with('7') || s.kernel_release().starts_with('6'));
    let disk = s
        .add_disk("disk1", 20000 * 512, false, false)
        .expect("disk");
    let table = vec![TableLine {
        start: 0,
        length: 20000,
        target: "linear".into(),
        params: format!("{} 0", disk.device.display()),
    }];
    let dev = s.create_device("lin", &table).expect("create linear");
    assert!(dev.uuid.starts_with("DMBENCH-"));

    let w = s
        .probe(&probe("lin", ProbeOp::Write, Pattern::Stamp, 10))
        .expect("write")
        .result;
    assert_eq!(w.bytes, 512);
    assert!(w.io_error.is_none(), "{:?}", w.io_error);
    assert!(
        w.attribution
            .iter()
            .any(|a| a.device == disk.kernel_name() && a.delta.write_sectors >= 1),
        "write landed on the backing loop device: {:?}",
        w.attribution
    );
    let r = s
        .probe(&probe("lin", ProbeOp::Read, Pattern::Stamp, 10))
        .expect("read")
        .result;
    assert!(r.mismatch.is_none(), "{:?}", r.mismatch);
    // The stamp names its own offset: read from elsewhere, it must not verify.
    let wrong = s
        .probe(&probe("lin", ProbeOp::Read, Pattern::Stamp, 11))
        .expect("read elsewhere")
        .result;
    assert!(
        wrong.mismatch.is_some(),
        "an unwritten block must not verify"
    );

    let live = s.device_table("lin").expect("table");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].target, "linear");
    assert_eq!(live[0].params, format!("{} 0", disk.dev_t()));

    s.remove_device("lin").expect("remove");
    let report = s.teardown();
    assert!(report.all_ok(), "{report}");
    match s.inventory().expect("inventory") {
        Response::Inventory { dm, loops, files } => {
            assert!(dm.is_empty(), "DM devices left: {dm:?}");
            assert!(loops.is_empty(), "loop devices left: {loops:?}");
            assert!(files.is_empty(), "files left: {files:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let _ = s.close();
    let actions = seen.lock().expect("lock").len();
    assert!(actions > 0);
}

#[test]
fn the_kernel_reason_for_a_refused_table_is_the_error() {
    let Some(config) = common::vm_config() else {
        return;
    };
    let mut vm = VmExecutor::boot(config, discard_events()).expect("boot");
    vm.call(Request::Hello {
        version: dmbench::exec::protocol::PROTOCOL_VERSION,
    })
    .expect("hello");
    let err = vm
        .call(Request::DmCreate {
            name: "bad".into(),
            uuid: "DMBENCH-test-bad".into(),
            table: vec![TableLine {
                start: 0,
                length: 8,
                target: "linear".into(),
                params: "/dev/nonexistent 0".into(),
            }],
        })
        .expect_err("the kernel refuses");
    assert!(
        matches!(err.kind, ErrorKind::NotFound | ErrorKind::Kernel),
        "{err:?}"
    );
    assert!(
        err.kernel_log
            .iter()
            .any(|l| l.starts_with("device-mapper: table:") && l.contains("linear")),
        "kernel reason attached: {err:?}"
    );
    // Nothing is left behind by a failed create.
    match vm.call(Request::DmList).expect("list") {
        Response::DmDevices { devices } => assert!(devices.is_empty(), "{devices:?}"),
        other => panic!("unexpected {other:?}"),
    }
    vm.shutdown().expect("clean poweroff");
}

#[test]
fn a_device_too_small_for_the_table_is_refused_by_the_kernel_with_its_words() {
    let Some(mut s) = common::start_session(discard_events()) else {
        return;
    };
    let disk = s.add_disk("small", 16 * 512, false, false).expect("disk");
    let table = vec![TableLine {
        start: 0,
        length: 20000,
        target: "linear".into(),
        params: format!("{} 0", disk.device.display()),
    }];
    // Validation catches it before any ioctl, naming line and argument...
    let err = s.create_device("toolarge", &table).expect_err("refused");
    let text = format!("{err:#}");
    assert!(
        text.contains("line 1, argument 1 (device)") && text.contains("has 16 sectors"),
        "{text}"
    );
    // ...and when the kernel judges, its own words come back.
    let err = s
        .create_device_unvalidated("toolarge", &table)
        .expect_err("refused by the kernel");
    let text = format!("{err:#}");
    assert!(text.contains("device-mapper: table:"), "{text}");
    assert!(text.contains("too small for target"), "{text}");
    assert!(s.devices().next().is_none());
    let report = s.close();
    assert!(report.all_ok(), "{report}");
}

#[test]
fn a_guest_panic_is_reported_not_hung_on() {
    let Some(mut config) = common::vm_config() else {
        return;
    };
    config.request_timeout = Duration::from_secs(60);
    let mut vm = VmExecutor::boot(config, discard_events()).expect("boot");
    let err = vm.call(Request::CrashGuest).expect_err("the guest dies");
    assert_eq!(err.kind, ErrorKind::GuestDied, "{err:?}");
    assert!(err.message.contains("Kernel panic"), "{}", err.message);
    // Every later call fails the same way instead of hanging.
    let again = vm.call(Request::DmList).expect_err("still dead");
    assert_eq!(again.kind, ErrorKind::GuestDied);
}
