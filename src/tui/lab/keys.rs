//! What the Lab keys do: `n` runs the current step (see `run.rs`), the
//! arrows select a step, Enter shows its details.

use crate::tui::app::{App, Overlay};

use super::run::run_lab_step;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabAction {
    RunStep,
    Previous,
    Next,
    Details,
}

/// Pane keys do not apply without a lab.
pub fn perform(app: &mut App, action: LabAction) -> bool {
    if action == LabAction::RunStep {
        run_lab_step(app);
        return true;
    }
    let Some(lab) = &mut app.lab else {
        return false;
    };
    match action {
        LabAction::RunStep => {}
        LabAction::Previous => lab.select_previous(),
        LabAction::Next => lab.select_next(),
        LabAction::Details => {
            if let Some((title, lines)) = lab.details() {
                app.overlay = Some(Overlay::Output { title, lines });
            }
        }
    }
    true
}
