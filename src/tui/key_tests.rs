//! Key sequences and the state they lead to, through the real worker and
//! Session over the fake executor; plus the flood behaviour of the events
//! path.

use crate::exec::Placement;
use crate::exec::protocol::{Event, KmsgRecord, ProbeOp};
use crate::lab::model::parse_lab;

use super::action::Update;
use super::app::{App, Overlay, PaneId, Phase};
use super::events::{DEFAULT_CAPACITY, Filter};
use super::lab::{LabView, StepState};
use super::module::BuildState;
use super::notice::Notice;
use super::prompt::FormKind;
use super::testing::{Harness, render_to_string};

#[test]
fn d_name_enter_size_enter_adds_a_disk() {
    let mut h = Harness::new();
    h.keys("ddata<Enter>20000s<Enter>");
    assert!(h.app.overlay.is_none());
    let disk = &h.app.state.disks[0];
    assert_eq!(disk.name, "data");
    assert_eq!(disk.size_bytes, 20000 * 512);
    // Defaults are accepted with Enter alone.
    h.keys("d<Enter><Enter>");
    assert_eq!(h.app.state.disks[1].name, "disk1");
}

#[test]
fn a_bad_size_keeps_the_form_open_with_the_error_under_the_field() {
    let mut h = Harness::new();
    h.keys("d<Enter>10MB<Enter>");
    let Some(Overlay::Form(form)) = &h.app.overlay else {
        panic!("the form should stay open");
    };
    assert_eq!(form.kind, FormKind::AddDisk);
    let error = form.fields[1].error.clone().unwrap_or_default();
    assert!(error.contains("unknown unit"), "{error}");
    assert!(h.app.state.disks.is_empty());
    h.keys("<Esc>");
    assert!(h.app.overlay.is_none());
}

#[test]
fn tab_and_digits_move_the_focus() {
    let mut h = Harness::new();
    assert_eq!(h.app.focus, PaneId::Composer);
    h.keys("<Tab>");
    assert_eq!(h.app.focus, PaneId::Probes);
    h.keys("<Tab><Tab>");
    // No lab: the Lab pane is skipped.
    assert_eq!(h.app.focus, PaneId::Module);
    h.keys("3");
    assert_eq!(h.app.focus, PaneId::Disks);
    h.keys("1");
    assert_eq!(h.app.focus, PaneId::Disks);
}

#[test]
fn composer_add_split_resize_delete_and_apply() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4");
    h.keys("a<Enter><Enter><Enter><Enter>");
    assert_eq!(h.app.composer.text(), "0 20000 linear /dev/loop0 0");
    // Ten steps of a 64th of 20000 sectors.
    h.keys("<Right><Right><Right><Right><Right><Right><Right><Right><Right><Right>s");
    assert_eq!(
        h.app.composer.text(),
        "0 3120 linear /dev/loop0 0\n3120 16880 linear /dev/loop0 3120"
    );
    h.keys("z1000<Enter>");
    assert_eq!(h.app.composer.total(), 4120);
    h.keys("x");
    assert_eq!(h.app.composer.text(), "0 3120 linear /dev/loop0 0");
    h.keys("cmine<Enter><Enter>");
    let device = &h.app.state.devices[0];
    assert_eq!(device.name, "mine");
    assert_eq!(device.sectors(), 3120);
    assert_eq!(
        h.app.composer.live_state(&h.app.state.devices),
        super::composer::LiveState::Same
    );
}

#[test]
fn target_picker_then_form_builds_the_segment() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4tzero<Enter>100<Enter><Enter>");
    assert_eq!(h.app.composer.text(), "0 100 zero");
    // Typing a disk name in a device field maps it to its loop device.
    h.keys("tlinear<Enter><Enter><Enter>disk1<Enter>5<Enter>");
    assert_eq!(h.app.composer.text(), "0 100 linear /dev/loop0 5");
}

#[test]
fn an_unknown_device_is_reported_under_the_device_field() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter>/dev/sda<Enter>0<Enter>");
    let Some(Overlay::Form(form)) = &h.app.overlay else {
        panic!("an invalid segment keeps the form open");
    };
    let device = form.fields.iter().find(|f| f.label == "device");
    let error = device.and_then(|f| f.error.clone()).unwrap_or_default();
    assert!(error.contains("/dev/sda"), "{error}");
    assert!(h.app.composer.table.is_empty());
}

