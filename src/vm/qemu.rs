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
    /// Guest time counts executed instructions (`-icount`), so figures
    /// measured inside the guest repeat exactly and ignore host load.
    pub deterministic: bool,
}

/// The rate of the guest's TSC in kHz, when it is known without
/// calibrating: with `-icount` QEMU's TSC counts virtual nanoseconds;
/// otherwise the guest reads the host's own TSC (TCG and KVM alike).
pub fn guest_tsc_khz(deterministic: bool) -> Option<u64> {
    if deterministic {
        return Some(1_000_000);
    }
    host_tsc_khz()
}

/// Kernel command line. `panic=-1` + `-no-reboot`: a panic ends QEMU at
/// once; `oops=panic` makes an oops in a student's target a clean stop.
///
/// The clock: without ACPI the lab kernel has no HPET or PM timer, so it
/// can calibrate the TSC only against the PIT, and under an emulated,
/// loaded CPU that calibration fails; the kernel then marks the TSC
/// unstable and times everything with jiffies (4 ms steps at HZ=250).
/// `tsc_early_khz` gives it the frequency instead, so the TSC clocksource
/// (read in the vDSO, ns resolution) is used from the first probe on.
/// `noapictimer` skips the local APIC timer calibration, which busy-waits
/// 100 ms of guest time (and under -icount, 10^8 instructions) and fails
/// its own check on a loaded host anyway; the PIT drives the tick of this
/// one-CPU guest.
///
/// `retain_initrd` keeps the 11 MiB image in guest memory instead of
/// poisoning it page by page before freeing it, which costs ~50 ms of
/// boot under TCG.
///
/// `initcall_blacklist=trace_eval_init`: the kernel rewrites the enum names
/// in every trace event's format description into numbers at boot, 57
/// million instructions (more than the rest of the kernel's boot) and
/// ~0.1 s under TCG. Only tools that parse the `format` files need that;
/// the text in `trace` is formatted by the kernel and is the same.
pub fn kernel_cmdline(tsc_khz: Option<u64>, extra: &str) -> String {
    let mut line = String::from(
        "console=ttyS0 quiet panic=-1 oops=panic rdinit=/init tsc=reliable no_timer_check \
         noapictimer retain_initrd initcall_blacklist=trace_eval_init i8042.noaux i8042.nokbd",
    );
    if let Some(khz) = tsc_khz {
        line.push_str(&format!(" tsc_early_khz={khz}"));
    }
    if !extra.is_empty() {
        line.push(' ');
        line.push_str(extra);
    }
    line
}

/// qboot: a firmware that only loads the kernel (~0.1-0.2 s faster to the
/// kernel than SeaBIOS under TCG). Debian's QEMU ships it; without it QEMU
/// uses its default firmware.
const QBOOT: &str = "/usr/share/qemu/qboot.rom";

/// The host's TSC rate, measured once per process against
/// CLOCK_MONOTONIC_RAW (10 ms; the host kernel's clock is itself the TSC
/// scaled by its calibrated rate, so this recovers that rate to ~10 ppm).
/// None when the TSC does not tick at a constant rate: then the guest
/// kernel calibrates as usual.
pub fn host_tsc_khz() -> Option<u64> {
    static KHZ: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *KHZ.get_or_init(measure_host_tsc_khz)
}

#[cfg(target_arch = "x86_64")]
fn measure_host_tsc_khz() -> Option<u64> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return None;
    }
    let first = tsc_and_ns()?;
    std::thread::sleep(std::time::Duration::from_millis(10));
    let second = tsc_and_ns()?;
    let ticks = second.0.checked_sub(first.0)?;
    let ns = second.1.checked_sub(first.1)?;
    if ns == 0 {
        return None;
    }
    let khz = u128::from(ticks) * 1_000_000 / u128::from(ns);
    u64::try_from(khz).ok().filter(|k| *k > 0)
}

#[cfg(not(target_arch = "x86_64"))]
fn measure_host_tsc_khz() -> Option<u64> {
    None
}

/// A TSC reading and CLOCK_MONOTONIC_RAW taken as close together as
/// possible: the tightest of a few brackets, TSC at its midpoint.
#[cfg(target_arch = "x86_64")]
fn tsc_and_ns() -> Option<(u64, u64)> {
    let mut best: Option<(u64, u64, u64)> = None;
    for _ in 0..5 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: rdtsc has no preconditions; clock_gettime writes only ts.
        let (before, rc, after) = unsafe {
            let before = core::arch::x86_64::_rdtsc();
            let rc = libc::clock_gettime(libc::CLOCK_MONOTONIC_RAW, &mut ts);
            (before, rc, core::arch::x86_64::_rdtsc())
        };
        if rc != 0 || after < before {
            continue;
        }
        let width = after - before;
        let ns = u64::try_from(ts.tv_sec).ok()? * 1_000_000_000 + u64::try_from(ts.tv_nsec).ok()?;
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, before + width / 2, ns));
        }
    }
    best.map(|(_, tsc, ns)| (tsc, ns))
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
            // Under TCG every CPU feature the guest kernel finds is boot
            // work (alternatives patched into code already translated,
            // more FPU state): the plain x86-64 model reaches the agent
            // ~60 ms sooner than `max`, and probe figures are unchanged.
            Accel::Tcg => "qemu64",
        });
    if Path::new(QBOOT).is_file() {
        cmd.arg("-bios").arg(QBOOT);
    }
    if spec.deterministic {
        // One instruction is one nanosecond of guest time, and an idle
        // guest skips ahead to its next timer instead of waiting for the
        // host. The RTC follows that clock from a fixed date, so nothing
        // the guest reads depends on the host's time.
        cmd.args(["-icount", "shift=0,sleep=off"])
            .args(["-rtc", "base=2020-01-01T00:00:00,clock=vm"]);
    }
    cmd.arg("-kernel")
        .arg(spec.kernel)
        .arg("-initrd")
        .arg(spec.initrd)
        .arg("-append")
        .arg(kernel_cmdline(
            guest_tsc_khz(spec.deterministic),
            spec.extra_append,
        ))
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
        let line = kernel_cmdline(None, "");
        assert!(line.contains("panic=-1"));
        assert!(line.contains("rdinit=/init"));
        assert!(!line.contains("tsc_early_khz"));
    }

    #[test]
    fn a_known_tsc_rate_reaches_the_kernel() {
        let line = kernel_cmdline(guest_tsc_khz(true), "x=1");
        assert!(line.contains(" tsc_early_khz=1000000 "), "{line}");
        assert!(line.ends_with(" x=1"), "{line}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_host_tsc_rate_is_measured_plausibly() {
        // Every x86-64 CPU of the last decade has an invariant TSC between
        // 1 and 6 GHz; where it is not invariant nothing is claimed.
        if let Some(khz) = host_tsc_khz() {
            assert!((1_000_000..6_000_000).contains(&khz), "{khz} kHz");
            assert_eq!(host_tsc_khz(), Some(khz), "measured once");
        }
    }
}
