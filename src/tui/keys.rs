//! Keys: every flow is keyboard-drivable with single keys, and every
//! prompt takes typed text followed by Enter (so a script can drive the UI
//! with `tmux send-keys`).
//!
//! | Where | Key | Does |
//! |---|---|---|
//! | anywhere | `q`, Ctrl-C | quit: tear the session down (each step shown), restore the terminal |
//! | anywhere | `?` | show all keys |
//! | anywhere | `Tab` / `Shift-Tab` | next / previous pane |
//! | anywhere | `1`..`6` | focus Lab, Module, Disks, Composer, Probes, Events |
//! | anywhere | `b` | build a module: pick `rust` or `c` (type it, Enter) |
//! | anywhere | `l` / `u` | load / unload a built module (picker when there are several) |
//! | anywhere | `d` | add a disk: name Enter, size Enter (`20000s`, `10MiB`) |
//! | anywhere | `w` / `r` | write / read probe form: target, bs, count, seek/skip, pattern/verify, direct |
//! | anywhere | `/` | search the Events pane: text Enter; `n`/`N` next/previous match there |
//! | anywhere | `n` | run the current lab step (retries a failed one) |
//! | anywhere | `Esc` | cancel the running probe; close a prompt |
//! | form | text, `Enter` | type replaces a default; Enter goes to the next field, submits on the last |
//! | form | `Tab` `↑` `↓` | move between fields; `←`/`→` cycle a field's choices (disks, targets, patterns) |
//! | picker | text, `↑` `↓`, `Enter` | narrow the list, move, choose |
//! | Composer | `a` | add a segment after the selected one |
//! | Composer | `t` | choose the selected segment's target type |
//! | Composer | `e` | edit the selected segment's length and arguments |
//! | Composer | `s` | split the selected segment at the cursor |
//! | Composer | `z` | resize the selected segment (later segments move) |
//! | Composer | `x`, `Delete` | delete the selected segment |
//! | Composer | `←` `→` (`Shift`: 1 sector), `Home` `End`, `g` | move the cursor; `g` goes to a typed sector |
//! | Composer | `↑` `↓`, `[` `]` | select the previous / next segment |
//! | Composer | `c` | name the DM device |
//! | Composer | `Enter` | apply: create the device, or show the diff and reload it (`y` confirms) |
//! | Composer | `o` / `f` | open a table file / save the table to a file |
//! | Disks | `↑` `↓`, `x` | select; detach the disk or remove the DM device |
//! | Disks | `Enter` | on a DM device: edit its table in the composer |
//! | Module | `↑` `↓`, `b`, `l`, `u` | select a source; build, load, unload it |
//! | Module | `Enter`, `v` | show its build log |
//! | Probes | `c` | cancel the running probe |
//! | Events | `↑` `↓` `PgUp` `PgDn` `Home` | scroll back (pauses) |
//! | Events | `End`, `G` | follow new events again |
//! | Events | `f` | filter: all, DM, module, warnings+errors |
//! | Events | `p`, `Space` | pause / resume |
//! | Events | `C` | clear |
//! | Lab | `↑` `↓`, `Enter` | select a step; show its note and output |
//! | mouse | click, wheel | focus a pane or tab; select a segment on the device bar, a disk, a step; scroll Events |
//!
//! The same table is shown by `?` ([`KEY_TABLE`]).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::exec::protocol::ProbeOp;

use super::action::Command;
use super::app::{App, Overlay, PaneId, Phase};
use super::commands::{
    apply_composer, build_picker, load_module, module_picker, open_add_disk, open_probe,
    open_segment_form, require_ready, start_build, unload_module,
};
use super::form::{Field, Form, FormKind, PickItem, Picker, PickerKind};
use super::lab_run::run_lab_step;
use super::notice::Notice;
use super::overlay_keys::overlay_key;

pub struct KeyHelp {
    pub context: &'static str,
    pub keys: &'static str,
    pub what: &'static str,
}

const fn k(context: &'static str, keys: &'static str, what: &'static str) -> KeyHelp {
    KeyHelp {
        context,
        keys,
        what,
    }
}

