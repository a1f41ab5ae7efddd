//! One (submission, lab) pair, run as its own `dmbench --headless LAB --vm
//! --root SUBMISSION --report FILE` process in its own process group: a
//! crashing or hanging submission takes down only that process and its VM
//! (QEMU dies with its parent, PR_SET_PDEATHSIG). Past the timeout, or on
//! Ctrl-C, the run gets SIGTERM (it stops the step in flight, tears down
//! and writes its report), then, if it is still there after a grace
//! period, SIGKILL for its whole group.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::judge::{self, Ending};
use super::model::PairResult;
use super::plan::{self, PlannedLab};

/// How long a stopped run gets to tear down and write its report.
const GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// Lines of a run's output kept as evidence when it did not pass.
const LOG_TAIL: usize = 60;

/// What every pair of one grading run shares.
pub struct Runner {
    /// This program: each pair runs it headless.
    pub exe: PathBuf,
    /// The run's private directory: reports, logs and the runs' runtime
    /// directory (their ledgers, VM sockets and build locks), removed at
    /// the end.
    pub work: PathBuf,
    pub kernel: Option<PathBuf>,
    pub vm_memory: u32,
    pub timeout: Duration,
    pub host: String,
}

impl Runner {
    /// Runs pair number `n`; `stop` says whether the run was interrupted.
    pub fn run(
        &self,
        n: usize,
        submission: &str,
        lab: &PlannedLab,
        stop: &dyn Fn() -> bool,
    ) -> PairResult {
        let started = SystemTime::now();
        let clock = Instant::now();
        let mut result = PairResult {
            submission: submission.to_string(),
            lab: lab.info.name.clone(),
            verdict: super::model::Verdict::Error,
            reason: None,
            step: None,
            duration_ms: 0.0,
            started: utc_timestamp(started),
            host: self.host.clone(),
            report: None,
            log: Vec::new(),
        };
        if let Some(reason) = plan::precheck(submission, lab) {
            result.verdict = super::model::Verdict::Failed;
            result.reason = Some(reason);
            return result;
        }
        let report_path = self.work.join(format!("report-{n}.json"));
        let log_path = self.work.join(format!("run-{n}.log"));
        let ending = match self.spawn(submission, lab, &report_path, &log_path) {
            Ok(child) => self.wait(child, stop),
            Err(e) => Ending::Unstarted(format!("{e:#}")),
        };
        result.duration_ms = clock.elapsed().as_secs_f64() * 1e3;
        let report = std::fs::read(&report_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        let log = tail(&log_path);
        let verdict = judge::judge(&lab.lab, &ending, report.as_ref(), &log, self.timeout);
        result.verdict = verdict.verdict;
        result.reason = verdict.reason;
        result.step = verdict.step;
        if result.verdict != super::model::Verdict::Passed {
            result.log = log;
        }
        result.report = report;
        let _ = std::fs::remove_file(&report_path);
        let _ = std::fs::remove_file(&log_path);
        result
    }

    fn spawn(
        &self,
        submission: &str,
        lab: &PlannedLab,
        report: &Path,
        log: &Path,
    ) -> anyhow::Result<Child> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--headless")
            .arg(&lab.path)
            .arg("--vm")
            .arg("--root")
            .arg(submission)
            .arg("--report")
            .arg(report)
            .arg("--vm-memory")
            .arg(self.vm_memory.to_string());
        if let Some(kernel) = &self.kernel {
            cmd.arg("--kernel").arg(kernel);
        }
        cmd.env("XDG_RUNTIME_DIR", self.work.join("runtime"))
            // A source that fails to build fails each of its labs from
            // one build.
            .env(
                crate::kbuild::failures::ENV,
                self.work.join("build-failures"),
            )
            .env(crate::kbuild::CONFINE_ENV, submission)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own group: the terminal's Ctrl-C reaches the grader
            // only, which stops each run in order; and a kill reaches
            // everything the run started.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches only this child.
        unsafe {
            cmd.pre_exec(|| {
                // A grader that dies (even by SIGKILL) stops its runs,
                // and they tear down their VMs.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(cmd.spawn()?)
    }

    /// Waits for the run, stopping it past the timeout or when `stop` says.
    fn wait(&self, mut child: Child, stop: &dyn Fn() -> bool) -> Ending {
        let deadline = Instant::now() + self.timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ending::Exited(status.success()),
                Ok(None) => {}
                Err(e) => return Ending::Unstarted(format!("waiting for the run: {e}")),
            }
            let why = if stop() {
                Some(Ending::Interrupted)
            } else if Instant::now() > deadline {
                Some(Ending::TimedOut)
            } else {
                None
            };
            if let Some(why) = why {
                end(&mut child);
                return why;
            }
            std::thread::sleep(POLL);
        }
    }
}

/// SIGTERM (the run tears down and reports), then SIGKILL for the group.
fn end(child: &mut Child) {
    let Ok(raw) = i32::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let pid = Pid::from_raw(raw);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(POLL);
    }
    // Still there, so the group's id is still its own: everything in it
    // goes (its VM and build box die with it).
    let _ = killpg(pid, Signal::SIGKILL);
    let _ = child.wait();
}

/// The last lines of a run's output.
fn tail(path: &Path) -> Vec<String> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    let mut lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    let skip = lines.len().saturating_sub(LOG_TAIL);
    lines.drain(..skip);
    lines
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as JUnit's `timestamp` wants it.
pub fn utc_timestamp(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(utc_timestamp(at(0)), "1970-01-01T00:00:00");
        assert_eq!(utc_timestamp(at(951_782_400)), "2000-02-29T00:00:00");
        assert_eq!(utc_timestamp(at(1_798_590_123)), "2026-12-30T00:22:03");
    }
}
