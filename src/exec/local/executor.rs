//! `LocalExecutor`: every request as direct syscalls on this kernel. Used
//! on a DM-capable host, and inside the sandbox VM by `dmbench agent`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::kmsg::KmsgReader;
use super::{blockstat, dm::Dm, kmod, loops, probe, stats_sampler, tracefs};
use crate::exec::protocol::*;
use crate::exec::{Canceller, EventSink, Executor, Placement};

/// How often device event numbers are polled (the crate cannot wait for a
/// given event number, so polling it is).
const DM_EVENT_POLL: Duration = Duration::from_millis(200);

pub struct LocalExecutor {
    events: EventSink,
    dm: Option<Dm>,
    cancel: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Shared with the follower thread; drained after every request so the
    /// kernel lines a request caused are sent before its answer.
    kmsg: Option<Arc<Mutex<KmsgReader>>>,
    threads: Vec<JoinHandle<()>>,
    /// `Vm` inside the sandbox VM: only there may a request crash the
    /// kernel, run programs or write files anywhere.
    kind: Placement,
}

impl LocalExecutor {
    /// Starts the kernel-log follower and DM event watcher.
    pub fn new(events: EventSink) -> Self {
        Self::build(events, Placement::Local)
    }

    /// The executor inside the sandbox VM.
    pub fn for_agent(events: EventSink) -> Self {
        Self::build(events, Placement::Vm)
    }

    fn build(events: EventSink, kind: Placement) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let kmsg = KmsgReader::open()
            .and_then(|mut r| r.seek_to_end().map(|_| r))
            .ok()
            .map(|r| Arc::new(Mutex::new(r)));
        if let Some(reader) = &kmsg {
            threads.push(spawn_kmsg_follower(
                reader.clone(),
                events.clone(),
                stop.clone(),
            ));
        }
        threads.push(spawn_dm_event_watcher(events.clone(), stop.clone()));
        LocalExecutor {
            events,
            dm: None,
            cancel: Arc::new(AtomicBool::new(false)),
            stop,
            kmsg,
            threads,
            kind,
        }
    }

    fn dm(&mut self) -> Result<&Dm, ExecError> {
        if self.dm.is_none() {
            self.dm = Some(Dm::open()?);
        }
        self.dm
            .as_ref()
            .ok_or_else(|| ExecError::new(ErrorKind::Unsupported, "device-mapper unavailable"))
    }

    /// A probe with what surrounds it: DM statistics cleared before and
    /// read after (sampled for the live map meanwhile) and, when asked
    /// and only in the sandbox VM, the block tracepoints recorded.
    fn run_probe(&mut self, spec: &ProbeSpec) -> Result<Response, ExecError> {
        self.cancel.store(false, Ordering::SeqCst);
        let mut notes = Vec::new();
        if let Some(stats) = &spec.stats {
            // The counters since the last probe are not this probe's.
            stats_sampler::read_regions(self.dm()?, stats, true, &mut notes);
        }
        let capture = if !spec.trace {
            None
        } else if self.kind != Placement::Vm {
            notes.push(
                "bio journeys are recorded in the sandbox VM only: tracing is global to a kernel"
                    .into(),
            );
            None
        } else {
            tracefs::Capture::start()
                .map_err(|why| notes.push(format!("no bio journey: {why}")))
                .ok()
        };
        let events = self.events.clone();
        let progress = move |done: u64, total: u64| {
            events(Event::Progress {
                done_bytes: done,
                total_bytes: total,
            })
        };
        let done = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            // The live map is of a DM device's statistics: a probe of a
            // disk has none to sample.
            let sampler = spec.stats.as_ref().map(|stats| {
                let (events, done) = (&self.events, &done);
                scope.spawn(move || {
                    stats_sampler::sample_until(stats, &spec.attribute, events, done)
                })
            });
            let outcome = probe::run_probe(spec, &self.cancel, &progress);
            done.store(true, Ordering::SeqCst);
            if let Some(sampler) = sampler {
                let _ = sampler.join();
            }
            outcome
        });
        let mut result = outcome?;
        if let Some(capture) = capture {
            match capture.finish() {
                Ok((records, cut)) => {
                    if cut {
                        notes.push(format!(
                            "bio journey: only the first {} trace records were kept",
                            tracefs::MAX_RECORDS
                        ));
                    }
                    result.trace = records;
                }
                Err(why) => notes.push(format!("no bio journey: {why}")),
            }
        }
        if let Some(stats) = &spec.stats {
            result.dm_stats = stats_sampler::read_regions(self.dm()?, stats, true, &mut notes);
        }
        result.notes = notes;
        Ok(Response::Probe(result))
    }
}

fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".into())
}

impl Executor for LocalExecutor {
    fn call(&mut self, request: Request) -> Result<Response, ExecError> {
        let result = self.answer(request);
        if let Some(reader) = &self.kmsg {
            forward_kmsg(reader, &self.events);
        }
        result
    }

    fn canceller(&self) -> Canceller {
        let cancel = self.cancel.clone();
        Arc::new(move || cancel.store(true, Ordering::SeqCst))
    }

    fn kind(&self) -> Placement {
        self.kind
    }
}

impl LocalExecutor {
    /// Requests a host never obeys: they are for the sandbox VM's own
    /// kernel and files.
    fn guest_only(&self, what: &str) -> Result<(), ExecError> {
        if self.kind == Placement::Vm {
            return Ok(());
        }
        Err(ExecError::new(
            ErrorKind::Unsupported,
            format!("refusing {what} on this host: only the sandbox VM's agent does that"),
        ))
    }

    fn answer(&mut self, request: Request) -> Result<Response, ExecError> {
        match request {
            Request::Hello { version } => {
                if version != PROTOCOL_VERSION {
                    return Err(ExecError::new(
                        ErrorKind::Protocol,
                        format!(
                            "protocol version {version} requested, this side speaks \
                             {PROTOCOL_VERSION}"
                        ),
                    ));
                }
                Ok(Response::Hello {
                    version: PROTOCOL_VERSION,
                    kernel_release: kernel_release(),
                    executor: self.kind,
                })
            }
            Request::LoadModule {
                name,
                image,
                params,
            } => kmod::load(&name, &image, &params).map(|_| Response::Done),
            Request::UnloadModule { name } => kmod::unload(&name).map(|_| Response::Done),
            Request::ListModules => kmod::list().map(|modules| Response::Modules { modules }),
            Request::CreateBacking { path, size_bytes } => {
                loops::create_backing(&path, size_bytes).map(|_| Response::Done)
            }
            Request::RemoveBacking { path } => loops::remove_backing(&path).map(|_| Response::Done),
            Request::AttachLoop {
                backing,
                read_only,
                direct_io,
            } => loops::attach(&backing, read_only, direct_io).map(|(device, major, minor)| {
                Response::Loop {
                    device,
                    major,
                    minor,
                }
            }),
            Request::DetachLoop { device } => loops::detach(&device).map(|_| Response::Done),
            Request::DmCreate { name, uuid, table } => {
                self.dm()?.create(&name, &uuid, &table).map(Response::Dm)
            }
            Request::DmLoad { name, table } => self.dm()?.load(&name, &table).map(Response::Dm),
            Request::DmSuspend { name } => self.dm()?.suspend(&name).map(Response::Dm),
            Request::DmResume { name } => self.dm()?.resume(&name).map(Response::Dm),
            Request::DmReload { name, table } => self.dm()?.reload(&name, &table).map(Response::Dm),
            Request::DmRemove { name, deferred } => {
                self.dm()?.remove(&name, deferred).map(Response::Dm)
            }
            Request::DmInfo { name } => self.dm()?.info(&name).map(Response::Dm),
            Request::DmTable { name } => self
                .dm()?
                .table(&name, false)
                .map(|(info, lines)| Response::Table { info, lines }),
            Request::DmStatus { name } => self
                .dm()?
                .table(&name, true)
                .map(|(info, lines)| Response::Status { info, lines }),
            Request::DmMessage { name, sector, text } => self
                .dm()?
                .message(&name, sector, &text)
                .map(|output| Response::Message { output }),
            Request::DmList => self
                .dm()?
                .list()
                .map(|devices| Response::DmDevices { devices }),
            Request::DmTargetVersions => self
                .dm()?
                .target_versions()
                .map(|targets| Response::TargetVersions { targets }),
            Request::Probe(spec) => self.run_probe(&spec),
            Request::Cancel => {
                self.cancel.store(true, Ordering::SeqCst);
                Ok(Response::Done)
            }
            Request::BlockStats { devices } => {
                let mut stats = Vec::new();
                for device in devices {
                    let counters = blockstat::read_stat(&device)?;
                    stats.push(BlockStat { device, counters });
                }
                Ok(Response::BlockStats { stats })
            }
            Request::SystemInfo => Ok(Response::SystemInfo {
                kernel_release: kernel_release(),
                clocksource: std::fs::read_to_string(
                    "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                )
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            }),
            Request::Stat { path } => {
                use std::os::unix::fs::FileTypeExt;
                let meta = std::fs::metadata(&path).ok();
                Ok(Response::Stat {
                    exists: meta.is_some(),
                    block_device: meta.is_some_and(|m| m.file_type().is_block_device()),
                })
            }
            Request::Inventory { dir } => Ok(Response::Inventory {
                dm: self.dm()?.list()?,
                loops: loops::attached(),
                files: loops::files_under(&dir),
            }),
            Request::CrashGuest => {
                self.guest_only("crashing the kernel")?;
                std::fs::write("/proc/sysrq-trigger", b"c").map_err(|e| {
                    ExecError::new(ErrorKind::Io, format!("write /proc/sysrq-trigger: {e}"))
                })?;
                Ok(Response::Done)
            }
            Request::RunCommand { argv, env } => {
                self.guest_only("running commands")?;
                run_command(&argv, &env)
            }
            Request::PutFile { path, data, mode } => {
                self.guest_only("writing files")?;
                put_file(&path, &data, mode)
            }
            Request::GetFile { path } => {
                self.guest_only("reading files")?;
                std::fs::read(&path)
                    .map(|data| Response::File { data })
                    .map_err(|e| ExecError::from_io(format!("reading {}: {e}", path.display()), &e))
            }
            Request::Shutdown => Ok(Response::Done),
        }
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            // They wait between polls parked, not asleep: waking them here
            // ends the guest (whose agent drops this before powering off)
            // without a 200 ms pause.
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Held while a child of ours runs: as PID 1 the agent also reaps orphans,
/// and its sweep must not take our own child's exit status first.
pub static CHILDREN: Mutex<()> = Mutex::new(());

fn run_command(argv: &[String], env: &[(String, String)]) -> Result<Response, ExecError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ExecError::new(ErrorKind::Invalid, "empty command"))?;
    let _no_reaping = CHILDREN.lock();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| ExecError::new(ErrorKind::NotFound, format!("run {program}: {e}")))?;
    Ok(Response::CommandOutput {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed_ns: started.elapsed().as_nanos() as u64,
    })
}

