//! What keys and forms set in motion: the steps shared by several keys
//! (build, load, probe, add a disk, open the segment form, apply the
//! composer), each checking the session is ready before queueing work.

use std::path::PathBuf;

use crate::exec::protocol::ProbeOp;
use crate::session::ProbeRequest;

use super::action::Command;
use super::app::{App, Overlay, Phase};
use super::composer::ApplyPlan;
use super::form::{Field, Form, FormKind, PickItem, Picker, PickerKind};
use super::modules::BuildState;
use super::notice::Notice;
use super::probes::RunningProbe;
use super::segment_form::{self, FormContext};

pub(super) fn open_segment_form(app: &mut App, index: Option<usize>, target: Option<&str>) {
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

pub(super) fn apply_composer(app: &mut App) {
    if !require_ready(app) {
        return;
    }
    match app.composer.plan(&app.state.devices) {
        Ok(ApplyPlan::Create { name, table }) => {
            app.submit(Command::CreateDevice { name, table });
        }
        Ok(ApplyPlan::Reload { name, .. }) => app.start_reload(name),
        Err(e) => app.composer.message = Some(Notice::Error(e)),
    }
}

/// Whether work can be queued. While the session starts, commands queue
/// and run once it is up (the worker takes jobs in order), so a script
/// need not wait for the VM before pressing keys.
pub(super) fn require_ready(app: &mut App) -> bool {
    match &app.phase {
        Phase::Ready => true,
        Phase::Starting => {
            app.tell("queued: runs as soon as the session is up");
            true
        }
        _ => {
            app.complain("there is no session (press q to quit)");
            false
        }
    }
}

pub(super) fn start_build(app: &mut App, path: PathBuf) -> Option<u64> {
    if !require_ready(app) {
        return None;
    }
    let source = app.modules.source_mut(&path);
    if source.state == BuildState::Building {
        app.tell(format!("{} is already building", path.display()));
        return None;
    }
    source.state = BuildState::Building;
    source.log.clear();
    Some(app.submit(Command::Build { source: path }))
}

pub(super) fn build_picker(app: &mut App) {
    match app.modules.sources.len() {
        0 => app.complain(format!(
            "no kmod/rust or kmod/c under {}",
            app.project_root.display()
        )),
        1 => {
            let path = app.modules.sources[0].path.clone();
            start_build(app, path);
        }
        _ => {
            let items = app
                .modules
                .sources
                .iter()
                .map(|s| PickItem {
                    key: s.label.clone(),
                    detail: s
                        .path
                        .strip_prefix(&app.project_root)
                        .unwrap_or(&s.path)
                        .display()
                        .to_string(),
                })
                .collect();
            app.overlay = Some(Overlay::Picker(Picker::new(
                PickerKind::BuildSource,
                "Build which module?",
                items,
            )));
        }
    }
}

pub(super) fn load_module(app: &mut App, name: String) {
    if require_ready(app) {
        app.submit(Command::LoadModule { name });
    }
}

pub(super) fn unload_module(app: &mut App, name: String) {
    if require_ready(app) {
        app.submit(Command::UnloadModule { name });
    }
}

/// `l`/`u` without a selected source: the modules that can be loaded
/// (built, not loaded) or unloaded (loaded by this session).
pub(super) fn module_picker(app: &mut App, load: bool) {
    let names: Vec<String> = if load {
        let mut names: Vec<String> = app
            .modules
            .sources
            .iter()
            .filter_map(|s| s.module_name().map(str::to_string))
            .collect();
        names.extend(app.state.modules.iter().map(|m| m.name.clone()));
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| !app.state.modules.iter().any(|m| m.name == *n && m.loaded))
            .collect()
    } else {
        app.state
            .modules
            .iter()
            .filter(|m| m.loaded)
            .map(|m| m.name.clone())
            .collect()
    };
    match names.len() {
        0 if load => app.complain("no built module to load: build one with 'b'"),
        0 => app.complain("no module loaded by this session"),
        1 if load => load_module(app, names[0].clone()),
        1 => unload_module(app, names[0].clone()),
        _ => {
            let items = names
                .into_iter()
                .map(|n| PickItem {
                    key: n,
                    detail: String::new(),
                })
                .collect();
            let (kind, title) = if load {
                (PickerKind::LoadModule, "Load which module?")
            } else {
                (PickerKind::UnloadModule, "Unload which module?")
            };
            app.overlay = Some(Overlay::Picker(Picker::new(kind, title, items)));
        }
    }
}

pub(super) fn open_add_disk(app: &mut App) {
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

pub(super) fn open_probe(app: &mut App, op: ProbeOp) {
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

pub(super) fn start_probe(app: &mut App, request: ProbeRequest, label: String) -> Option<u64> {
    if !require_ready(app) {
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
