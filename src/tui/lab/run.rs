//! `n`: runs the current lab step on the worker through the step engine,
//! exactly as the headless mode does; the Lab pane shows its record. The
//! panes the step touches show it too: the composer shows a table the
//! step loads, the probe pane a probe in flight.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::lab::model::StepKind;

use crate::tui::action::Command;
use crate::tui::app::App;

/// Runs the current lab step (retrying a failed one).
pub(crate) fn run_lab_step(app: &mut App) {
    let Some(lab) = &mut app.lab else {
        app.tell("no lab: start dmbench with a lab file to get guided steps");
        return;
    };
    if lab.is_running() {
        app.tell("a lab step is running");
        return;
    }
    lab.retry();
    let Some(index) = lab.current() else {
        app.tell("every lab step has passed");
        return;
    };
    let Some(step) = lab.steps.get(index).and_then(|s| s.step.clone()) else {
        app.tell("this checklist has no runnable steps: do it with the other panes");
        return;
    };
    let label = lab.steps[index].label.clone();
    if !app.require_ready() {
        return;
    }
    if let StepKind::Create { name, table }
    | StepKind::Reload {
        device: name,
        table,
    } = &step.kind
    {
        show_in_composer(app, name, table);
    }
    let ticket = app.submit(Command::RunLabStep { index });
    if matches!(step.kind, StepKind::Write(_) | StepKind::Read(_)) {
        app.probes.started(ticket, label);
    }
    if let Some(lab) = &mut app.lab {
        lab.start(ticket);
    }
}

/// The composer shows the table a create or reload step loads.
fn show_in_composer(app: &mut App, name: &str, table: &crate::lab::model::TableTemplate) {
    let disks: HashMap<String, PathBuf> = app
        .state
        .disks
        .iter()
        .map(|d| (d.name.clone(), d.device.clone()))
        .collect();
    if let Ok(rendered) = table.render(&disks) {
        app.composer.name = name.to_string();
        app.composer
            .set_session(&app.state.disks, &app.state.devices);
        app.composer.load_text(&crate::table::format(&rendered));
    }
}
