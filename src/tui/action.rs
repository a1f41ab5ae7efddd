//! The two message types crossing the UI/worker boundary: commands the UI
//! asks the worker to perform on the Session, and updates the worker (and
//! the executor's event sink) send back. The UI never touches the Session;
//! these enums are the whole interface between the two threads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::exec::protocol::{BlockStat, Event, TableLine, TargetVersion};
use crate::exec::{Canceller, Placement};
use crate::kbuild::Diagnostic;
use crate::lab::engine::StepRecord;
use crate::session::{
    Device, DeviceStats, Disk, Module, ProbeRequest, Probed, SessionError, TeardownReport,
};

/// Identifies one command so its outcome can be matched to whoever asked
/// (the busy indicator, a running lab step).
pub type Ticket = u64;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    AddDisk {
        name: String,
        size_bytes: u64,
    },
    DetachDisk {
        name: String,
    },
    /// Runs kbuild on a helper thread; the worker registers the result.
    Build {
        source: PathBuf,
    },
    /// Sent by the build thread back to the worker once a module exists.
    Register {
        source: PathBuf,
        name: String,
        image: PathBuf,
    },
    LoadModule {
        name: String,
    },
    /// Rebuilds `source` and swaps the new build of module `name` in under
    /// the live devices that use it.
    ReloadModule {
        source: PathBuf,
        name: String,
    },
    UnloadModule {
        name: String,
    },
    CreateDevice {
        name: String,
        table: Vec<TableLine>,
    },
    ReloadDevice {
        name: String,
        table: Vec<TableLine>,
    },
    /// The kernel's live table, e.g. to show a diff before a reload.
    LiveTable {
        name: String,
    },
    RemoveDevice {
        name: String,
    },
    SuspendDevice {
        name: String,
    },
    ResumeDevice {
        name: String,
    },
    DeviceStatus {
        name: String,
    },
    DeviceInfo {
        name: String,
    },
    Message {
        name: String,
        sector: Option<u64>,
        text: String,
    },
    Probe(ProbeRequest),
    /// Runs step `index` (0-based) of the lab through the step engine, as
    /// the headless mode does.
    RunLabStep {
        index: usize,
    },
    RefreshTargets,
    /// Table files are read and written on the worker so the UI thread
    /// never waits on a disk.
    SaveTable {
        path: PathBuf,
        text: String,
    },
    LoadTable {
        path: PathBuf,
    },
    /// Answered with [`Update::Synced`] once everything before it is done
    /// (tests use it to wait for the worker).
    Sync(u64),
    /// Tear the session down and stop the worker.
    Teardown,
}

impl Command {
    /// Words for the busy indicator.
    pub fn describe(&self) -> String {
        match self {
            Command::AddDisk { name, .. } => format!("adding disk {name}"),
            Command::DetachDisk { name } => format!("detaching disk {name}"),
            Command::Build { source } => format!("building {}", source.display()),
            Command::Register { name, .. } => format!("registering {name}"),
            Command::LoadModule { name } => format!("loading {name}"),
            Command::ReloadModule { name, .. } => format!("reloading {name}"),
            Command::UnloadModule { name } => format!("unloading {name}"),
            Command::CreateDevice { name, .. } => format!("creating {name}"),
            Command::ReloadDevice { name, .. } => format!("reloading {name}"),
            Command::LiveTable { name } => format!("reading the table of {name}"),
            Command::RemoveDevice { name } => format!("removing {name}"),
            Command::SuspendDevice { name } => format!("suspending {name}"),
            Command::ResumeDevice { name } => format!("resuming {name}"),
            Command::DeviceStatus { name } => format!("status of {name}"),
            Command::DeviceInfo { name } => format!("info of {name}"),
            Command::Message { name, .. } => format!("message to {name}"),
            Command::Probe(request) => format!(
                "{} probe",
                match request.op {
                    crate::exec::protocol::ProbeOp::Write => "write",
                    crate::exec::protocol::ProbeOp::Read => "read",
                }
            ),
            Command::RunLabStep { index } => format!("lab step {}", index + 1),
            Command::RefreshTargets => "listing targets".into(),
            Command::SaveTable { path, .. } => format!("saving {}", path.display()),
            Command::LoadTable { path } => format!("opening {}", path.display()),
            Command::Sync(_) => "sync".into(),
            Command::Teardown => "tearing down".into(),
        }
    }
}

/// A command with its ticket, as it travels to the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub ticket: Ticket,
    pub command: Command,
}

/// What the status line shows about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub executor: Placement,
    pub kernel: String,
}

/// A copy of the session's resources, sent after every command that may
/// have changed them; the UI renders from this copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionState {
    pub disks: Vec<Disk>,
    pub devices: Vec<Device>,
    pub modules: Vec<Module>,
    /// What the session counts on each device (DM statistics).
    pub dm_stats: Vec<(String, DeviceStats)>,
}

/// A module build as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltInfo {
    pub name: String,
    pub path: PathBuf,
    pub duration: Duration,
    pub warnings: Vec<Diagnostic>,
}

impl From<&crate::kbuild::BuiltModule> for BuiltInfo {
    fn from(built: &crate::kbuild::BuiltModule) -> Self {
        BuiltInfo {
            name: built.name.clone(),
            path: built.path.clone(),
            duration: built.duration,
            warnings: built.warnings.clone(),
        }
    }
}

pub enum Update {
    Ready {
        info: SessionInfo,
        canceller: Canceller,
    },
    StartFailed(String),
    Event(Event),
    State(SessionState),
    Targets(Vec<TargetVersion>),
    Stats {
        stats: Vec<BlockStat>,
        at: Instant,
    },
    BuildLine {
        source: PathBuf,
        line: String,
    },
    Built {
        source: PathBuf,
        result: Result<BuiltInfo, String>,
    },
    Probed {
        ticket: Ticket,
        request: ProbeRequest,
        /// Boxed: a probe's answer is large, the other updates small.
        probed: Box<Probed>,
    },
    /// A lab step ran through the engine; the record is its verdict.
    LabStep {
        ticket: Ticket,
        record: Box<StepRecord>,
    },
    LiveTable {
        name: String,
        lines: Vec<TableLine>,
    },
    TableText {
        path: PathBuf,
        text: String,
    },
    /// A command is over; `Ok` carries its output or a summary line.
    Finished {
        ticket: Ticket,
        result: Result<String, SessionError>,
    },
    Synced(u64),
    TornDown(TeardownReport),
}
