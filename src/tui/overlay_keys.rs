//! Keys while an overlay is open (help, form, picker, confirmation,
//! logs), and what submitting a form or choosing in a picker does.

use crossterm::event::{KeyCode, KeyEvent};

use super::action::Command;
use super::app::{App, Overlay};
use super::commands::{
    load_module, open_segment_form, require_ready, start_build, start_probe, unload_module,
};
use super::composer::parse_length;
use super::form::{Form, FormKey, FormKind, PickerKey, PickerKind};
use super::probes::parse_form;
use super::segment_form::{self, FormContext};

pub(super) fn overlay_key(app: &mut App, key: KeyEvent) {
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
    }
}

fn set_error(form: &mut Form, label: &str, message: String) {
    if let Some(field) = form.field_mut(label)
        && field.error.is_none()
    {
        field.error = Some(message);
    }
}
