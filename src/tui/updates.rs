//! How updates from the worker (results, session state, executor events)
//! change the app state.

use std::collections::BTreeMap;

use crate::exec::protocol::Event;
use crate::session::DeviceStats;

use super::action::Update;
use super::app::{App, Phase};
use super::composer::reload::confirm_reload;
use super::disks::record_stats;
use super::lab::Observed;
use super::module::BuildState;
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
                let counted: BTreeMap<String, DeviceStats> =
                    std::mem::take(&mut self.state.dm_stats)
                        .into_iter()
                        .collect();
                // A device removed, or reloaded into other regions, starts
                // its map over.
                for (name, stats) in &self.dm_stats {
                    if counted.get(name) != Some(stats) {
                        self.maps.forget(name);
                    }
                }
                self.dm_stats = counted;
                self.composer
                    .set_session(&self.state.disks, &self.state.devices);
                let rows = self.state.disks.len() + self.state.devices.len();
                self.disks_selected = self.disks_selected.min(rows.saturating_sub(1));
                self.events.modules = self.module_names();
                self.observe_lab();
            }
            Update::Targets(targets) => self.targets = targets,
            Update::Stats { stats, at } => record_stats(&mut self.stats, stats, at),
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
                probed,
            } => {
                let probed = *probed;
                let result = &probed.result;
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
                if let crate::session::ProbeTarget::Device(name) = &request.target {
                    self.maps.finish(
                        name,
                        probed.stats.map.clone(),
                        probed.result.attribution.clone(),
                    );
                }
                self.probes.record(ProbeRecord {
                    label,
                    request,
                    result: probed.result,
                    bios: probed.bios,
                    bios_total: probed.bios_total,
                    notes: probed.notes,
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
                    confirm_reload(self, &name, &lines);
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
            Event::DmStats {
                device,
                elapsed_ms,
                regions,
                disks,
            } => {
                let map = self.dm_stats.get(device).and_then(|s| {
                    s.regions
                        .iter()
                        .find(|r| r.role == crate::session::RegionRole::Map)
                        .map(|r| r.region)
                });
                self.maps.live(device, map, regions, disks, *elapsed_ms);
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
}
