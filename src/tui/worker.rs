//! The worker thread: it creates the Session (booting the sandbox VM can
//! take seconds, so the UI is already up meanwhile), owns it, performs the
//! UI's commands one at a time, samples block statistics about once a
//! second, and tears the session down at the end. Everything it learns goes
//! back to the UI as [`Update`]s; the executor's events reach the same
//! channel through the session's event sink, so they arrive in order.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::mpsc::UnboundedSender;

use crate::exec::EventSink;
use crate::exec::protocol::{ProbeOp, ProbeResult, TableLine};
use crate::kbuild::BuiltModule;
use crate::lab::engine::{self, LabContext, StepObserver};
use crate::lab::model::Lab;
use crate::session::{ModuleBuild, ProbeRequest, ProbeTarget, Probed, Session, SessionError};

use super::action::{BuiltInfo, Command, Job, SessionInfo, SessionState, Ticket, Update};

/// Creates the session on the worker thread, given the sink its executor
/// must deliver events to.
pub type SessionFactory = Box<dyn FnOnce(EventSink) -> Result<Session> + Send>;

pub type UpdateSender = UnboundedSender<Update>;

#[derive(Clone)]
pub struct WorkerConfig {
    /// Where kmod sources resolve, the kernel tree they build against and
    /// the builder: the same context the headless runner gives the engine.
    pub context: LabContext,
    /// The lab whose steps `RunLabStep` runs.
    pub lab: Option<Lab>,
    /// How often block statistics are sampled; `None` never (tests).
    pub stats_interval: Option<Duration>,
}

/// The UI's handle: sends jobs; on drop, makes sure the session is torn
/// down and the thread has finished (also when the UI unwinds a panic).
pub struct WorkerHandle {
    jobs: mpsc::Sender<Job>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn send(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }

    /// Waits for the worker to finish (after a teardown job).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Harmless if a teardown already ran: the worker has exited and
            // the send fails, or teardown is idempotent.
            let _ = self.jobs.send(Job {
                ticket: 0,
                command: Command::Teardown,
            });
            let _ = thread.join();
        }
    }
}

pub fn spawn(factory: SessionFactory, updates: UpdateSender, config: WorkerConfig) -> WorkerHandle {
    let (jobs, inbox) = mpsc::channel::<Job>();
    let own_jobs = jobs.clone();
    let failed = updates.clone();
    let thread = std::thread::Builder::new()
        .name("dmbench-session".into())
        .spawn(move || run(factory, inbox, own_jobs, updates, config));
    match thread {
        Ok(thread) => WorkerHandle {
            jobs,
            thread: Some(thread),
        },
        Err(e) => {
            // No thread means no session: nothing to tear down later.
            let _ = failed.send(Update::StartFailed(format!(
                "cannot start the session thread: {e}"
            )));
            WorkerHandle { jobs, thread: None }
        }
    }
}

fn run(
    factory: SessionFactory,
    inbox: mpsc::Receiver<Job>,
    own_jobs: mpsc::Sender<Job>,
    updates: UpdateSender,
    config: WorkerConfig,
) {
    let sink_updates = updates.clone();
    let sink: EventSink = Arc::new(move |event| {
        let _ = sink_updates.send(Update::Event(event));
    });
    let session = match factory(sink) {
        Ok(session) => session,
        Err(e) => {
            let _ = updates.send(Update::StartFailed(format!("{e:#}")));
            return serve_without_session(inbox, &updates);
        }
    };
    let mut worker = Worker {
        session,
        updates,
        own_jobs,
        config,
    };
    worker.announce();
    worker.serve(inbox);
}

/// After a failed start: answer every job so the UI never waits forever.
fn serve_without_session(inbox: mpsc::Receiver<Job>, updates: &UpdateSender) {
    for job in inbox {
        match job.command {
            Command::Teardown => {
                let _ = updates.send(Update::TornDown(Default::default()));
                return;
            }
            Command::Sync(n) => {
                let _ = updates.send(Update::Synced(n));
            }
            _ => {
                let _ = updates.send(Update::Finished {
                    ticket: job.ticket,
                    result: Err(SessionError::refused("there is no session")),
                });
            }
        }
    }
}

struct Worker {
    session: Session,
    updates: UpdateSender,
    own_jobs: mpsc::Sender<Job>,
    config: WorkerConfig,
}

impl Worker {
    fn send(&self, update: Update) {
        // The UI may be gone (it is shutting down); nothing to do then.
        let _ = self.updates.send(update);
    }