pub const KEY_TABLE: &[KeyHelp] = &[
    k("anywhere", "q Ctrl-C", "quit: tear everything down"),
    k("anywhere", "?", "this help"),
    k("anywhere", "Tab S-Tab 1-6", "focus a pane"),
    k("anywhere", "b", "build a module (rust / c)"),
    k("anywhere", "l u", "load / unload a module"),
    k("anywhere", "d", "add a disk (name, size)"),
    k("anywhere", "w r", "write / read probe"),
    k("anywhere", "/", "search events"),
    k("anywhere", "n", "run the current lab step"),
    k("anywhere", "Esc", "cancel probe / close prompt"),
    k("form", "text Enter", "type, next field / submit"),
    k("form", "Tab ↑ ↓ ← →", "move; cycle choices"),
    k("Composer", "a t e", "add segment, type, edit args"),
    k("Composer", "s z x", "split at cursor, resize, delete"),
    k(
        "Composer",
        "← → Home End g",
        "move cursor (Shift: 1 sector)",
    ),
    k("Composer", "↑ ↓ [ ]", "select segment"),
    k("Composer", "c", "name the device"),
    k("Composer", "Enter", "apply: create / diff + reload"),
    k("Composer", "o f", "open / save table file"),
    k("Disks", "↑ ↓ x", "select; detach / remove"),
    k("Disks", "Enter", "edit a device's table"),
    k("Module", "↑ ↓ b l u", "select; build, load, unload"),
    k("Module", "Enter v", "build log"),
    k("Probes", "c", "cancel the running probe"),
    k("Events", "↑ ↓ PgUp PgDn", "scroll back (pauses)"),
    k("Events", "End G", "follow live"),
    k("Events", "f p C", "filter, pause, clear"),
    k("Events", "n N", "next / previous match"),
    k("Lab", "↑ ↓ Enter", "select step, details"),
    k("mouse", "click wheel", "focus, select; scroll events"),
];

pub fn handle_key(app: &mut App, key: KeyEvent) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        app.request_quit();
        return;
    }
    if matches!(app.phase, Phase::Quitting | Phase::Done) {
        return;
    }
    if app.overlay.is_some() {
        overlay_key(app, key);
        return;
    }
    if app.search_input.is_some() {
        search_key(app, key);
        return;
    }
    let handled = match app.focus {
        PaneId::Composer => composer_key(app, key),
        PaneId::Disks => disks_key(app, key),
        PaneId::Module => module_key(app, key),
        PaneId::Events => events_key(app, key),
        PaneId::Lab => lab_key(app, key),
        PaneId::Probes => probes_key(app, key),
    };
    if !handled {
        global_key(app, key);
    }
}

/// Panes Tab cycles through: the Lab pane only with a lab.
pub fn visible_panes(app: &App) -> Vec<PaneId> {
    PaneId::ALL
        .into_iter()
        .filter(|p| *p != PaneId::Lab || app.lab.is_some())
        .collect()
}

fn cycle_focus(app: &mut App, forward: bool) {
    let panes = visible_panes(app);
    let n = panes.len();
    let i = panes.iter().position(|p| *p == app.focus).unwrap_or(0);
    app.focus = panes[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
}

fn global_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Char('q') => app.request_quit(),
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help { scroll: 0 }),
        KeyCode::Tab => cycle_focus(app, true),
        KeyCode::BackTab => cycle_focus(app, false),
        KeyCode::Char(c @ '1'..='6') => {
            if let Some(pane) = PaneId::ALL.into_iter().find(|p| p.digit() == c)
                && visible_panes(app).contains(&pane)
            {
                app.focus = pane;
            }
        }
        KeyCode::Char('b') => build_picker(app),
        KeyCode::Char('l') => module_picker(app, true),
        KeyCode::Char('u') => module_picker(app, false),
        KeyCode::Char('d') => open_add_disk(app),
        KeyCode::Char('w') => open_probe(app, ProbeOp::Write),
        KeyCode::Char('r') => open_probe(app, ProbeOp::Read),
        KeyCode::Char('/') => {
            app.focus = PaneId::Events;
            app.search_input = Some(String::new());
        }
        KeyCode::Char('n') => run_lab_step(app),
        KeyCode::Esc if !app.cancel_probe() => app.status = None,
        _ => {}
    }
}