#[test]
fn enter_on_a_modified_live_device_shows_the_diff_and_y_reloads() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter><Enter>");
    assert_eq!(h.app.state.devices.len(), 1);
    h.keys("<Right>s<Enter>");
    let Some(Overlay::Confirm(confirm)) = &h.app.overlay else {
        panic!("expected the reload diff");
    };
    assert!(confirm.diff.iter().any(|(m, _)| *m == '-'));
    assert!(confirm.diff.iter().any(|(m, _)| *m == '+'));
    h.keys("y");
    assert_eq!(h.app.state.devices[0].table.len(), 2);
}

#[test]
fn probes_run_from_the_form_and_record_attribution() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter><Enter>");
    h.keys("w<Enter><Enter>8<Enter><Enter><Enter><Enter>");
    let record = h.app.probes.latest().expect("a probe ran");
    assert_eq!(record.request.op, ProbeOp::Write);
    assert_eq!(record.request.count, 8);
    let devices: Vec<&str> = record
        .result
        .attribution
        .iter()
        .map(|a| a.device.as_str())
        .collect();
    assert_eq!(devices, ["loop0", "dm-0"]);
    assert!(h.app.probes.running.is_none());
    // The read form starts from the last read (none yet) and verifies.
    h.keys("r<Enter><Enter><Enter><Enter><Enter><Enter>");
    assert_eq!(h.app.probes.history.len(), 2);
}

#[test]
fn events_keys_filter_pause_and_search() {
    let mut h = Harness::new();
    h.keys("6");
    h.event(Event::Kmsg(KmsgRecord {
        seq: 1,
        level: 3,
        ts_us: 5,
        text: "device-mapper: table: bad".into(),
    }));
    h.keys("f");
    assert_eq!(h.app.events.filter, Filter::Dm);
    h.keys("fff");
    assert_eq!(h.app.events.filter, Filter::All);
    h.keys("p");
    assert!(h.app.events.is_paused());
    h.keys("<End>");
    assert!(!h.app.events.is_paused());
    h.keys("/table<Enter>");
    assert_eq!(h.app.events.search.as_deref(), Some("table"));
    assert!(h.app.search_input.is_none());
    // `/` works from any pane.
    h.keys("4/xyz<Esc>");
    assert_eq!(h.app.focus, PaneId::Events);
    assert!(h.app.events.search.is_none());
}

#[test]
fn q_tears_the_session_down_and_ends() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter><Enter>");
    assert_eq!(h.app.state.devices.len(), 1);
    h.quit();
    assert_eq!(h.app.phase, Phase::Done);
    let report = h.app.teardown_report.clone().expect("a report");
    assert!(report.all_ok(), "{report}");
    // Its statistics regions first, then the device itself.
    assert!(report.steps[0].resource.starts_with("statistics region"));
    assert!(report.steps[2].resource.starts_with("DM device dmbench0"));
    assert!(
        h.app
            .teardown_lines
            .iter()
            .all(|l| l.starts_with("teardown: removed")),
        "{:?}",
        h.app.teardown_lines
    );
    assert_eq!(h.app.teardown_lines.len(), report.steps.len());
}

#[test]
fn ctrl_c_quits_even_from_a_form() {
    let mut h = Harness::new();
    h.keys("d<C-c>");
    // The harness waits for the worker, so the teardown is already over.
    assert_eq!(h.app.phase, Phase::Done);
    assert!(h.app.overlay.is_none());
    assert!(h.app.teardown_report.is_some());
}

#[test]
fn build_and_load_through_the_pickers() {
    let mut h = Harness::with_sources();
    h.keys("brust<Enter>");
    let source = &h.app.modules.sources[0];
    assert!(
        matches!(&source.state, BuildState::Built(info) if info.name == "basic_target"),
        "{:?}",
        source.state
    );
    assert_eq!(source.log.len(), 3);
    h.keys("l");
    assert!(h.app.state.modules.iter().any(|m| m.loaded));
    // The loaded module's target type is offered by the kernel now.
    assert!(h.app.target_names().iter().any(|t| t == "basic_target"));
    h.keys("u");
    assert!(!h.app.state.modules.iter().any(|m| m.loaded));
}

