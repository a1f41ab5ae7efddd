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

use super::app::{App, Overlay, PaneId, Phase};
use super::composer::commands as composer;
use super::disks::commands as disks;
use super::lab::run::run_lab_step;
use super::module::commands as module;
use super::overlay_keys::overlay_key;
use super::probes::commands as probes;

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

fn cycle_focus(app: &mut App, forward: bool) {
    let panes = app.visible_panes();
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
                && app.visible_panes().contains(&pane)
            {
                app.focus = pane;
            }
        }
        KeyCode::Char('b') => module::build_picker(app),
        KeyCode::Char('l') => module::module_picker(app, true),
        KeyCode::Char('u') => module::module_picker(app, false),
        KeyCode::Char('d') => disks::open_add_disk(app),
        KeyCode::Char('w') => probes::open_probe(app, ProbeOp::Write),
        KeyCode::Char('r') => probes::open_probe(app, ProbeOp::Read),
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
        KeyCode::Char('a') => composer::open_segment_form(app, None, None),
        KeyCode::Char('e') => composer::edit_selected(app),
        KeyCode::Char('t') => composer::open_target_picker(app),
        KeyCode::Char('z') => composer::open_resize(app),
        KeyCode::Char('g') => composer::open_go_to(app),
        KeyCode::Char('c') => composer::open_device_name(app),
        KeyCode::Char('o') => composer::open_table_file(app, true),
        KeyCode::Char('f') => composer::open_table_file(app, false),
        KeyCode::Enter => composer::apply(app),
        _ => return false,
    }
    true
}

fn disks_key(app: &mut App, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Up => disks::select_previous(app),
        KeyCode::Down => disks::select_next(app),
        KeyCode::Char('x') | KeyCode::Delete => disks::remove_selected(app),
        KeyCode::Enter => disks::edit_selected_table(app),
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
        KeyCode::Char('b') => module::build_selected(app),
        KeyCode::Char('l') => module::load_selected(app, true),
        KeyCode::Char('u') => module::load_selected(app, false),
        KeyCode::Enter | KeyCode::Char('v') => module::show_build_log(app),
        _ => return false,
    }
    true
}

fn probes_key(app: &mut App, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Char('c') => {
            probes::cancel(app);
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
                if let super::lab::StepState::Failed(reason) = &step.state {
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
