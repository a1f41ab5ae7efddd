//! The clock probes are timed with, right after boot. The lab kernel has
//! no HPET or PM timer to calibrate the TSC against; when its PIT
//! calibration fails (it does on a loaded host under TCG) the kernel falls
//! back to jiffies and every latency lands on a 4 ms grid. The VM tells
//! the kernel the TSC rate instead; these tests prove the first probe of a
//! fresh guest already times with a nanosecond clock, in both clock modes.

use crate::common;

use std::path::PathBuf;
use std::time::Instant;

use dmbench::exec::protocol::{Pattern, ProbeOp, ProbeResult, ProbeSpec, Request, Response};
use dmbench::exec::{Executor, discard_events};
use dmbench::vm::VmExecutor;

/// Clocksources with a nanosecond read path (the vDSO reads the TSC).
const HIGH_RES: [&str; 2] = ["tsc", "tsc-early"];

struct FirstProbe {
    result: ProbeResult,
    /// How long the host waited for the probe's answer.
    host_ns: u64,
    clocksource: String,
}

/// Boots, makes the one disk a probe needs, probes 16 x 512 B direct
/// writes, then asks which clocksource the guest used.
fn first_probe_after_boot(deterministic: bool) -> Option<FirstProbe> {
    let mut config = common::vm_config()?;
    config.deterministic = deterministic;
    let mut vm = VmExecutor::boot(config, discard_events()).expect("boot");
    let backing = PathBuf::from("/run/dmbench-clock/disk.img");
    vm.call(Request::CreateBacking {
        path: backing.clone(),
        size_bytes: 1 << 20,
    })
    .expect("backing file");
    let device = match vm
        .call(Request::AttachLoop {
            backing,
            read_only: false,
            direct_io: false,
        })
        .expect("loop device")
    {
        Response::Loop { device, .. } => device,
        other => panic!("unexpected {other:?}"),
    };
    let asked = Instant::now();
    let result = match vm
        .call(Request::Probe(ProbeSpec {
            device,
            op: ProbeOp::Write,
            bs: 512,
            count: 16,
            offset_blocks: 0,
            pattern: Some(Pattern::Zero),
            direct: true,
            random_order: false,
            attribute: Vec::new(),
            stamp_shift: 0,
            stats: None,
            trace: false,
        }))
        .expect("probe")
    {
        Response::Probe(r) => r,
        other => panic!("unexpected {other:?}"),
    };
    let host_ns = asked.elapsed().as_nanos() as u64;
    let clocksource = match vm.call(Request::SystemInfo).expect("system info") {
        Response::SystemInfo { clocksource, .. } => clocksource,
        other => panic!("unexpected {other:?}"),
    };
    vm.shutdown().expect("poweroff");
    Some(FirstProbe {
        result,
        host_ns,
        clocksource,
    })
}

fn assert_nanosecond_clock(probe: &FirstProbe, deterministic: bool) {
    let r = &probe.result;
    assert!(r.io_error.is_none(), "{:?}", r.io_error);
    assert_eq!(r.blocks, 16);
    let lat = r.latency.as_ref().expect("per-block latencies");
    let figures = [lat.min_ns, lat.median_ns, lat.p99_ns, lat.max_ns];
    // A jiffies clock can only say 0 or a multiple of 4 ms.
    assert!(
        lat.min_ns > 0 && lat.min_ns < 1_000_000,
        "a 512 B direct write took {} ns at least: not a fine clock ({lat:?})",
        lat.min_ns
    );
    assert!(
        figures.iter().any(|ns| ns % 1_000 != 0),
        "every latency is a whole number of microseconds: {lat:?}"
    );
    assert!(
        figures.iter().all(|ns| ns % 1_000_000 != 0),
        "latencies on a millisecond grid: {lat:?}"
    );
    assert!(
        HIGH_RES.contains(&probe.clocksource.trim()),
        "the guest timed with {:?}, not the TSC",
        probe.clocksource
    );
    if !deterministic {
        // The guest's clock runs at the host's rate: a probe cannot take
        // longer in the guest than the host waited for its answer (a
        // wrong TSC rate would make the guest clock run fast).
        assert!(
            r.elapsed_ns <= probe.host_ns,
            "guest says {} ns, host waited {} ns",
            r.elapsed_ns,
            probe.host_ns
        );
    }
}

#[test]
fn the_first_probe_after_boot_times_with_a_nanosecond_clock() {
    let Some(probe) = first_probe_after_boot(false) else {
        return;
    };
    assert_nanosecond_clock(&probe, false);
}

#[test]
fn the_deterministic_guest_times_probes_with_its_instruction_clock() {
    let Some(probe) = first_probe_after_boot(true) else {
        return;
    };
    assert_nanosecond_clock(&probe, true);
}
