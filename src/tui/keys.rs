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
//!
//! The same table is shown by `?` ([`KEY_TABLE`]).

use std::collections::HashMap;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::exec::protocol::ProbeOp;
use crate::lab::model::{IoTarget, StepKind};
use crate::session::{ProbeRequest, ProbeTarget};

use super::action::Command;
use super::app::{App, Overlay, PaneId, Phase};
use super::composer::{ApplyPlan, parse_length};
use super::form::{Field, Form, FormKey, FormKind, PickItem, Picker, PickerKey, PickerKind};
use super::modules::BuildState;
use super::probes::{RunningProbe, parse_form};
use super::segment_form::{self, FormContext};

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

// ---- composer --------------------------------------------------------------

fn form_context(app: &App) -> (Vec<String>,) {
    (app.target_names(),)
}

fn open_segment_form(app: &mut App, index: Option<usize>, target: Option<&str>) {
    let (targets,) = form_context(app);
    let ctx = FormContext {
        disks: &app.state.disks,
        devices: &app.state.devices,
        targets: &targets,
    };
    let mut form = segment_form::segment_form(&app.composer, index, target, &ctx);
    // Show problems of the prefilled values right away.
    segment_form::check(&app.composer, &mut form, &ctx);
    app.overlay = Some(Overlay::Form(form));
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
                app.composer.message = Some(("the table has no segments".into(), true));
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

fn apply_composer(app: &mut App) {
    if !require_ready(app) {
        return;
    }
    match app.composer.plan(&app.state.devices) {
        Ok(ApplyPlan::Create { name, table }) => {
            app.submit(Command::CreateDevice { name, table });
        }
        Ok(ApplyPlan::Reload { name, .. }) => app.start_reload(name),
        Err(e) => app.composer.message = Some((e, true)),
    }
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

// ---- actions shared by several keys ----------------------------------------

fn require_ready(app: &mut App) -> bool {
    match &app.phase {
        Phase::Ready => true,
        Phase::Starting => {
            app.complain("the session is still starting");
            false
        }
        _ => {
            app.complain("there is no session (press q to quit)");
            false
        }
    }
}

fn start_build(app: &mut App, path: PathBuf) -> Option<u64> {
    if !require_ready(app) {
        return None;
    }
    let source = app.modules.source_mut(&path);
    if source.state == BuildState::Building {
        app.tell(format!("{} is already building", path.display()));
        return None;
    }
    source.state = BuildState::Building;
    source.log.clear();
    Some(app.submit(Command::Build { source: path }))
}

fn build_picker(app: &mut App) {
    match app.modules.sources.len() {
        0 => app.complain(format!(
            "no kmod/rust or kmod/c under {}",
            app.project_root.display()
        )),
        1 => {
            let path = app.modules.sources[0].path.clone();
            start_build(app, path);
        }
        _ => {
            let items = app
                .modules
                .sources
                .iter()
                .map(|s| PickItem {
                    key: s.label.clone(),
                    detail: s.path.display().to_string(),
                })
                .collect();
            app.overlay = Some(Overlay::Picker(Picker::new(
                PickerKind::BuildSource,
                "Build which module?",
                items,
            )));
        }
    }
}

fn load_module(app: &mut App, name: String) {
    if require_ready(app) {
        app.submit(Command::LoadModule { name });
    }
}

fn unload_module(app: &mut App, name: String) {
    if require_ready(app) {
        app.submit(Command::UnloadModule { name });
    }
}

/// `l`/`u` without a selected source: the modules that can be loaded
/// (built, not loaded) or unloaded (loaded by this session).
fn module_picker(app: &mut App, load: bool) {
    let names: Vec<String> = if load {
        let mut names: Vec<String> = app
            .modules
            .sources
            .iter()
            .filter_map(|s| s.module_name().map(str::to_string))
            .collect();
        names.extend(app.state.modules.iter().map(|m| m.name.clone()));
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| !app.state.modules.iter().any(|m| m.name == *n && m.loaded))
            .collect()
    } else {
        app.state
            .modules
            .iter()
            .filter(|m| m.loaded)
            .map(|m| m.name.clone())
            .collect()
    };
    match names.len() {
        0 if load => app.complain("no built module to load: build one with 'b'"),
        0 => app.complain("no module loaded by this session"),
        1 if load => load_module(app, names[0].clone()),
        1 => unload_module(app, names[0].clone()),
        _ => {
            let items = names
                .into_iter()
                .map(|n| PickItem {
                    key: n,
                    detail: String::new(),
                })
                .collect();
            let (kind, title) = if load {
                (PickerKind::LoadModule, "Load which module?")
            } else {
                (PickerKind::UnloadModule, "Unload which module?")
            };
            app.overlay = Some(Overlay::Picker(Picker::new(kind, title, items)));
        }
    }
}

fn open_add_disk(app: &mut App) {
    let n = (1..)
        .find(|n| !app.state.disks.iter().any(|d| d.name == format!("disk{n}")))
        .unwrap_or(1);
    let form = Form::new(
        FormKind::AddDisk,
        "Add disk",
        vec![
            Field::new("name", format!("disk{n}")).help("letters, digits, _ - ."),
            Field::new("size", "20000s").help("s (sectors), B, KiB, MiB, GiB"),
        ],
    );
    app.overlay = Some(Overlay::Form(form));
}

fn open_probe(app: &mut App, op: ProbeOp) {
    if app.state.disks.is_empty() && app.state.devices.is_empty() {
        app.complain("nothing to probe yet: add a disk ('d') or create a device");
        return;
    }
    if app.probes.running.is_some() {
        app.complain("a probe is running (Esc cancels it)");
        return;
    }
    let form = app.probes.form(op, &app.state.disks, &app.state.devices);
    app.overlay = Some(Overlay::Form(form));
}

fn start_probe(app: &mut App, request: ProbeRequest, label: String) -> Option<u64> {
    if !require_ready(app) {
        return None;
    }
    let ticket = app.submit(Command::Probe(request));
    app.probes.error = None;
    app.probes.running = Some(RunningProbe {
        ticket,
        label,
        done: 0,
        total: 0,
        cancelling: false,
    });
    Some(ticket)
}

// ---- overlays --------------------------------------------------------------

fn overlay_key(app: &mut App, key: KeyEvent) {
    let Some(overlay) = app.overlay.take() else {
        return;
    };
    let keep = match overlay {
        Overlay::Help { scroll } => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => None,
            KeyCode::Down => Some(Overlay::Help { scroll: scroll + 1 }),
            KeyCode::Up => Some(Overlay::Help {
                scroll: scroll.saturating_sub(1),
            }),
            _ => Some(Overlay::Help { scroll }),
        },
        Overlay::BuildLog { source, scroll } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => None,
            KeyCode::Up => Some(Overlay::BuildLog {
                source,
                scroll: scroll + 1,
            }),
            KeyCode::PageUp => Some(Overlay::BuildLog {
                source,
                scroll: scroll + 10,
            }),
            KeyCode::Down => Some(Overlay::BuildLog {
                source,
                scroll: scroll.saturating_sub(1),
            }),
            KeyCode::PageDown => Some(Overlay::BuildLog {
                source,
                scroll: scroll.saturating_sub(10),
            }),
            _ => Some(Overlay::BuildLog { source, scroll }),
        },
        Overlay::Output { title, lines } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => None,
            _ => Some(Overlay::Output { title, lines }),
        },
        Overlay::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                app.submit(confirm.command);
                None
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                app.tell("reload cancelled");
                None
            }
            _ => Some(Overlay::Confirm(confirm)),
        },
        Overlay::Picker(mut picker) => match picker.handle_key(key) {
            PickerKey::Cancel => None,
            PickerKey::Chosen(choice) => {
                picked(app, picker.kind, choice);
                // A choice may open the next prompt (target -> arguments).
                return;
            }
            PickerKey::Moved | PickerKey::Ignored => Some(Overlay::Picker(picker)),
        },
        Overlay::Form(mut form) => match form.handle_key(key) {
            FormKey::Cancel => None,
            FormKey::Submit => {
                submit_form(app, form);
                return;
            }
            FormKey::Edited => {
                live_check(app, &mut form);
                Some(Overlay::Form(form))
            }
            FormKey::Ignored => Some(Overlay::Form(form)),
        },
    };
    app.overlay = keep;
}

