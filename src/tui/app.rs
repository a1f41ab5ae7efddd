//! All the UI's state, and how updates from the worker change it. Drawing
//! reads this and nothing else; keys and mouse change it and queue
//! commands in the outbox, which the run loop hands to the worker.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::exec::Canceller;
use crate::exec::protocol::{Event, IoCounters, TargetVersion};
use crate::session::TeardownReport;

use super::action::{Command, Job, SessionInfo, SessionState, Ticket, Update};
use super::composer::{Composer, diff_lines};
use super::event_log::EventLog;
use super::form::{Form, Picker};
use super::lab_view::{LabView, Observed};
use super::modules::{BuildState, ModulePane};
use super::probes::{ProbeRecord, Probes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// The session is being created (the sandbox VM boots).
    Starting,
    Ready,
    /// The session could not be created; only quitting is left.
    Failed(String),
    /// Teardown is running on the worker.
    Quitting,
    /// Teardown is over; the run loop exits.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Lab,
    Module,
    Disks,
    Composer,
    Probes,
    Events,
}

impl PaneId {
    pub const ALL: [PaneId; 6] = [
        PaneId::Lab,
        PaneId::Module,
        PaneId::Disks,
        PaneId::Composer,
        PaneId::Probes,
        PaneId::Events,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Lab => "Lab",
            PaneId::Module => "Module",
            PaneId::Disks => "Disks",
            PaneId::Composer => "Composer",
            PaneId::Probes => "Probes",
            PaneId::Events => "Events",
        }
    }

    /// The digit that focuses the pane.
    pub fn digit(self) -> char {
        match self {
            PaneId::Lab => '1',
            PaneId::Module => '2',
            PaneId::Disks => '3',
            PaneId::Composer => '4',
            PaneId::Probes => '5',
            PaneId::Events => '6',
        }
    }
}

/// A question before something irreversible-ish (a reload).
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    /// Diff lines: '-' removed, '+' added, ' ' kept.
    pub diff: Vec<(char, String)>,
    pub notes: Vec<String>,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Form(Form),
    Picker(Picker),
    Confirm(Confirm),
    /// Build log of a kmod source (index into the module pane).
    BuildLog {
        source: usize,
        scroll: usize,
    },
    /// Text output of a command (status, table, info).
    Output {
        title: String,
        lines: Vec<String>,
    },
}

/// Live I/O of one block device, from the worker's periodic samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatView {
    pub counters: IoCounters,
    /// Sectors per second since the previous sample.
    pub read_rate: f64,
    pub write_rate: f64,
    at: Instant,
}

pub struct App {
    pub phase: Phase,
    /// "vm" or "local" until the session says; for the starting message.
    pub executor_hint: String,
    pub info: Option<SessionInfo>,
    pub state: SessionState,
    /// By kernel name ("loop0", "dm-1").
    pub stats: BTreeMap<String, StatView>,
    pub targets: Vec<TargetVersion>,
    pub focus: PaneId,
    pub overlay: Option<Overlay>,
    pub lab: Option<LabView>,
    pub modules: ModulePane,
    pub composer: Composer,
    pub probes: Probes,
    pub events: EventLog,
    /// Row selected in the Disks pane: disks first, then devices.
    pub disks_selected: usize,
    /// Commands in flight, for the status line.
    pub busy: Vec<(Ticket, String)>,
    /// The last outcome worth telling: (text, is_error).
    pub status: Option<(String, bool)>,
    /// The search being typed in the Events pane.
    pub search_input: Option<String>,
    pub project_root: PathBuf,
    pub canceller: Option<Canceller>,
    /// Teardown lines as they stream in, then the report.
    pub teardown_lines: Vec<String>,
    pub teardown_report: Option<TeardownReport>,
    /// The device whose live table was asked for to show a reload diff,
    /// and the ticket of that request.
    pending_reload: Option<(String, Ticket)>,
    outbox: Vec<Job>,
    next_ticket: Ticket,
    /// The last `Sync` answered (tests wait on it).
    pub synced: u64,
    /// Whether the worker's update channel is still open.
    pub worker_alive: bool,
}

