//! What the probe keys set in motion: the write/read form, starting the
//! probe it describes, and cancelling the one in flight.

use crate::exec::protocol::ProbeOp;
use crate::session::ProbeRequest;
use crate::tui::action::Command;
use crate::tui::app::{App, Overlay};
use crate::tui::prompt::Form;
use crate::tui::prompt::submit::reopen;

use super::model::{RunningProbe, parse_form};

pub(crate) fn open_probe(app: &mut App, op: ProbeOp) {
    if app.state.disks.is_empty() && app.state.devices.is_empty() {
        app.complain("nothing to probe yet: add a disk ('d') or create a device");
        return;
    }
    if app.probes.running.is_some() {
        app.complain("a probe is running (Esc cancels it)");
        return;
    }
    let form = app.probes.form(op, &app.state.disks, &app.state.devices);
    app.overlay = Some(Overlay::Form(form));
}

/// The probe form submitted: the probe starts, or the form comes back with
/// the problems under its fields.
pub(crate) fn submit_probe(app: &mut App, mut form: Form) {
    let seed = app.probes.history.len() as u64 + 1;
    match parse_form(&mut form, &app.state.disks, &app.state.devices, seed) {
        Some((request, label)) => {
            app.probes.remember(&form);
            start_probe(app, request, label);
        }
        None => reopen(app, form),
    }
}

pub(crate) fn start_probe(app: &mut App, request: ProbeRequest, label: String) -> Option<u64> {
    if !app.require_ready() {
        return None;
    }
    let ticket = app.submit(Command::Probe(request));
    app.probes.error = None;
    app.probes.running = Some(RunningProbe {
        ticket,
        label,
        done: 0,
        total: 0,
        cancelling: false,
    });
    Some(ticket)
}

/// `c` in the Probes pane.
pub(crate) fn cancel(app: &mut App) {
    if !app.cancel_probe() {
        app.tell("no probe is running");
    }
}