#[test]
fn shift_r_in_the_module_pane_hot_reloads_a_loaded_module() {
    let mut h = Harness::with_sources();
    // Not loaded yet: said, and nothing is sent.
    h.keys("2R");
    assert!(
        matches!(&h.app.status, Some(Notice::Error(e)) if e.contains("load its module first")),
        "{:?}",
        h.app.status
    );
    h.keys("bl");
    assert!(h.app.state.modules.iter().any(|m| m.loaded));
    h.keys("R");
    assert!(
        matches!(&h.app.status, Some(Notice::Info(t)) if t.contains("swapped under 0 device(s)")),
        "{:?}",
        h.app.status
    );
    assert!(h.app.state.modules.iter().any(|m| m.loaded), "still loaded");
    assert!(matches!(
        &h.app.modules.sources[0].state,
        BuildState::Built(_)
    ));
}

pub const BASIC_LAB: &str = r#"
title = "Write your own target: basic_target"
summary = "Build the target, map one loop device through it, watch a write."

[[steps]]
run = "build"
source = "kmod/rust"
note = "Build the Rust basic_target module."

[[steps]]
run = "load"
module = "basic_target"

[[steps]]
run = "disk"
name = "disk1"
size = "20000s"

[[steps]]
run = "create"
name = "my_basic_target_device"
table = "0 20000 basic_target {disk1} 0"

[[steps]]
run = "write"
device = "my_basic_target_device"
bs = 512
seek = 10
count = 1
pattern = "stamp"
direct = true
[steps.expect]
kmsg = "write request"

[[steps]]
run = "read"
device = "my_basic_target_device"
bs = 512
skip = 10
count = 1
verify = "stamp"

[[steps]]
run = "status"
device = "my_basic_target_device"
[steps.expect]
output = "reads=\\d+"
"#;

pub(super) fn lab_harness() -> Harness {
    let lab = parse_lab("basic.toml", BASIC_LAB).expect("the example lab parses");
    let mut h = Harness::with_lab(lab);
    h.app.focus = PaneId::Lab;
    h
}

#[test]
fn n_runs_every_lab_step_to_a_check_mark() {
    let mut h = lab_harness();
    for step in 0..7 {
        h.keys("n");
        let lab = h.app.lab.as_ref().expect("lab");
        assert_eq!(
            lab.steps[step].state,
            StepState::Passed,
            "step {}: {:?}",
            step + 1,
            lab.steps[step].output
        );
    }
    assert_eq!(h.app.composer.name, "my_basic_target_device");
}

#[test]
fn guided_steps_are_ticked_off_by_what_the_user_does() {
    let mut h = lab_harness();
    h.keys("b<Enter>l");
    let lab = h.app.lab.as_ref().expect("lab");
    assert_eq!(lab.passed(), 2);
    // A disk with another name does not count; the lab's name does.
    h.keys("dother<Enter><Enter>");
    assert_eq!(h.app.lab.as_ref().map(LabView::passed), Some(2));
    h.keys("ddisk1<Enter><Enter>");
    assert_eq!(h.app.lab.as_ref().map(LabView::passed), Some(3));
}

#[test]
fn a_failing_step_is_marked_and_stops_the_lab() {
    let mut h = lab_harness();
    // Skip the build: loading an unbuilt module fails.
    if let Some(lab) = &mut h.app.lab {
        lab.steps[0].state = StepState::Passed;
    }
    h.keys("n");
    let lab = h.app.lab.as_ref().expect("lab");
    assert!(
        matches!(&lab.steps[1].state, StepState::Failed(e) if e.contains("build it first")),
        "{:?}",
        lab.steps[1].state
    );
    assert_eq!(lab.current(), Some(1));
}

#[test]
fn twenty_thousand_events_coalesce_into_one_frame() {
    let mut app = App::new("/project".into(), Vec::new(), Placement::Vm);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..20_000u64 {
        // Every other line differs in more than digits, so half the flood
        // cannot fold and the ring's bound is what keeps memory in check.
        let text = if i % 2 == 0 {
            format!("basic_target: write request: sector {i}")
        } else {
            format!("basic_target: read request: sector {i}")
        };
        let sent = tx.send(Update::Event(Event::Kmsg(KmsgRecord {
            seq: i,
            level: 6,
            ts_us: i,
            text,
        })));
        assert!(sent.is_ok());
    }
    assert!(super::runloop::drain(&mut app, &mut rx));
    assert_eq!(app.events.received, 20_000);
    assert!(app.events.len() <= DEFAULT_CAPACITY);
    assert_eq!(app.events.len(), DEFAULT_CAPACITY);
    let screen = render_to_string(&app, 160, 48);
    assert!(screen.contains("sector 19999"), "{screen}");
}