impl App {
    pub fn new(project_root: PathBuf, sources: Vec<PathBuf>, executor_hint: &str) -> App {
        App {
            phase: Phase::Starting,
            executor_hint: executor_hint.to_string(),
            info: None,
            state: SessionState::default(),
            stats: BTreeMap::new(),
            targets: Vec::new(),
            focus: PaneId::Composer,
            overlay: None,
            lab: None,
            modules: ModulePane::new(sources),
            composer: Composer::new("dmbench0"),
            probes: Probes::default(),
            events: EventLog::default(),
            disks_selected: 0,
            busy: Vec::new(),
            status: None,
            search_input: None,
            project_root,
            canceller: None,
            teardown_lines: Vec::new(),
            teardown_report: None,
            pending_reload: None,
            outbox: Vec::new(),
            next_ticket: 1,
            synced: 0,
            worker_alive: true,
        }
    }

    /// Shows a lab; the composer takes the name of its first device.
    pub fn with_lab(mut self, lab: LabView, device_name: Option<String>) -> App {
        if let Some(name) = device_name {
            self.composer.name = name;
        }
        self.lab = Some(lab);
        self.focus = PaneId::Lab;
        self
    }

    /// Queues a command for the worker; returns its ticket.
    pub fn submit(&mut self, command: Command) -> Ticket {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        if !matches!(command, Command::Sync(_) | Command::Teardown) {
            self.busy.push((ticket, command.describe()));
        }
        self.outbox.push(Job { ticket, command });
        ticket
    }

    pub fn has_outbox(&self) -> bool {
        !self.outbox.is_empty()
    }

    pub fn take_outbox(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.outbox)
    }

    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    pub fn tell(&mut self, text: impl Into<String>) {
        self.status = Some((text.into(), false));
    }

    /// A problem: on the status line and in the Events pane.
    pub fn complain(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.events.note(true, &text);
        self.status = Some((text, true));
    }

    /// Target types for the picker: the kernel's list, then built modules
    /// not registered yet (a target appears in the kernel's list only once
    /// its module is loaded).
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.targets.iter().map(|t| t.name.clone()).collect();
        for source in &self.modules.sources {
            if let Some(name) = source.module_name()
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
        }
        names
    }

    /// Module names whose kernel lines the "module" filter shows.
    fn module_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.modules.iter().map(|m| m.name.clone()).collect();
        for source in &self.modules.sources {
            if let Some(name) = source.module_name()
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
        }
        names
    }

    pub fn request_quit(&mut self) {
        match self.phase {
            Phase::Quitting | Phase::Done => {}
            _ if !self.worker_alive => self.phase = Phase::Done,
            _ => {
                if let (Some(_), Some(cancel)) = (&self.probes.running, &self.canceller) {
                    cancel();
                }
                self.overlay = None;
                self.phase = Phase::Quitting;
                self.submit(Command::Teardown);
            }
        }
    }

    pub fn should_exit(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The worker's channel closed (it finished or died).
    pub fn worker_gone(&mut self) {
        self.worker_alive = false;
        match self.phase {
            Phase::Quitting | Phase::Done => self.phase = Phase::Done,
            _ => {
                self.phase = Phase::Failed("the session worker stopped".into());
                self.complain("the session worker stopped; press q to quit");
            }
        }
    }

    pub fn cancel_probe(&mut self) -> bool {
        match (&mut self.probes.running, &self.canceller) {
            (Some(running), Some(cancel)) => {
                cancel();
                running.cancelling = true;
                true
            }
            _ => false,
        }
    }

    /// Periodic housekeeping (lab grace periods).
    pub fn tick(&mut self, now: Instant) {
        if let Some(lab) = &mut self.lab {
            lab.tick(now);
        }
    }

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
                    self.probes.error = result.as_ref().err().cloned();
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
                    Err(error) => self.complain(error.clone()),
                }
                if let Some(lab) = &mut self.lab {
                    lab.finished(ticket, &result, Instant::now());
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
