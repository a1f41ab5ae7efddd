//! The wire protocol between a front end's Session and an Executor.
//!
//! These enums are used in-process by `LocalExecutor` and serialized, one
//! JSON object per line, between the host and `dmbench agent` in the sandbox
//! VM. The first exchange on a connection is `Request::Hello` carrying
//! [`PROTOCOL_VERSION`]; an agent that speaks another version refuses.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Bumped whenever a request, response or event changes shape.
pub const PROTOCOL_VERSION: u32 = 3;

/// One privileged operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Version handshake; always the first request.
    Hello {
        version: u32,
    },

    /// `finit_module` of a module image sent over the wire (so modules built
    /// on the host reach the guest) and `params` as for insmod.
    LoadModule {
        name: String,
        #[serde(with = "base64_bytes")]
        image: Vec<u8>,
        params: String,
    },
    /// `delete_module` of a module by name.
    UnloadModule {
        name: String,
    },
    /// Modules currently loaded (from /proc/modules).
    ListModules,

    /// Create a sparse file of exactly `size_bytes` (ftruncate, no writes).
    /// Fails if the file exists.
    CreateBacking {
        path: PathBuf,
        size_bytes: u64,
    },
    /// Remove a backing file created earlier.
    RemoveBacking {
        path: PathBuf,
    },
    /// Attach a loop device to a backing file; retried when another process
    /// wins the race for the free device.
    AttachLoop {
        backing: PathBuf,
        read_only: bool,
        direct_io: bool,
    },
    /// Detach a loop device, e.g. `/dev/loop0`.
    DetachLoop {
        device: PathBuf,
    },

    /// Create a device, load its table and resume it: `dmsetup create`.
    DmCreate {
        name: String,
        uuid: String,
        table: Vec<TableLine>,
    },
    /// Load a table into the inactive slot.
    DmLoad {
        name: String,
        table: Vec<TableLine>,
    },
    DmSuspend {
        name: String,
    },
    DmResume {
        name: String,
    },
    /// Suspend, load, resume; the live table is kept if the load fails.
    DmReload {
        name: String,
        table: Vec<TableLine>,
    },
    /// Remove; with `deferred`, a device still open goes when it is closed.
    DmRemove {
        name: String,
        deferred: bool,
    },
    DmInfo {
        name: String,
    },
    DmTable {
        name: String,
    },
    DmStatus {
        name: String,
    },
    DmMessage {
        name: String,
        sector: Option<u64>,
        text: String,
    },
    /// Every DM device on the system with its UUID and event number.
    DmList,
    /// Target types registered in the kernel, with versions.
    DmTargetVersions,

    /// dd-style I/O against a block device.
    Probe(ProbeSpec),
    /// Cancel the probe in flight, if any.
    Cancel,
    /// Read /sys/block/<dev>/stat for each named block device.
    BlockStats {
        devices: Vec<String>,
    },

    /// Kernel release, for the status line.
    SystemInfo,
    /// Whether a path exists on the executor's side (and is a block device).
    Stat {
        path: PathBuf,
    },
    /// What exists now: every DM device, every attached loop device, and the
    /// files under `dir` (to prove a teardown left nothing behind).
    Inventory {
        dir: PathBuf,
    },
    /// Deliberately crash the kernel (sysrq 'c'); only the VM agent obeys.
    CrashGuest,
    /// Run a program in the guest (benchmarks compare against `dd` there,
    /// tests run dmbench itself there as a local front end); only the VM
    /// agent obeys.
    RunCommand {
        argv: Vec<String>,
        /// Variables added to the program's environment.
        #[serde(default)]
        env: Vec<(String, String)>,
    },
    /// Write a file in the guest, making its parent directories; only the
    /// VM agent obeys.
    PutFile {
        path: PathBuf,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
        mode: u32,
    },
    /// Read a file in the guest; only the VM agent obeys.
    GetFile {
        path: PathBuf,
    },
    /// Power off the guest after answering (VM) or do nothing (local).
    Shutdown,
}

