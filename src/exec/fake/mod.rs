//! An in-memory executor for user-interface and session unit tests. It
//! keeps enough state to behave like a kernel from the outside (devices,
//! tables, loops, modules, kernel-log lines) and is deterministic. It never
//! stands in for the real thing in end-to-end tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::protocol::*;
use super::{Canceller, EventSink, Executor, Placement};

mod stats;
mod trace;

use stats::FakeStats;

#[derive(Default)]
struct FakeDevice {
    info: DmInfo,
    table: Vec<TableLine>,
    reads: u64,
    writes: u64,
    stats: FakeStats,
}

pub struct FakeExecutor {
    events: EventSink,
    files: BTreeMap<PathBuf, u64>,
    loops: BTreeMap<PathBuf, PathBuf>,
    devices: BTreeMap<String, FakeDevice>,
    modules: BTreeMap<String, u64>,
    next_minor: u32,
    seq: u64,
    /// Requests seen, for assertions.
    pub log: Vec<Request>,
    live: Arc<AtomicUsize>,
}

impl FakeExecutor {
    pub fn new(events: EventSink) -> Self {
        FakeExecutor {
            events,
            files: BTreeMap::new(),
            loops: BTreeMap::new(),
            devices: BTreeMap::new(),
            modules: BTreeMap::new(),
            next_minor: 0,
            seq: 0,
            log: Vec::new(),
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A counter of live resources that stays readable after the executor
    /// is handed to a Session.
    pub fn live_counter(&self) -> Arc<AtomicUsize> {
        self.live.clone()
    }

    /// Resources still alive: files, loops, devices, modules.
    pub fn live_resources(&self) -> usize {
        self.files.len() + self.loops.len() + self.devices.len() + self.modules.len()
    }

    fn kmsg(&mut self, level: u8, text: String) {
        self.seq += 1;
        (self.events)(Event::Kmsg(KmsgRecord {
            seq: self.seq,
            level,
            ts_us: self.seq * 1000,
            text,
        }));
    }

    fn known_target(&self, target: &str) -> bool {
        matches!(
            target,
            "linear"
                | "striped"
                | "zero"
                | "error"
                | "mirror"
                | "snapshot"
                | "delay"
                | "flakey"
                | "dust"
        ) || self.modules.contains_key(target)
    }

    fn check_table(&mut self, name: &str, table: &[TableLine]) -> Result<(), ExecError> {
        for line in table {
            if !self.known_target(&line.target) {
                let text = format!(
                    "device-mapper: table: 253:{}: {}: unknown target type",
                    self.next_minor, line.target
                );
                self.kmsg(3, text.clone());
                return Err(ExecError::new(
                    ErrorKind::Kernel,
                    format!("DM_TABLE_LOAD of '{name}' failed: Invalid argument"),
                )
                .with_kernel_log(vec![text]));
            }
        }
        Ok(())
    }

    fn device(&mut self, name: &str) -> Result<&mut FakeDevice, ExecError> {
        self.devices
            .get_mut(name)
            .ok_or_else(|| ExecError::new(ErrorKind::NotFound, format!("no DM device '{name}'")))
    }

    fn probe(&mut self, spec: &ProbeSpec) -> ProbeResult {
        let bytes = spec.bs as u64 * spec.count;
        let name = spec
            .device
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut lines = Vec::new();
        let mut dm_stats = Vec::new();
        if let (Some(stats), Some(dev)) = (&spec.stats, self.devices.get(&name)) {
            dm_stats = dev.stats.counters(spec, &stats.regions);
        }
        let trace_records = match self.devices.get(&name) {
            Some(dev) if spec.trace => {
                trace::records(spec, (dev.info.major, dev.info.minor), &dev.table)
            }
            _ => Vec::new(),
        };
        if let Some(dev) = self.devices.get_mut(&name) {
            match spec.op {
                ProbeOp::Write => dev.writes += spec.count,
                ProbeOp::Read => dev.reads += spec.count,
            }
            if dev.table.iter().any(|l| l.target == "basic_target") {
                let sector = spec.offset_blocks * spec.bs as u64 / 512;
                let op = match spec.op {
                    ProbeOp::Write => "write",
                    ProbeOp::Read => "read",
                };
                lines.push(format!(
                    "basic_target: {op} request: sector {sector} size {}",
                    spec.bs
                ));
            }
        }
        for line in lines {
            self.kmsg(6, line);
        }
        (self.events)(Event::Progress {
            done_bytes: bytes,
            total_bytes: bytes,
        });
        // A fixed 100 MiB/s keeps UI snapshots stable.
        let elapsed_ns = bytes * 10_000_000 / (1 << 20);
        ProbeResult {
            op: spec.op,
            bytes,
            blocks: spec.count,
            elapsed_ns,
            mib_per_s: 100.0,
            latency: Some(Latency {
                min_ns: 20_000,
                median_ns: 40_000,
                p99_ns: 90_000,
                max_ns: 120_000,
            }),
            mismatch: None,
            io_error: None,
            attribution: spec
                .attribute
                .iter()
                .map(|d| BlockStatDelta {
                    device: d.clone(),
                    delta: match spec.op {
                        ProbeOp::Write => IoCounters {
                            write_ios: spec.count,
                            write_sectors: bytes / 512,
                            ..Default::default()
                        },
                        ProbeOp::Read => IoCounters {
                            read_ios: spec.count,
                            read_sectors: bytes / 512,
                            ..Default::default()
                        },
                    },
                })
                .collect(),
            cancelled: false,
            dm_stats,
            trace: trace_records,
            notes: Vec::new(),
        }
    }

    /// DM statistics regions alive on every device (tests prove a
    /// teardown removed them).
    pub fn stats_regions(&self) -> usize {
        self.devices.values().map(|d| d.stats.region_count()).sum()
    }
}

impl Executor for FakeExecutor {
    fn call(&mut self, request: Request) -> Result<Response, ExecError> {
        self.log.push(request.clone());
        let result = self.answer(request);
        self.live.store(self.live_resources(), Ordering::SeqCst);
        result
    }

    fn canceller(&self) -> Canceller {
        Arc::new(|| {})
    }

    fn kind(&self) -> Placement {
        // The UI stand-in plays the default, the sandbox VM.
        Placement::Vm
    }
}

impl FakeExecutor {
    fn answer(&mut self, request: Request) -> Result<Response, ExecError> {
        match request {
            Request::Hello { .. } => Ok(Response::Hello {
                version: PROTOCOL_VERSION,
                kernel_release: "7.3.4-fake".into(),
                executor: Placement::Vm,
            }),
            Request::LoadModule { name, image, .. } => {
                if self.modules.contains_key(&name) {
                    return Err(ExecError::new(
                        ErrorKind::Exists,
                        format!("module '{name}' is already loaded"),
                    ));
                }
                self.modules.insert(name.clone(), image.len() as u64);
                self.kmsg(6, format!("{name}: loaded"));
                Ok(Response::Done)
            }
            Request::UnloadModule { name } => match self.modules.remove(&name) {
                Some(_) => Ok(Response::Done),
                None => Err(ExecError::new(
                    ErrorKind::NotFound,
                    format!("module '{name}' is not loaded"),
                )),
            },
            Request::ListModules => Ok(Response::Modules {
                modules: self
                    .modules
                    .iter()
                    .map(|(name, size)| ModuleInfo {
                        name: name.clone(),
                        size: *size,
                        refcount: 0,
                        used_by: Vec::new(),
                    })
                    .collect(),
            }),
            Request::CreateBacking { path, size_bytes } => {
                if self.files.contains_key(&path) {
                    return Err(ExecError::new(ErrorKind::Exists, "file exists"));
                }
                self.files.insert(path, size_bytes);
                Ok(Response::Done)
            }
            Request::RemoveBacking { path } => {
                // Directories are not modelled; removing one always works.
                self.files.remove(&path);
                Ok(Response::Done)
            }
            Request::AttachLoop { backing, .. } => {
                let n = (0..).find(|n| {
                    !self
                        .loops
                        .contains_key(&PathBuf::from(format!("/dev/loop{n}")))
                });
                let n = n.unwrap_or(0);
                let device = PathBuf::from(format!("/dev/loop{n}"));
                self.loops.insert(device.clone(), backing);
                Ok(Response::Loop {
                    device,
                    major: 7,
                    minor: n,
                })
            }
            Request::DetachLoop { device } => match self.loops.remove(&device) {
                Some(_) => Ok(Response::Done),
                None => Err(ExecError::new(ErrorKind::NotFound, "no such loop device")),
            },
            Request::DmCreate { name, uuid, table } => {
                if self.devices.contains_key(&name) {
                    return Err(ExecError::new(ErrorKind::Exists, "device exists"));
                }
                self.check_table(&name, &table)?;
                let minor = self.next_minor;
                self.next_minor += 1;
                let info = DmInfo {
                    name: name.clone(),
                    uuid,
                    major: 253,
                    minor,
                    open_count: 0,
                    event_nr: 0,
                    target_count: table.len() as u32,
                    suspended: false,
                    live_table: true,
                    inactive_table: false,
                    read_only: false,
                };
                self.devices.insert(
                    name,
                    FakeDevice {
                        info: info.clone(),
                        table,
                        ..Default::default()
                    },
                );
                Ok(Response::Dm(info))
            }
            Request::DmLoad { name, table } | Request::DmReload { name, table } => {
                self.check_table(&name, &table)?;
                let dev = self.device(&name)?;
                dev.table = table;
                dev.info.event_nr += 1;
                Ok(Response::Dm(dev.info.clone()))
            }
            Request::DmSuspend { name } => {
                let dev = self.device(&name)?;
                dev.info.suspended = true;
                Ok(Response::Dm(dev.info.clone()))
            }
            Request::DmResume { name } => {
                let dev = self.device(&name)?;
                dev.info.suspended = false;
                Ok(Response::Dm(dev.info.clone()))
            }
            Request::DmRemove { name, .. } => match self.devices.remove(&name) {
                Some(d) => Ok(Response::Dm(d.info)),
                None => Err(ExecError::new(ErrorKind::NotFound, "no such device")),
            },
            Request::DmInfo { name } => Ok(Response::Dm(self.device(&name)?.info.clone())),
            Request::DmTable { name } => {
                let dev = self.device(&name)?;
                Ok(Response::Table {
                    info: dev.info.clone(),
                    lines: dev.table.clone(),
                })
            }
            Request::DmStatus { name } => {
                let dev = self.device(&name)?;
                let lines = dev
                    .table
                    .iter()
                    .map(|l| TableLine {
                        start: l.start,
                        length: l.length,
                        target: l.target.clone(),
                        params: if l.target == "basic_target" {
                            format!("reads={} writes={}", dev.reads, dev.writes)
                        } else {
                            String::new()
                        },
                    })
                    .collect();
                Ok(Response::Status {
                    info: dev.info.clone(),
                    lines,
                })
            }
            Request::DmMessage { name, text, .. } => {
                let dev = self.device(&name)?;
                match dev.stats.message(&text) {
                    Some(answer) => answer.map(|output| Response::Message { output }),
                    None => Ok(Response::Message { output: None }),
                }
            }
            Request::DmList => Ok(Response::DmDevices {
                devices: self.devices.values().map(|d| d.info.clone()).collect(),
            }),
            Request::DmTargetVersions => {
                let mut targets: Vec<TargetVersion> = [
                    "linear", "striped", "zero", "error", "mirror", "snapshot", "delay", "flakey",
                ]
                .iter()
                .map(|n| TargetVersion {
                    name: n.to_string(),
                    version: [1, 4, 0],
                })
                .collect();
                targets.extend(self.modules.keys().map(|n| TargetVersion {
                    name: n.clone(),
                    version: [1, 0, 0],
                }));
                Ok(Response::TargetVersions { targets })
            }
            Request::Probe(spec) => Ok(Response::Probe(self.probe(&spec))),
            Request::Cancel => Ok(Response::Done),
            Request::BlockStats { devices } => Ok(Response::BlockStats {
                stats: devices
                    .into_iter()
                    .map(|device| BlockStat {
                        device,
                        counters: IoCounters::default(),
                    })
                    .collect(),
            }),
            Request::SystemInfo => Ok(Response::SystemInfo {
                kernel_release: "7.3.4-fake".into(),
                clocksource: "fake".into(),
            }),
            Request::Stat { path } => {
                let exists = self.loops.contains_key(&path) || self.files.contains_key(&path);
                Ok(Response::Stat {
                    exists,
                    block_device: self.loops.contains_key(&path),
                })
            }
            Request::Inventory { dir } => Ok(Response::Inventory {
                dm: self.devices.values().map(|d| d.info.clone()).collect(),
                loops: self
                    .loops
                    .iter()
                    .map(|(device, backing)| LoopInfo {
                        device: device.clone(),
                        backing: backing.clone(),
                    })
                    .collect(),
                files: self
                    .files
                    .keys()
                    .filter(|p| p.starts_with(&dir))
                    .cloned()
                    .collect(),
            }),
            Request::CrashGuest => Err(ExecError::new(
                ErrorKind::Unsupported,
                "the fake executor cannot crash",
            )),
            Request::RunCommand { .. } | Request::PutFile { .. } | Request::GetFile { .. } => {
                Err(ExecError::new(
                    ErrorKind::Unsupported,
                    "the fake executor has no guest to run commands or keep files in",
                ))
            }
            Request::Shutdown => Ok(Response::Done),
        }
    }
}
