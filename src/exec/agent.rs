//! `dmbench agent`: the guest side of the sandbox VM. It runs as PID 1,
//! mounts what the kernel does not, serves the wire protocol on a
//! virtio-serial port with a `LocalExecutor`, reaps orphans, and reboots
//! (QEMU runs with -no-reboot, so that ends the VM) when told to shut down
//! or when the host goes away.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::local::LocalExecutor;
use super::protocol::{Frame, Request};
use super::{EventSink, Executor};

/// The name QEMU gives the port (`virtserialport,name=...`).
pub const PORT_NAME: &str = "org.dmbench.agent";

pub fn run() -> Result<()> {
    let pid1 = std::process::id() == 1;
    if pid1 {
        mount_basics();
        std::panic::set_hook(Box::new(|info| {
            console(&format!("dmbench agent panicked: {info}"));
        }));
        std::thread::spawn(reap_orphans);
    }
    let result = serve();
    if let Err(e) = &result {
        console(&format!("dmbench agent: {e:#}"));
    }
    if pid1 {
        power_off();
    }
    result
}

/// Mounts proc, sysfs, devtmpfs and tmpfs; the kernel mounts nothing for an
/// initramfs init.
fn mount_basics() {
    use nix::mount::{MsFlags, mount};
    let mounts: [(&str, &str, &str); 5] = [
        ("proc", "/proc", "proc"),
        ("sysfs", "/sys", "sysfs"),
        ("devtmpfs", "/dev", "devtmpfs"),
        ("tmpfs", "/run", "tmpfs"),
        ("tmpfs", "/tmp", "tmpfs"),
    ];
    for (source, target, fstype) in mounts {
        let _ = std::fs::create_dir_all(target);
        if let Err(e) = mount(
            Some(source),
            target,
            Some(fstype),
            MsFlags::MS_NOSUID,
            None::<&str>,
        ) {
            console(&format!("mount {target}: {e}"));
        }
    }
    let _ = std::fs::create_dir_all("/dev/mapper");
    // Block tracepoints (bio journeys) are read through tracefs. sysfs
    // has the mount point only in a kernel built with tracing.
    if Path::new(super::local::tracefs::TRACEFS).is_dir()
        && let Err(e) = mount(
            Some("tracefs"),
            super::local::tracefs::TRACEFS,
            Some("tracefs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
    {
        console(&format!("mount {}: {e}", super::local::tracefs::TRACEFS));
    }
}

/// PID 1 inherits every orphan; sweep them up so none stays a zombie.
/// Non-blocking and under the children lock, so a command the agent runs
/// itself is always waited for by its own caller.
fn reap_orphans() {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let Ok(_guard) = super::local::executor::CHILDREN.lock() else {
            continue;
        };
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            if status == WaitStatus::StillAlive {
                break;
            }
        }
    }
}

fn power_off() -> ! {
    nix::unistd::sync();
    let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_AUTOBOOT);
    // reboot(2) does not return on success; if it failed there is nothing
    // left to do but wait.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn console(text: &str) {
    if let Ok(mut f) = OpenOptions::new().write(true).open("/dev/console") {
        let _ = writeln!(f, "{text}");
    } else {
        eprintln!("{text}");
    }
}

/// The id of a request frame that did not parse as a whole.
fn frame_id(line: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get("request")?.get("id")?.as_u64()
}

/// /dev/vportNpM whose sysfs name is ours.
fn find_port(timeout: Duration) -> Result<PathBuf> {
    let started = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir("/sys/class/virtio-ports") {
            for entry in entries.flatten() {
                let name = std::fs::read_to_string(entry.path().join("name")).unwrap_or_default();
                if name.trim() == PORT_NAME {
                    return Ok(Path::new("/dev").join(entry.file_name()));
                }
            }
        }
        if started.elapsed() > timeout {
            bail!("virtio-serial port '{PORT_NAME}' did not appear within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

type Writer = Arc<Mutex<File>>;

fn send(writer: &Writer, frame: &Frame) {
    let Ok(mut line) = serde_json::to_vec(frame) else {
        return;
    };
    line.push(b'\n');
    if let Ok(mut w) = writer.lock() {
        let _ = w.write_all(&line);
    }
}

fn serve() -> Result<()> {
    let port = find_port(Duration::from_secs(10))?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&port)
        .with_context(|| format!("open {}", port.display()))?;
    let writer: Writer = Arc::new(Mutex::new(file.try_clone()?));

    let event_writer = writer.clone();
    let sink: EventSink = Arc::new(move |event| send(&event_writer, &Frame::Event(event)));
    let mut executor = LocalExecutor::for_agent(sink);
    let cancel = executor.canceller();

    // The reader answers Cancel at once, even while a probe runs on the
    // worker below; everything else is queued in order.
    let (tx, rx) = mpsc::channel::<(u64, Request)>();
    let reply_writer = writer.clone();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                // The port reads EOF while the host is not connected.
                Ok(0) => std::thread::sleep(Duration::from_millis(20)),
                Ok(_) => match serde_json::from_str::<Frame>(&line) {
                    Ok(Frame::Request {
                        request: Request::Cancel,
                        ..
                    }) => cancel(),
                    Ok(Frame::Request { id, request }) => {
                        if tx.send((id, request)).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        // Answer it if it has an id, so the host never
                        // waits for a reply that will not come.
                        console(&format!("agent: unreadable frame: {e}"));
                        if let Some(id) = frame_id(&line) {
                            let error = super::protocol::ExecError::new(
                                super::protocol::ErrorKind::Protocol,
                                format!("the agent could not read request {id}: {e}"),
                            );
                            send(
                                &reply_writer,
                                &Frame::Response {
                                    id,
                                    result: Err(error),
                                },
                            );
                        }
                    }
                },
                Err(e) => {
                    console(&format!("agent: reading port: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    });

    for (id, request) in rx {
        let shutdown = matches!(request, Request::Shutdown);
        let result = executor.call(request);
        send(&writer, &Frame::Response { id, result });
        if shutdown {
            break;
        }
    }
    Ok(())
}