impl Request {
    /// The request's name, as on the wire (`dm_create`, `probe`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Hello { .. } => "hello",
            Request::LoadModule { .. } => "load_module",
            Request::UnloadModule { .. } => "unload_module",
            Request::ListModules => "list_modules",
            Request::CreateBacking { .. } => "create_backing",
            Request::RemoveBacking { .. } => "remove_backing",
            Request::AttachLoop { .. } => "attach_loop",
            Request::DetachLoop { .. } => "detach_loop",
            Request::DmCreate { .. } => "dm_create",
            Request::DmLoad { .. } => "dm_load",
            Request::DmSuspend { .. } => "dm_suspend",
            Request::DmResume { .. } => "dm_resume",
            Request::DmReload { .. } => "dm_reload",
            Request::DmRemove { .. } => "dm_remove",
            Request::DmInfo { .. } => "dm_info",
            Request::DmTable { .. } => "dm_table",
            Request::DmStatus { .. } => "dm_status",
            Request::DmMessage { .. } => "dm_message",
            Request::DmList => "dm_list",
            Request::DmTargetVersions => "dm_target_versions",
            Request::Probe(_) => "probe",
            Request::Cancel => "cancel",
            Request::BlockStats { .. } => "block_stats",
            Request::SystemInfo => "system_info",
            Request::Stat { .. } => "stat",
            Request::Inventory { .. } => "inventory",
            Request::CrashGuest => "crash_guest",
            Request::RunCommand { .. } => "run_command",
            Request::PutFile { .. } => "put_file",
            Request::GetFile { .. } => "get_file",
            Request::Shutdown => "shutdown",
        }
    }
}

/// One row of a mapping table as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableLine {
    pub start: u64,
    pub length: u64,
    pub target: String,
    pub params: String,
}

