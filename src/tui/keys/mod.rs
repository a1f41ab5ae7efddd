//! Keys: every flow is keyboard-drivable with single keys, and every
//! prompt takes typed text followed by Enter (so a script can drive the UI
//! with `tmux send-keys`).
//!
//! Which key does what, where, is written once, in [`table::BINDINGS`]:
//! dispatch here, the help box (`?`) and every hint line read it. A key
//! goes to the contexts of the app's state, innermost first (see
//! [`contexts`]): Ctrl-C always quits; an open box or prompt takes keys
//! alone; otherwise the focused pane, then the global keys. A printable
//! character no binding of an open prompt takes is typed into it.

pub mod action;
pub mod shell;
pub mod table;
#[cfg(test)]
mod tests;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, Overlay, PaneId, Phase};
use super::events;
use super::lab::keys::LabAction;
use super::prompt;

pub use action::{Action, perform};
pub use table::{BINDINGS, Binding, Context, Key};

pub fn handle_key(app: &mut App, event: KeyEvent) {
    if event.kind == KeyEventKind::Release {
        return;
    }
    for binding in candidates(app, Key::from_event(&event)) {
        if perform(app, binding.action) {
            return;
        }
    }
    if !quitting(app) {
        type_text(app, event);
    }
}

fn quitting(app: &App) -> bool {
    matches!(app.phase, Phase::Quitting | Phase::Done)
}

/// The bindings a key has in the app's present state, in the order they
/// are tried: the first whose action applies takes the key.
pub fn candidates(app: &App, key: Key) -> Vec<&'static Binding> {
    let mut contexts = vec![Context::Always];
    if !quitting(app) {
        contexts.extend(self::contexts(app));
    }
    contexts
        .into_iter()
        .filter_map(|context| table::lookup(context, key))
        .collect()
}

/// Where keys go in the app's present state, innermost first (after
/// [`Context::Always`]).
pub fn contexts(app: &App) -> Vec<Context> {
    match &app.overlay {
        Some(Overlay::Help { .. }) => vec![Context::Help],
        Some(Overlay::Form(_)) => vec![Context::Form],
        Some(Overlay::Picker(_)) => vec![Context::Picker],
        Some(Overlay::Confirm(_)) => vec![Context::Confirm],
        Some(Overlay::BuildLog { .. }) => vec![Context::BuildLog],
        Some(Overlay::Output { .. }) => vec![Context::Output],
        Some(Overlay::Readme { .. }) => vec![Context::Readme],
        None if app.search_input.is_some() => vec![Context::Search],
        None => vec![Context::Pane(app.focus), Context::Global],
    }
}

/// The hint line under a pane, from the key table: the entries that fit
/// in `width` columns.
pub fn pane_hint_line(app: &App, pane: PaneId, width: usize) -> String {
    table::hint_text_within(&offered_hints(app, pane), width)
}

/// A pane's hints, less those for something the app does not have (`i`
/// without a README).
fn offered_hints(app: &App, pane: PaneId) -> Vec<table::HintItem> {
    let offered = |action: &Action| match action {
        Action::Lab(LabAction::Readme) => app.lab.as_ref().is_some_and(|l| l.readme.is_some()),
        _ => true,
    };
    table::pane_hints(pane)
        .into_iter()
        .filter(|h| h.actions.iter().all(offered))
        .collect()
}

/// The hint line of a prompt or box, from the key table.
pub fn hint_line(context: Context) -> String {
    table::hint_text(&table::hints(context))
}

/// The keys on the status line, as `k:what` words: the focused pane's
/// first two hints (when `pane` is given), then the keys that work
/// everywhere. Those come most important first in the table and are
/// written the other way round, so the way out ends the line; a line with
/// only `room` columns keeps the ones that fit from the right.
pub fn status_hint_line(app: &App, pane: Option<PaneId>, room: usize) -> String {
    let word = |h: &table::HintItem| format!("{}:{}", h.keys_text(), h.label);
    let mut everywhere: Vec<String> = table::status_hints().iter().map(word).collect();
    everywhere.reverse();
    let mut kept: Vec<String> = Vec::new();
    let mut used = 0;
    for w in everywhere.into_iter().rev() {
        let width = w.chars().count() + usize::from(used > 0);
        if used + width > room {
            break;
        }
        used += width;
        kept.insert(0, w);
    }
    let mut words: Vec<String> = pane
        .map(|p| offered_hints(app, p).iter().take(2).map(word).collect())
        .unwrap_or_default();
    words.extend(kept);
    words.join(" ")
}

/// The text fallback: a printable character goes into the open form,
/// picker or events search.
fn type_text(app: &mut App, event: KeyEvent) {
    let KeyCode::Char(c) = event.code else {
        return;
    };
    if event.modifiers.contains(KeyModifiers::CONTROL) {
        return;
    }
    match &mut app.overlay {
        Some(Overlay::Form(_)) => prompt::keys::type_into_form(app, c),
        Some(Overlay::Picker(picker)) => picker.type_char(c),
        Some(_) => {}
        None => events::keys::type_into_search(app, c),
    }
}
