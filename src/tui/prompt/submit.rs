//! Where a submitted form or a picker's choice goes: to the feature that
//! opened it. A form that comes back with problems is shown again, focused
//! on the first field at fault.

use crate::tui::app::{App, Overlay};
use crate::tui::{composer, disks, module, probes};

use super::form::{Form, FormKind};
use super::picker::PickerKind;

pub(crate) fn submit_form(app: &mut App, form: Form) {
    match form.kind.clone() {
        FormKind::AddDisk => disks::commands::submit_add_disk(app, form),
        FormKind::Segment { index, at } => composer::commands::submit_segment(app, form, index, at),
        FormKind::Resize { index } => composer::commands::submit_resize(app, form, index),
        FormKind::GoTo => composer::commands::submit_go_to(app, form),
        FormKind::DeviceName => composer::commands::submit_device_name(app, form),
        FormKind::SaveTable | FormKind::OpenTable => {
            composer::commands::submit_table_file(app, form)
        }
        FormKind::Probe(_) => probes::commands::submit_probe(app, form),
        FormKind::Preset { key } => composer::presets::submit(app, form, &key),
    }
}

/// A submitted form with problems: shown again, on the first field at
/// fault, so Enter fixes it next.
pub(crate) fn reopen(app: &mut App, mut form: Form) {
    form.focus_first_error();
    app.overlay = Some(Overlay::Form(form));
}

/// Re-validates a form after each key, for the forms that show problems as
/// they are typed.
pub(crate) fn live_check(app: &App, form: &mut Form) {
    if let FormKind::Segment { .. } = form.kind {
        composer::commands::recheck_segment_form(app, form);
    }
}

pub(crate) fn picked(app: &mut App, kind: PickerKind, choice: String) {
    match kind {
        PickerKind::BuildSource => module::commands::build_named(app, &choice),
        PickerKind::LoadModule => module::commands::load_module(app, choice),
        PickerKind::UnloadModule => module::commands::unload_module(app, choice),
        PickerKind::TargetType => composer::commands::target_chosen(app, &choice),
        PickerKind::FaultPreset => composer::presets::open_form(app, &choice),
    }
}