fn composer_key(app: &mut App, key: KeyEvent) -> bool {
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    let c = &mut app.composer;
    let step = if shift { 1 } else { c.cursor_step() as i64 };
    match key.code {
        KeyCode::Left => c.move_cursor(-step),
        KeyCode::Right => c.move_cursor(step),
        KeyCode::Home => c.set_cursor(0),
        KeyCode::End => c.set_cursor(u64::MAX),
        KeyCode::Up | KeyCode::Char('[') => c.select_next(false),
        KeyCode::Down | KeyCode::Char(']') => c.select_next(true),
        KeyCode::Char('s') => c.split_at_cursor(),
        KeyCode::Char('x') | KeyCode::Delete => c.delete_selected(),
        KeyCode::Char('a') => open_segment_form(app, None, None),
        KeyCode::Char('e') => {
            let index = (!app.composer.table.is_empty()).then_some(app.composer.selected);
            open_segment_form(app, index, None);
        }
        KeyCode::Char('t') => {
            let items = app
                .target_names()
                .into_iter()
                .map(|name| {
                    let version = app.targets.iter().find(|t| t.name == name).map_or_else(
                        || "module, not loaded".to_string(),
                        |t| format!("v{}.{}.{}", t.version[0], t.version[1], t.version[2]),
                    );
                    let about = crate::table::catalog::lookup(&name).map_or("", |s| s.description);
                    PickItem {
                        detail: format!("{version:<10} {about}"),
                        key: name,
                    }
                })
                .collect();
            app.overlay = Some(Overlay::Picker(Picker::new(
                PickerKind::TargetType,
                "Target type",
                items,
            )));
        }
        KeyCode::Char('z') => {
            let Some(segment) = app.composer.selected_segment() else {
                app.composer.message = Some(Notice::Error("the table has no segments".into()));
                return true;
            };
            let form = Form::new(
                FormKind::Resize {
                    index: app.composer.selected,
                },
                format!("Resize segment {}", app.composer.selected + 1),
                vec![
                    Field::new("length", segment.length.to_string())
                        .help("sectors, or a size such as 10MiB; later segments move"),
                ],
            );
            app.overlay = Some(Overlay::Form(form));
        }
        KeyCode::Char('g') => {
            let form = Form::new(
                FormKind::GoTo,
                "Go to sector",
                vec![Field::new("sector", app.composer.cursor.to_string())],
            );
            app.overlay = Some(Overlay::Form(form));
        }
        KeyCode::Char('c') => {
            let form = Form::new(
                FormKind::DeviceName,
                "DM device name",
                vec![
                    Field::new("name", app.composer.name.clone())
                        .help("becomes /dev/mapper/<name>"),
                ],
            );
            app.overlay = Some(Overlay::Form(form));
        }
        KeyCode::Char('o') | KeyCode::Char('f') => {
            let (kind, title) = if key.code == KeyCode::Char('o') {
                (FormKind::OpenTable, "Open table file")
            } else {
                (FormKind::SaveTable, "Save table to file")
            };
            let form = Form::new(
                kind,
                title,
                vec![
                    Field::new("path", format!("{}.table", app.composer.name))
                        .help("dmsetup table text; relative to the project directory"),
                ],
            );
            app.overlay = Some(Overlay::Form(form));
        }
        KeyCode::Enter => apply_composer(app),
        _ => return false,
    }
    true
}

// ---- other panes -----------------------------------------------------------

fn disk_rows(app: &App) -> usize {
    app.state.disks.len() + app.state.devices.len()
}

fn disks_key(app: &mut App, key: KeyEvent) -> bool {
    let rows = disk_rows(app);
    match key.code {
        KeyCode::Up => app.disks_selected = app.disks_selected.saturating_sub(1),
        KeyCode::Down => app.disks_selected = (app.disks_selected + 1).min(rows.saturating_sub(1)),
        KeyCode::Char('x') | KeyCode::Delete => {
            if !require_ready(app) {
                return true;
            }
            let i = app.disks_selected;
            if let Some(disk) = app.state.disks.get(i) {
                let name = disk.name.clone();
                app.submit(Command::DetachDisk { name });
            } else if let Some(device) = app.state.devices.get(i - app.state.disks.len()) {
                let name = device.name.clone();
                app.submit(Command::RemoveDevice { name });
            }
        }
        KeyCode::Enter => {
            let i = app.disks_selected;
            if let Some(device) = i
                .checked_sub(app.state.disks.len())
                .and_then(|j| app.state.devices.get(j))
            {
                let table = crate::table::Table::from_lines(&device.table);
                app.composer.name = device.name.clone();
                app.composer
                    .set_session(&app.state.disks, &app.state.devices);
                app.composer.load_text(&crate::table::format(&table));
                app.focus = PaneId::Composer;
            }
        }
        _ => return false,
    }
    true
}

