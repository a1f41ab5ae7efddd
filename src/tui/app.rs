//! All the UI's state. Drawing reads this and nothing else; keys and mouse
//! change it and queue commands in the outbox, which the run loop hands to
//! the worker; `updates.rs` applies what the worker sends back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::exec::protocol::TargetVersion;
use crate::exec::{Canceller, Placement};
use crate::session::{DeviceStats, TeardownReport};

use super::action::{Command, Job, SessionInfo, SessionState, Ticket};
use super::composer::Composer;
use super::disks::StatView;
use super::events::EventLog;
use super::lab::LabView;
use super::map::Maps;
use super::module::ModulePane;
use super::notice::Notice;
use super::probes::Probes;
use super::prompt::{Form, Picker};

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
    /// The lab's README, from line `scroll` on.
    Readme {
        scroll: usize,
    },
}

pub struct App {
    pub phase: Phase,
    /// Where the session will run, for the starting message.
    pub executor_hint: Placement,
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
    /// Where recent probes' I/O landed, per DM device (the sector map).
    pub maps: Maps,
    /// What the session counts on each DM device.
    pub dm_stats: BTreeMap<String, DeviceStats>,
    pub events: EventLog,
    /// Row selected in the Disks pane: disks first, then devices.
    pub disks_selected: usize,
    /// Commands in flight, for the status line.
    pub busy: Vec<(Ticket, String)>,
    /// The last outcome worth telling.
    pub status: Option<Notice>,
    /// The search being typed in the Events pane.
    pub search_input: Option<String>,
    pub project_root: PathBuf,
    pub canceller: Option<Canceller>,
    /// Teardown lines as they stream in, then the report.
    pub teardown_lines: Vec<String>,
    pub teardown_report: Option<TeardownReport>,
    /// The device whose live table was asked for to show a reload diff,
    /// and the ticket of that request.
    pub(super) pending_reload: Option<(String, Ticket)>,
    outbox: Vec<Job>,
    next_ticket: Ticket,
    /// The last `Sync` answered (tests wait on it).
    pub synced: u64,
    /// Whether the worker's update channel is still open.
    pub worker_alive: bool,
}

impl App {
    pub fn new(project_root: PathBuf, sources: Vec<PathBuf>, executor_hint: Placement) -> App {
        App {
            phase: Phase::Starting,
            executor_hint,
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
            maps: Maps::default(),
            dm_stats: BTreeMap::new(),
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

    /// Whether work can be queued. While the session starts, commands
    /// queue and run once it is up (the worker takes jobs in order), so a
    /// script need not wait for the VM before pressing keys.
    pub fn require_ready(&mut self) -> bool {
        match &self.phase {
            Phase::Ready => true,
            Phase::Starting => {
                self.tell("queued: runs as soon as the session is up");
                true
            }
            _ => {
                self.complain("there is no session (press q to quit)");
                false
            }
        }
    }

    /// Panes Tab cycles through: the Lab pane only with a lab.
    pub fn visible_panes(&self) -> Vec<PaneId> {
        PaneId::ALL
            .into_iter()
            .filter(|p| *p != PaneId::Lab || self.lab.is_some())
            .collect()
    }

    pub fn tell(&mut self, text: impl Into<String>) {
        self.status = Some(Notice::Info(text.into()));
    }

    /// A problem: on the status line and in the Events pane.
    pub fn complain(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.events.note(true, &text);
        self.status = Some(Notice::Error(text));
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
    pub(super) fn module_names(&self) -> Vec<String> {
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
}
