//! What the Module keys do. Anywhere, `b`/`l`/`u` ask which source or
//! module when there are several; in the Module pane they act on the
//! selected source.

use crate::tui::app::{App, Overlay};

use super::commands;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleAction {
    Build,
    Load,
    Unload,
    BuildSelected,
    LoadSelected,
    UnloadSelected,
    /// Rebuilds the selected source and swaps its module in under the
    /// live devices that use it.
    ReloadSelected,
    ShowLog,
    Previous,
    Next,
    /// Scrolls the open build log back by so many lines.
    LogOlder(usize),
    LogNewer(usize),
}

pub fn perform(app: &mut App, action: ModuleAction) -> bool {
    match action {
        ModuleAction::Build => commands::build_picker(app),
        ModuleAction::Load => commands::module_picker(app, true),
        ModuleAction::Unload => commands::module_picker(app, false),
        ModuleAction::BuildSelected => commands::build_selected(app),
        ModuleAction::LoadSelected => commands::load_selected(app, true),
        ModuleAction::UnloadSelected => commands::load_selected(app, false),
        ModuleAction::ReloadSelected => commands::reload_selected(app),
        ModuleAction::ShowLog => commands::show_build_log(app),
        ModuleAction::Previous => app.modules.select_previous(),
        ModuleAction::Next => app.modules.select_next(),
        ModuleAction::LogOlder(lines) | ModuleAction::LogNewer(lines) => {
            if let Some(Overlay::BuildLog { scroll, .. }) = &mut app.overlay {
                *scroll = if matches!(action, ModuleAction::LogOlder(_)) {
                    *scroll + lines
                } else {
                    scroll.saturating_sub(lines)
                };
            }
        }
    }
    true
}