fn picked(app: &mut App, kind: PickerKind, choice: String) {
    match kind {
        PickerKind::BuildSource => {
            let path = app
                .modules
                .sources
                .iter()
                .find(|s| s.label == choice)
                .map(|s| s.path.clone());
            match path {
                Some(path) => {
                    start_build(app, path);
                }
                None => app.complain(format!("no kmod source '{choice}'")),
            }
        }
        PickerKind::LoadModule => load_module(app, choice),
        PickerKind::UnloadModule => unload_module(app, choice),
        PickerKind::RemoveDevice => {
            if require_ready(app) {
                app.submit(Command::RemoveDevice { name: choice });
            }
        }
        PickerKind::TargetType => {
            let index = (!app.composer.table.is_empty()).then_some(app.composer.selected);
            open_segment_form(app, index, Some(&choice));
        }
    }
}

/// Re-validates a form after each key so problems show under the field as
/// they are typed.
fn live_check(app: &App, form: &mut Form) {
    if let FormKind::Segment { .. } = form.kind {
        let targets = app.target_names();
        let ctx = FormContext {
            disks: &app.state.disks,
            devices: &app.state.devices,
            targets: &targets,
        };
        segment_form::retarget(form, &ctx);
        segment_form::check(&app.composer, form, &ctx);
    }
}