fn put_file(path: &std::path::Path, data: &[u8], mode: u32) -> Result<Response, ExecError> {
    use std::os::unix::fs::PermissionsExt;
    let write = || -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, data)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    };
    write()
        .map(|_| Response::Done)
        .map_err(|e| ExecError::from_io(format!("writing {}: {e}", path.display()), &e))
}

/// How often the follower looks for new kernel-log records.
const KMSG_POLL: Duration = Duration::from_millis(50);

fn forward_kmsg(reader: &Mutex<KmsgReader>, events: &EventSink) {
    let Ok(mut r) = reader.lock() else { return };
    if let Ok((records, lost)) = r.read_available() {
        if lost > 0 {
            events(Event::KmsgLost { count: lost });
        }
        for record in records {
            events(Event::Kmsg(record));
        }
    }
}

/// Streams kernel-log records while no request runs (and during long
/// probes, so the events pane stays live).
fn spawn_kmsg_follower(
    reader: Arc<Mutex<KmsgReader>>,
    events: EventSink,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            forward_kmsg(&reader, &events);
            std::thread::park_timeout(KMSG_POLL);
        }
    })
}

/// Emits `Event::DmEvent` whenever a device's event number moves.
fn spawn_dm_event_watcher(events: EventSink, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok(dm) = Dm::open() else { return };
        let mut last: HashMap<String, u32> = HashMap::new();
        while !stop.load(Ordering::SeqCst) {
            let now: HashMap<String, u32> = dm.event_numbers().into_iter().collect();
            for (name, nr) in &now {
                if last.get(name).is_some_and(|old| old != nr) {
                    events(Event::DmEvent {
                        name: name.clone(),
                        event_nr: *nr,
                    });
                }
            }
            last = now;
            std::thread::park_timeout(DM_EVENT_POLL);
        }
    })
}
