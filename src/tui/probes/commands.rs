//! What the probe keys set in motion: the write/read form, starting the
//! probe it describes, and cancelling the one in flight.

use crate::exec::protocol::ProbeOp;
use crate::session::ProbeRequest;
use crate::tui::action::Command;
use crate::tui::app::{App, Overlay};
use crate::tui::prompt::Form;
use crate::tui::prompt::submit::reopen;

use super::model::parse_form;

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
    app.probes.started(ticket, label);
    Some(ticket)
}

/// `c` in the Probes pane.
pub(crate) fn cancel(app: &mut App) {
    if !app.cancel_probe() {
        app.tell("no probe is running");
    }
}

/// `j`: the journey view of the last probe, every bio hop by hop.
pub(crate) fn show_journeys(app: &mut App) {
    let Some(record) = app.probes.latest() else {
        app.complain("no probe yet: 'w' writes, 'r' reads");
        return;
    };
    let mut lines = Vec::new();
    for bio in &record.bios {
        lines.push(bio.text.clone());
        for hop in &bio.hops {
            hop_lines(hop, 1, &mut lines);
        }
    }
    if record.bios_total > record.bios.len() {
        lines.push(format!(
            "… and {} more bios (the first {} are kept)",
            record.bios_total - record.bios.len(),
            record.bios.len()
        ));
    }
    if record.bios.is_empty() {
        lines.push(
            "No journey: bios are followed for probes of a DM device of at most 64 KiB, \
             in the sandbox VM."
                .into(),
        );
    }
    lines.extend(record.notes.iter().cloned());
    app.overlay = Some(Overlay::Output {
        title: format!("Bio journeys · {}", record.label),
        lines,
    });
}

fn hop_lines(hop: &crate::session::journey::Hop, depth: usize, lines: &mut Vec<String>) {
    let mut text = format!(
        "{}{} -> {} +{} ({} sectors)",
        "  ".repeat(depth),
        hop.target,
        hop.device,
        hop.sector,
        hop.sectors
    );
    if hop.own_bio {
        text.push_str(", a bio of its own");
    }
    if let Some(ns) = hop.disk_ns {
        text.push_str(&format!(", disk {}", crate::tui::widgets::nanos(ns)));
    }
    lines.push(text);
    for next in &hop.then {
        hop_lines(next, depth + 1, lines);
    }
}
