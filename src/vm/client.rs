//! `VmExecutor`: the host side of the sandbox VM. It boots QEMU, connects
//! to the agent's virtio-serial port (a unix socket on this side), and
//! turns each request into a frame and waits for its answer, while events
//! and console lines flow to the session's sink. A dead or panicked guest
//! becomes an `ErrorKind::GuestDied` error, never a hang.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use super::qemu::{self, Accel, ConsoleLog, ConsoleNews};
use crate::exec::protocol::{ErrorKind, ExecError, Frame, PROTOCOL_VERSION, Request, Response};
use crate::exec::{Canceller, EventSink, Executor, Placement};

#[derive(Debug, Clone)]
pub struct VmConfig {
    /// Uncompressed kernel with a PVH entry (vmlinux) or a bzImage.
    pub kernel: PathBuf,
    /// The dmbench binary to run as the guest's init.
    pub agent_binary: PathBuf,
    pub memory_mib: u32,
    /// None: use KVM when it really works here, else TCG.
    pub accel: Option<Accel>,
    pub boot_timeout: Duration,
    /// Answer deadline for ordinary requests; probes get `probe_timeout`.
    pub request_timeout: Duration,
    pub probe_timeout: Duration,
    pub extra_append: String,
    /// Guest time counts instructions (`--vm-deterministic`).
    pub deterministic: bool,
}

impl VmConfig {
    pub fn new(kernel: PathBuf, agent_binary: PathBuf) -> Self {
        VmConfig {
            kernel,
            agent_binary,
            // Enough for the labs' sparse disks; every extra MiB of guest
            // memory costs page-struct setup at boot under TCG.
            memory_mib: 512,
            accel: None,
            boot_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            probe_timeout: Duration::from_secs(1800),
            extra_append: String::new(),
            deterministic: false,
        }
    }
}

/// How long the phases of a boot took (for `dmbench vm check` and benches).
#[derive(Debug, Clone)]
pub struct BootTimings {
    pub image: Duration,
    pub spawn_to_handshake: Duration,
    pub total: Duration,
    /// The accelerator the VM runs on.
    pub accel: Accel,
    pub image_bytes: usize,
}

enum Incoming {
    /// Boxed: a probe's answer is large, the other messages small.
    Response(u64, Box<Result<Response, ExecError>>),
    Console(ConsoleNews),
    LinkClosed,
}

pub struct VmExecutor {
    config: VmConfig,
    child: Child,
    writer: Arc<Mutex<UnixStream>>,
    incoming: Receiver<Incoming>,
    console: Arc<Mutex<ConsoleLog>>,
    qemu_stderr: Arc<Mutex<String>>,
    next_id: u64,
    dead: Option<ExecError>,
    run_dir: PathBuf,
    pub timings: BootTimings,
}

impl VmExecutor {
    /// The fresh private directory holding the agent socket.
    pub fn socket_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Boots the VM and completes the handshake, or says why not.
    pub fn boot(config: VmConfig, events: EventSink) -> Result<VmExecutor> {
        let started = Instant::now();
        let image_started = Instant::now();
        let initrd = super::image_cache::initramfs_for(&config.agent_binary)?;
        let image_bytes = std::fs::metadata(&initrd)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let image_time = image_started.elapsed();
        let accel = match config.accel {
            Some(a) => a,
            None => super::accel::choose(),
        };
        match Self::boot_with(&config, &initrd, accel, events.clone()) {
            Ok(mut vm) => {
                if config.accel.is_none() {
                    super::accel::remember(accel, true);
                }
                vm.timings.image = image_time;
                vm.timings.total = started.elapsed();
                vm.timings.image_bytes = image_bytes;
                Ok(vm)
            }
            Err(err) if accel == Accel::Kvm && config.accel.is_none() => {
                // /dev/kvm can exist and still not run an ordinary guest
                // (nested or paravirtual hosts): fall back, and remember.
                super::accel::remember(Accel::Kvm, false);
                let mut vm = Self::boot_with(&config, &initrd, Accel::Tcg, events)
                    .with_context(|| format!("KVM failed first ({err:#}), then TCG"))?;
                vm.timings.image = image_time;
                vm.timings.total = started.elapsed();
                vm.timings.image_bytes = image_bytes;
                Ok(vm)
            }
            Err(err) => Err(err),
        }
    }

