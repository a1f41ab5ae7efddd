//! What the Composer keys set in motion: the segment form and the target
//! type picker, the small forms (resize, go to sector, device name, table
//! files), what submitting each of them does, and applying the table.

use crate::tui::action::Command;
use crate::tui::app::{App, Overlay};
use crate::tui::notice::Notice;
use crate::tui::prompt::submit::reopen;
use crate::tui::prompt::{Field, Form, FormKind, PickItem, Picker, PickerKind};

use super::model::{ApplyPlan, parse_length};
use super::reload::start_reload;
use super::segment_form::{self, FormContext};

/// `a` (add after the selected segment, `index: None`) and `e` (edit
/// segment `index`); `target` is the type picked with `t`.
pub(crate) fn open_segment_form(app: &mut App, index: Option<usize>, target: Option<&str>) {
    let targets = app.target_names();
    let ctx = FormContext {
        disks: &app.state.disks,
        devices: &app.state.devices,
        targets: &targets,
    };
    let mut form = segment_form::segment_form(&app.composer, index, target, &ctx);
    // Show problems of the prefilled values right away.
    segment_form::check(&app.composer, &mut form, &ctx);
    app.overlay = Some(Overlay::Form(form));
}

/// The segment `e` and `t` work on: the selected one, if any.
fn selected_index(app: &App) -> Option<usize> {
    (!app.composer.table.is_empty()).then_some(app.composer.selected)
}

pub(crate) fn edit_selected(app: &mut App) {
    open_segment_form(app, selected_index(app), None);
}

/// The target picker's choice: the segment form for that type.
pub(crate) fn target_chosen(app: &mut App, target: &str) {
    open_segment_form(app, selected_index(app), Some(target));
}

pub(crate) fn open_target_picker(app: &mut App) {
    let items = app
        .target_names()
        .into_iter()
        .map(|name| {
            let version = app.targets.iter().find(|t| t.name == name).map_or_else(
                || "module, not loaded".to_string(),
                |t| format!("v{}.{}.{}", t.version[0], t.version[1], t.version[2]),
            );
            let about = crate::table::catalog::lookup(&name).map_or("", |s| s.description);
            PickItem {
                detail: format!("{version:<10} {about}"),
                key: name,
            }
        })
        .collect();
    app.overlay = Some(Overlay::Picker(Picker::new(
        PickerKind::TargetType,
        "Target type",
        items,
    )));
}

pub(crate) fn open_resize(app: &mut App) {
    let Some(segment) = app.composer.selected_segment() else {
        app.composer.message = Some(Notice::Error("the table has no segments".into()));
        return;
    };
    let form = Form::new(
        FormKind::Resize {
            index: app.composer.selected,
        },
        format!("Resize segment {}", app.composer.selected + 1),
        vec![
            Field::new("length", segment.length.to_string())
                .help("sectors, or a size such as 10MiB; later segments move"),
        ],
    );
    app.overlay = Some(Overlay::Form(form));
}

pub(crate) fn open_go_to(app: &mut App) {
    let form = Form::new(
        FormKind::GoTo,
        "Go to sector",
        vec![Field::new("sector", app.composer.cursor.to_string())],
    );
    app.overlay = Some(Overlay::Form(form));
}

pub(crate) fn open_device_name(app: &mut App) {
    let form = Form::new(
        FormKind::DeviceName,
        "DM device name",
        vec![Field::new("name", app.composer.name.clone()).help("becomes /dev/mapper/<name>")],
    );
    app.overlay = Some(Overlay::Form(form));
}

/// `o` (open) and `f` (save) a table file.
pub(crate) fn open_table_file(app: &mut App, open: bool) {
    let (kind, title) = if open {
        (FormKind::OpenTable, "Open table file")
    } else {
        (FormKind::SaveTable, "Save table to file")
    };
    let form = Form::new(
        kind,
        title,
        vec![
            Field::new("path", format!("{}.table", app.composer.name))
                .help("dmsetup table text; relative to the project directory"),
        ],
    );
    app.overlay = Some(Overlay::Form(form));
}

/// Enter: create the device, or show the diff against the live table
/// before a reload.
pub(crate) fn apply(app: &mut App) {
    if !app.require_ready() {
        return;
    }
    match app.composer.plan(&app.state.devices) {
        Ok(ApplyPlan::Create { name, table }) => {
            app.submit(Command::CreateDevice {
                name: name.clone(),
                table,
            });
            super::presets::send_pending(app, &name);
        }
        Ok(ApplyPlan::Reload { name, .. }) => start_reload(app, name),
        Err(e) => app.composer.message = Some(Notice::Error(e)),
    }
}

/// Re-validates the segment form after each key, so problems show under
/// the field as they are typed.
pub(crate) fn recheck_segment_form(app: &App, form: &mut Form) {
    let targets = app.target_names();
    let ctx = FormContext {
        disks: &app.state.disks,
        devices: &app.state.devices,
        targets: &targets,
    };
    segment_form::retarget(form, &ctx);
    segment_form::check(&app.composer, form, &ctx);
}

// The composer's forms submitted: each takes effect, or the form is shown
// again with the problems under its fields.

pub(crate) fn submit_segment(app: &mut App, mut form: Form, index: Option<usize>, at: usize) {
    let targets = app.target_names();
    let ctx = FormContext {
        disks: &app.state.disks,
        devices: &app.state.devices,
        targets: &targets,
    };
    segment_form::retarget(&mut form, &ctx);
    match segment_form::check(&app.composer, &mut form, &ctx) {
        Some(segment) => {
            app.composer.put_segment(index, at, segment);
        }
        None => reopen(app, form),
    }
}

pub(crate) fn submit_resize(app: &mut App, mut form: Form, index: usize) {
    match parse_length(form.value("length")) {
        Ok(length) => {
            app.composer.selected = index;
            app.composer.resize_selected(length);
        }
        Err(e) => {
            form.set_error("length", e);
            reopen(app, form)
        }
    }
}

pub(crate) fn submit_go_to(app: &mut App, mut form: Form) {
    match form.value("sector").parse::<u64>() {
        Ok(sector) => {
            app.composer.set_cursor(sector);
        }
        Err(_) => {
            form.set_error("sector", "a sector number");
            reopen(app, form)
        }
    }
}

pub(crate) fn submit_device_name(app: &mut App, mut form: Form) {
    let name = form.value("name").to_string();
    match crate::session::validate_name("device", &name) {
        Ok(()) => {
            app.composer.name = name;
            app.composer
                .set_session(&app.state.disks, &app.state.devices);
            app.composer.revalidate();
        }
        Err(e) => {
            form.set_error("name", e.to_string());
            reopen(app, form)
        }
    }
}

/// Open or save: the file is read or written on the worker.
pub(crate) fn submit_table_file(app: &mut App, mut form: Form) {
    let path = form.value("path");
    if path.is_empty() {
        form.set_error("path", "enter a file name");
        return reopen(app, form);
    }
    let path = app.project_root.join(path);
    let command = if form.kind == FormKind::SaveTable {
        let mut text = app.composer.text();
        text.push('\n');
        Command::SaveTable { path, text }
    } else {
        Command::LoadTable { path }
    };
    app.submit(command);
}
