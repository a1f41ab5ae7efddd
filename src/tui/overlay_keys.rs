//! Keys while an overlay is open (help, form, picker, confirmation,
//! logs).

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Overlay};
use super::prompt::submit::{live_check, picked, submit_form};
use super::prompt::{FormKey, PickerKey};

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