    fn announce(&mut self) {
        self.send(Update::Ready {
            info: SessionInfo {
                id: self.session.id().to_string(),
                executor: self.session.placement(),
                kernel: self.session.kernel_release().to_string(),
            },
            canceller: self.session.canceller(),
        });
        self.send_state();
        self.send_targets();
    }

    fn serve(mut self, inbox: mpsc::Receiver<Job>) {
        let mut next_stats = self.config.stats_interval.map(|i| Instant::now() + i);
        loop {
            let received = match next_stats {
                Some(due) => inbox.recv_timeout(due.saturating_duration_since(Instant::now())),
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(job) => {
                    if job.command == Command::Teardown {
                        let report = self.session.teardown();
                        self.send(Update::TornDown(report));
                        return;
                    }
                    self.handle(job);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // The UI is gone without asking: dropping the session at
                // the end of this function tears it down.
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if let (Some(due), Some(interval)) = (next_stats, self.config.stats_interval)
                && Instant::now() >= due
            {
                self.sample_stats();
                next_stats = Some(Instant::now() + interval);
            }
        }
    }

    fn sample_stats(&mut self) {
        // A failed sample is not worth a message every second.
        if let Ok(stats) = self.session.block_stats()
            && !stats.is_empty()
        {
            self.send(Update::Stats {
                stats,
                at: Instant::now(),
            });
        }
    }

    fn send_state(&self) {
        self.send(Update::State(SessionState {
            disks: self.session.disks().cloned().collect(),
            devices: self.session.devices().cloned().collect(),
            modules: self.session.modules().cloned().collect(),
            dm_stats: self
                .session
                .devices()
                .filter_map(|d| {
                    let stats = self.session.device_stats(&d.name)?;
                    Some((d.name.clone(), stats.clone()))
                })
                .collect(),
        }));
    }

    fn send_targets(&mut self) {
        match self.session.target_versions() {
            Ok(targets) => self.send(Update::Targets(targets)),
            Err(e) => self.send(Update::Event(crate::exec::Event::Action {
                text: format!("could not list target types: {e:#}"),
            })),
        }
    }

    fn handle(&mut self, job: Job) {
        let Job { ticket, command } = job;
        let changes_state = !matches!(
            command,
            Command::LiveTable { .. }
                | Command::DeviceStatus { .. }
                | Command::DeviceInfo { .. }
                | Command::Probe(_)
                | Command::RefreshTargets
                | Command::SaveTable { .. }
                | Command::LoadTable { .. }
                | Command::Build { .. }
                | Command::Sync(_)
        );
        let lab_step = matches!(command, Command::RunLabStep { .. });
        let refresh_targets = lab_step
            || matches!(
                command,
                Command::LoadModule { .. }
                    | Command::UnloadModule { .. }
                    | Command::ReloadModule { .. }
                    | Command::RefreshTargets
            );
        let result = match command {
            Command::Sync(n) => {
                self.send(Update::Synced(n));
                return;
            }
            Command::Build { source } => {
                self.build(ticket, source);
                return;
            }
            command => self.perform(ticket, command),
        };
        if changes_state {
            self.send_state();
        }
        if refresh_targets {
            self.send_targets();
        }
        self.send(Update::Finished { ticket, result });
    }

    /// Does one command; `Ok` carries a summary or the command's output.
    fn perform(&mut self, ticket: Ticket, command: Command) -> Result<String, SessionError> {
        let s = &mut self.session;
        match command {
            Command::AddDisk { name, size_bytes } => {
                let disk = s.add_disk(&name, size_bytes, false, false)?;
                Ok(format!(
                    "disk {name}: {} on {}",
                    crate::units::format_size(size_bytes),
                    disk.device.display()
                ))
            }
            Command::DetachDisk { name } => {
                s.detach_disk(&name)?;
                Ok(format!("disk {name} detached"))
            }
            Command::Register {
                source,
                name,
                image,
            } => {
                let build = crate::session::ModuleBuild {
                    debug_image: crate::kbuild::cache::debug_image(&image),
                    image,
                    source: Some(source.clone()),
                };
                s.register_module(&name, build);
                Ok(format!("built {name} from {}", source.display()))
            }
            Command::LoadModule { name } => {
                s.load_module(&name, "")?;
                Ok(format!("module {name} loaded"))
            }
            Command::UnloadModule { name } => {
                s.unload_module(&name)?;
                Ok(format!("module {name} unloaded"))
            }
            Command::CreateDevice { name, table } => {
                let device = s.create_device(&name, &table)?;
                Ok(format!(
                    "created {} ({} sectors)",
                    device.path().display(),
                    device.sectors()
                ))
            }
            Command::ReloadDevice { name, table } => {
                s.reload_device(&name, &table)?;
                Ok(format!("{name} reloaded"))
            }
            Command::LiveTable { name } => {
                let lines = s.device_table(&name)?;
                let text = format_lines(&lines);
                self.send(Update::LiveTable { name, lines });
                Ok(text)
            }
            Command::RemoveDevice { name } => {
                s.remove_device(&name)?;
                Ok(format!("{name} removed"))
            }
            Command::SuspendDevice { name } => {
                s.suspend_device(&name)?;
                Ok(format!("{name} suspended"))
            }
            Command::ResumeDevice { name } => {
                s.resume_device(&name)?;
                Ok(format!("{name} resumed"))
            }
            Command::DeviceStatus { name } => Ok(format_lines(&s.device_status(&name)?)),
            Command::DeviceInfo { name } => {
                let info = s.device_info(&name)?;
                Ok(format!(
                    "name {} uuid {} dev {}:{} open {} events {} targets {}{}{}",
                    info.name,
                    info.uuid,
                    info.major,
                    info.minor,
                    info.open_count,
                    info.event_nr,
                    info.target_count,
                    if info.suspended {
                        " suspended"
                    } else {
                        " active"
                    },
                    if info.read_only { " read-only" } else { "" }
                ))
            }
            Command::Message { name, sector, text } => {
                Ok(s.message(&name, sector, &text)?.unwrap_or_default())
            }
            Command::Probe(request) => {
                let probed = s.probe(&request)?;
                let result = probed.result.clone();
                let summary = probe_summary(&request.target, &result);
                let failure = probe_failure(&result);
                self.send(Update::Probed {
                    ticket,
                    request,
                    probed: Box::new(probed),
                });
                match failure {
                    Some(text) => Err(SessionError::refused(format!("{summary}: {text}"))),
                    None => Ok(summary),
                }
            }
            Command::RunLabStep { index } => Ok(self.run_lab_step(ticket, index)),
            Command::ReloadModule { source, name } => self.reload_module(ticket, source, &name),
            Command::RefreshTargets => Ok(String::new()),
            Command::SaveTable { path, text } => {
                std::fs::write(&path, text)
                    .map_err(|e| SessionError::File(format!("saving {}: {e}", path.display())))?;
                Ok(format!("table saved to {}", path.display()))
            }
            Command::LoadTable { path } => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| SessionError::File(format!("opening {}: {e}", path.display())))?;
                self.send(Update::TableText {
                    path: path.clone(),
                    text,
                });
                Ok(format!("opened {}", path.display()))
            }
            // Handled before dispatch.
            Command::Build { .. } | Command::Sync(_) | Command::Teardown => Ok(String::new()),
        }
    }

