//! Checks across steps, in order, as if the lab ran: names are unique
//! while they exist, nothing is used before the step that creates it (or
//! after the one that removes it), and tables name only disks defined by
//! earlier steps and fit them.

use std::collections::HashMap;

use super::errors::Report;
use super::steps::StepFacts;
use super::template::TableTemplate;
use super::{IoTarget, Step, StepKind};
use crate::table::{self, DeviceInfo, DeviceResolver};

/// One resource that exists at some point of the lab.
#[derive(Debug, Clone, Copy)]
struct Live {
    /// Size in sectors, when known.
    sectors: Option<u64>,
    line: usize,
}

#[derive(Default)]
struct World {
    disks: HashMap<String, Live>,
    devices: HashMap<String, Live>,
    modules: HashMap<String, Live>,
    /// Name -> (what happened, line), for "it was removed at line N".
    gone: HashMap<String, (&'static str, usize)>,
}

impl World {
    fn missing_reason(&self, what: &str, name: &str) -> String {
        match self.gone.get(name) {
            Some((how, line)) => format!("{what} '{name}' was {how} at line {line}"),
            None => format!("{what} '{name}' is not created by an earlier step"),
        }
    }

    fn name_taken(&self, name: &str) -> Option<String> {
        if let Some(disk) = self.disks.get(name) {
            return Some(format!("'{name}' is already a disk (line {})", disk.line));
        }
        self.devices
            .get(name)
            .map(|device| format!("'{name}' is already a device (line {})", device.line))
    }
}

pub(crate) fn check_steps(steps: &mut [(Option<Step>, StepFacts)], report: &mut Report<'_>) {
    let mut world = World::default();
    for (step, facts) in steps.iter_mut() {
        let Some(kind) = facts.kind else {
            continue;
        };
        if let Some(template) = &facts.table {
            check_table(&world, template.line, &template.value, facts, report);
        }
        let Some(subject) = facts.subject.clone() else {
            continue;
        };
        let (name, line) = (subject.value, subject.line);
        // A step that must fail changes nothing, and what it is expected
        // to be refused for (a name taken, a device that is not there) is
        // the lesson: the session or the kernel gives the refusal, never
        // these checks. Its probes still point at disks by name.
        if facts.expects_failure {
            if matches!(kind, "write" | "read")
                && world.disks.contains_key(&name)
                && let Some(step) = step.as_mut()
            {
                point_probe_at_disk(step, &name);
            }
            continue;
        }
        let live = Live {
            sectors: None,
            line: facts.line,
        };
        match kind {
            "disk" => {
                if let Some(taken) = world.name_taken(&name) {
                    report.at_line(line, format!("duplicate name: {taken}"));
                } else {
                    let sectors = facts.disk_sectors;
                    world.disks.insert(name, Live { sectors, ..live });
                }
            }
            "create" => {
                if let Some(taken) = world.name_taken(&name) {
                    report.at_line(line, format!("duplicate name: {taken}"));
                } else {
                    let sectors = facts.table.as_ref().map(|t| t.value.table.total_sectors());
                    world.gone.remove(&name);
                    world.devices.insert(name, Live { sectors, ..live });
                }
            }
            "write" | "read" => {
                if world.disks.contains_key(&name) {
                    if let Some(step) = step.as_mut() {
                        point_probe_at_disk(step, &name);
                    }
                } else if !world.devices.contains_key(&name) {
                    let reason = world.missing_reason("device", &name);
                    report.at_line(line, format!("{reason} (nor is it a disk)"));
                }
            }
            "load" => {
                world.modules.insert(name, live);
            }
            "unload" | "reload-module" => {
                if !world.modules.contains_key(&name) {
                    report.at_line(
                        line,
                        world.missing_reason("module", &name).replace(
                            "is not created by an earlier step",
                            "is not loaded by an earlier step",
                        ),
                    );
                } else if kind == "unload" {
                    world.modules.remove(&name);
                    world.gone.insert(name, ("unloaded", facts.line));
                }
            }
            "detach" => {
                if !world.disks.contains_key(&name) {
                    report.at_line(line, world.missing_reason("disk", &name));
                } else {
                    world.disks.remove(&name);
                    world.gone.insert(name, ("detached", facts.line));
                }
            }
            _ => {
                // Steps on an existing device: status, table, info,
                // message, suspend, resume, reload, remove.
                if !world.devices.contains_key(&name) {
                    report.at_line(line, world.missing_reason("device", &name));
                } else if kind == "remove" {
                    world.devices.remove(&name);
                    world.gone.insert(name, ("removed", facts.line));
                } else if kind == "reload" {
                    let sectors = facts.table.as_ref().map(|t| t.value.table.total_sectors());
                    if let Some(device) = world.devices.get_mut(&name) {
                        device.sectors = sectors;
                    }
                }
            }
        }
    }
}

fn point_probe_at_disk(step: &mut Step, name: &str) {
    match &mut step.kind {
        StepKind::Write(write) => write.device = IoTarget::Disk(name.to_string()),
        StepKind::Read(read) => read.device = IoTarget::Disk(name.to_string()),
        _ => {}
    }
}

/// Placeholders must name live disks. Tables of steps that must succeed
/// are also validated like any table (arguments, sizes); tables of steps
/// expected to fail are not, since showing the kernel refusing a bad table
/// is a fair lesson.
fn check_table(
    world: &World,
    line: usize,
    template: &TableTemplate,
    facts: &StepFacts,
    report: &mut Report<'_>,
) {
    for placeholder in template.placeholders() {
        if !world.disks.contains_key(&placeholder.name) {
            let reason = match world.gone.get(&placeholder.name) {
                Some((how, at)) => format!("names disk '{}', {how} at line {at}", placeholder.name),
                None => "names no disk defined by an earlier disk step".to_string(),
            };
            report.at_line(
                line,
                format!(
                    "table line {}: {{{}}} {reason}",
                    placeholder.table_line, placeholder.name
                ),
            );
        }
    }
    if facts.expects_failure {
        return;
    }
    let validation = table::validate(&template.table, &LabDevices(world));
    for error in validation.errors {
        report.at_line(line, error.with_line_label("table line"));
    }
}

/// Devices as a lab knows them before anything runs.
struct LabDevices<'a>(&'a World);

impl DeviceResolver for LabDevices<'_> {
    fn resolve(&self, reference: &str) -> Option<DeviceInfo> {
        let unknown_size = DeviceInfo {
            sectors: None,
            dev_t: None,
        };
        if let Some(name) = reference
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
        {
            // Unknown placeholders were reported already; do not repeat.
            let sectors = self.0.disks.get(name).and_then(|d| d.sectors);
            return Some(DeviceInfo {
                sectors,
                ..unknown_size
            });
        }
        let name = reference.strip_prefix("/dev/mapper/")?;
        let device = self.0.devices.get(name)?;
        Some(DeviceInfo {
            sectors: device.sectors,
            ..unknown_size
        })
    }

    fn unknown_reason(&self, reference: &str) -> String {
        format!(
            "'{reference}' is not a disk or device of this lab: write {{disk}} for a disk's \
             loop device, or /dev/mapper/NAME for a device an earlier step created"
        )
    }
}
