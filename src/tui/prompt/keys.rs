//! What the keys of an open form or picker do. Submitting and choosing go
//! to the feature that opened the prompt (`submit.rs`).

use crate::tui::app::{App, Overlay};

use super::form::{Form, FormKey};
use super::submit::{live_check, picked, submit_form};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    /// The next field; submit on the last one.
    Enter,
    NextField,
    PreviousField,
    PreviousChoice,
    NextChoice,
    Backspace,
    Clear,
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerAction {
    Choose,
    Up,
    Down,
    Backspace,
    Cancel,
}

pub fn perform_form(app: &mut App, action: FormAction) -> bool {
    match action {
        FormAction::Enter => edit_form(app, Form::enter),
        FormAction::NextField => edit_form(app, Form::next_field),
        FormAction::PreviousField => edit_form(app, Form::previous_field),
        FormAction::PreviousChoice => edit_form(app, |f| f.cycle_choice(false)),
        FormAction::NextChoice => edit_form(app, |f| f.cycle_choice(true)),
        FormAction::Backspace => edit_form(app, Form::backspace),
        FormAction::Clear => edit_form(app, Form::clear_field),
        FormAction::Cancel => app.overlay = None,
    }
    true
}

/// A printable character typed into the open form.
pub fn type_into_form(app: &mut App, c: char) {
    edit_form(app, |f| f.type_char(c));
}

/// Applies a change to the open form, then submits it or re-validates it
/// as the change asks.
fn edit_form(app: &mut App, change: impl FnOnce(&mut Form) -> FormKey) {
    let Some(Overlay::Form(mut form)) = app.overlay.take() else {
        return;
    };
    match change(&mut form) {
        FormKey::Submit => submit_form(app, form),
        FormKey::Edited => {
            live_check(app, &mut form);
            app.overlay = Some(Overlay::Form(form));
        }
        FormKey::Ignored => app.overlay = Some(Overlay::Form(form)),
    }
}

pub fn perform_picker(app: &mut App, action: PickerAction) -> bool {
    let Some(Overlay::Picker(picker)) = &mut app.overlay else {
        return true;
    };
    match action {
        PickerAction::Up => picker.up(),
        PickerAction::Down => picker.down(),
        PickerAction::Backspace => picker.backspace(),
        PickerAction::Cancel => app.overlay = None,
        PickerAction::Choose => {
            let kind = picker.kind.clone();
            let choice = picker.choice();
            app.overlay = None;
            // A choice may open the next prompt (target -> arguments).
            if let Some(choice) = choice {
                picked(app, kind, choice);
            }
        }
    }
    true
}