    /// A lab step through the engine; its record goes to the Lab pane,
    /// and the summary is the command's output.
    fn run_lab_step(&mut self, ticket: Ticket, index: usize) -> String {
        let Some(step) = self
            .config
            .lab
            .as_ref()
            .and_then(|lab| lab.steps.get(index))
            .cloned()
        else {
            return String::new();
        };
        let mut observer = UiObserver {
            updates: &self.updates,
            ticket,
        };
        let record = engine::run_step(
            &mut self.session,
            &self.config.context,
            index + 1,
            &step,
            &mut observer,
        );
        let summary = record.summary.clone();
        self.send(Update::LabStep {
            ticket,
            record: Box::new(record),
        });
        summary
    }

    /// Hot reload: builds here (the session waits for the swap anyway,
    /// and build lines still stream), then swaps the module in.
    fn reload_module(
        &mut self,
        ticket: Ticket,
        source: PathBuf,
        name: &str,
    ) -> Result<String, SessionError> {
        let mut observer = UiObserver {
            updates: &self.updates,
            ticket,
        };
        let kdir = self
            .config
            .context
            .kdir
            .clone()
            .ok_or_else(|| SessionError::Build {
                dir: source.clone(),
                message: "no kernel tree to build against: run `dmbench kernel build`".into(),
            })?;
        let built = (self.config.context.builder)(&source, &kdir, &mut |line: &str| {
            observer.build_line(&source, line)
        });
        let built = match built {
            Ok(built) => {
                observer.built(&source, Ok(&built));
                built
            }
            Err(e) => {
                let message = format!("{e:#}");
                observer.built(&source, Err(&message));
                return Err(SessionError::Build {
                    dir: source,
                    message: format!(
                        "{message}\nthe loaded {name} and its devices stay as they were"
                    ),
                });
            }
        };
        if built.name != name {
            return Err(SessionError::refused(format!(
                "{} builds module '{}', not '{name}'",
                source.display(),
                built.name
            )));
        }
        let swap = self
            .session
            .swap_module(name, ModuleBuild::of(&built, &source))?;
        Ok(format!(
            "{name}: swapped under {} device(s), I/O stopped {}",
            swap.devices.len(),
            engine::format_duration(swap.stalled)
        ))
    }