fn submit_form(app: &mut App, mut form: Form) {
    let reopen = |app: &mut App, mut form: Form| {
        form.focus_first_error();
        app.overlay = Some(Overlay::Form(form));
    };
    match form.kind.clone() {
        FormKind::AddDisk => {
            form.clear_errors();
            let name = form.value("name").to_string();
            if let Err(e) = crate::session::validate_name("disk", &name) {
                set_error(&mut form, "name", e.to_string());
            } else if app.state.disks.iter().any(|d| d.name == name) {
                set_error(&mut form, "name", format!("disk '{name}' exists"));
            }
            let size = crate::units::parse_size(form.value("size"));
            match &size {
                Err(e) => set_error(&mut form, "size", e.to_string()),
                Ok(bytes) if !bytes.is_multiple_of(crate::units::SECTOR) => set_error(
                    &mut form,
                    "size",
                    "not a whole number of 512-byte sectors".into(),
                ),
                Ok(_) => {}
            }
            match size {
                Ok(size_bytes) if !form.has_errors() => {
                    if require_ready(app) {
                        app.submit(Command::AddDisk { name, size_bytes });
                    }
                }
                _ => reopen(app, form),
            }
        }
        FormKind::Segment { index, at } => {
            let targets = app.target_names();
            let ctx = FormContext {
                disks: &app.state.disks,
                devices: &app.state.devices,
                targets: &targets,
            };
            segment_form::retarget(&mut form, &ctx);
            match segment_form::check(&app.composer, &mut form, &ctx) {
                Some(segment) => app.composer.put_segment(index, at, segment),
                None => reopen(app, form),
            }
        }
        FormKind::Resize { index } => match parse_length(form.value("length")) {
            Ok(length) => {
                app.composer.selected = index;
                app.composer.resize_selected(length);
            }
            Err(e) => {
                set_error(&mut form, "length", e);
                reopen(app, form);
            }
        },
        FormKind::GoTo => match form.value("sector").parse::<u64>() {
            Ok(sector) => app.composer.set_cursor(sector),
            Err(_) => {
                set_error(&mut form, "sector", "a sector number".into());
                reopen(app, form);
            }
        },
        FormKind::DeviceName => {
            let name = form.value("name").to_string();
            match crate::session::validate_name("device", &name) {
                Ok(()) => {
                    app.composer.name = name;
                    app.composer
                        .set_session(&app.state.disks, &app.state.devices);
                    app.composer.revalidate();
                }
                Err(e) => {
                    set_error(&mut form, "name", e.to_string());
                    reopen(app, form);
                }
            }
        }
        FormKind::Probe(_) => {
            let seed = app.probes.history.len() as u64 + 1;
            match parse_form(&mut form, &app.state.disks, &app.state.devices, seed) {
                Some((request, label)) => {
                    app.probes.remember(&form);
                    start_probe(app, request, label);
                }
                None => reopen(app, form),
            }
        }
        FormKind::SaveTable | FormKind::OpenTable => {
            let path = form.value("path");
            if path.is_empty() {
                set_error(&mut form, "path", "enter a file name".into());
                return reopen(app, form);
            }
            let path = app.project_root.join(path);
            let command = if form.kind == FormKind::SaveTable {
                let mut text = app.composer.text();
                text.push('\n');
                Command::SaveTable { path, text }
            } else {
                Command::LoadTable { path }
            };
            app.submit(command);
        }
        FormKind::Message => {}
    }
}

fn set_error(form: &mut Form, label: &str, message: String) {
    if let Some(field) = form.field_mut(label)
        && field.error.is_none()
    {
        field.error = Some(message);
    }
}

// ---- lab ---------------------------------------------------------------------

/// `n`: runs the current lab step through the worker.
fn run_lab_step(app: &mut App) {
    let Some(lab) = &mut app.lab else {
        app.tell("no lab: start dmbench with a lab file to get guided steps");
        return;
    };
    if lab.is_running() {
        app.tell("a lab step is running");
        return;
    }
    lab.retry();
    let Some(index) = lab.current() else {
        app.tell("every lab step has passed");
        return;
    };
    let Some(step) = lab.steps.get(index).and_then(|s| s.step.clone()) else {
        app.tell("this checklist has no runnable steps: do it with the other panes");
        return;
    };
    if !require_ready(app) {
        return;
    }
    let ticket = match step_command(app, &step.kind) {
        Ok(Command::Build { source }) => start_build(app, source),
        Ok(Command::Probe(request)) => {
            let label = app
                .lab
                .as_ref()
                .and_then(|l| l.steps.get(index))
                .map(|s| s.label.clone())
                .unwrap_or_default();
            start_probe(app, request, label)
        }
        Ok(command) => Some(app.submit(command)),
        Err(reason) => {
            if let Some(lab) = &mut app.lab {
                lab.fail_current(reason.clone());
            }
            app.complain(format!("step {}: {reason}", index + 1));
            None
        }
    };
    if let (Some(ticket), Some(lab)) = (ticket, &mut app.lab) {
        lab.start(ticket);
    }
}

