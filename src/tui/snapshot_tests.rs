//! Snapshot tests of every pane in its main states, at 160x48 and 80x24,
//! driven by keys through the real worker and Session over the fake
//! executor. Colours are not in the snapshots; shapes and text are.

use crate::exec::Placement;
use std::time::{Duration, Instant};

use insta::assert_snapshot;

use crate::exec::protocol::{BlockStat, Event, IoCounters, KmsgRecord};

use super::action::Update;
use super::app::{App, PaneId};
use super::key_tests::lab_harness;
use super::probes::RunningProbe;
use super::testing::{Harness, render_to_string};

const WIDE: (u16, u16) = (160, 48);
const NARROW: (u16, u16) = (80, 24);

/// Two disks, one of 20000 sectors and one of 10 MiB.
fn two_disks() -> Harness {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>d<Enter>10MiB<Enter>");
    h
}

/// A composer table of two segments, the second overrunning disk2.
fn two_segments_with_error() -> Harness {
    let mut h = two_disks();
    h.keys("4a<Enter><Enter><Enter><Enter>");
    h.keys("a<Enter><Enter>disk2<Enter><Enter>");
    h.keys("z30000<Enter>");
    h
}

/// A live device `dmbench0` over disk1, linear.
fn live_device() -> Harness {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter><Enter>");
    h
}

fn kmsg(level: u8, ts_us: u64, text: &str) -> Event {
    Event::Kmsg(KmsgRecord {
        seq: ts_us,
        level,
        ts_us,
        text: text.into(),
    })
}

/// Events with a flood of repeats, warnings, errors and DM events.
fn busy_events(h: &mut Harness) {
    h.event(kmsg(
        6,
        1_000_000,
        "basic_target: loading out-of-tree module taints kernel.",
    ));
    h.event(kmsg(6, 1_000_100, "basic_target: module loaded"));
    for i in 0..120u64 {
        h.event(kmsg(
            6,
            1_200_000 + i,
            &format!("basic_target: write request: sector {i} size 512"),
        ));
    }
    h.event(kmsg(4, 1_300_000, "basic_target: slow request: 12 ms"));
    h.event(Event::DmEvent {
        name: "dmbench0".into(),
        event_nr: 1,
    });
    h.event(kmsg(
        3,
        1_400_000,
        "device-mapper: table: 253:0: basic_target: Device lookup failed",
    ));
    h.event(Event::KmsgLost { count: 3 });
    for i in 0..40u64 {
        h.event(kmsg(
            6,
            1_500_000 + i,
            &format!("basic_target: read request: sector {i} size 512"),
        ));
    }
}

#[test]
fn starting_sandbox_vm() {
    let app = App::new("/project".into(), Vec::new(), Placement::Vm);
    assert_snapshot!(render_to_string(&app, NARROW.0, NARROW.1));
}

#[test]
fn session_failed_to_start() {
    let mut app = App::new("/project".into(), Vec::new(), Placement::Vm);
    app.apply(Update::StartFailed(
        "booting the sandbox VM: no lab kernel (run `dmbench kernel build`)".into(),
    ));
    assert_snapshot!(render_to_string(&app, NARROW.0, NARROW.1));
}

#[test]
fn empty_session_wide() {
    let h = Harness::new();
    assert_snapshot!(h.render(WIDE.0, WIDE.1));
}

