//! What the Lab keys do: `n` runs the current step (see `run.rs`), `i`
//! opens the lab's README, the arrows select a step, Enter shows its
//! details.

use crate::tui::app::{App, Overlay};

use super::run::run_lab_step;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabAction {
    RunStep,
    Readme,
    Previous,
    Next,
    Details,
    /// Scrolls the open README by so many lines.
    ReadmeUp(usize),
    ReadmeDown(usize),
    ReadmeTop,
}

/// Pane keys do not apply without a lab.
pub fn perform(app: &mut App, action: LabAction) -> bool {
    match action {
        LabAction::RunStep => run_lab_step(app),
        LabAction::Readme => open_readme(app),
        LabAction::ReadmeUp(_) | LabAction::ReadmeDown(_) | LabAction::ReadmeTop => {
            scroll_readme(app, action)
        }
        LabAction::Previous | LabAction::Next | LabAction::Details => {
            let Some(lab) = &mut app.lab else {
                return false;
            };
            match action {
                LabAction::Previous => lab.select_previous(),
                LabAction::Next => lab.select_next(),
                _ => {
                    if let Some((title, lines)) = lab.details() {
                        app.overlay = Some(Overlay::Output { title, lines });
                    }
                }
            }
        }
    }
    true
}

fn open_readme(app: &mut App) {
    match &app.lab {
        Some(lab) if lab.readme.is_some() => app.overlay = Some(Overlay::Readme { scroll: 0 }),
        Some(_) => app.tell("this lab has no README.md beside its lab file"),
        None => app.tell("no lab: start dmbench with a lab file to get its instructions"),
    }
}

/// Scrolls by source lines, kept within the text, so the way back up is
/// as long as the way down.
fn scroll_readme(app: &mut App, action: LabAction) {
    let last = app
        .lab
        .as_ref()
        .and_then(|l| l.readme.as_ref())
        .map_or(0, |r| r.lines.len().saturating_sub(1));
    if let Some(Overlay::Readme { scroll }) = &mut app.overlay {
        *scroll = match action {
            LabAction::ReadmeUp(n) => scroll.saturating_sub(n),
            LabAction::ReadmeDown(n) => (*scroll + n).min(last),
            _ => 0,
        };
    }
}