/// The successful answer to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    Hello {
        version: u32,
        kernel_release: String,
        executor: super::Placement,
    },
    Done,
    Modules {
        modules: Vec<ModuleInfo>,
    },
    Loop {
        device: PathBuf,
        major: u32,
        minor: u32,
    },
    Dm(DmInfo),
    Table {
        info: DmInfo,
        lines: Vec<TableLine>,
    },
    Status {
        info: DmInfo,
        lines: Vec<TableLine>,
    },
    Message {
        output: Option<String>,
    },
    DmDevices {
        devices: Vec<DmInfo>,
    },
    TargetVersions {
        targets: Vec<TargetVersion>,
    },
    Probe(ProbeResult),
    BlockStats {
        stats: Vec<BlockStat>,
    },
    SystemInfo {
        kernel_release: String,
        /// The clock probes are timed with; `jiffies` means coarse latencies.
        clocksource: String,
    },
    Inventory {
        dm: Vec<DmInfo>,
        loops: Vec<LoopInfo>,
        files: Vec<PathBuf>,
    },
    Stat {
        exists: bool,
        block_device: bool,
    },
    CommandOutput {
        status: i32,
        stdout: String,
        stderr: String,
        elapsed_ns: u64,
    },
    File {
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopInfo {
    pub device: PathBuf,
    pub backing: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    pub name: String,
    pub size: u64,
    pub refcount: u32,
    /// Modules that depend on this one.
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DmInfo {
    pub name: String,
    pub uuid: String,
    pub major: u32,
    pub minor: u32,
    pub open_count: i32,
    pub event_nr: u32,
    pub target_count: u32,
    pub suspended: bool,
    pub live_table: bool,
    pub inactive_table: bool,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetVersion {
    pub name: String,
    pub version: [u32; 3],
}

/// Counters of /sys/block/<dev>/stat that matter for attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IoCounters {
    pub read_ios: u64,
    pub read_sectors: u64,
    pub write_ios: u64,
    pub write_sectors: u64,
    pub discard_ios: u64,
    pub flush_ios: u64,
}

impl IoCounters {
    pub fn delta_since(&self, before: &IoCounters) -> IoCounters {
        IoCounters {
            read_ios: self.read_ios.saturating_sub(before.read_ios),
            read_sectors: self.read_sectors.saturating_sub(before.read_sectors),
            write_ios: self.write_ios.saturating_sub(before.write_ios),
            write_sectors: self.write_sectors.saturating_sub(before.write_sectors),
            discard_ios: self.discard_ios.saturating_sub(before.discard_ios),
            flush_ios: self.flush_ios.saturating_sub(before.flush_ios),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStat {
    /// Kernel name, e.g. "loop0" or "dm-1".
    pub device: String,
    pub counters: IoCounters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOp {
    Write,
    Read,
}

/// What a write puts in each block, or what a read expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pattern", rename_all = "snake_case")]
pub enum Pattern {
    Zero,
    /// Pseudo-random bytes from `seed` (not verifiable on read).
    Random {
        seed: u64,
    },
    /// Every byte the same.
    Byte {
        value: u8,
    },
    /// A header per block naming its own device offset, a sequence number
    /// and a checksum: a read-back catches misdirected writes as well as
    /// corrupted data.
    Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSpec {
    /// Block device path, e.g. /dev/mapper/x or /dev/dm-0.
    pub device: PathBuf,
    pub op: ProbeOp,
    /// Bytes per block (dd's bs).
    pub bs: u32,
    /// Blocks to transfer (dd's count).
    pub count: u64,
    /// First block (dd's seek for writes, skip for reads).
    pub offset_blocks: u64,
    /// Write: what to write. Read: what to verify against (None: no check).
    pub pattern: Option<Pattern>,
    /// O_DIRECT.
    pub direct: bool,
    /// Visit the blocks in a shuffled order instead of sequentially.
    pub random_order: bool,
    /// Kernel block device names whose I/O counters are sampled before and
    /// after the probe (attribution to backing devices).
    pub attribute: Vec<String>,
    /// Reads of stamps written through a mapping that starts this many
    /// bytes into this device: a block at offset X must carry the stamp
    /// for X - stamp_shift. Proves where a target put the data.
    #[serde(default)]
    pub stamp_shift: u64,
    /// DM statistics regions to read around the probe (and sample while
    /// it runs, for a live sector map).
    #[serde(default)]
    pub stats: Option<StatsSpec>,
    /// Record the probe's bios from the kernel's block tracepoints.
    #[serde(default)]
    pub trace: bool,
}

/// The DM statistics regions of one device that a probe reads: cleared
/// before the first block, sampled while it runs, read and cleared after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSpec {
    /// The DM device's name (messages go to it).
    pub device: String,
    pub regions: Vec<u32>,
}

/// One area of a DM statistics region as `@stats_print` reports it;
/// times in nanoseconds (regions are created with precise_timestamps).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaCounters {
    /// Position of the area within its region.
    pub index: u32,
    pub start: u64,
    pub length: u64,
    pub reads: u64,
    pub read_sectors: u64,
    pub read_ns: u64,
    pub writes: u64,
    pub write_sectors: u64,
    pub write_ns: u64,
    /// Counts per latency bucket (one more than the region's boundaries);
    /// empty for a region without a histogram.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<u64>,
}

impl AreaCounters {
    pub fn is_idle(&self) -> bool {
        self.reads == 0 && self.writes == 0 && self.read_sectors == 0 && self.write_sectors == 0
    }
}

/// The counters of one region; areas that saw no I/O are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCounters {
    pub region: u32,
    pub areas: Vec<AreaCounters>,
}

/// One block tracepoint record (tracefs `trace` line), kept for the
/// devices a journey can pass through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Trace clock, nanoseconds (printed with microsecond resolution).
    pub ts_ns: u64,
    /// `block_bio_queue`, `block_bio_remap`, `block_rq_issue`, ...
    pub event: String,
    pub major: u32,
    pub minor: u32,
    /// `W`, `WS`, `R`, `FWS`, ... as the kernel's rwbs.
    pub rwbs: String,
    pub sector: u64,
    pub sectors: u64,
    /// Remaps: where the bio came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<(u32, u32, u64)>,
    /// Completions: the errno (0 when it succeeded).
    #[serde(default)]
    pub error: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub min_ns: u64,
    pub median_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// Byte offset on the probed device of the block that did not verify.
    pub offset: u64,
    pub expected: String,
    pub found: String,
    /// Blocks that failed verification in total.
    pub total_bad_blocks: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoFailure {
    pub offset: u64,
    pub errno: i32,
    /// "EIO", "ENOSPC", ...
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub op: ProbeOp,
    pub bytes: u64,
    pub blocks: u64,
    pub elapsed_ns: u64,
    pub mib_per_s: f64,
    pub latency: Option<Latency>,
    pub mismatch: Option<Mismatch>,
    pub io_error: Option<IoFailure>,
    pub attribution: Vec<BlockStatDelta>,
    pub cancelled: bool,
    /// The `StatsSpec` regions' counters over the probe, in its order.
    #[serde(default)]
    pub dm_stats: Vec<RegionCounters>,
    /// Block tracepoint records of the probe, when `trace` was asked.
    #[serde(default)]
    pub trace: Vec<TraceRecord>,
    /// Why statistics or tracing were not (fully) available.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStatDelta {
    pub device: String,
    pub delta: IoCounters,
}

/// A kernel log record from /dev/kmsg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsgRecord {
    pub seq: u64,
    /// syslog level 0 (emerg) .. 7 (debug)
    pub level: u8,
    /// Microseconds since boot.
    pub ts_us: u64,
    pub text: String,
}

/// Things that happen without being asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Kmsg(KmsgRecord),
    /// A DM device's event counter moved (table load, resize, target event).
    DmEvent {
        name: String,
        event_nr: u32,
    },
    /// Progress of the probe in flight.
    Progress {
        done_bytes: u64,
        total_bytes: u64,
    },
    /// A line of the VM's serial console (host side only).
    Console {
        line: String,
    },
    /// kmsg records were overwritten before they were read.
    KmsgLost {
        count: u64,
    },
    /// What the session did, for the action log (host side only).
    Action {
        text: String,
    },
    /// DM statistics of the device being probed, since the probe started
    /// (sent every ~200 ms while it runs, for a live sector map), with the
    /// block-layer counters of the disks beneath it.
    DmStats {
        device: String,
        elapsed_ms: u64,
        regions: Vec<RegionCounters>,
        disks: Vec<BlockStatDelta>,
    },
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.full_text())]
pub struct ExecError {
    pub kind: ErrorKind,
    pub message: String,
    /// errno of the failing syscall, when there was one.
    pub errno: Option<i32>,
    /// The kernel's own words from the log (e.g. `device-mapper: table: ...`).
    pub kernel_log: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request itself is wrong (bad name, bad argument).
    Invalid,
    NotFound,
    Busy,
    Exists,
    /// The kernel refused (table rejected, module refused).
    Kernel,
    Io,
    Cancelled,
    /// Transport or handshake problem with the agent.
    Protocol,
    /// The guest kernel panicked or the VM died.
    GuestDied,
    Unsupported,
}

impl ExecError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ExecError {
            kind,
            message: message.into(),
            errno: None,
            kernel_log: Vec::new(),
        }
    }

    pub fn from_errno(kind: ErrorKind, context: impl Into<String>, errno: nix::Error) -> Self {
        ExecError {
            kind,
            message: format!("{}: {}", context.into(), errno.desc()),
            errno: Some(errno as i32),
            kernel_log: Vec::new(),
        }
    }

    /// An I/O failure: `message` says what was being done (the caller
    /// includes the error text); the kind follows the errno.
    pub fn from_io(message: impl Into<String>, e: &std::io::Error) -> Self {
        let kind = match e.raw_os_error() {
            Some(libc::EBUSY) => ErrorKind::Busy,
            Some(libc::ENOENT) | Some(libc::ENXIO) => ErrorKind::NotFound,
            _ if e.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        ExecError {
            kind,
            message: message.into(),
            errno: e.raw_os_error(),
            kernel_log: Vec::new(),
        }
    }

    pub fn with_kernel_log(mut self, lines: Vec<String>) -> Self {
        self.kernel_log = lines;
        self
    }

    /// The message with the kernel's reason appended, for one-line display.
    pub fn full_text(&self) -> String {
        if self.kernel_log.is_empty() {
            self.message.clone()
        } else {
            format!("{} (kernel: {})", self.message, self.kernel_log.join("; "))
        }
    }
}