/// The worker command that performs a lab step.
fn step_command(app: &mut App, kind: &StepKind) -> Result<Command, String> {
    let disks: HashMap<String, PathBuf> = app
        .state
        .disks
        .iter()
        .map(|d| (d.name.clone(), d.device.clone()))
        .collect();
    Ok(match kind {
        StepKind::Build { source } => Command::Build {
            source: app.project_root.join(source),
        },
        StepKind::Load { module, .. } => Command::LoadModule {
            name: module.clone(),
        },
        StepKind::Disk {
            name, size_bytes, ..
        } => Command::AddDisk {
            name: name.clone(),
            size_bytes: *size_bytes,
        },
        StepKind::Create { name, table }
        | StepKind::Reload {
            device: name,
            table,
        } => {
            let table = table.render(&disks).map_err(|e| e.to_string())?;
            // The composer shows what the lab loads.
            app.composer.name = name.clone();
            app.composer
                .set_session(&app.state.disks, &app.state.devices);
            app.composer.load_text(&crate::table::format(&table));
            if matches!(kind, StepKind::Create { .. }) {
                Command::CreateDevice {
                    name: name.clone(),
                    table: table.to_lines(),
                }
            } else {
                Command::ReloadDevice {
                    name: name.clone(),
                    table: table.to_lines(),
                }
            }
        }
        StepKind::Write(w) => {
            let size = target_bytes(app, &w.device)?;
            let count = w
                .count
                .unwrap_or_else(|| (size / u64::from(w.bs.max(1))).saturating_sub(w.seek));
            Command::Probe(ProbeRequest {
                target: probe_target(&w.device),
                op: ProbeOp::Write,
                bs: w.bs,
                count,
                offset_blocks: w.seek,
                pattern: Some(w.pattern.to_protocol(app.probes.history.len() as u64 + 1)),
                direct: w.direct,
                random_order: w.random_order,
                stamp_shift: 0,
            })
        }
        StepKind::Read(r) => {
            let size = target_bytes(app, &r.device)?;
            let count = r
                .count
                .unwrap_or_else(|| (size / u64::from(r.bs.max(1))).saturating_sub(r.skip));
            Command::Probe(ProbeRequest {
                target: probe_target(&r.device),
                op: ProbeOp::Read,
                bs: r.bs,
                count,
                offset_blocks: r.skip,
                pattern: r.verify.map(|v| v.to_protocol(0)),
                direct: r.direct,
                random_order: r.random_order,
                stamp_shift: 0,
            })
        }
        StepKind::Status { device } => Command::DeviceStatus {
            name: device.clone(),
        },
        StepKind::Table { device } => Command::LiveTable {
            name: device.clone(),
        },
        StepKind::Info { device } => Command::DeviceInfo {
            name: device.clone(),
        },
        StepKind::Message {
            device,
            sector,
            text,
        } => Command::Message {
            name: device.clone(),
            sector: *sector,
            text: text.clone(),
        },
        StepKind::Suspend { device } => Command::SuspendDevice {
            name: device.clone(),
        },
        StepKind::Resume { device } => Command::ResumeDevice {
            name: device.clone(),
        },
        StepKind::Remove { device } => Command::RemoveDevice {
            name: device.clone(),
        },
        StepKind::Unload { module } => Command::UnloadModule {
            name: module.clone(),
        },
        StepKind::Detach { disk } => Command::DetachDisk { name: disk.clone() },
    })
}

fn probe_target(target: &IoTarget) -> ProbeTarget {
    match target {
        IoTarget::Device(name) => ProbeTarget::Device(name.clone()),
        IoTarget::Disk(name) => ProbeTarget::Disk(name.clone()),
    }
}

fn target_bytes(app: &App, target: &IoTarget) -> Result<u64, String> {
    let name = target.name();
    app.state
        .devices
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.sectors() * 512)
        .or_else(|| {
            app.state
                .disks
                .iter()
                .find(|d| d.name == name)
                .map(|d| d.size_bytes)
        })
        .ok_or_else(|| format!("no device or disk '{name}' in this session"))
}
