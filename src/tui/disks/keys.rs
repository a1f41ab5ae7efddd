//! What the Disks keys do: `d` adds a disk anywhere; in the pane, select a
//! row, detach or remove it, or open a device's table in the composer.

use crate::tui::app::App;

use super::commands;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisksAction {
    Add,
    Remove,
    EditTable,
    Previous,
    Next,
}

pub fn perform(app: &mut App, action: DisksAction) -> bool {
    match action {
        DisksAction::Add => commands::open_add_disk(app),
        DisksAction::Remove => commands::remove_selected(app),
        DisksAction::EditTable => commands::edit_selected_table(app),
        DisksAction::Previous => commands::select_previous(app),
        DisksAction::Next => commands::select_next(app),
    }
    true
}
