//! A Session owns one Executor and the ledger of everything it created.
//! Both front ends (TUI, headless) drive a Session and nothing else.
//!
//! Rules it enforces: names are kept as the user gave them; every DM device
//! carries a UUID with this session's prefix; nothing the session did not
//! create is changed, removed or written to; teardown removes everything in
//! reverse order and reports each step.

mod block_map;
mod error;
mod hot_reload;
pub mod journey;
mod kernel_log;
pub mod ledger;
mod stats;
pub mod teardown;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::crash::{Crash, Decoder, ModuleImage};
use crate::exec::protocol::{
    BlockStat, DmInfo, ModuleInfo, ProbeOp, ProbeResult, ProbeSpec, Request, Response, TableLine,
    TargetVersion,
};
use crate::exec::{Canceller, ErrorKind, Event, EventSink, Executor, Placement};
use crate::table::DevT;
pub use block_map::BlockDeviceMap;
pub use error::SessionError;
pub use hot_reload::ModuleSwap;
pub use journey::BioJourney;
pub use kernel_log::KernelLog;
use ledger::{Ledger, Resource};
pub use stats::{DeviceStats, Histogram, RegionRole, SegmentFigures, StatsRegion, StatsView};
pub use teardown::{TeardownReport, TeardownStep};

/// Takes the one answer a request must have apart; any other answer is
/// handed back (boxed: answers are large) for `Session::ask` to report.
macro_rules! answer {
    ($shape:pat => $value:expr) => {
        |response| match response {
            $shape => Ok($value),
            other => Err(Box::new(other)),
        }
    };
}

/// DM UUIDs of session devices start with this, the way LVM's start "LVM-".
pub const UUID_PREFIX: &str = "DMBENCH-";

pub type SessionResult<T> = Result<T, SessionError>;

pub struct SessionOptions {
    /// Directory for backing files, on the executor's side.
    pub work_dir: PathBuf,
    /// Where the ledger is persisted; None keeps it in memory (tests).
    pub ledger_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub name: String,
    pub size_bytes: u64,
    pub backing: PathBuf,
    pub device: PathBuf,
    pub major: u32,
    pub minor: u32,
}

impl Disk {
    /// Kernel block device name, e.g. "loop3" (for /sys/block).
    pub fn kernel_name(&self) -> String {
        file_name(&self.device)
    }

    pub fn dev_t(&self) -> DevT {
        DevT::new(self.major, self.minor)
    }

    pub fn sectors(&self) -> u64 {
        self.size_bytes / crate::units::SECTOR
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub name: String,
    pub uuid: String,
    pub table: Vec<TableLine>,
    pub major: u32,
    pub minor: u32,
    pub suspended: bool,
}

impl Device {
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/dev/mapper").join(&self.name)
    }

    pub fn kernel_name(&self) -> String {
        format!("dm-{}", self.minor)
    }

    pub fn dev_t(&self) -> DevT {
        DevT::new(self.major, self.minor)
    }

    pub fn sectors(&self) -> u64 {
        self.table
            .iter()
            .map(|l| l.start + l.length)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    /// The built module file on the host.
    pub image: Option<PathBuf>,
    /// The same build with its debug information (crashes decode with it).
    pub debug_image: Option<PathBuf>,
    /// The kmod directory it was built from.
    pub source: Option<PathBuf>,
    pub loaded: bool,
    /// The parameters it was loaded with (a reload keeps them).
    pub params: String,
}

/// What the session knows of a built module.
#[derive(Debug, Clone, Default)]
pub struct ModuleBuild {
    /// The file to load.
    pub image: PathBuf,
    /// The same build with its debug information (crashes decode with it).
    pub debug_image: Option<PathBuf>,
    /// The kmod directory it was built from.
    pub source: Option<PathBuf>,
}

impl ModuleBuild {
    pub fn of(built: &crate::kbuild::BuiltModule, source: &Path) -> Self {
        ModuleBuild {
            image: built.path.clone(),
            debug_image: built.debug_image(),
            source: Some(source.to_path_buf()),
        }
    }
}

/// Where a probe goes: only the session's own devices and disks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeTarget {
    Device(String),
    Disk(String),
}

impl ProbeTarget {
    pub fn name(&self) -> &str {
        match self {
            ProbeTarget::Device(name) | ProbeTarget::Disk(name) => name,
        }
    }
}