#[test]
fn a_flood_of_identical_lines_folds_into_one_entry() {
    let mut app = App::new("/project".into(), Vec::new(), Placement::Vm);
    for i in 0..20_000u64 {
        app.apply(Update::Event(Event::Kmsg(KmsgRecord {
            seq: i,
            level: 6,
            ts_us: i,
            text: format!("basic_target: write request: sector {i}"),
        })));
    }
    assert_eq!(app.events.len(), 1);
    let screen = render_to_string(&app, 160, 48);
    assert!(screen.contains("×20000"), "{screen}");
}

#[test]
fn clicks_focus_panes_select_segments_and_rows() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;

    let mut h = Harness::new();
    h.keys("d<Enter><Enter>d<Enter><Enter>4a<Enter><Enter><Enter><Enter>");
    h.keys("<Right><Right><Right><Right><Right><Right><Right><Right>s");
    let screen = Rect::new(0, 0, 160, 48);
    let click = |app: &mut App, column, row| {
        super::mouse::handle_mouse(
            app,
            MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column,
                row,
                modifiers: KeyModifiers::NONE,
            },
            screen,
        );
    };
    let composer = super::layout::compute(screen, PaneId::Composer, false)
        .pane(PaneId::Composer)
        .expect("composer shown");
    // The device bar is the third row inside the border; its left end is
    // segment 1.
    click(&mut h.app, composer.x + 1, composer.y + 3);
    assert_eq!(h.app.composer.selected, 0);
    assert_eq!(h.app.composer.cursor, 0);
    click(&mut h.app, composer.x + composer.width - 3, composer.y + 3);
    assert_eq!(h.app.composer.selected, 1);
    // The second disk row of the Disks pane (below its header).
    let disks = super::layout::compute(screen, PaneId::Composer, false)
        .pane(PaneId::Disks)
        .expect("disks shown");
    click(&mut h.app, disks.x + 3, disks.y + 3);
    assert_eq!(h.app.focus, PaneId::Disks);
    assert_eq!(h.app.disks_selected, 1);
    // Narrow: the tab bar switches panes.
    let narrow = Rect::new(0, 0, 80, 24);
    super::mouse::handle_mouse(
        &mut h.app,
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 1,
            row: 0,
            modifiers: KeyModifiers::NONE,
        },
        narrow,
    );
    assert_eq!(h.app.focus, PaneId::Module);
}

#[test]
fn quitting_while_the_session_starts_still_tears_down() {
    let mut app = App::new("/project".into(), Vec::new(), Placement::Vm);
    app.request_quit();
    assert_eq!(app.phase, Phase::Quitting);
    let mut h = Harness::start_with(app);
    // The harness started the worker after the quit: the Teardown job was
    // queued before the session existed and ran once it did.
    h.settle();
    assert_eq!(h.app.phase, Phase::Done);
}

#[test]
fn the_benchmark_hook_renders_frames_from_ten_thousand_events() {
    let mean = super::testing::bench_render(3);
    assert!(mean > std::time::Duration::ZERO);
    eprintln!("mean frame at 160x48 with 10k events: {mean:?}");
}

#[test]
fn tables_are_saved_to_and_opened_from_files() {
    let mut h = Harness::with_sources();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter>");
    h.keys("fsaved.table<Enter>");
    let path = h.app.project_root.join("saved.table");
    let text = std::fs::read_to_string(&path).expect("the table was written");
    assert_eq!(text, "0 20000 linear /dev/loop0 0\n");
    h.keys("x");
    assert!(h.app.composer.table.is_empty());
    h.keys("osaved.table<Enter>");
    assert_eq!(h.app.composer.text(), "0 20000 linear /dev/loop0 0");
    h.keys("omissing.table<Enter>");
    assert!(
        h.app
            .status
            .as_ref()
            .is_some_and(|n| n.is_error() && n.text().contains("missing.table")),
        "{:?}",
        h.app.status
    );
}

#[test]
fn a_device_row_opens_its_table_in_the_composer() {
    let mut h = Harness::new();
    h.keys("d<Enter><Enter>4a<Enter><Enter><Enter><Enter>cfirst<Enter><Enter>");
    h.keys("cother<Enter>x");
    assert!(h.app.composer.table.is_empty());
    h.keys("3<Down><Enter>");
    assert_eq!(h.app.focus, PaneId::Composer);
    assert_eq!(h.app.composer.name, "first");
    assert_eq!(h.app.composer.text(), "0 20000 linear /dev/loop0 0");
}