/// A line on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frame {
    Request {
        id: u64,
        request: Request,
    },
    Response {
        id: u64,
        result: Result<Response, ExecError>,
    },
    Event(Event),
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_json_lines() {
        let frames = vec![
            Frame::Request {
                id: 7,
                request: Request::LoadModule {
                    name: "basic_target".into(),
                    image: vec![0, 1, 2, 255],
                    params: String::new(),
                },
            },
            Frame::Response {
                id: 7,
                result: Err(ExecError::new(ErrorKind::Kernel, "table rejected")
                    .with_kernel_log(vec!["device-mapper: table: 253:0: linear: bad".into()])),
            },
            Frame::Event(Event::Kmsg(KmsgRecord {
                seq: 3,
                level: 6,
                ts_us: 12,
                text: "hello\nworld".into(),
            })),
        ];
        for frame in frames {
            let line = serde_json::to_string(&frame).expect("serializes");
            assert!(!line.contains('\n'), "one frame per line: {line}");
            let back: Frame = serde_json::from_str(&line).expect("parses");
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn every_request_shape_survives_the_wire() {
        let probe = Request::Probe(ProbeSpec {
            device: "/dev/mapper/x".into(),
            op: ProbeOp::Write,
            bs: 512,
            count: 1,
            offset_blocks: 10,
            pattern: Some(Pattern::Stamp),
            direct: true,
            random_order: false,
            attribute: vec!["loop0".into()],
            stamp_shift: 0,
            stats: Some(StatsSpec {
                device: "x".into(),
                regions: vec![0, 1],
            }),
            trace: true,
        });
        let line = serde_json::to_string(&Frame::Request {
            id: 1,
            request: probe.clone(),
        })
        .expect("serializes");
        match serde_json::from_str::<Frame>(&line).expect("parses") {
            Frame::Request { request, .. } => assert_eq!(request, probe),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn counters_delta_never_underflows() {
        let before = IoCounters {
            write_ios: 5,
            ..Default::default()
        };
        let after = IoCounters {
            write_ios: 3,
            read_ios: 2,
            ..Default::default()
        };
        let d = after.delta_since(&before);
        assert_eq!(d.write_ios, 0);
        assert_eq!(d.read_ios, 2);
    }
}