fn module_key(app: &mut App, key: KeyEvent) -> bool {
    let count = app.modules.sources.len();
    match key.code {
        KeyCode::Up => app.modules.selected = app.modules.selected.saturating_sub(1),
        KeyCode::Down => {
            app.modules.selected = (app.modules.selected + 1).min(count.saturating_sub(1))
        }
        KeyCode::Char('b') => {
            if let Some(source) = app.modules.selected_source() {
                let path = source.path.clone();
                start_build(app, path);
            } else {
                build_picker(app);
            }
        }
        KeyCode::Char('l') | KeyCode::Char('u') => {
            let load = key.code == KeyCode::Char('l');
            match app
                .modules
                .selected_source()
                .and_then(|s| s.module_name())
                .map(str::to_string)
            {
                Some(name) if load => load_module(app, name),
                Some(name) => unload_module(app, name),
                None => module_picker(app, load),
            }
        }
        KeyCode::Enter | KeyCode::Char('v') => {
            if count > 0 {
                app.overlay = Some(Overlay::BuildLog {
                    source: app.modules.selected,
                    scroll: 0,
                });
            }
        }
        _ => return false,
    }
    true
}

fn probes_key(app: &mut App, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Char('c') => {
            if !app.cancel_probe() {
                app.tell("no probe is running");
            }
            true
        }
        _ => false,
    }
}

fn events_key(app: &mut App, key: KeyEvent) -> bool {
    let log = &mut app.events;
    match key.code {
        KeyCode::Up => log.scroll_up(1),
        KeyCode::Down => log.scroll_down(1),
        KeyCode::PageUp => log.scroll_up(10),
        KeyCode::PageDown => log.scroll_down(10),
        KeyCode::Home => log.scroll_up(usize::MAX / 2),
        KeyCode::End | KeyCode::Char('G') => log.follow(),
        KeyCode::Char('f') => {
            let next = log.filter.next();
            log.set_filter(next);
        }
        KeyCode::Char('p') | KeyCode::Char(' ') => log.toggle_pause(),
        KeyCode::Char('C') => log.clear(),
        KeyCode::Char('n') | KeyCode::Char('N') if log.search.is_some() => {
            let older = key.code == KeyCode::Char('n');
            if !log.jump_to_match(older) {
                app.tell("no more matches");
            }
        }
        _ => return false,
    }
    true
}

fn lab_key(app: &mut App, key: KeyEvent) -> bool {
    let Some(lab) = &mut app.lab else {
        return false;
    };
    let count = lab.steps.len();
    match key.code {
        KeyCode::Up => lab.selected = lab.selected.saturating_sub(1),
        KeyCode::Down => lab.selected = (lab.selected + 1).min(count.saturating_sub(1)),
        KeyCode::Enter => {
            if let Some(step) = lab.steps.get(lab.selected) {
                let mut lines = vec![step.label.clone()];
                if let Some(note) = &step.note {
                    lines.push(String::new());
                    lines.push(note.clone());
                }
                if let super::lab_view::StepState::Failed(reason) = &step.state {
                    lines.push(String::new());
                    lines.push(format!("FAILED: {reason}"));
                }
                if let Some(output) = &step.output {
                    lines.push(String::new());
                    lines.extend(output.lines().map(str::to_string));
                }
                app.overlay = Some(Overlay::Output {
                    title: format!("Step {}", lab.selected + 1),
                    lines,
                });
            }
        }
        _ => return false,
    }
    true
}

fn search_key(app: &mut App, key: KeyEvent) {
    let Some(input) = &mut app.search_input else {
        return;
    };
    match key.code {
        KeyCode::Esc => {
            app.search_input = None;
            app.events.search = None;
        }
        KeyCode::Enter => {
            let query = std::mem::take(input);
            app.search_input = None;
            if query.is_empty() {
                app.events.search = None;
            } else {
                app.events.search = Some(query);
                if !app.events.jump_to_match(true) {
                    app.tell("no match");
                }
            }
        }
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char(c) => input.push(c),
        _ => {}
    }
}