#[test]
fn every_state_renders_at_any_size_without_panicking() {
    let mut h = lab_harness();
    h.keys("nnnn4<Right>s");
    let sizes = [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (119, 35),
        (200, 60),
    ];
    let check = |h: &Harness| {
        for (w, height) in sizes {
            let _ = h.render(w, height);
        }
    };
    check(&h);
    for script in [
        "?",
        "<Esc>a",
        "<Esc>t",
        "<Esc>w",
        "<Esc>2<Enter>",
        "<Esc>/x",
    ] {
        h.keys(script);
        check(&h);
    }
    h.keys("<Esc><Esc>");
    h.quit();
    check(&h);
}

/// A course lab as the course keeps it: `lab.toml` with its `README.md`
/// beside it, in a directory of its own.
pub(super) fn course_lab() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let lab = dir.path().join("lab.toml");
    std::fs::write(
        &lab,
        r#"title = "A read-only target"
summary = "The lab file's own summary."

[[steps]]
run = "disk"
name = "disk1"
size = "20000s"
note = "The disk the target sits on."

[[steps]]
run = "create"
name = "ro"
table = "0 20000 linear {disk1} 0"
"#,
    )
    .expect("lab");
    let mut readme = String::from(
        "# 02 · A read-only target\n\n\
         Your target refuses every write with -EROFS while reads pass\n\
         through to the disk below: the first target of the course that\n\
         says no.\n\n## Steps\n\n\
         - a list item\n\
         \x20 whose second line is long enough to be wrapped on an eighty-column screen, keeping its indent\n\n",
    );
    for i in 1..=40 {
        readme.push_str(&format!("{i}. Step {i} of the exercise.\n"));
    }
    std::fs::write(dir.path().join("README.md"), readme).expect("readme");
    (dir, lab)
}

#[test]
fn a_course_lab_shows_its_readme_and_i_opens_it() {
    let (_dir, path) = course_lab();
    let (mut app, lab) = super::new_app(
        Some(super::LabInput::Path(path)),
        &super::TuiOptions::default(),
    )
    .expect("the lab loads");
    assert!(lab.is_some());
    let view = app.lab.as_ref().expect("lab shown");
    assert!(
        view.summary_text()
            .starts_with("Your target refuses every write"),
        "{}",
        view.summary_text()
    );
    // The pane offers it: its first paragraph, and the key.
    let screen = render_to_string(&app, 80, 24);
    assert!(
        screen.contains("Your target refuses every write"),
        "{screen}"
    );
    assert!(screen.contains("i instructions"), "{screen}");
    let press = |app: &mut App, script: &str| {
        for key in super::testing::parse_keys(script) {
            super::keys::handle_key(app, key);
        }
    };
    press(&mut app, "i");
    assert_eq!(app.overlay, Some(Overlay::Readme { scroll: 0 }));
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("# 02 · A read-only target"), "{screen}");
    // A wrapped list item keeps its indent on the rows it wraps onto.
    assert!(screen.contains("│  screen, keeping its indent"), "{screen}");
    assert!(screen.contains("line 1 of 51"), "{screen}");
    // Scrolling stops at the last line, and the way back is as long.
    press(&mut app, "<PgDn><PgDn><PgDn><PgDn><PgDn><PgDn>");
    assert_eq!(app.overlay, Some(Overlay::Readme { scroll: 50 }));
    assert!(render_to_string(&app, 80, 24).contains("40. Step 40"));
    press(&mut app, "<Up><Home>");
    assert_eq!(app.overlay, Some(Overlay::Readme { scroll: 0 }));
    press(&mut app, "<Esc>");
    assert!(app.overlay.is_none());
}

#[test]
fn a_lab_without_readme_says_so_and_does_not_offer_the_key() {
    let mut h = lab_harness();
    h.keys("i");
    assert!(h.app.overlay.is_none());
    assert!(
        h.app
            .status
            .as_ref()
            .is_some_and(|n| n.text().contains("no README.md")),
        "{:?}",
        h.app.status
    );
    let screen = h.render(160, 48);
    assert!(!screen.contains("instructions"), "{screen}");
    // The lab file's own summary stands in.
    assert!(
        screen.contains("Build the target, map one loop device"),
        "{screen}"
    );
}
