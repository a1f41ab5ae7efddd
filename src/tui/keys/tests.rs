//! The key table against the dispatch: every binding is reached by its
//! keys where it says it works, no key means two things in one place, and
//! what the help box and the hint lines say is what the keys do.

use crossterm::event::{KeyCode, KeyModifiers};

use crate::exec::Placement;
use crate::tui::action::Command;
use crate::tui::app::{App, Confirm, Overlay, PaneId};
use crate::tui::prompt::{Field, Form, FormKind, Picker, PickerKind};

use super::table::{self, BINDINGS, Binding, Context, Key};
use super::{Action, candidates};

/// An app whose keys go to `context` first (after Ctrl-C).
fn app_in(context: Context) -> App {
    let mut app = App::new("/project".into(), Vec::new(), Placement::Vm);
    match context {
        Context::Always | Context::Global => {}
        Context::Pane(pane) => app.focus = pane,
        Context::Form => {
            app.overlay = Some(Overlay::Form(Form::new(
                FormKind::GoTo,
                "Go to sector",
                vec![Field::new("sector", "0")],
            )))
        }
        Context::Picker => {
            app.overlay = Some(Overlay::Picker(Picker::new(
                PickerKind::LoadModule,
                "Load which module?",
                Vec::new(),
            )))
        }
        Context::Search => app.search_input = Some(String::new()),
        Context::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Context::BuildLog => {
            app.overlay = Some(Overlay::BuildLog {
                source: 0,
                scroll: 0,
            })
        }
        Context::Output => {
            app.overlay = Some(Overlay::Output {
                title: "Step 1".into(),
                lines: Vec::new(),
            })
        }
        Context::Readme => app.overlay = Some(Overlay::Readme { scroll: 0 }),
        Context::Confirm => {
            app.overlay = Some(Overlay::Confirm(Confirm {
                title: "Reload?".into(),
                diff: Vec::new(),
                notes: Vec::new(),
                command: Command::Sync(0),
            }))
        }
    }
    app
}

fn first_action(app: &App, key: Key) -> Option<Action> {
    candidates(app, key).first().map(|b| b.action)
}

fn same(a: &Binding, b: &Binding) -> bool {
    std::ptr::eq(a, b)
}