/// A probe as a user asks for it, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    pub target: ProbeTarget,
    pub op: ProbeOp,
    pub bs: u32,
    pub count: u64,
    pub offset_blocks: u64,
    pub pattern: Option<crate::exec::protocol::Pattern>,
    pub direct: bool,
    pub random_order: bool,
    /// See `ProbeSpec::stamp_shift`.
    pub stamp_shift: u64,
}

/// A probe's answer with what the session makes of it: the figures per
/// table segment and per map area (DM statistics) and each bio's journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub result: ProbeResult,
    pub stats: StatsView,
    /// The first bios' journeys (at most `journey::MAX_JOURNEYS`).
    pub bios: Vec<BioJourney>,
    /// How many bios the trace showed in all.
    pub bios_total: usize,
    /// Why statistics or journeys are missing or partial.
    pub notes: Vec<String>,
}

/// Probes up to this size get a bio journey: one small write or read,
/// whose bios can be told one by one.
pub const JOURNEY_MAX_BYTES: u64 = 64 * 1024;

pub struct Session {
    exec: Box<dyn Executor>,
    events: EventSink,
    kernel_log: KernelLog,
    ledger: Ledger,
    id: String,
    work_dir: PathBuf,
    work_dir_created: bool,
    kernel_release: String,
    disks: BTreeMap<String, Disk>,
    devices: BTreeMap<String, Device>,
    modules: BTreeMap<String, Module>,
    /// DM statistics regions per device.
    stats: BTreeMap<String, DeviceStats>,
    /// Record bio journeys of small probes.
    journeys: bool,
    /// Give each new device DM statistics regions.
    statistics: bool,
    /// Set when the sandbox VM died: the headline of why. Everything the
    /// session created lived in it and went with it.
    guest_gone: Option<String>,
    /// Kernel crashes (fatal ones and WARNs) seen so far, decoded.
    crashes: Vec<Crash>,
    /// Kernel-log records up to here were searched for WARN reports.
    warn_mark: u64,
    torn_down: bool,
}

impl Session {
    /// Opens an executor with an event sink that also feeds the session's
    /// kernel-log journal (which lab steps are judged on), handshakes and
    /// opens a ledger.
    pub fn open(
        open_executor: impl FnOnce(EventSink) -> anyhow::Result<Box<dyn Executor>>,
        events: EventSink,
        options: SessionOptions,
    ) -> anyhow::Result<Session> {
        let kernel_log = KernelLog::new();
        let sink = kernel_log.tee(events);
        let exec = open_executor(sink.clone())?;
        Session::start(exec, kernel_log, sink, options)
    }