    fn boot_with(
        config: &VmConfig,
        initrd: &Path,
        accel: Accel,
        events: EventSink,
    ) -> Result<VmExecutor> {
        let run_dir = super::run_dir()?;
        let socket = run_dir.join(super::SOCKET);
        let spawned = Instant::now();
        let mut child = qemu::spawn(&qemu::LaunchSpec {
            kernel: &config.kernel,
            initrd,
            socket: &socket,
            memory_mib: config.memory_mib,
            accel,
            extra_append: &config.extra_append,
            deterministic: config.deterministic,
        })?;
        let (tx, incoming) = mpsc::channel();
        let console = Arc::new(Mutex::new(ConsoleLog::default()));
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("QEMU has no stdout"))?;
        let qemu_stderr = qemu::collect_stderr(
            child
                .stderr
                .take()
                .ok_or_else(|| anyhow!("QEMU has no stderr"))?,
        );
        let (news_tx, news_rx) = mpsc::channel();
        qemu::watch_console(stdout, console.clone(), events.clone(), news_tx);
        let console_tx = tx.clone();
        std::thread::spawn(move || {
            for news in news_rx {
                if console_tx.send(Incoming::Console(news)).is_err() {
                    break;
                }
            }
        });

        let stream = match connect(&socket, &mut child, config.boot_timeout) {
            Ok(s) => s,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = qemu_stderr.lock().map(|s| s.clone()).unwrap_or_default();
                let _ = std::fs::remove_dir_all(&run_dir);
                bail!("{e:#}{}", stderr_suffix(&stderr));
            }
        };
        let reader = stream.try_clone()?;
        spawn_frame_reader(reader, tx, events);
        let mut vm = VmExecutor {
            config: config.clone(),
            child,
            writer: Arc::new(Mutex::new(stream)),
            incoming,
            console,
            qemu_stderr,
            next_id: 1,
            dead: None,
            run_dir,
            timings: BootTimings {
                image: Duration::ZERO,
                spawn_to_handshake: Duration::ZERO,
                total: Duration::ZERO,
                accel,
                image_bytes: 0,
            },
        };
        let hello = vm.call_with_timeout(
            Request::Hello {
                version: PROTOCOL_VERSION,
            },
            config.boot_timeout,
        );
        match hello {
            Ok(Response::Hello { version, .. }) if version == PROTOCOL_VERSION => {}
            Ok(other) => bail!("agent answered the handshake with {other:?}"),
            Err(e) => {
                let stderr = vm.qemu_stderr.lock().map(|s| s.clone()).unwrap_or_default();
                bail!(
                    "sandbox VM ({}) did not complete the handshake: {}{}{}",
                    accel.name(),
                    e.full_text(),
                    stderr_suffix(&stderr),
                    vm.console_tail(15)
                );
            }
        }
        vm.timings.spawn_to_handshake = spawned.elapsed();
        Ok(vm)
    }

    /// The last lines of the guest console, for error reports.
    pub fn console_tail(&self, n: usize) -> String {
        let lines = self
            .console
            .lock()
            .map(|l| {
                let start = l.lines.len().saturating_sub(n);
                l.lines[start..].join("\n")
            })
            .unwrap_or_default();
        if lines.is_empty() {
            String::new()
        } else {
            format!("\nguest console (last lines):\n{lines}")
        }
    }

    pub fn console_lines(&self) -> Vec<String> {
        self.console
            .lock()
            .map(|l| l.lines.clone())
            .unwrap_or_default()
    }

    fn call_with_timeout(
        &mut self,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, ExecError> {
        if let Some(dead) = &self.dead {
            return Err(dead.clone());
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut line = serde_json::to_vec(&Frame::Request { id, request })
            .map_err(|e| ExecError::new(ErrorKind::Protocol, format!("encode: {e}")))?;
        line.push(b'\n');
        let written = self
            .writer
            .lock()
            .map_err(|_| ExecError::new(ErrorKind::Protocol, "writer poisoned"))
            .and_then(|mut w| {
                w.write_all(&line).map_err(|e| {
                    ExecError::new(ErrorKind::GuestDied, format!("sending to the VM: {e}"))
                })
            });
        if let Err(e) = written {
            return Err(self.die(e));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(Incoming::Response(rid, result)) if rid == id => return *result,
                Ok(Incoming::Response(..)) => {}
                Ok(Incoming::Console(ConsoleNews::Panic(text))) => {
                    let e = ExecError::new(
                        ErrorKind::GuestDied,
                        format!("the guest kernel panicked:\n{text}"),
                    );
                    return Err(self.die(e));
                }
                Ok(Incoming::Console(ConsoleNews::Closed)) | Ok(Incoming::LinkClosed) => {
                    let status = self.child.try_wait().ok().flatten();
                    let e = ExecError::new(
                        ErrorKind::GuestDied,
                        format!(
                            "the sandbox VM stopped unexpectedly ({}){}",
                            status.map_or("still running".into(), |s| s.to_string()),
                            self.console_tail(10)
                        ),
                    );
                    // A panic report may still be queued behind Closed.
                    if let Ok(Incoming::Console(ConsoleNews::Panic(text))) =
                        self.incoming.recv_timeout(Duration::from_secs(1))
                    {
                        let e = ExecError::new(
                            ErrorKind::GuestDied,
                            format!("the guest kernel panicked:\n{text}"),
                        );
                        return Err(self.die(e));
                    }
                    return Err(self.die(e));
                }
                Err(RecvTimeoutError::Timeout) => {
                    let e = ExecError::new(
                        ErrorKind::GuestDied,
                        format!(
                            "no answer from the sandbox VM within {timeout:?} (a target that never \
                             completes its I/O hangs the guest){}",
                            self.console_tail(10)
                        ),
                    );
                    return Err(self.die(e));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let e = ExecError::new(ErrorKind::GuestDied, "the VM link is gone");
                    return Err(self.die(e));
                }
            }
        }
    }

    /// Marks the VM dead (every later call fails the same way) and stops it.
    fn die(&mut self, err: ExecError) -> ExecError {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.dead = Some(err.clone());
        err
    }

    /// Asks the agent to power off and waits for QEMU to exit.
    pub fn shutdown(&mut self) -> Result<()> {
        if self.dead.is_none() {
            let _ = self.call_with_timeout(Request::Shutdown, Duration::from_secs(10));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.dead.get_or_insert(ExecError::new(
                    ErrorKind::GuestDied,
                    "the sandbox VM was shut down",
                ));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("the sandbox VM did not power off within 10 s; killed it")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Executor for VmExecutor {
    fn call(&mut self, request: Request) -> Result<Response, ExecError> {
        let timeout = match &request {
            Request::Probe(_) => self.config.probe_timeout,
            _ => self.config.request_timeout,
        };
        let shutdown = matches!(request, Request::Shutdown);
        if shutdown {
            return self
                .shutdown()
                .map(|_| Response::Done)
                .map_err(|e| ExecError::new(ErrorKind::GuestDied, format!("{e:#}")));
        }
        self.call_with_timeout(request, timeout)
    }

    fn canceller(&self) -> Canceller {
        let writer = self.writer.clone();
        Arc::new(move || {
            let frame = Frame::Request {
                id: 0,
                request: Request::Cancel,
            };
            if let (Ok(mut line), Ok(mut w)) = (serde_json::to_vec(&frame), writer.lock()) {
                line.push(b'\n');
                let _ = w.write_all(&line);
            }
        })
    }

    fn kind(&self) -> Placement {
        Placement::Vm
    }
}

impl Drop for VmExecutor {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

fn stderr_suffix(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!("\nQEMU said: {s}")
    }
}

/// QEMU creates the socket a moment after it starts; keep trying until it
/// accepts or QEMU has exited.
fn connect(socket: &Path, child: &mut Child, timeout: Duration) -> Result<UnixStream> {
    let deadline = Instant::now() + timeout;
    loop {
        match UnixStream::connect(socket) {
            Ok(s) => {
                check_peer(&s, child.id())?;
                return Ok(s);
            }
            Err(e) => {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!("QEMU exited before the VM started ({status})");
                }
                if Instant::now() > deadline {
                    bail!("cannot connect to {}: {e}", socket.display());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// The socket's directory is private; the listener is still checked to be
/// our own QEMU child, running as us, before anything is sent or believed.
fn check_peer(stream: &UnixStream, qemu_pid: u32) -> Result<()> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let peer = getsockopt(stream, PeerCredentials).context("reading the agent socket's peer")?;
    let me = nix::unistd::geteuid().as_raw();
    if u32::try_from(peer.pid()).ok() != Some(qemu_pid) || peer.uid() != me {
        bail!(
            "the agent socket is served by pid {} (uid {}), not our QEMU (pid {qemu_pid}, uid \
             {me}): refusing to talk to it",
            peer.pid(),
            peer.uid()
        );
    }
    Ok(())
}

fn spawn_frame_reader(stream: UnixStream, tx: mpsc::Sender<Incoming>, events: EventSink) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => match serde_json::from_str::<Frame>(&line) {
                    Ok(Frame::Response { id, result }) => {
                        if tx.send(Incoming::Response(id, Box::new(result))).is_err() {
                            return;
                        }
                    }
                    Ok(Frame::Event(event)) => events(event),
                    Ok(Frame::Request { .. }) | Err(_) => {}
                },
            }
        }
        let _ = tx.send(Incoming::LinkClosed);
    });
}