#[test]
fn every_binding_is_reached_by_its_keys_in_its_context() {
    for binding in BINDINGS {
        for &key in binding.keys {
            match binding.context {
                Context::Global => {
                    // Reached from every pane that does not bind the key
                    // itself, and first from at least one.
                    let mut first_somewhere = false;
                    for pane in PaneId::ALL {
                        let app = app_in(Context::Pane(pane));
                        let found = candidates(&app, key);
                        assert!(
                            found.iter().any(|b| same(b, binding)),
                            "{key:?} does not reach {:?} from the {pane:?} pane",
                            binding.action
                        );
                        first_somewhere |= found.first().is_some_and(|b| same(b, binding));
                    }
                    assert!(
                        first_somewhere,
                        "{key:?} never reaches {:?}",
                        binding.action
                    );
                }
                context => {
                    let app = app_in(context);
                    assert_eq!(
                        first_action(&app, key),
                        Some(binding.action),
                        "{key:?} in {context:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn no_key_means_two_things_in_one_context() {
    for (i, a) in BINDINGS.iter().enumerate() {
        for b in &BINDINGS[i + 1..] {
            let shared: Vec<&Key> = a.keys.iter().filter(|k| b.keys.contains(k)).collect();
            assert!(
                a.context != b.context || shared.is_empty(),
                "{shared:?} in {:?}: {:?} and {:?}",
                a.context,
                a.action,
                b.action
            );
            // Keys that work even in prompts are bound nowhere else.
            let always = a.context == Context::Always || b.context == Context::Always;
            assert!(
                !always || shared.is_empty(),
                "{shared:?} shadowed by Always"
            );
        }
    }
}

#[test]
fn prompts_leave_printable_characters_to_typing() {
    for binding in BINDINGS.iter().filter(|b| b.context.takes_text()) {
        for key in binding.keys {
            assert!(
                !matches!(key.code, KeyCode::Char(_)) || key.modifiers == KeyModifiers::CONTROL,
                "{key:?} in {:?} could not be typed",
                binding.context
            );
        }
    }
    // So typing `q` in a form types it, and does not quit.
    let app = app_in(Context::Form);
    assert!(candidates(&app, Key::plain(KeyCode::Char('q'))).is_empty());
}

#[test]
fn the_help_box_lists_every_binding_with_its_keys() {
    let rows = table::help_rows();
    for binding in BINDINGS {
        let row = rows
            .iter()
            .find(|r| r.context == binding.context.label() && r.help == binding.help)
            .unwrap_or_else(|| panic!("no help row for {:?}", binding.action));
        for key in binding.keys {
            let label = key.label();
            let listed = row.keys.split(' ').any(|k| {
                k == label
                    || k.split_once('-').is_some_and(|(lo, hi)| {
                        lo.len() == 1 && hi.len() == 1 && (lo..=hi).contains(&label.as_str())
                    })
            });
            assert!(listed, "{label} missing from '{}'", row.keys);
        }
    }
    assert!(rows.iter().any(|r| r.keys == "Tab S-Tab 1-6"), "{rows:#?}");
}

#[test]
fn every_hint_names_a_key_that_does_it_there() {
    let check = |context: Context, items: Vec<table::HintItem>| {
        let app = app_in(context);
        for item in items {
            assert_eq!(item.keys.len(), item.actions.len());
            for (key, action) in item.keys.iter().zip(&item.actions) {
                let reached = BINDINGS.iter().any(|b| {
                    b.action == *action
                        && b.keys.iter().any(|k| {
                            k.short_label() == *key && first_action(&app, *k) == Some(*action)
                        })
                });
                assert!(reached, "hint '{key} {}' in {context:?}", item.label);
            }
        }
    };
    for pane in PaneId::ALL {
        check(Context::Pane(pane), table::pane_hints(pane));
    }
    for context in [
        Context::Form,
        Context::Picker,
        Context::Search,
        Context::Help,
        Context::BuildLog,
        Context::Output,
        Context::Readme,
        Context::Confirm,
    ] {
        check(context, table::hints(context));
    }
    check(Context::Pane(PaneId::Probes), table::status_hints());
    assert_eq!(
        super::pane_hint_line(&app_in(Context::Global), PaneId::Disks, 80),
        "d add  x detach/remove  ⏎ edit table"
    );
    // Whole entries only, when short of room.
    assert_eq!(
        super::pane_hint_line(&app_in(Context::Global), PaneId::Disks, 30),
        "d add  x detach/remove"
    );
    assert_eq!(
        super::hint_line(Context::Form),
        "⏎ next/submit  Tab/S-Tab move  ←/→ choices  Esc cancel"
    );
}

#[test]
fn the_status_line_keeps_the_way_out_when_short_of_room() {
    assert_eq!(
        super::status_hint_line(&app_in(Context::Global), Some(PaneId::Lab), usize::MAX),
        "n:run step ⏎:details Tab:pane ?:help q:quit"
    );
    assert_eq!(
        super::status_hint_line(&app_in(Context::Global), None, 16),
        "?:help q:quit"
    );
}

#[test]
fn keys_are_read_as_terminals_send_them() {
    use crossterm::event::KeyEvent;
    let event = |code, modifiers| Key::from_event(&KeyEvent::new(code, modifiers));
    // Shift is part of a capital letter and of Shift-Tab.
    assert_eq!(
        event(KeyCode::Char('G'), KeyModifiers::SHIFT),
        Key::plain(KeyCode::Char('G'))
    );
    assert_eq!(
        event(KeyCode::BackTab, KeyModifiers::SHIFT),
        Key::plain(KeyCode::BackTab)
    );
    // Shift-Left moves one sector; Ctrl-Left falls back to Left.
    let composer = app_in(Context::Pane(PaneId::Composer));
    let left = first_action(&composer, event(KeyCode::Left, KeyModifiers::SHIFT));
    let ctrl_left = first_action(&composer, event(KeyCode::Left, KeyModifiers::CONTROL));
    assert_ne!(left, ctrl_left);
    assert_eq!(
        ctrl_left,
        first_action(&composer, Key::plain(KeyCode::Left))
    );
}
