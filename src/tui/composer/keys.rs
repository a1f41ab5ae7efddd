//! What the Composer keys do: edit the table (add, type, edit, split,
//! resize, delete), move the cursor and the selection, name the device,
//! open and save table files, apply, and answer the reload question.

use crate::tui::app::{App, Overlay};

use super::commands;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposerAction {
    Add,
    Edit,
    TargetType,
    Split,
    Resize,
    Delete,
    /// A 64th of the device left or right.
    CursorLeft,
    CursorRight,
    /// One sector left or right.
    SectorLeft,
    SectorRight,
    CursorStart,
    CursorEnd,
    GoTo,
    PreviousSegment,
    NextSegment,
    Name,
    OpenFile,
    SaveFile,
    Apply,
    /// `y` on the reload diff.
    ConfirmReload,
    /// `n` on the reload diff.
    KeepLive,
    /// A fault preset for the selected segment.
    Preset,
}

pub fn perform(app: &mut App, action: ComposerAction) -> bool {
    let c = &mut app.composer;
    let step = c.cursor_step() as i64;
    match action {
        ComposerAction::Add => commands::open_segment_form(app, None, None),
        ComposerAction::Edit => commands::edit_selected(app),
        ComposerAction::TargetType => commands::open_target_picker(app),
        ComposerAction::Split => c.split_at_cursor(),
        ComposerAction::Resize => commands::open_resize(app),
        ComposerAction::Delete => c.delete_selected(),
        ComposerAction::CursorLeft => c.move_cursor(-step),
        ComposerAction::CursorRight => c.move_cursor(step),
        ComposerAction::SectorLeft => c.move_cursor(-1),
        ComposerAction::SectorRight => c.move_cursor(1),
        ComposerAction::CursorStart => c.set_cursor(0),
        ComposerAction::CursorEnd => c.set_cursor(u64::MAX),
        ComposerAction::GoTo => commands::open_go_to(app),
        ComposerAction::PreviousSegment => c.select_next(false),
        ComposerAction::NextSegment => c.select_next(true),
        ComposerAction::Name => commands::open_device_name(app),
        ComposerAction::OpenFile => commands::open_table_file(app, true),
        ComposerAction::SaveFile => commands::open_table_file(app, false),
        ComposerAction::Apply => commands::apply(app),
        ComposerAction::ConfirmReload => {
            if let Some(Overlay::Confirm(confirm)) = app.overlay.take() {
                let device = match &confirm.command {
                    crate::tui::action::Command::ReloadDevice { name, .. } => Some(name.clone()),
                    _ => None,
                };
                app.submit(confirm.command);
                if let Some(device) = device {
                    super::presets::send_pending(app, &device);
                }
            }
        }
        ComposerAction::Preset => super::presets::open_picker(app),
        ComposerAction::KeepLive => {
            app.overlay = None;
            app.tell("reload cancelled");
        }
    }
    true
}
