//! The headless runner: `dmbench --headless LAB.toml [--vm] [--report F]`.
//! One progress line per step; the first failed step stops the run; the
//! session is always torn down; exit status 0 only if every step passed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use super::model::{self, IoTarget, Lab, PatternSpec, Step, StepKind};
use super::report::{Outcome, ProbeFigures, Report, StepReport, TeardownEntry};
use crate::cli::TargetArgs;
use crate::exec::protocol::{ExecError, KmsgRecord, ProbeOp, ProbeResult, TableLine};
use crate::exec::{Event, EventSink};
use crate::frontend::{self, Placement};
use crate::session::{ProbeRequest, ProbeTarget, Session};

pub struct RunOptions {
    pub lab: PathBuf,
    pub report: Option<PathBuf>,
    pub target: TargetArgs,
}

/// What a step produced, before its expectations are checked.
#[derive(Default)]
struct StepOutput {
    lines: Vec<String>,
    probe: Option<ProbeResult>,
    /// The key figure for the step's progress line.
    summary: String,
}

/// Runs a lab; Ok(true) when every step passed and teardown was clean.
pub fn run(options: RunOptions) -> Result<bool> {
    // A malformed lab is rejected here, before anything is created.
    let lab = model::load_lab(&options.lab).map_err(|errors| anyhow!("{errors}"))?;
    crate::signals::install();
    println!("lab: {} ({} steps)", lab.title, lab.steps.len());

    let kmsg: Arc<Mutex<Vec<KmsgRecord>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = recording_sink(kmsg.clone());
    let placement = frontend::choose_placement(&options.target, &mut |l| println!("{l}"));
    let started = Instant::now();
    let mut session = frontend::open_session(placement, &options.target, sink)?;
    let clock = session.clocksource();
    println!(
        "ready: {} executor, kernel {}, session {} ({:.2} s){}",
        session.executor_kind(),
        session.kernel_release(),
        session.id(),
        started.elapsed().as_secs_f64(),
        if clock == "jiffies" {
            " -- note: the kernel times with jiffies, latencies are coarse"
        } else {
            ""
        }
    );
    // Ctrl-C/SIGTERM cancel a probe in flight at once; the run then stops
    // before the next step and tears down as usual.
    let cancel = session.canceller();
    std::thread::spawn(move || {
        while !crate::signals::interrupted() {
            std::thread::sleep(Duration::from_millis(100));
        }
        cancel();
    });
    let mut runner = Runner {
        session,
        placement,
        target: options.target.clone(),
        root: project_root(&options.lab),
        kmsg,
    };
    let steps = runner.run_steps(&lab);
    let passed = steps.iter().all(|s| matches!(s.outcome, Outcome::Passed));

    let executor = runner.session.executor_kind().to_string();
    let kernel = runner.session.kernel_release().to_string();
    let teardown = runner.session.close();
    for step in &teardown.steps {
        match &step.error {
            None => println!("teardown: removed {}", step.resource),
            Some(e) => println!("teardown: FAILED {}: {e}", step.resource),
        }
    }
    let clean = teardown.all_ok();
    if let Some(path) = &options.report {
        let report = Report {
            lab: options.lab.display().to_string(),
            title: lab.title.clone(),
            executor,
            kernel,
            passed: passed && clean,
            steps,
            teardown: teardown
                .steps
                .iter()
                .map(|s| TeardownEntry {
                    resource: s.resource.clone(),
                    error: s.error.clone(),
                })
                .collect(),
        };
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    let verdict = if passed && clean { "PASSED" } else { "FAILED" };
    println!(
        "{verdict}: {} in {:.2} s",
        lab.title,
        started.elapsed().as_secs_f64()
    );
    Ok(passed && clean)
}

/// Keeps the kernel-log records the steps are judged on. (A dead guest's
/// console tail arrives inside its GuestDied error.)
fn recording_sink(kmsg: Arc<Mutex<Vec<KmsgRecord>>>) -> EventSink {
    Arc::new(move |event| {
        if let Event::Kmsg(record) = event
            && let Ok(mut k) = kmsg.lock()
        {
            k.push(record);
        }
    })
}

/// The nearest ancestor of the lab file holding `kmod/` (labs name module
/// sources relative to it), else the lab's own directory.
pub fn project_root(lab: &Path) -> PathBuf {
    let dir = lab
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    dir.ancestors()
        .find(|a| a.join("kmod").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}

struct Runner {
    session: Session,
    placement: Placement,
    target: TargetArgs,
    root: PathBuf,
    kmsg: Arc<Mutex<Vec<KmsgRecord>>>,
}

impl Runner {
    fn run_steps(&mut self, lab: &Lab) -> Vec<StepReport> {
        let total = lab.steps.len();
        let mut reports = Vec::new();
        let mut stopped = false;
        for (i, step) in lab.steps.iter().enumerate() {
            let label = format!("[{:>2}/{total}] {}", i + 1, describe(step));
            if stopped || crate::signals::interrupted() {
                if !stopped {
                    println!("{label:<48} interrupted");
                }
                stopped = true;
                reports.push(skipped(i, step));
                continue;
            }
            let mark = self.kmsg.lock().map_or(0, |k| k.len());
            let started = Instant::now();
            let produced = self.execute(step);
            let elapsed = started.elapsed();
            let verdict = self.judge(step, &produced, mark);
            let kmsg = self.kmsg_since(mark);
            let (outcome, error) = match &verdict {
                Ok(()) => (Outcome::Passed, None),
                Err(e) => (Outcome::Failed, Some(e.clone())),
            };
            let summary = match &produced {
                Ok(o) => o.summary.clone(),
                // A failure the step asked for: show what was said.
                Err(e) => format!("refused as expected: {}", last_reason(e)),
            };
            match &verdict {
                Ok(()) => println!(
                    "{label:<48} ok     {:>9}  {summary}",
                    format_duration(elapsed)
                ),
                Err(reason) => {
                    println!("{label:<48} FAILED {:>9}", format_duration(elapsed));
                    println!("        line {}: {}", step.line, indent(reason));
                    stopped = true;
                }
            }
            let (lines, probe) = match produced {
                Ok(o) => (o.lines, o.probe.as_ref().map(ProbeFigures::from_result)),
                Err(_) => (Vec::new(), None),
            };
            reports.push(StepReport {
                index: i + 1,
                kind: step.kind.name().to_string(),
                line: step.line,
                duration_ms: elapsed.as_secs_f64() * 1e3,
                outcome,
                kmsg,
                output: lines,
                probe,
                error,
            });
        }
        reports
    }

    fn kmsg_since(&self, mark: usize) -> Vec<String> {
        self.kmsg
            .lock()
            .map(|k| k.iter().skip(mark).map(|r| r.text.clone()).collect())
            .unwrap_or_default()
    }

    /// Whether the step did what its `expect` asks.
    fn judge(
        &self,
        step: &Step,
        produced: &Result<StepOutput, anyhow::Error>,
        mark: usize,
    ) -> Result<(), String> {
        let expect = &step.expect;
        let output = match produced {
            Err(err) => {
                let text = format!("{err:#}");
                let errno = errno_of(err);
                return match &expect.error {
                    Some(m) if m.matches(errno, &text) => Ok(()),
                    Some(_) => Err(format!("failed, but not as expected: {text}")),
                    None => Err(text),
                };
            }
            Ok(o) => o,
        };
        if let Some(m) = &expect.error {
            return Err(format!(
                "expected a failure ({}), but the step succeeded",
                match m {
                    model::ErrorMatch::Errno { name, .. } => name.clone(),
                    model::ErrorMatch::Pattern(r) => format!("/{}/", r.as_str()),
                }
            ));
        }
        if let Some(re) = &expect.kmsg {
            // Lines a request caused arrive before its answer; allow a
            // moment for work the kernel finishes asynchronously.
            let deadline = Instant::now() + Duration::from_millis(500);
            loop {
                let seen = self.kmsg_since(mark);
                if seen.iter().any(|l| re.is_match(l)) {
                    break;
                }
                if Instant::now() > deadline {
                    let tail: Vec<&String> = seen.iter().rev().take(5).collect();
                    return Err(format!(
                        "no kernel log line matched /{}/ during the step; last lines: {:?}",
                        re.as_str(),
                        tail
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let Some(re) = &expect.output
            && !output.lines.iter().any(|l| re.is_match(l))
        {
            return Err(format!(
                "no output line matched /{}/; output: {:?}",
                re.as_str(),
                output.lines
            ));
        }
        if !expect.attributed.is_empty() {
            let probe = output
                .probe
                .as_ref()
                .ok_or_else(|| "'attributed' needs a write or read step".to_string())?;
            for disk in &expect.attributed {
                let kernel_name = self
                    .session
                    .disk(disk)
                    .map(|d| d.kernel_name())
                    .ok_or_else(|| format!("'attributed' names '{disk}', which is no disk"))?;
                let sectors: u64 = probe
                    .attribution
                    .iter()
                    .filter(|a| a.device == kernel_name)
                    .map(|a| a.delta.read_sectors + a.delta.write_sectors)
                    .sum();
                if sectors == 0 {
                    return Err(format!(
                        "no I/O reached disk '{disk}' ({kernel_name}); attribution: {:?}",
                        probe.attribution
                    ));
                }
            }
        }
        Ok(())
    }

    fn disk_paths(&self) -> HashMap<String, PathBuf> {
        self.session
            .disks()
            .map(|d| (d.name.clone(), d.device.clone()))
            .collect()
    }

    fn render_table(&self, table: &model::TableTemplate) -> Result<Vec<TableLine>> {
        let rendered = table
            .render(&self.disk_paths())
            .map_err(|e| anyhow!("{e}"))?;
        Ok(rendered.to_lines())
    }

    fn execute(&mut self, step: &Step) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let s = &mut self.session;
        match &step.kind {
            StepKind::Build { source } => {
                let source = self.root.join(source);
                let kdir = frontend::module_kdir(self.placement, &self.target)
                    .ok_or_else(|| anyhow!("no lab kernel tree to build against"))?;
                let mut lines = Vec::new();
                let built =
                    crate::kbuild::build(&source, &kdir, &mut |l| lines.push(l.to_string()));
                out.lines = lines;
                let built = built?;
                s.register_module(&built.name, &built.path);
                out.summary = format!(
                    "{} in {:.1} s",
                    built
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    built.duration.as_secs_f64()
                );
            }
            StepKind::Load { module, params } => s.load_module_with(module, params)?,
            StepKind::Unload { module } => s.unload_module(module)?,
            StepKind::Disk {
                name,
                size_bytes,
                read_only,
                direct_io,
            } => {
                let disk = s.add_disk_with(name, *size_bytes, *read_only, *direct_io)?;
                out.summary = format!("{} ({})", disk.device.display(), disk.dev_t());
            }
            StepKind::Detach { disk } => s.detach_disk(disk)?,
            StepKind::Create { name, table } => {
                let lines = self.render_table(table)?;
                let s = &mut self.session;
                let dev = if step.expect.expects_failure() {
                    s.create_device_unvalidated(name, &lines)?
                } else {
                    s.create_device(name, &lines)?
                };
                out.summary = format!("/dev/mapper/{name} ({}:{})", dev.major, dev.minor);
            }
            StepKind::Reload { device, table } => {
                let lines = self.render_table(table)?;
                self.session.reload_device(device, &lines)?;
            }
            StepKind::Suspend { device } => s.suspend_device(device)?,
            StepKind::Resume { device } => s.resume_device(device)?,
            StepKind::Remove { device } => s.remove_device(device)?,
            StepKind::Status { device } => {
                out.lines = s.device_status(device)?.iter().map(format_line).collect();
                out.summary = out.lines.join(" | ");
            }
            StepKind::Table { device } => {
                out.lines = s.device_table(device)?.iter().map(format_line).collect();
                out.summary = out.lines.join(" | ");
            }
            StepKind::Info { device } => {
                let info = s.device_info(device)?;
                out.lines = vec![
                    format!("name {}", info.name),
                    format!("uuid {}", info.uuid),
                    format!("dev {}:{}", info.major, info.minor),
                    format!(
                        "state {}",
                        if info.suspended {
                            "SUSPENDED"
                        } else {
                            "ACTIVE"
                        }
                    ),
                    format!("open_count {}", info.open_count),
                    format!("event_nr {}", info.event_nr),
                    format!("targets {}", info.target_count),
                ];
                out.summary = out.lines[3..].join(", ");
            }
            StepKind::Message {
                device,
                sector,
                text,
            } => {
                let reply = s.message(device, *sector, text)?;
                out.lines = reply
                    .iter()
                    .flat_map(|r| r.lines().map(str::to_string))
                    .collect();
                out.summary = reply.unwrap_or_default();
            }
            StepKind::Write(w) => {
                let request = self.probe_request(
                    &w.device,
                    ProbeOp::Write,
                    w.bs,
                    w.seek,
                    w.count,
                    Some(w.pattern),
                    w.direct,
                    w.random_order,
                )?;
                out = probe_output(self.session.probe(&request)?)?;
            }
            StepKind::Read(r) => {
                let mut request = self.probe_request(
                    &r.device,
                    ProbeOp::Read,
                    r.bs,
                    r.skip,
                    r.count,
                    r.verify,
                    r.direct,
                    r.random_order,
                )?;
                request.stamp_shift = r.stamp_shift;
                out = probe_output(self.session.probe(&request)?)?;
            }
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn probe_request(
        &self,
        target: &IoTarget,
        op: ProbeOp,
        bs: u32,
        offset_blocks: u64,
        count: Option<u64>,
        pattern: Option<PatternSpec>,
        direct: bool,
        random_order: bool,
    ) -> Result<ProbeRequest> {
        let (target, sectors) = match target {
            IoTarget::Device(name) => (
                ProbeTarget::Device(name.clone()),
                self.session.device(name).map(|d| d.sectors()),
            ),
            IoTarget::Disk(name) => (
                ProbeTarget::Disk(name.clone()),
                self.session.disk(name).map(|d| d.sectors()),
            ),
        };
        let count = match count {
            Some(c) => c,
            None => {
                let sectors =
                    sectors.ok_or_else(|| anyhow!("unknown device '{}'", target_name(&target)))?;
                let blocks = sectors * crate::units::SECTOR / u64::from(bs.max(1));
                if blocks <= offset_blocks {
                    bail!("nothing to do: the start is at or past the end of the device");
                }
                blocks - offset_blocks
            }
        };
        Ok(ProbeRequest {
            target,
            op,
            bs,
            count,
            offset_blocks,
            // A fixed seed keeps `random` runs repeatable.
            pattern: pattern.map(|p| p.to_protocol(0x5eed)),
            direct,
            random_order,
            stamp_shift: 0,
        })
    }
}

fn target_name(t: &ProbeTarget) -> &str {
    match t {
        ProbeTarget::Device(n) | ProbeTarget::Disk(n) => n,
    }
}

/// A probe's figures; an I/O error or a verify mismatch fails the step.
fn probe_output(result: ProbeResult) -> Result<StepOutput> {
    if let Some(e) = &result.io_error {
        return Err(anyhow!(ExecError {
            kind: crate::exec::ErrorKind::Io,
            message: format!("I/O error {} ({}) at byte {}", e.name, e.errno, e.offset),
            errno: Some(e.errno),
            kernel_log: Vec::new(),
        }));
    }
    if let Some(m) = &result.mismatch {
        bail!(
            "verify failed at byte {}: expected {}, found {} ({} bad block(s))",
            m.offset,
            m.expected,
            m.found,
            m.total_bad_blocks
        );
    }
    if result.cancelled {
        bail!("interrupted");
    }
    let mut summary = format!("{} B, {:.2} MiB/s", result.bytes, result.mib_per_s);
    if let Some(l) = &result.latency {
        summary.push_str(&format!(
            ", latency p50 {} p99 {}",
            format_duration(Duration::from_nanos(l.median_ns)),
            format_duration(Duration::from_nanos(l.p99_ns))
        ));
    }
    let landed: Vec<String> = result
        .attribution
        .iter()
        .filter(|a| !a.device.starts_with("dm-"))
        .filter(|a| a.delta.read_sectors + a.delta.write_sectors > 0)
        .map(|a| {
            format!(
                "{}:{}s",
                a.device,
                a.delta.read_sectors + a.delta.write_sectors
            )
        })
        .collect();
    if !landed.is_empty() {
        summary.push_str(&format!(", on {}", landed.join(" ")));
    }
    Ok(StepOutput {
        lines: vec![summary.clone()],
        summary,
        probe: Some(result),
    })
}

/// The most specific line of an error: the kernel's own words if any.
fn last_reason(err: &anyhow::Error) -> String {
    err.chain()
        .find_map(|e| e.downcast_ref::<ExecError>())
        .and_then(|e| e.kernel_log.last().cloned())
        .unwrap_or_else(|| err.root_cause().to_string())
}

fn errno_of(err: &anyhow::Error) -> Option<i32> {
    err.chain()
        .find_map(|e| e.downcast_ref::<ExecError>())
        .and_then(|e| e.errno)
}

fn format_line(l: &TableLine) -> String {
    if l.params.is_empty() {
        format!("{} {} {}", l.start, l.length, l.target)
    } else {
        format!("{} {} {} {}", l.start, l.length, l.target, l.params)
    }
}

fn describe(step: &Step) -> String {
    let what = match &step.kind {
        StepKind::Build { source } => source.display().to_string(),
        StepKind::Load { module, .. } | StepKind::Unload { module } => module.clone(),
        StepKind::Disk { name, .. } | StepKind::Create { name, .. } => name.clone(),
        StepKind::Detach { disk } => disk.clone(),
        StepKind::Write(w) => w.device.name().to_string(),
        StepKind::Read(r) => r.device.name().to_string(),
        StepKind::Status { device }
        | StepKind::Table { device }
        | StepKind::Info { device }
        | StepKind::Message { device, .. }
        | StepKind::Suspend { device }
        | StepKind::Resume { device }
        | StepKind::Reload { device, .. }
        | StepKind::Remove { device } => device.clone(),
    };
    format!("{} {what}", step.kind.name())
}

fn skipped(i: usize, step: &Step) -> StepReport {
    StepReport {
        index: i + 1,
        kind: step.kind.name().to_string(),
        line: step.line,
        duration_ms: 0.0,
        outcome: Outcome::Skipped,
        kmsg: Vec::new(),
        output: Vec::new(),
        probe: None,
        error: None,
    }
}

fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        format!("{us} µs")
    } else if us < 10_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n        ")
}
