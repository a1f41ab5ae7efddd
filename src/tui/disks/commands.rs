//! What the Disks keys set in motion: adding a disk through its form,
//! detaching a disk or removing a DM device, and opening a device's table
//! in the composer.

use crate::tui::action::Command;
use crate::tui::app::{App, Overlay, PaneId};
use crate::tui::prompt::submit::reopen;
use crate::tui::prompt::{Field, Form, FormKind};

/// Rows of the pane: disks first, then DM devices.
fn rows(app: &App) -> usize {
    app.state.disks.len() + app.state.devices.len()
}

pub(crate) fn select_previous(app: &mut App) {
    app.disks_selected = app.disks_selected.saturating_sub(1);
}

pub(crate) fn select_next(app: &mut App) {
    app.disks_selected = (app.disks_selected + 1).min(rows(app).saturating_sub(1));
}

pub(crate) fn open_add_disk(app: &mut App) {
    let n = (1..)
        .find(|n| !app.state.disks.iter().any(|d| d.name == format!("disk{n}")))
        .unwrap_or(1);
    let form = Form::new(
        FormKind::AddDisk,
        "Add disk",
        vec![
            Field::new("name", format!("disk{n}")).help("letters, digits, _ - ."),
            Field::new("size", "20000s").help("s (sectors), B, KiB, MiB, GiB"),
        ],
    );
    app.overlay = Some(Overlay::Form(form));
}

/// The add-disk form submitted: the disk is queued, or the form comes back
/// with the problems under its fields.
pub(crate) fn submit_add_disk(app: &mut App, mut form: Form) {
    form.clear_errors();
    let name = form.value("name").to_string();
    if let Err(e) = crate::session::validate_name("disk", &name) {
        form.set_error("name", e.to_string());
    } else if app.state.disks.iter().any(|d| d.name == name) {
        form.set_error("name", format!("disk '{name}' exists"));
    }
    let size = crate::units::parse_size(form.value("size"));
    match &size {
        Err(e) => form.set_error("size", e.to_string()),
        Ok(bytes) if !bytes.is_multiple_of(crate::units::SECTOR) => {
            form.set_error("size", "not a whole number of 512-byte sectors")
        }
        Ok(_) => {}
    }
    match size {
        Ok(size_bytes) if !form.has_errors() => {
            if app.require_ready() {
                app.submit(Command::AddDisk { name, size_bytes });
            }
        }
        _ => reopen(app, form),
    }
}

/// Detaches the selected disk or removes the selected DM device.
pub(crate) fn remove_selected(app: &mut App) {
    if !app.require_ready() {
        return;
    }
    let i = app.disks_selected;
    if let Some(disk) = app.state.disks.get(i) {
        let name = disk.name.clone();
        app.submit(Command::DetachDisk { name });
    } else if let Some(device) = app.state.devices.get(i - app.state.disks.len()) {
        let name = device.name.clone();
        app.submit(Command::RemoveDevice { name });
    }
}

/// On a DM device row: its table goes to the composer, to edit and reload.
pub(crate) fn edit_selected_table(app: &mut App) {
    let i = app.disks_selected;
    if let Some(device) = i
        .checked_sub(app.state.disks.len())
        .and_then(|j| app.state.devices.get(j))
    {
        let table = crate::table::Table::from_lines(&device.table);
        app.composer.name = device.name.clone();
        app.composer
            .set_session(&app.state.disks, &app.state.devices);
        app.composer.load_text(&crate::table::format(&table));
        app.focus = PaneId::Composer;
    }
}