#[test]
fn empty_session_narrow() {
    let h = Harness::new();
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn disks_added_with_io_counters() {
    let mut h = two_disks();
    h.keys("3<Down>");
    let start = Instant::now();
    let sample = |reads: u64, writes: u64| {
        vec![
            BlockStat {
                device: "loop0".into(),
                counters: IoCounters {
                    read_ios: reads,
                    read_sectors: reads * 8,
                    write_ios: writes,
                    write_sectors: writes * 8,
                    ..Default::default()
                },
            },
            BlockStat {
                device: "loop1".into(),
                counters: IoCounters::default(),
            },
        ]
    };
    h.app.apply(Update::Stats {
        stats: sample(10, 4),
        at: start,
    });
    h.app.apply(Update::Stats {
        stats: sample(266, 132),
        at: start + Duration::from_secs(1),
    });
    assert_snapshot!("disks_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("disks_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn composer_two_segments_and_a_validation_error() {
    let h = two_segments_with_error();
    assert!(!h.app.composer.validation.is_ok());
    assert_snapshot!("composer_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("composer_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn segment_form_with_an_inline_error() {
    let mut h = two_disks();
    h.keys("4a<Enter><Enter>/dev/sda<Enter>0<Enter>");
    assert_snapshot!("segment_form_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("segment_form_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn target_type_picker() {
    let mut h = two_disks();
    h.keys("4t");
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn reload_shows_the_difference_from_the_live_table() {
    let mut h = live_device();
    h.keys("<Right><Right><Right><Right>s<Enter>");
    assert_snapshot!(h.render(WIDE.0, WIDE.1));
}

#[test]
fn probe_results_with_attribution_and_sparkline() {
    let mut h = live_device();
    h.keys("w<Enter><Enter>8<Enter><Enter><Enter><Enter>");
    h.keys("w<Enter>4KiB<Enter>16<Enter><Enter><Enter><Enter>");
    h.keys("r<Enter><Enter>8<Enter><Enter><Enter><Enter>");
    h.keys("5");
    assert_snapshot!("probes_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("probes_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn probe_form() {
    let mut h = live_device();
    h.keys("w<Enter><Enter>99999<Enter><Enter><Enter><Enter>");
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn probe_in_flight_shows_progress() {
    let mut h = live_device();
    h.keys("5");
    h.app.probes.running = Some(RunningProbe {
        ticket: 999,
        label: "write dmbench0 bs=4096 seek=0 count=2500 stamp direct".into(),
        done: 4 << 20,
        total: 10 << 20,
        cancelling: false,
    });
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn events_with_folded_repeats() {
    let mut h = Harness::new();
    busy_events(&mut h);
    h.keys("6");
    assert_snapshot!("events_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("events_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn events_filtered_to_warnings_and_errors() {
    let mut h = Harness::new();
    busy_events(&mut h);
    h.keys("6fff");
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn events_search_and_scroll_back() {
    let mut h = Harness::new();
    busy_events(&mut h);
    h.keys("/lookup<Enter>");
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn help_overlay() {
    let mut h = Harness::new();
    h.keys("?");
    assert_snapshot!("help_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("help_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn lab_with_live_check_marks() {
    let mut h = lab_harness();
    h.keys("nnnn");
    // The write step expects a kernel line; show it failing for the look.
    if let Some(lab) = &mut h.app.lab {
        lab.steps[4].state =
            super::lab::StepState::Failed("no kernel log line matched /write request/".into());
        lab.selected = 4;
    }
    assert_snapshot!("lab_wide", h.render(WIDE.0, WIDE.1));
    h.app.focus = PaneId::Lab;
    assert_snapshot!("lab_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn module_built_loaded_and_its_build_log() {
    let mut h = Harness::with_sources();
    h.keys("2bl");
    assert_snapshot!("module_narrow", h.render(NARROW.0, NARROW.1));
    h.keys("<Enter>");
    assert_snapshot!("build_log", h.render(NARROW.0, NARROW.1));
}

#[test]
fn teardown_shows_each_step() {
    let mut h = live_device();
    h.quit();
    assert_snapshot!(h.render(NARROW.0, NARROW.1));
}

#[test]
fn course_lab_with_its_readme() {
    let (_dir, path) = super::key_tests::course_lab();
    let (mut app, _) = super::new_app(
        Some(super::LabInput::Path(path)),
        &super::TuiOptions::default(),
    )
    .expect("the lab loads");
    assert_snapshot!(
        "readme_lab_narrow",
        render_to_string(&app, NARROW.0, NARROW.1)
    );
    assert_snapshot!("readme_lab_wide", render_to_string(&app, WIDE.0, WIDE.1));
    for key in super::testing::parse_keys("i<Down><Down>") {
        super::keys::handle_key(&mut app, key);
    }
    assert_snapshot!(
        "readme_box_narrow",
        render_to_string(&app, NARROW.0, NARROW.1)
    );
}
