//! What a key binding does: one value per action, grouped by the feature
//! that performs it. Each feature's `keys.rs` defines its actions and how
//! they change the app.

use crate::tui::app::App;
use crate::tui::composer::keys::ComposerAction;
use crate::tui::disks::keys::DisksAction;
use crate::tui::events::keys::EventsAction;
use crate::tui::lab::keys::LabAction;
use crate::tui::module::keys::ModuleAction;
use crate::tui::probes::keys::ProbesAction;
use crate::tui::prompt::keys::{FormAction, PickerAction};
use crate::tui::{composer, disks, events, lab, module, probes, prompt};

use super::shell::{self, ShellAction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Shell(ShellAction),
    Lab(LabAction),
    Module(ModuleAction),
    Disks(DisksAction),
    Composer(ComposerAction),
    Probes(ProbesAction),
    Events(EventsAction),
    Form(FormAction),
    Picker(PickerAction),
}

/// Performs an action; false when it does not apply in the app's state, so
/// the key goes on to the next context (the Events pane's `n` without a
/// search runs the lab step, as `n` does elsewhere).
pub fn perform(app: &mut App, action: Action) -> bool {
    match action {
        Action::Shell(a) => shell::perform(app, a),
        Action::Lab(a) => lab::keys::perform(app, a),
        Action::Module(a) => module::keys::perform(app, a),
        Action::Disks(a) => disks::keys::perform(app, a),
        Action::Composer(a) => composer::keys::perform(app, a),
        Action::Probes(a) => probes::keys::perform(app, a),
        Action::Events(a) => events::keys::perform(app, a),
        Action::Form(a) => prompt::keys::perform_form(app, a),
        Action::Picker(a) => prompt::keys::perform_picker(app, a),
    }
}