    /// Builds on a helper thread: a kernel module build takes seconds to
    /// minutes, and the session must stay usable meanwhile. The result
    /// comes back to this worker as a `Register` job with the same ticket.
    fn build(&self, ticket: Ticket, source: PathBuf) {
        let updates = self.updates.clone();
        let jobs = self.own_jobs.clone();
        let builder = self.config.context.builder.clone();
        let Some(kdir) = self.config.context.kdir.clone() else {
            self.send(Update::Finished {
                ticket,
                result: Err(SessionError::Build {
                    dir: source,
                    message: "no kernel tree to build against: run `dmbench kernel build`".into(),
                }),
            });
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("dmbench-build".into())
            .spawn(move || {
                let line_updates = updates.clone();
                let line_source = source.clone();
                let mut on_line = |line: &str| {
                    let _ = line_updates.send(Update::BuildLine {
                        source: line_source.clone(),
                        line: line.to_string(),
                    });
                };
                match builder(&source, &kdir, &mut on_line) {
                    Ok(built) => {
                        let _ = updates.send(Update::Built {
                            source: source.clone(),
                            result: Ok(BuiltInfo::from(&built)),
                        });
                        let _ = jobs.send(Job {
                            ticket,
                            command: Command::Register {
                                source,
                                name: built.name,
                                image: built.path,
                            },
                        });
                    }
                    Err(e) => {
                        let text = format!("{e:#}");
                        let _ = updates.send(Update::Built {
                            source: source.clone(),
                            result: Err(text.clone()),
                        });
                        let _ = updates.send(Update::Finished {
                            ticket,
                            result: Err(SessionError::Build {
                                dir: source,
                                message: text,
                            }),
                        });
                    }
                }
            });
        if let Err(e) = spawned {
            self.send(Update::Finished {
                ticket,
                result: Err(SessionError::refused(format!(
                    "cannot start the build: {e}"
                ))),
            });
        }
    }
}

/// Shows a lab step's progress as the manual commands do: build lines in
/// the module pane, probes in the probe pane.
struct UiObserver<'a> {
    updates: &'a UpdateSender,
    ticket: Ticket,
}

impl StepObserver for UiObserver<'_> {
    fn build_line(&mut self, source: &Path, line: &str) {
        let _ = self.updates.send(Update::BuildLine {
            source: source.to_path_buf(),
            line: line.to_string(),
        });
    }

    fn built(&mut self, source: &Path, result: Result<&BuiltModule, &str>) {
        let _ = self.updates.send(Update::Built {
            source: source.to_path_buf(),
            result: result.map(BuiltInfo::from).map_err(str::to_string),
        });
    }

    fn probed(&mut self, request: &ProbeRequest, probed: &Probed) {
        let _ = self.updates.send(Update::Probed {
            ticket: self.ticket,
            request: request.clone(),
            probed: Box::new(probed.clone()),
        });
    }
}

fn format_lines(lines: &[TableLine]) -> String {
    lines
        .iter()
        .map(engine::format_line)
        .collect::<Vec<_>>()
        .join("\n")
}

fn probe_summary(target: &ProbeTarget, result: &ProbeResult) -> String {
    let name = target.name();
    format!(
        "{} {name}: {} B, {:.1} MiB/s",
        match result.op {
            ProbeOp::Write => "write",
            ProbeOp::Read => "read",
        },
        result.bytes,
        result.mib_per_s
    )
}

/// A probe that ran but did not do what it should: the lab's `expect.error`
/// matches this text (it names the errno).
fn probe_failure(result: &ProbeResult) -> Option<String> {
    if let Some(e) = &result.io_error {
        return Some(format!("I/O error {} at byte {}", e.name, e.offset));
    }
    if let Some(m) = &result.mismatch {
        return Some(format!(
            "MISMATCH at byte {}: expected {}, found {} ({} bad block(s))",
            m.offset, m.expected, m.found, m.total_bad_blocks
        ));
    }
    result.cancelled.then(|| "cancelled".to_string())
}
