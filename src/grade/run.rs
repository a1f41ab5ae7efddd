//! A grading run: everything that can be checked is checked before any VM
//! boots (the labs, the build box, the lab kernel), then the pairs run N
//! at a time, each in its own process and VM. Pairs go lab by lab (every
//! submission's first lab, then every submission's second ...), so two
//! pairs that build the same source rarely run at once: the first builds,
//! the later ones find its build in the module cache. Ctrl-C (or SIGTERM)
//! stops every run in flight and starts no new one; the report still has
//! every pair, those that never ran marked as not run.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::child::{Runner, utc_timestamp};
use super::model::{GradeReport, PairResult, ShardInfo, Verdict};
use super::plan::{self, PlannedLab, Shard};
use super::progress::Progress;
use crate::output;

pub struct Options {
    pub labs: Vec<PathBuf>,
    pub submissions: Vec<PathBuf>,
    pub jobs: Option<usize>,
    pub timeout: Duration,
    pub shard: Option<Shard>,
    pub kernel: Option<PathBuf>,
    pub vm_memory: u32,
}

/// Host memory set aside per VM when choosing how many run at once: the
/// guest's RAM at most, plus QEMU itself.
const PER_VM_OVERHEAD_MIB: u64 = 128;

enum Event {
    Started,
    Done(Box<PairResult>),
}

pub fn grade(options: Options) -> Result<GradeReport> {
    let labs = plan::load_labs(&options.labs)?;
    crate::kbuild::sandbox::working_bwrap().context("not grading")?;
    check_kernel(&options)?;
    let all = plan::ordered(&options.submissions);
    let mine = plan::slice(&all, options.shard);
    let jobs = options
        .jobs
        .unwrap_or_else(|| plan::default_jobs(u64::from(options.vm_memory) + PER_VM_OVERHEAD_MIB))
        .max(1);
    let mut pairs: VecDeque<(usize, String, usize)> = VecDeque::new();
    for lab in 0..labs.len() {
        for submission in &mine {
            pairs.push_back((pairs.len(), submission.clone(), lab));
        }
    }
    let total = pairs.len();
    output::line(&format!(
        "grading {} submission(s){} x {} lab(s) = {total} pair(s), {jobs} at a time, \
         timeout {} s each",
        mine.len(),
        options
            .shard
            .map(|s| format!(" (shard {}/{} of {})", s.index, s.count, all.len()))
            .unwrap_or_default(),
        labs.len(),
        options.timeout.as_secs()
    ));

    let work = WorkDir::new()?;
    let runner = Runner {
        exe: std::env::current_exe().context("locating the dmbench binary")?,
        work: work.0.clone(),
        kernel: options.kernel.clone(),
        vm_memory: options.vm_memory,
        timeout: options.timeout,
        host: nix::sys::utsname::uname()
            .ok()
            .map(|u| u.nodename().to_string_lossy().into_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into()),
    };
    crate::signals::install();
    let queue = Mutex::new(pairs.clone());
    let (tx, rx) = mpsc::channel::<Event>();
    let mut results = Vec::new();
    let mut progress = Progress::new(total);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            let tx = tx.clone();
            let (queue, runner, labs) = (&queue, &runner, &labs);
            scope.spawn(move || work_queue(queue, runner, labs, &tx));
        }
        drop(tx);
        loop {
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(Event::Started) => progress.started(),
                Ok(Event::Done(result)) => {
                    progress.finished(&result);
                    results.push(*result);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => progress.draw(),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    progress.finish();
    output::line(&format!(
        "graded {} pair(s) in {:.1} s",
        results.len(),
        progress.elapsed().as_secs_f64()
    ));
    drop(work);

    let interrupted = crate::signals::interrupted();
    // What never started is there too, as not run.
    for (_, submission, lab) in pairs {
        if !results
            .iter()
            .any(|r| r.submission == submission && r.lab == labs[lab].info.name)
        {
            results.push(not_run(&submission, &labs[lab], &runner.host));
        }
    }
    let shard = options.shard.map(|s| ShardInfo {
        index: s.index,
        count: s.count,
        all_submissions: all.clone(),
    });
    Ok(GradeReport::new(
        labs.into_iter().map(|l| l.info).collect(),
        mine,
        shard,
        results,
        interrupted,
    ))
}

/// The grading run's private directory (reports and logs of the runs, and
/// their own runtime directory: ledgers, VM sockets, build locks), removed
/// with everything in it however the run ends, even when a run had to be
/// killed and left its ledger behind.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir> {
        let runtime = crate::private_dir::runtime_dir()?;
        let work = WorkDir(crate::private_dir::fresh_private_dir(&runtime, "grade-")?);
        crate::private_dir::ensure_private_dir(&work.0.join("runtime"))?;
        crate::private_dir::ensure_private_dir(&work.0.join("build-failures"))?;
        Ok(work)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One worker: takes pairs until none are left or the run is interrupted.
fn work_queue(
    queue: &Mutex<VecDeque<(usize, String, usize)>>,
    runner: &Runner,
    labs: &[PlannedLab],
    tx: &mpsc::Sender<Event>,
) {
    let stop = crate::signals::interrupted;
    loop {
        if stop() {
            return;
        }
        let next = match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(_) => None,
        };
        let Some((n, submission, lab)) = next else {
            return;
        };
        let _ = tx.send(Event::Started);
        let result = runner.run(n, &submission, &labs[lab], &stop);
        let _ = tx.send(Event::Done(Box::new(result)));
    }
}

fn not_run(submission: &str, lab: &PlannedLab, host: &str) -> PairResult {
    PairResult {
        submission: submission.to_string(),
        lab: lab.info.name.clone(),
        verdict: Verdict::NotRun,
        reason: Some("interrupted before it ran".into()),
        step: None,
        duration_ms: 0.0,
        started: utc_timestamp(std::time::SystemTime::now()),
        host: host.to_string(),
        report: None,
        log: Vec::new(),
    }
}

/// The VM's kernel and the tree modules build against must both be there.
fn check_kernel(options: &Options) -> Result<()> {
    match &options.kernel {
        Some(k) if !k.is_dir() => bail!(
            "not grading: --kernel {} is not a kernel tree (a directory with vmlinux)",
            k.display()
        ),
        Some(_) => Ok(()),
        None => {
            crate::kernel::locate().context("not grading: no lab kernel")?;
            if crate::kernel::find_cached().is_none() {
                bail!(
                    "not grading: no lab kernel tree to build modules against (run `dmbench kernel build`)"
                );
            }
            Ok(())
        }
    }
}
