//! Reloading a live device from the composer: the kernel's live table is
//! asked for first, then the difference is shown for confirmation (`y`),
//! with a note when the kernel's table differs from what was loaded.

use crate::exec::protocol::TableLine;
use crate::tui::action::Command;
use crate::tui::app::{App, Confirm, Overlay};

use super::model::diff_lines;

/// Asks for the live table first; the diff shows when it arrives.
pub(crate) fn start_reload(app: &mut App, name: String) {
    let ticket = app.submit(Command::LiveTable { name: name.clone() });
    app.pending_reload = Some((name, ticket));
}

pub(crate) fn confirm_reload(app: &mut App, name: &str, kernel: &[TableLine]) {
    let loaded: Vec<String> = app
        .state
        .devices
        .iter()
        .find(|d| d.name == name)
        .map(|d| {
            crate::table::Table::from_lines(&d.table)
                .segments
                .iter()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    let new: Vec<String> = app
        .composer
        .table
        .segments
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut notes = Vec::new();
    if let Some(device) = app.state.devices.iter().find(|d| d.name == name) {
        let devices = app
            .state
            .disks
            .iter()
            .map(|d| {
                (
                    d.device.display().to_string(),
                    crate::table::DevT::new(d.major, d.minor),
                )
            })
            .collect();
        let ours = crate::table::Table::from_lines(&device.table);
        // A kernel that echoes the loaded words back agrees with them.
        let comparison = if kernel == device.table.as_slice() {
            Ok(())
        } else {
            crate::table::compare_with_kernel(&ours, kernel, &devices)
        };
        if let Err(mismatches) = comparison {
            notes.push("the kernel's live table differs from what was loaded:".into());
            notes.extend(mismatches.iter().map(|m| format!("  {m}")));
        }
    }
    app.overlay = Some(Overlay::Confirm(Confirm {
        title: format!("Reload {name}?"),
        diff: diff_lines(&loaded, &new),
        notes,
        command: Command::ReloadDevice {
            name: name.to_string(),
            table: app.composer.table.to_lines(),
        },
    }));
}
