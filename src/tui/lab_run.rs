//! `n`: running the current lab step through the worker, as the headless
//! mode would, and translating each step kind into a worker command.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::exec::protocol::ProbeOp;
use crate::lab::model::{IoTarget, StepKind};
use crate::session::{ProbeRequest, ProbeTarget};

use super::action::Command;
use super::app::App;
use super::commands::{require_ready, start_build, start_probe};

/// Runs the current lab step (retrying a failed one).
pub(super) fn run_lab_step(app: &mut App) {
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
    if !require_ready(app) {
        return;
    }
    let ticket = match step_command(app, &step.kind) {
        Ok(Command::Build { source }) => start_build(app, source),
        Ok(Command::Probe(request)) => {
            let label = app
                .lab
                .as_ref()
                .and_then(|l| l.steps.get(index))
                .map(|s| s.label.clone())
                .unwrap_or_default();
            start_probe(app, request, label)
        }
        Ok(command) => Some(app.submit(command)),
        Err(reason) => {
            if let Some(lab) = &mut app.lab {
                lab.fail_current(reason.clone());
            }
            app.complain(format!("step {}: {reason}", index + 1));
            None
        }
    };
    if let (Some(ticket), Some(lab)) = (ticket, &mut app.lab) {
        lab.start(ticket);
    }
}

/// The worker command that performs a lab step.
fn step_command(app: &mut App, kind: &StepKind) -> Result<Command, String> {
    let disks: HashMap<String, PathBuf> = app
        .state
        .disks
        .iter()
        .map(|d| (d.name.clone(), d.device.clone()))
        .collect();
    Ok(match kind {
        StepKind::Build { source } => Command::Build {
            source: app.project_root.join(source),
        },
        StepKind::Load { module, .. } => Command::LoadModule {
            name: module.clone(),
        },
        StepKind::Disk {
            name, size_bytes, ..
        } => Command::AddDisk {
            name: name.clone(),
            size_bytes: *size_bytes,
        },
        StepKind::Create { name, table }
        | StepKind::Reload {
            device: name,
            table,
        } => {
            let table = table.render(&disks).map_err(|e| e.to_string())?;
            // The composer shows what the lab loads.
            app.composer.name = name.clone();
            app.composer
                .set_session(&app.state.disks, &app.state.devices);
            app.composer.load_text(&crate::table::format(&table));
            if matches!(kind, StepKind::Create { .. }) {
                Command::CreateDevice {
                    name: name.clone(),
                    table: table.to_lines(),
                }
            } else {
                Command::ReloadDevice {
                    name: name.clone(),
                    table: table.to_lines(),
                }
            }
        }
        StepKind::Write(w) => {
            let size = target_bytes(app, &w.device)?;
            let count = w
                .count
                .unwrap_or_else(|| (size / u64::from(w.bs.max(1))).saturating_sub(w.seek));
            Command::Probe(ProbeRequest {
                target: probe_target(&w.device),
                op: ProbeOp::Write,
                bs: w.bs,
                count,
                offset_blocks: w.seek,
                pattern: Some(w.pattern.to_protocol(app.probes.history.len() as u64 + 1)),
                direct: w.direct,
                random_order: w.random_order,
                stamp_shift: 0,
            })
        }
        StepKind::Read(r) => {
            let size = target_bytes(app, &r.device)?;
            let count = r
                .count
                .unwrap_or_else(|| (size / u64::from(r.bs.max(1))).saturating_sub(r.skip));
            Command::Probe(ProbeRequest {
                target: probe_target(&r.device),
                op: ProbeOp::Read,
                bs: r.bs,
                count,
                offset_blocks: r.skip,
                pattern: r.verify.map(|v| v.to_protocol(0)),
                direct: r.direct,
                random_order: r.random_order,
                stamp_shift: r.stamp_shift,
            })
        }
        StepKind::Status { device } => Command::DeviceStatus {
            name: device.clone(),
        },
        StepKind::Table { device } => Command::LiveTable {
            name: device.clone(),
        },
        StepKind::Info { device } => Command::DeviceInfo {
            name: device.clone(),
        },
        StepKind::Message {
            device,
            sector,
            text,
        } => Command::Message {
            name: device.clone(),
            sector: *sector,
            text: text.clone(),
        },
        StepKind::Suspend { device } => Command::SuspendDevice {
            name: device.clone(),
        },
        StepKind::Resume { device } => Command::ResumeDevice {
            name: device.clone(),
        },
        StepKind::Remove { device } => Command::RemoveDevice {
            name: device.clone(),
        },
        StepKind::Unload { module } => Command::UnloadModule {
            name: module.clone(),
        },
        StepKind::Detach { disk } => Command::DetachDisk { name: disk.clone() },
    })
}

fn probe_target(target: &IoTarget) -> ProbeTarget {
    match target {
        IoTarget::Device(name) => ProbeTarget::Device(name.clone()),
        IoTarget::Disk(name) => ProbeTarget::Disk(name.clone()),
    }
}

fn target_bytes(app: &App, target: &IoTarget) -> Result<u64, String> {
    let name = target.name();
    app.state
        .devices
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.sectors() * 512)
        .or_else(|| {
            app.state
                .disks
                .iter()
                .find(|d| d.name == name)
                .map(|d| d.size_bytes)
        })
        .ok_or_else(|| format!("no device or disk '{name}' in this session"))
}