    /// Handshakes with an executor already open; its events should pass
    /// through `kernel_log.tee(..)` for lab steps to see kernel lines.
    pub fn start(
        mut exec: Box<dyn Executor>,
        kernel_log: KernelLog,
        events: EventSink,
        options: SessionOptions,
    ) -> anyhow::Result<Session> {
        let kernel_release = match exec.call(Request::Hello {
            version: crate::exec::protocol::PROTOCOL_VERSION,
        })? {
            Response::Hello { kernel_release, .. } => kernel_release,
            other => anyhow::bail!("unexpected handshake answer: {other:?}"),
        };
        let id = new_session_id();
        let kind = exec.kind().as_str();
        let ledger = match &options.ledger_dir {
            Some(dir) => Ledger::persistent(dir, &id, kind)?,
            None => Ledger::in_memory(&id, kind),
        };
        let work_dir = options.work_dir.join(&id);
        let session = Session {
            exec,
            events,
            kernel_log,
            ledger,
            id,
            work_dir,
            work_dir_created: false,
            kernel_release,
            disks: BTreeMap::new(),
            devices: BTreeMap::new(),
            modules: BTreeMap::new(),
            stats: BTreeMap::new(),
            journeys: true,
            statistics: true,
            guest_gone: None,
            crashes: Vec::new(),
            warn_mark: 0,
            torn_down: false,
        };
        session.action(format!(
            "session {} on {} executor, kernel {}",
            session.id,
            session.exec.kind(),
            session.kernel_release
        ));
        Ok(session)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn placement(&self) -> Placement {
        self.exec.kind()
    }

    pub fn kernel_release(&self) -> &str {
        &self.kernel_release
    }

    /// Kernel-log records as they arrive; `mark` + `since` give a step's.
    pub fn kernel_log(&self) -> &KernelLog {
        &self.kernel_log
    }

    /// Why the sandbox VM is gone, once it is.
    pub fn guest_gone(&self) -> Option<&str> {
        self.guest_gone.as_deref()
    }

    /// Every kernel crash report seen in this session, decoded against the
    /// modules it built, oldest first.
    pub fn crashes(&self) -> &[Crash] {
        &self.crashes
    }

    pub fn disks(&self) -> impl Iterator<Item = &Disk> {
        self.disks.values()
    }

    pub fn disk(&self, name: &str) -> Option<&Disk> {
        self.disks.get(name)
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    pub fn device(&self, name: &str) -> Option<&Device> {
        self.devices.get(name)
    }

    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.values()
    }

    /// Whether small probes record their bios' journeys (on by default;
    /// the tracepoints cost a little time per bio while on).
    pub fn set_journeys(&mut self, on: bool) {
        self.journeys = on;
    }

    /// Whether devices created from now on get DM statistics regions (on
    /// by default). Accounting each bio with precise timestamps and a
    /// latency histogram costs ~4 % of a 4 KiB bio's instructions through
    /// dm-linear; the benchmarks turn it off to measure the targets alone.
    pub fn set_statistics(&mut self, on: bool) {
        self.statistics = on;
    }

    pub fn canceller(&self) -> Canceller {
        self.exec.canceller()
    }

    /// The session's disks and devices by every name a table may use.
    pub fn block_map(&self) -> BlockDeviceMap {
        BlockDeviceMap::new(self.disks.values(), self.devices.values())
    }

    /// UUID for a session device: prefix, session id, name.
    pub fn uuid_for(&self, name: &str) -> String {
        format!("{UUID_PREFIX}{}-{name}", self.id)
    }

    fn action(&self, text: String) {
        (self.events)(Event::Action { text });
    }

    /// One request; a dead guest is reported once, by the call that found
    /// it dead, and every later call says only that it is gone.
    fn call(&mut self, request: Request) -> Result<Response, SessionError> {
        let name = request.name();
        self.call_in(request, || name.replace('_', " "))
    }

    fn call_in(
        &mut self,
        request: Request,
        context: impl FnOnce() -> String,
    ) -> Result<Response, SessionError> {
        if let Some(why) = &self.guest_gone {
            return Err(SessionError::GuestGone(why.clone()));
        }
        let answer = self.exec.call(request);
        if let Err(e) = &answer
            && e.kind == ErrorKind::GuestDied
        {
            self.guest_gone = Some(headline(&e.message));
            self.note_crash(&e.message);
        }
        self.find_warnings();
        answer.map_err(|e| SessionError::exec(context(), e))
    }

    /// Decodes a crash report against the session's modules and tells.
    fn note_crash(&mut self, text: &str) {
        let images: Vec<ModuleImage> = self
            .modules
            .values()
            .filter_map(|m| {
                Some(ModuleImage {
                    name: m.name.clone(),
                    path: m.debug_image.clone().or(m.image.clone())?,
                    source: m.source.clone(),
                })
            })
            .collect();
        if let Some(crash) = Crash::from_text(text, &mut Decoder::new(&images)) {
            self.action(format!("kernel {}: {}", crash.kind.name(), crash.summary()));
            self.crashes.push(crash);
        }
    }

    /// A WARN leaves the kernel running: its report arrives in the kernel
    /// log, line by line, and is decoded once its end line is there.
    fn find_warnings(&mut self) {
        let (records, first) = self.kernel_log.since_at(self.warn_mark);
        let Some(start) = records.iter().position(|r| r.text.starts_with("WARNING: ")) else {
            self.warn_mark = first + records.len() as u64;
            return;
        };
        let Some(end) = records[start..]
            .iter()
            .position(|r| r.text.starts_with("---[ end trace"))
        else {
            // Not complete yet: look again from its first line next time.
            self.warn_mark = first + start as u64;
            return;
        };
        let text: Vec<&str> = records[start..=start + end]
            .iter()
            .map(|r| r.text.as_str())
            .collect();
        self.warn_mark = first + (start + end + 1) as u64;
        self.note_crash(&text.join("\n"));
    }

    /// A request whose answer must have one shape: `pick` takes it apart
    /// or hands it back, which becomes an `UnexpectedAnswer` error.
    fn ask<T>(
        &mut self,
        request: Request,
        context: impl FnOnce() -> String,
        pick: impl FnOnce(Response) -> Result<T, Box<Response>>,
    ) -> Result<T, SessionError> {
        let name = request.name();
        let answer = self.call_in(request, context)?;
        pick(answer).map_err(|other| SessionError::UnexpectedAnswer {
            request: name,
            answer: format!("{other:?}"),
        })
    }

    fn record(&mut self, resource: Resource) -> Result<(), SessionError> {
        self.ledger.record(resource).map_err(SessionError::ledger)
    }

    fn forget(&mut self, resource: &Resource) -> Result<(), SessionError> {
        self.ledger.forget(resource).map_err(SessionError::ledger)
    }

    // ---- disks -------------------------------------------------------------

    /// A sparse backing file of `size_bytes` and a loop device over it,
    /// optionally read-only or doing direct I/O to its backing file.
    pub fn add_disk(
        &mut self,
        name: &str,
        size_bytes: u64,
        read_only: bool,
        direct_io: bool,
    ) -> SessionResult<Disk> {
        validate_name("disk", name)?;
        if self.disks.contains_key(name) {
            return Err(SessionError::refused(format!(
                "disk '{name}' already exists in this session"
            )));
        }
        if size_bytes == 0 || !size_bytes.is_multiple_of(crate::units::SECTOR) {
            return Err(SessionError::refused(format!(
                "disk '{name}': size {size_bytes} B is not a positive multiple of 512"
            )));
        }
        if !self.work_dir_created {
            self.record(Resource::WorkDir {
                path: self.work_dir.clone(),
            })?;
            self.work_dir_created = true;
        }
        let backing = self.work_dir.join(format!("{name}.img"));
        self.call_in(
            Request::CreateBacking {
                path: backing.clone(),
                size_bytes,
            },
            || format!("disk '{name}': creating {}", backing.display()),
        )?;
        self.record(Resource::BackingFile {
            path: backing.clone(),
        })?;
        let (device, major, minor) = self.ask(
            Request::AttachLoop {
                backing: backing.clone(),
                read_only,
                direct_io,
            },
            || format!("disk '{name}': attaching loop"),
            answer!(Response::Loop { device, major, minor, } => (device, major, minor)),
        )?;
        self.record(Resource::LoopDevice {
            device: device.clone(),
            backing: backing.clone(),
        })?;
        let disk = Disk {
            name: name.to_string(),
            size_bytes,
            backing,
            device,
            major,
            minor,
        };
        self.action(format!(
            "disk {name}: {} sparse file on {} ({})",
            crate::units::format_size(size_bytes),
            disk.device.display(),
            disk.dev_t()
        ));
        self.disks.insert(name.to_string(), disk.clone());
        Ok(disk)
    }

    /// Detaches a disk's loop device and removes its backing file.
    pub fn detach_disk(&mut self, name: &str) -> SessionResult<()> {
        let disk =
            self.disks.get(name).cloned().ok_or_else(|| {
                SessionError::refused(format!("no disk '{name}' in this session"))
            })?;
        let map = self.block_map();
        let users: Vec<&str> = self
            .devices
            .values()
            .filter(|d| map.table_uses(&d.table, disk.dev_t()))
            .map(|d| d.name.as_str())
            .collect();
        if !users.is_empty() {
            return Err(SessionError::refused(format!(
                "disk '{name}' is used by DM device(s) {}: remove them first",
                users.join(", ")
            )));
        }
        self.call_in(
            Request::DetachLoop {
                device: disk.device.clone(),
            },
            || format!("disk '{name}': detaching {}", disk.device.display()),
        )?;
        self.forget(&Resource::LoopDevice {
            device: disk.device.clone(),
            backing: disk.backing.clone(),
        })?;
        self.call_in(
            Request::RemoveBacking {
                path: disk.backing.clone(),
            },
            || format!("disk '{name}': removing {}", disk.backing.display()),
        )?;
        self.forget(&Resource::BackingFile {
            path: disk.backing.clone(),
        })?;
        self.disks.remove(name);
        self.action(format!("disk {name}: detached and removed"));
        Ok(())
    }

    /// Live I/O counters of every session disk and device.
    pub fn block_stats(&mut self) -> SessionResult<Vec<BlockStat>> {
        let mut names: Vec<String> = self.disks.values().map(Disk::kernel_name).collect();
        names.extend(self.devices.values().map(Device::kernel_name));
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.ask(
            Request::BlockStats { devices: names },
            || "reading block statistics".into(),
            answer!(Response::BlockStats { stats } => stats),
        )
    }

    // ---- modules -----------------------------------------------------------

    /// Makes a built module known to the session, so it can be loaded by
    /// name.
    pub fn register_module(&mut self, name: &str, build: ModuleBuild) {
        let entry = self.modules.entry(name.to_string()).or_insert(Module {
            name: name.to_string(),
            image: None,
            debug_image: None,
            source: None,
            loaded: false,
            params: String::new(),
        });
        entry.image = Some(build.image);
        entry.debug_image = build.debug_image;
        entry.source = build.source;
    }

    /// Loads a built module with insmod-style parameters.
    pub fn load_module(&mut self, name: &str, params: &str) -> SessionResult<()> {
        let image_path = self
            .modules
            .get(name)
            .and_then(|m| m.image.clone())
            .ok_or_else(|| {
                SessionError::refused(format!(
                    "module '{name}' has not been built in this session: build it first"
                ))
            })?;
        if self.modules.get(name).is_some_and(|m| m.loaded) {
            return Err(SessionError::refused(format!(
                "module '{name}' is already loaded by this session"
            )));
        }
        if let Some(other) = self.loaded_module_named(name)? {
            return Err(SessionError::refused(format!(
                "a module named '{name}' is already loaded (not by this session, size {} B): \
                 unload it first (the C and Rust basic_target share one name)",
                other.size
            )));
        }
        let image = std::fs::read(&image_path)
            .map_err(|e| SessionError::File(format!("reading {}: {e}", image_path.display())))?;
        self.call_in(
            Request::LoadModule {
                name: name.to_string(),
                image,
                params: params.to_string(),
            },
            || format!("loading module '{name}' from {}", image_path.display()),
        )?;
        self.record(Resource::Module {
            name: name.to_string(),
        })?;
        if let Some(m) = self.modules.get_mut(name) {
            m.loaded = true;
            m.params = params.to_string();
        }
        self.action(format!("module {name}: loaded ({})", image_path.display()));
        Ok(())
    }

    fn loaded_module_named(&mut self, name: &str) -> SessionResult<Option<ModuleInfo>> {
        self.ask(
            Request::ListModules,
            || "listing modules".into(),
            answer!(Response::Modules { modules } => modules.into_iter().find(|m| m.name == name)),
        )
    }

    /// Session devices whose tables use a target type (a module's).
    pub fn devices_using_target(&self, target: &str) -> Vec<String> {
        self.devices
            .values()
            .filter(|d| d.table.iter().any(|l| l.target == target))
            .map(|d| d.name.clone())
            .collect()
    }

    pub fn unload_module(&mut self, name: &str) -> SessionResult<()> {
        if !self.modules.get(name).is_some_and(|m| m.loaded) {
            return Err(SessionError::refused(format!(
                "module '{name}' was not loaded by this session"
            )));
        }
        let users = self.devices_using_target(name);
        if !users.is_empty() {
            return Err(SessionError::refused(format!(
                "module '{name}' is in use by DM device(s) {}: remove them first",
                users.join(", ")
            )));
        }
        self.call_in(
            Request::UnloadModule {
                name: name.to_string(),
            },
            || format!("unloading module '{name}'"),
        )?;
        self.forget(&Resource::Module {
            name: name.to_string(),
        })?;
        if let Some(m) = self.modules.get_mut(name) {
            m.loaded = false;
        }
        self.action(format!("module {name}: unloaded"));
        Ok(())
    }

    // ---- DM devices --------------------------------------------------------

    /// `dmsetup create`, after validating the table against the session's
    /// devices; refuses a name that exists and is not this session's.
    pub fn create_device(&mut self, name: &str, table: &[TableLine]) -> SessionResult<Device> {
        self.block_map()
            .check(&crate::table::Table::from_lines(table))
            .map_err(|e| SessionError::refused(format!("device '{name}': {e}")))?;
        if self.devices.contains_key(name) {
            return Err(SessionError::refused(format!(
                "DM device '{name}' already exists in this session"
            )));
        }
        self.create(name, table)
    }

    /// `dmsetup create` letting the kernel judge the table and the name
    /// (labs that teach a refusal use this): a second device of a name
    /// this session already has goes to the kernel, which refuses it.
    /// Ownership rules still apply.
    pub fn create_device_unvalidated(
        &mut self,
        name: &str,
        table: &[TableLine],
    ) -> SessionResult<Device> {
        self.create(name, table)
    }

    fn create(&mut self, name: &str, table: &[TableLine]) -> SessionResult<Device> {
        validate_name("device", name)?;
        if !self.devices.contains_key(name)
            && let Some(existing) = self.list_dm()?.into_iter().find(|d| d.name == name)
        {
            return Err(SessionError::refused(format!(
                "a DM device named '{name}' already exists and is not this session's \
                 (uuid '{}'): choose another name",
                existing.uuid
            )));
        }
        self.check_table_devices(name, table)?;
        // A second device of a name the session has goes to the kernel,
        // which checks names before anything else and refuses (EBUSY).
        let uuid = self.uuid_for(name);
        let info = self.ask(
            Request::DmCreate {
                name: name.to_string(),
                uuid: uuid.clone(),
                table: table.to_vec(),
            },
            || format!("creating DM device '{name}'"),
            answer!(Response::Dm(info) => info),
        )?;
        self.record(Resource::DmDevice {
            name: name.to_string(),
        })?;
        let device = Device {
            name: name.to_string(),
            uuid,
            table: table.to_vec(),
            major: info.major,
            minor: info.minor,
            suspended: info.suspended,
        };
        self.action(format!(
            "device {name}: created /dev/mapper/{name} ({}:{}), {} segment(s), {} sectors",
            info.major,
            info.minor,
            table.len(),
            device.sectors()
        ));
        self.devices.insert(name.to_string(), device.clone());
        self.start_stats(name);
        Ok(device)
    }

    /// Suspend, load, resume; the live table stays if the kernel refuses.
    pub fn reload_device(&mut self, name: &str, table: &[TableLine]) -> SessionResult<()> {
        self.own_device(name)?;
        self.block_map()
            .check(&crate::table::Table::from_lines(table))
            .map_err(|e| SessionError::refused(format!("device '{name}': {e}")))?;
        self.check_table_devices(name, table)?;
        self.call_in(
            Request::DmReload {
                name: name.to_string(),
                table: table.to_vec(),
            },
            || format!("reloading DM device '{name}'"),
        )?;
        if let Some(d) = self.devices.get_mut(name) {
            d.table = table.to_vec();
            d.suspended = false;
        }
        self.action(format!(
            "device {name}: reloaded, {} segment(s)",
            table.len()
        ));
        // Regions count sectors of the old table's segments.
        self.stop_stats(name);
        self.start_stats(name);
        Ok(())
    }

    pub fn suspend_device(&mut self, name: &str) -> SessionResult<()> {
        self.set_suspended(name, true)
    }

    pub fn resume_device(&mut self, name: &str) -> SessionResult<()> {
        self.set_suspended(name, false)
    }

    fn set_suspended(&mut self, name: &str, suspend: bool) -> SessionResult<()> {
        self.own_device(name)?;
        let (request, doing, done) = if suspend {
            (
                Request::DmSuspend { name: name.into() },
                "suspending",
                "suspended",
            )
        } else {
            (
                Request::DmResume { name: name.into() },
                "resuming",
                "resumed",
            )
        };
        self.call_in(request, || format!("{doing} '{name}'"))?;
        if let Some(d) = self.devices.get_mut(name) {
            d.suspended = suspend;
        }
        self.action(format!("device {name}: {done}"));
        Ok(())
    }

    pub fn remove_device(&mut self, name: &str) -> SessionResult<()> {
        self.own_device(name)?;
        self.call_in(
            Request::DmRemove {
                name: name.to_string(),
                deferred: false,
            },
            || format!("removing '{name}'"),
        )?;
        // The kernel deleted its statistics regions with it.
        self.forget_stats(name);
        self.forget(&Resource::DmDevice {
            name: name.to_string(),
        })?;
        self.devices.remove(name);
        self.action(format!("device {name}: removed"));
        Ok(())
    }

    pub fn device_info(&mut self, name: &str) -> SessionResult<DmInfo> {
        self.own_device(name)?;
        self.ask(
            Request::DmInfo {
                name: name.to_string(),
            },
            || format!("info of '{name}'"),
            answer!(Response::Dm(info) => info),
        )
    }

    /// The live table as the kernel reports it.
    pub fn device_table(&mut self, name: &str) -> SessionResult<Vec<TableLine>> {
        self.own_device(name)?;
        self.ask(
            Request::DmTable {
                name: name.to_string(),
            },
            || format!("table of '{name}'"),
            answer!(Response::Table { lines, .. } => lines),
        )
    }

    pub fn device_status(&mut self, name: &str) -> SessionResult<Vec<TableLine>> {
        self.own_device(name)?;
        self.ask(
            Request::DmStatus {
                name: name.to_string(),
            },
            || format!("status of '{name}'"),
            answer!(Response::Status { lines, .. } => lines),
        )
    }

    pub fn message(
        &mut self,
        name: &str,
        sector: Option<u64>,
        text: &str,
    ) -> SessionResult<Option<String>> {
        self.own_device(name)?;
        let out = self.ask(
            Request::DmMessage {
                name: name.to_string(),
                sector,
                text: text.to_string(),
            },
            || format!("message '{text}' to '{name}'"),
            answer!(Response::Message { output } => output),
        )?;
        self.action(format!("device {name}: message '{text}'"));
        Ok(out)
    }

    pub fn target_versions(&mut self) -> SessionResult<Vec<TargetVersion>> {
        self.ask(
            Request::DmTargetVersions,
            || "listing target types".into(),
            answer!(Response::TargetVersions { targets } => targets),
        )
    }

    fn list_dm(&mut self) -> SessionResult<Vec<DmInfo>> {
        self.ask(
            Request::DmList,
            || "listing DM devices".into(),
            answer!(Response::DmDevices { devices } => devices),
        )
    }

    fn own_device(&self, name: &str) -> SessionResult<&Device> {
        self.devices.get(name).ok_or_else(|| {
            SessionError::refused(format!(
                "no DM device '{name}' in this session (it only touches its own devices)"
            ))
        })
    }

    /// Every block device a table names must be one of the session's disks
    /// or devices: the session never maps what it did not create. A path
    /// that names nothing at all is left for the kernel to refuse (labs show
    /// that refusal); it touches nobody's device.
    fn check_table_devices(&mut self, name: &str, table: &[TableLine]) -> SessionResult<()> {
        let map = self.block_map();
        for (i, line) in table.iter().enumerate() {
            for token in line.params.split_whitespace() {
                if looks_like_block_device(token)
                    && !map.contains(token)
                    && !self.names_nothing(token)
                {
                    return Err(SessionError::refused(format!(
                        "device '{name}', table line {}: '{token}' is not a disk or device of \
                         this session",
                        i + 1
                    )));
                }
            }
        }
        Ok(())
    }

    fn names_nothing(&mut self, token: &str) -> bool {
        token.starts_with('/')
            && matches!(
                self.call(Request::Stat { path: token.into() }),
                Ok(Response::Stat { exists: false, .. })
            )
    }

    // ---- probes ------------------------------------------------------------

    pub fn probe(&mut self, request: &ProbeRequest) -> SessionResult<Probed> {
        let small = u64::from(request.bs).saturating_mul(request.count) <= JOURNEY_MAX_BYTES;
        let (stats, trace, root) = match &request.target {
            ProbeTarget::Device(name) => (
                self.stats.get(name).and_then(|s| s.spec(name)),
                // Tracing is global to a kernel: only the sandbox VM's.
                self.journeys && small && self.exec.kind() == Placement::Vm,
                self.devices.get(name).map(Device::dev_t),
            ),
            ProbeTarget::Disk(_) => (None, false, None),
        };
        let (path, attribute, what) = match &request.target {
            ProbeTarget::Device(name) => {
                let dev = self.own_device(name)?;
                let map = self.block_map();
                let mut attribute: Vec<String> = self
                    .disks
                    .values()
                    .filter(|disk| map.table_uses(&dev.table, disk.dev_t()))
                    .map(Disk::kernel_name)
                    .collect();
                attribute.push(dev.kernel_name());
                (dev.path(), attribute, format!("device {name}"))
            }
            ProbeTarget::Disk(name) => {
                let disk = self.disks.get(name).ok_or_else(|| {
                    SessionError::refused(format!("no disk '{name}' in this session"))
                })?;
                (
                    disk.device.clone(),
                    vec![disk.kernel_name()],
                    format!("disk {name}"),
                )
            }
        };
        let spec = ProbeSpec {
            device: path,
            op: request.op,
            bs: request.bs,
            count: request.count,
            offset_blocks: request.offset_blocks,
            pattern: request.pattern,
            direct: request.direct,
            random_order: request.random_order,
            attribute,
            stamp_shift: request.stamp_shift,
            stats,
            trace,
        };
        let result = self.ask(
            Request::Probe(spec),
            || format!("probe of {what}"),
            answer!(Response::Probe(result) => result),
        )?;
        self.action(format!(
            "{} {what}: {} B in {:.3} ms, {:.1} MiB/s{}",
            match request.op {
                ProbeOp::Write => "write",
                ProbeOp::Read => "read",
            },
            result.bytes,
            result.elapsed_ns as f64 / 1e6,
            result.mib_per_s,
            match (&result.io_error, &result.mismatch) {
                (Some(e), _) => format!(", I/O error {} at byte {}", e.name, e.offset),
                (None, Some(m)) => format!(", MISMATCH at byte {}", m.offset),
                _ => String::new(),
            }
        ));
        Ok(self.arrange(request, root, result))
    }

    /// What the session makes of a probe's statistics and trace records.
    fn arrange(&self, request: &ProbeRequest, root: Option<DevT>, result: ProbeResult) -> Probed {
        let mut notes = result.notes.clone();
        let stats = match &request.target {
            ProbeTarget::Device(name) => {
                if let Some(notice) = self.stats.get(name).and_then(|s| s.notice.clone()) {
                    notes.push(notice);
                }
                self.stats_view(name, &result)
            }
            ProbeTarget::Disk(_) => StatsView::default(),
        };
        let (bios, bios_total) = match root {
            Some(root) if !result.trace.is_empty() => {
                journey::journeys(&result.trace, root, self, journey::MAX_JOURNEYS)
            }
            _ => (Vec::new(), 0),
        };
        Probed {
            result,
            stats,
            bios,
            bios_total,
            notes,
        }
    }

    /// The clock the executor times probes with (`tsc`, `jiffies`, ...).
    pub fn clocksource(&mut self) -> String {
        match self.call(Request::SystemInfo) {
            Ok(Response::SystemInfo { clocksource, .. }) => clocksource,
            _ => String::new(),
        }
    }

    /// Runs a program in the sandbox VM (benchmarks compare against `dd`
    /// there); a local executor refuses.
    pub fn run_command(&mut self, argv: Vec<String>) -> SessionResult<Response> {
        self.call(Request::RunCommand {
            argv,
            env: Vec::new(),
        })
    }

    /// Everything that exists now on the executor's side: DM devices, loop
    /// devices and the files in this session's work directory.
    pub fn inventory(&mut self) -> SessionResult<Response> {
        let dir = self.work_dir.clone();
        self.call(Request::Inventory { dir })
    }

    // ---- teardown ----------------------------------------------------------

    /// Removes everything the session created, newest first, and says what
    /// happened to each resource. Safe to call twice. When the sandbox VM
    /// died, everything lived in it: each resource is reported moot once,
    /// no request is sent, and the ledger goes.
    pub fn teardown(&mut self) -> TeardownReport {
        if self.torn_down {
            return TeardownReport::default();
        }
        self.torn_down = true;
        let report = match &self.guest_gone {
            Some(why) if self.exec.kind() == Placement::Vm => {
                let why = why.clone();
                teardown::moot(&mut self.ledger, &self.events, &why)
            }
            _ => teardown::unwind(&mut *self.exec, &mut self.ledger, &self.events),
        };
        self.disks.clear();
        self.devices.clear();
        self.stats.clear();
        for m in self.modules.values_mut() {
            m.loaded = false;
        }
        report
    }

    /// Teardown, then stop the executor (dropping the session powers the
    /// sandbox VM off).
    pub fn close(mut self) -> TeardownReport {
        self.teardown()
    }
}

impl journey::Devices for Session {
    fn table(&self, dev: DevT) -> Option<&[TableLine]> {
        self.devices
            .values()
            .find(|d| d.dev_t() == dev)
            .map(|d| d.table.as_slice())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Runs on normal exit, on a failed step and while unwinding a panic.
        if !self.torn_down {
            let report = self.teardown();
            if !report.all_ok() {
                crate::output::error_line(&format!(
                    "dmbench: teardown left something behind:\n{report}"
                ));
            }
        }
        let _ = self.exec.call(Request::Shutdown);
    }
}

/// The first line of a long error (a panic report), for "gone because".
fn headline(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.ends_with(':'))
        .unwrap_or(message)
        .trim();
    let mut text: String = line.chars().take(160).collect();
    if line.chars().count() > 160 {
        text.push('…');
    }
    text
}

fn looks_like_block_device(token: &str) -> bool {
    token.starts_with("/dev/") || token.parse::<DevT>().is_ok()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Names become file and device names: keep them to a safe alphabet.
pub fn validate_name(what: &str, name: &str) -> SessionResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        && !name.starts_with('.');
    if !ok {
        return Err(SessionError::refused(format!(
            "{what} name '{name}' is not allowed: use 1-100 letters, digits, '_', '-' or '.', \
             not starting with '.'"
        )));
    }
    Ok(())
}

/// `dmb` + 8 hex digits from the clock and pid: unique enough per machine.
fn new_session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ ((std::process::id() as u64) << 40);
    let hash = mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    format!("dmb{hash:08x}")
}

#[cfg(test)]
mod tests;
