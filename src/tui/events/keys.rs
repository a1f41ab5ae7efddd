//! What the Events keys do: scroll back (which pauses), follow again,
//! filter, pause, clear, and the search (`/` anywhere, typed, then `n`/`N`
//! in the pane to go from match to match).

use crate::tui::app::{App, PaneId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsAction {
    /// `/`: focus the pane and start typing a search.
    Search,
    SearchRun,
    SearchBackspace,
    SearchCancel,
    LineUp,
    LineDown,
    PageUp,
    PageDown,
    Oldest,
    Follow,
    Filter,
    Pause,
    Clear,
    OlderMatch,
    NewerMatch,
}

/// The match keys apply only while there is a search.
pub fn perform(app: &mut App, action: EventsAction) -> bool {
    let log = &mut app.events;
    match action {
        EventsAction::Search => {
            app.focus = PaneId::Events;
            app.search_input = Some(String::new());
        }
        EventsAction::SearchRun => run_search(app),
        EventsAction::SearchBackspace => {
            if let Some(input) = &mut app.search_input {
                input.pop();
            }
        }
        EventsAction::SearchCancel => {
            app.search_input = None;
            log.search = None;
        }
        EventsAction::LineUp => log.scroll_up(1),
        EventsAction::LineDown => log.scroll_down(1),
        EventsAction::PageUp => log.scroll_up(10),
        EventsAction::PageDown => log.scroll_down(10),
        EventsAction::Oldest => log.scroll_up(usize::MAX / 2),
        EventsAction::Follow => log.follow(),
        EventsAction::Filter => {
            let next = log.filter.next();
            log.set_filter(next);
        }
        EventsAction::Pause => log.toggle_pause(),
        EventsAction::Clear => log.clear(),
        EventsAction::OlderMatch | EventsAction::NewerMatch => {
            if log.search.is_none() {
                return false;
            }
            if !log.jump_to_match(action == EventsAction::OlderMatch) {
                app.tell("no more matches");
            }
        }
    }
    true
}

/// A printable character typed into the search being written.
pub fn type_into_search(app: &mut App, c: char) {
    if let Some(input) = &mut app.search_input {
        input.push(c);
    }
}

/// Enter on the search: jump to the newest match; empty clears it.
fn run_search(app: &mut App) {
    let Some(query) = app.search_input.take() else {
        return;
    };
    if query.is_empty() {
        app.events.search = None;
    } else {
        app.events.search = Some(query);
        if !app.events.jump_to_match(true) {
            app.tell("no match");
        }
    }
}
