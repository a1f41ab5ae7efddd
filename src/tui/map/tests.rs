//! The sector map, the journey view and the fault presets, by keys over
//! the fake executor, at 160x48 and 80x24.

use insta::assert_snapshot;

use crate::exec::protocol::{AreaCounters, BlockStatDelta, Event, IoCounters, RegionCounters};
use crate::session::RegionRole;
use crate::tui::app::Overlay;
use crate::tui::probes::RunningProbe;
use crate::tui::testing::Harness;

const WIDE: (u16, u16) = (160, 48);
const NARROW: (u16, u16) = (80, 24);

/// `dmbench0`: disk1 (20000 sectors) then disk2 (10 MiB), created.
fn concatenation() -> Harness {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>d<Enter>10MiB<Enter>");
    h.keys("4a<Enter><Enter><Enter><Enter>");
    h.keys("a<Enter><Enter>disk2<Enter><Enter>");
    h.keys("<Enter>");
    assert_eq!(h.app.state.devices.len(), 1, "created");
    h
}

#[test]
fn the_map_shows_where_a_probe_landed_on_each_segment_and_disk() {
    let mut h = concatenation();
    // 19 MiB from sector 0: all of disk1, most of disk2.
    h.keys("w<Enter>1MiB<Enter>19<Enter><Enter><Enter><Enter>");
    h.keys("5");
    let heat = h.app.maps.get("dmbench0").expect("heat");
    assert_eq!(heat.recent.len(), 1);
    assert_snapshot!("map_wide", h.render(WIDE.0, WIDE.1));
    assert_snapshot!("map_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn the_map_moves_while_a_probe_runs() {
    let mut h = concatenation();
    h.keys("5");
    let map = h.app.dm_stats["dmbench0"]
        .regions
        .iter()
        .find(|r| r.role == RegionRole::Map)
        .map(|r| r.region)
        .expect("a map region");
    h.app.probes.running = Some(RunningProbe {
        ticket: 999,
        label: "read dmbench0 bs=1MiB skip=8 count=12".into(),
        done: 3 << 20,
        total: 12 << 20,
        cancelling: false,
    });
    // Reads so far in the second segment only.
    let areas = (100..110)
        .map(|i| AreaCounters {
            index: i,
            start: u64::from(i) * 253,
            length: 253,
            reads: 2,
            read_sectors: 253,
            ..Default::default()
        })
        .collect();
    h.event(Event::DmStats {
        device: "dmbench0".into(),
        elapsed_ms: 600,
        regions: vec![RegionCounters { region: map, areas }],
        disks: vec![BlockStatDelta {
            device: "loop1".into(),
            delta: IoCounters {
                read_ios: 20,
                read_sectors: 2530,
                ..Default::default()
            },
        }],
    });
    assert!(h.app.maps.get("dmbench0").is_some_and(|m| m.is_live()));
    let narrow = h.render(NARROW.0, NARROW.1);
    assert!(narrow.contains("live 0.6 s"), "{narrow}");
    assert_snapshot!("map_live_narrow", narrow);
}

#[test]
fn the_journey_view_follows_each_bio() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter><Enter>");
    h.keys("w<Enter><Enter>1<Enter>10<Enter><Enter><Enter>");
    h.keys("5j");
    match &h.app.overlay {
        Some(Overlay::Output { lines, .. }) => {
            assert!(
                lines[0].contains("+10 (1 sector) WS -> linear -> 7:0 +10 -> done 70 µs"),
                "{lines:?}"
            );
        }
        other => panic!("no journey view: {other:?}"),
    }
    assert_snapshot!("journeys_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn a_fault_preset_replaces_the_segment_and_refuses_what_the_kernel_would() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter>");
    h.keys("p");
    assert_snapshot!("preset_picker_narrow", h.render(NARROW.0, NARROW.1));
    h.keys("drop<Enter>");
    assert_snapshot!("preset_form_wide", h.render(WIDE.0, WIDE.1));
    // Up 0 and down 0: dm-flakey refuses an empty cycle.
    h.keys("<Enter>0<Enter>");
    let form = match &h.app.overlay {
        Some(Overlay::Form(form)) => form.clone(),
        other => panic!("the form is shown again: {other:?}"),
    };
    let error = form.fields[1].error.clone().unwrap_or_default();
    assert!(error.contains("interval is zero"), "{error}");
    assert_snapshot!("preset_refused_narrow", h.render(NARROW.0, NARROW.1));
    h.keys("<BS>60<Enter>");
    assert!(h.app.overlay.is_none());
    let segment = h.app.composer.selected_segment().expect("segment");
    assert_eq!(segment.target, "flakey");
    assert_eq!(segment.args.join(" "), "/dev/loop0 0 0 60 1 drop_writes");
    assert_snapshot!("preset_applied_narrow", h.render(NARROW.0, NARROW.1));
}

#[test]
fn bad_blocks_are_sent_once_the_device_exists() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter>");
    h.keys("pbad<Enter><Enter>3,7<Enter>");
    assert_eq!(h.app.composer.pending_messages.len(), 3);
    h.keys("<Enter>");
    assert!(h.app.composer.pending_messages.is_empty());
    assert_eq!(h.app.state.devices.len(), 1);
}
