//! Launching QEMU for the sandbox VM and watching its serial console.
//!
//! The console is its own channel: every line is kept (bounded) and
//! forwarded as `Event::Console`, and a kernel panic or oops is recognised
//! there so the host can report it instead of hanging.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::exec::{Event, EventSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub struct LaunchSpec<'a> {
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub socket: &'a Path,
    pub memory_mib: u32,
    pub accel: Accel,
    pub extra_append: &'a str,
}

/// Kernel command line. `panic=-1` + `-no-reboot`: a panic ends QEMU at
/// once; `oops=panic` makes an oops in a student's target a clean stop.
pub fn kernel_cmdline(extra: &str) -> String {
    let mut line = String::from(
        "console=ttyS0 quiet panic=-1 oops=panic rdinit=/init tsc=reliable no_timer_check \
         i8042.noaux i8042.nokbd",
    );
    if !extra.is_empty() {
        line.push(' ');
        line.push_str(extra);
    }
    line
}

pub fn qemu_binary() -> PathBuf {
    std::env::var_os("DMBENCH_QEMU")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("qemu-system-x86_64"))
}

pub fn spawn(spec: &LaunchSpec<'_>) -> Result<Child> {
    let mut cmd = Command::new(qemu_binary());
    cmd.args(["-M", "q35", "-smp", "1", "-nodefaults", "-no-user-config"])
        .args(["-nographic", "-no-reboot", "-serial", "stdio"])
        .arg("-m")
        .arg(spec.memory_mib.to_string())
        .arg("-accel")
        .arg(spec.accel.name())
        .arg("-cpu")
        .arg(match spec.accel {
            Accel::Kvm => "host",
            Accel::Tcg => "max",
        })
        .arg("-kernel")
        .arg(spec.kernel)
        .arg("-initrd")
        .arg(spec.initrd)
        .arg("-append")
        .arg(kernel_cmdline(spec.extra_append))
        .arg("-chardev")
        .arg(format!(
            "socket,id=agent,path={},server=on,wait=off",
            spec.socket.display()
        ))
        .args(["-device", "virtio-serial-pci"])
        .arg("-device")
        .arg(format!(
            "virtserialport,chardev=agent,name={}",
            crate::exec::agent::PORT_NAME
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: prctl and setpgid are async-signal-safe and touch only this
    // child.
    unsafe {
        cmd.pre_exec(|| {
            // If dmbench dies, QEMU dies with it: nothing is left running.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Its own process group: a closed terminal (SIGHUP) or Ctrl-C
            // (SIGINT) reaches the terminal's foreground group, and the VM
            // must outlive that signal long enough for dmbench to tear the
            // session down inside it.
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().with_context(|| {
        format!(
            "starting {} (install the qemu-system-x86 package)",
            qemu_binary().display()
        )
    })
}

/// What the console thread tells the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleNews {
    /// The kernel panicked or oopsed; the text from the first marker on.
    Panic(String),
    /// QEMU's output ended: the VM is gone.
    Closed,
}

#[derive(Default)]
pub struct ConsoleLog {
    pub lines: Vec<String>,
}

const CONSOLE_KEEP: usize = 4000;
const PANIC_MARKERS: [&str; 6] = [
    "Kernel panic",
    "Oops:",
    "BUG:",
    "general protection fault",
    "Attempted to kill init",
    "dmbench agent panicked",
];

/// Reads console lines until EOF; reports a panic once with its text, and
/// Closed at the end.
pub fn watch_console(
    stdout: impl Read + Send + 'static,
    log: Arc<Mutex<ConsoleLog>>,
    events: EventSink,
    news: Sender<ConsoleNews>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut panic_text: Option<Vec<String>> = None;
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(bytes) = line else { break };
            let text = printable(&String::from_utf8_lossy(&bytes));
            if let Ok(mut l) = log.lock() {
                l.lines.push(text.clone());
                if l.lines.len() > CONSOLE_KEEP {
                    l.lines.drain(..CONSOLE_KEEP / 4);
                }
            }
            match &mut panic_text {
                Some(lines) => lines.push(text.clone()),
                None if PANIC_MARKERS.iter().any(|m| text.contains(m)) => {
                    panic_text = Some(vec![text.clone()]);
                }
                None => {}
            }
            events(Event::Console { line: text });
        }
        // QEMU exits right after a panic (panic=-1, -no-reboot), so the
        // whole report has been read by the time the pipe closes.
        if let Some(lines) = panic_text {
            let _ = news.send(ConsoleNews::Panic(panic_summary(&lines)));
        }
        let _ = news.send(ConsoleNews::Closed);
    })
}

/// A console line without terminal escape sequences (the firmware clears
/// the screen) or other control characters.
pub fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte; other escapes are two characters.
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if !c.is_control() || c == '\t' {
            out.push(c);
        }
    }
    out
}

/// The panic's headline and the lines that explain it, without the noise.
pub fn panic_summary(lines: &[String]) -> String {
    lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(40)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects QEMU's own stderr (argument errors, accelerator failures).
pub fn collect_stderr(stderr: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Ok(mut t) = sink.lock()
                && t.len() < 16 * 1024
            {
                t.push_str(&line);
            }
            line.clear();
        }
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_panic_on_the_console_is_reported_with_its_text() {
        let console = b"[    0.1] booting\n\
            [    2.0] sysrq: Trigger a crash\n\
            [    2.0] Kernel panic - not syncing: sysrq triggered crash\n\
            [    2.0] CPU: 0 PID: 1 Comm: init\n"
            .to_vec();
        let log = Arc::new(Mutex::new(ConsoleLog::default()));
        let (tx, rx) = mpsc::channel();
        let seen = Arc::new(Mutex::new(0usize));
        let counter = seen.clone();
        let events: EventSink = Arc::new(move |_| {
            if let Ok(mut n) = counter.lock() {
                *n += 1;
            }
        });
        watch_console(std::io::Cursor::new(console), log.clone(), events, tx)
            .join()
            .expect("thread");
        let first = rx.recv().expect("news");
        match first {
            ConsoleNews::Panic(text) => {
                assert!(
                    text.starts_with("[    2.0] Kernel panic - not syncing"),
                    "{text}"
                );
                assert!(text.contains("Comm: init"));
            }
            other => panic!("expected a panic report, got {other:?}"),
        }
        assert_eq!(rx.recv().expect("closed"), ConsoleNews::Closed);
        assert_eq!(*seen.lock().expect("lock"), 4);
        assert_eq!(log.lock().expect("lock").lines.len(), 4);
    }

    #[test]
    fn escape_sequences_are_stripped_from_console_lines() {
        assert_eq!(
            printable("\u{1b}c\u{1b}[?7l\u{1b}[2J\u{1b}[0mSeaBIOS (version 1.16)\r"),
            "SeaBIOS (version 1.16)"
        );
        assert_eq!(printable("[    1.0] plain\tline"), "[    1.0] plain\tline");
    }

    #[test]
    fn the_command_line_makes_panics_end_the_vm() {
        let line = kernel_cmdline("");
        assert!(line.contains("panic=-1"));
        assert!(line.contains("rdinit=/init"));
    }
}
