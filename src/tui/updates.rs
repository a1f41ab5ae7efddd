//! How updates from the worker (results, session state, executor events)
//! change the app state.

use crate::exec::protocol::Event;

use super::action::{Command, Update};
use super::app::{App, Confirm, Overlay, Phase, StatView};
use super::composer::diff_lines;
use super::lab_view::Observed;
use super::modules::BuildState;
use super::probes::ProbeRecord;

impl App {
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Ready { info, canceller } => {
                // A quit pressed while the session was starting stands.
                if self.phase == Phase::Starting {
                    self.phase = Phase::Ready;
                }
                self.tell(format!(
                    "session {} ready on the {} executor (kernel {})",
                    info.id, info.executor, info.kernel
                ));
                self.info = Some(info);
                self.canceller = Some(canceller);
            }
            Update::StartFailed(error) => {
                if self.phase == Phase::Starting {
                    self.phase = Phase::Failed(error.clone());
                }
                self.complain(format!("could not start the session: {error}"));
            }
            Update::Event(event) => self.apply_event(event),
            Update::State(state) => {
                self.state = state;
                self.composer
                    .set_session(&self.state.disks, &self.state.devices);
                let rows = self.state.disks.len() + self.state.devices.len();
                self.disks_selected = self.disks_selected.min(rows.saturating_sub(1));
                self.events.modules = self.module_names();
                self.observe_lab();
            }
            Update::Targets(targets) => self.targets = targets,
            Update::Stats { stats, at } => {
                for stat in stats {
                    let previous = self.stats.get(&stat.device).copied();
                    let (read_rate, write_rate) = match previous {
                        Some(p) => {
                            let secs = at.duration_since(p.at).as_secs_f64();
                            let rate = |now: u64, before: u64| {
                                if secs > 0.0 {
                                    now.saturating_sub(before) as f64 / secs
                                } else {
                                    0.0
                                }
                            };
                            (
                                rate(stat.counters.read_sectors, p.counters.read_sectors),
                                rate(stat.counters.write_sectors, p.counters.write_sectors),
                            )
                        }
                        None => (0.0, 0.0),
                    };
                    self.stats.insert(
                        stat.device,
                        StatView {
                            counters: stat.counters,
                            read_rate,
                            write_rate,
                            at,
                        },
                    );
                }
            }
            Update::BuildLine { source, line } => self.modules.log_line(&source, line),
            Update::Built { source, result } => {
                let entry = self.modules.source_mut(&source);
                entry.state = match result {
                    Ok(info) => BuildState::Built(info),
                    Err(e) => BuildState::Failed(e),
                };
                self.events.modules = self.module_names();
                self.observe_lab();
            }
            Update::Probed {
                ticket,
                request,
                result,
            } => {
                let label = self
                    .probes
                    .running
                    .as_ref()
                    .filter(|r| r.ticket == ticket)
                    .map_or_else(|| "probe".to_string(), |r| r.label.clone());
                let ok =
                    result.io_error.is_none() && result.mismatch.is_none() && !result.cancelled;
                let target = match &request.target {
                    crate::session::ProbeTarget::Device(n)
                    | crate::session::ProbeTarget::Disk(n) => n.clone(),
                };
                if let Some(lab) = &mut self.lab {
                    lab.probe_seen(&target, request.op, ok);
                }
                self.probes.record(ProbeRecord {
                    label,
                    request,
                    result,
                });
                self.observe_lab();
            }
            Update::LabStep { ticket, record } => {
                if let Some(error) = &record.error {
                    self.complain(format!("lab step {}: {error}", record.index));
                } else if let Some(refusal) = &record.refusal {
                    self.tell(format!(
                        "step {} refused as expected: {refusal}",
                        record.index
                    ));
                }
                if let Some(lab) = &mut self.lab {
                    lab.record(ticket, *record);
                }
            }
            Update::LiveTable { name, lines } => {
                if self
                    .pending_reload
                    .as_ref()
                    .is_some_and(|(pending, _)| *pending == name)
                {
                    self.confirm_reload(&name, &lines);
                }
            }
            Update::TableText { text, .. } => self.composer.load_text(&text),
            Update::Finished { ticket, result } => {
                self.busy.retain(|(t, _)| *t != ticket);
                if self
                    .probes
                    .running
                    .as_ref()
                    .is_some_and(|r| r.ticket == ticket)
                {
                    self.probes.running = None;
                    self.probes.error = result.as_ref().err().map(ToString::to_string);
                }
                let for_reload = self
                    .pending_reload
                    .as_ref()
                    .is_some_and(|(_, t)| *t == ticket);
                if for_reload {
                    self.pending_reload = None;
                }
                match &result {
                    // The live table behind a reload diff is shown there.
                    Ok(_) if for_reload => {}
                    Ok(summary) if !summary.is_empty() => {
                        self.tell(summary.lines().next().unwrap_or_default().to_string())
                    }
                    Ok(_) => {}
                    Err(error) => {
                        self.complain(error.to_string());
                        if let Some(lab) = &mut self.lab {
                            lab.finished_without_record(ticket, &error.to_string());
                        }
                    }
                }
                self.observe_lab();
            }
            Update::Synced(n) => self.synced = n,
            Update::TornDown(report) => {
                self.teardown_report = Some(report);
                self.phase = Phase::Done;
            }
        }
    }

    fn apply_event(&mut self, event: Event) {
        match &event {
            Event::Progress {
                done_bytes,
                total_bytes,
            } => self.probes.progress(*done_bytes, *total_bytes),
            Event::Kmsg(record) => {
                if let Some(lab) = &mut self.lab {
                    lab.kernel_line(&record.text);
                }
            }
            Event::Action { text } if text.starts_with("teardown:") => {
                self.teardown_lines.push(text.clone());
            }
            _ => {}
        }
        self.events.push_event(&event);
    }

    pub fn observe_lab(&mut self) {
        let built = self.modules.built_paths();
        if let Some(lab) = &mut self.lab {
            lab.observe(&Observed {
                disks: &self.state.disks,
                devices: &self.state.devices,
                modules: &self.state.modules,
                built: &built,
            });
        }
    }

    /// Asks for the live table first; the diff shows when it arrives.
    pub fn start_reload(&mut self, name: String) {
        let ticket = self.submit(Command::LiveTable { name: name.clone() });
        self.pending_reload = Some((name, ticket));
    }

    fn confirm_reload(&mut self, name: &str, kernel: &[crate::exec::protocol::TableLine]) {
        let loaded: Vec<String> = self
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
        let new: Vec<String> = self
            .composer
            .table
            .segments
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut notes = Vec::new();
        if let Some(device) = self.state.devices.iter().find(|d| d.name == name) {
            let devices = self
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
        self.overlay = Some(Overlay::Confirm(Confirm {
            title: format!("Reload {name}?"),
            diff: diff_lines(&loaded, &new),
            notes,
            command: Command::ReloadDevice {
                name: name.to_string(),
                table: self.composer.table.to_lines(),
            },
        }));
    }
}
