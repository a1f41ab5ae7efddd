//! The one step engine: it turns a lab step into Session calls and judges
//! the step's expectations. The headless runner and the TUI's worker both
//! drive it, so a lab runs one way whichever front end shows it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::model::{ErrorMatch, IoTarget, PatternSpec, Step, StepKind};
use super::report::ProbeFigures;
use super::roots::SourceRoots;
use crate::crash::Crash;
use crate::exec::protocol::{ProbeOp, ProbeResult, TableLine};
use crate::kbuild::{BuildFailure, Builder, BuiltModule};
use crate::session::{ModuleBuild, ProbeRequest, ProbeTarget, Probed, Session, SessionError};

/// How long a step waits after its last request for a kernel line it
/// expects: the log follows its own stream and work the kernel finishes
/// asynchronously (a bio completing) may log a moment later.
const KMSG_GRACE: Duration = Duration::from_millis(500);

/// What a lab run needs besides the session.
#[derive(Clone)]
pub struct LabContext {
    pub roots: SourceRoots,
    /// The kernel tree modules are built against.
    pub kdir: Option<PathBuf>,
    pub builder: Builder,
}

/// Progress a front end may show while a step runs.
pub trait StepObserver {
    fn build_line(&mut self, _source: &Path, _line: &str) {}
    fn built(&mut self, _source: &Path, _result: Result<&BuiltModule, &str>) {}
    fn probed(&mut self, _request: &ProbeRequest, _probed: &Probed) {}
}

/// An observer that shows nothing.
pub struct Unobserved;

impl StepObserver for Unobserved {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run because an earlier step failed or the run was interrupted.
    Skipped,
}

/// One step as it ran: the report's entry, and what the TUI shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// 1-based position in the lab.
    pub index: usize,
    pub kind: &'static str,
    /// Line of the step in the lab file.
    pub line: usize,
    pub duration_ms: f64,
    pub outcome: Outcome,
    /// The key figure, for a progress line.
    pub summary: String,
    /// Kernel-log lines logged while the step ran.
    pub kmsg: Vec<String>,
    /// status/table/info/message output, build output, probe summary.
    pub output: Vec<String>,
    pub probe: Option<ProbeFigures>,
    /// Why the step failed.
    pub error: Option<String>,
    /// A failure the step expected: what was said (the lesson).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// The sandbox VM died during this step.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub guest_died: bool,
    /// A failed build's compiler errors, `file:line:col: error: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// A kernel crash report (Oops, BUG, panic, or a WARN the kernel
    /// survived) that appeared during the step, decoded to source lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash: Option<Crash>,
    /// The probe's full result, for front ends (the report has `probe`).
    #[serde(skip)]
    pub probe_result: Option<ProbeResult>,
}

impl StepRecord {
    /// The record of a step that did not run.
    pub fn skipped(index: usize, step: &Step) -> StepRecord {
        StepRecord {
            index,
            kind: step.kind.name(),
            line: step.line,
            duration_ms: 0.0,
            outcome: Outcome::Skipped,
            summary: String::new(),
            kmsg: Vec::new(),
            output: Vec::new(),
            probe: None,
            error: None,
            refusal: None,
            guest_died: false,
            diagnostics: Vec::new(),
            crash: None,
            probe_result: None,
        }
    }

    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// What a step produced, before its expectations are checked.
#[derive(Default)]
struct Produced {
    lines: Vec<String>,
    probe: Option<Probed>,
    summary: String,
}

/// Why a step's action failed: the words and, when a system call failed,
/// its errno (what `expect.error` is matched on).
#[derive(Debug)]
struct Failure {
    text: String,
    errno: Option<i32>,
    /// The most specific line (the kernel's own reason when it gave one).
    reason: String,
    guest_died: bool,
    /// A build's compiler errors.
    diagnostics: Vec<String>,
}

impl From<SessionError> for Failure {
    fn from(err: SessionError) -> Self {
        Failure {
            text: err.to_string(),
            errno: err.errno(),
            reason: err.reason(),
            guest_died: err.guest_gone(),
            diagnostics: Vec::new(),
        }
    }
}

impl Failure {
    fn plain(text: impl Into<String>) -> Self {
        let text = text.into();
        Failure {
            reason: text.clone(),
            text,
            errno: None,
            guest_died: false,
            diagnostics: Vec::new(),
        }
    }
}

/// Runs one step (`index` is 1-based) and judges it.
pub fn run_step(
    session: &mut Session,
    ctx: &LabContext,
    index: usize,
    step: &Step,
    observer: &mut dyn StepObserver,
) -> StepRecord {
    let mark = session.kernel_log().mark();
    let crashes_before = session.crashes().len();
    let started = Instant::now();
    let mut lines = Vec::new();
    let produced = perform(session, ctx, step, observer, &mut lines);
    let verdict = judge(session, step, &produced, mark);
    let kmsg: Vec<String> = session
        .kernel_log()
        .since(mark)
        .into_iter()
        .map(|r| r.text)
        .collect();
    let mut record = StepRecord::skipped(index, step);
    record.duration_ms = started.elapsed().as_secs_f64() * 1e3;
    record.kmsg = kmsg;
    match produced {
        Ok(p) => {
            lines.extend(p.lines);
            record.summary = p.summary;
            record.probe = p.probe.as_ref().map(ProbeFigures::from_probed);
            record.probe_result = p.probe.map(|p| p.result);
        }
        Err(f) => {
            record.guest_died = f.guest_died;
            record.diagnostics = f.diagnostics.clone();
            if verdict.is_ok() {
                record.summary = format!("refused as expected: {}", f.reason);
                record.refusal = Some(f.text);
            }
        }
    }
    record.output = lines;
    record.crash = session.crashes().get(crashes_before).cloned();
    match verdict {
        Ok(()) => record.outcome = Outcome::Passed,
        Err(reason) => {
            record.outcome = Outcome::Failed;
            // The decoded crash says more than the console dump (which the
            // report keeps in `crash.console`).
            record.error = Some(match &record.crash {
                Some(crash) if record.guest_died => {
                    format!("the guest kernel crashed: {}", crash.summary())
                }
                _ => reason,
            });
        }
    }
    record
}

/// Whether the step did what its `expect` asks.
fn judge(
    session: &Session,
    step: &Step,
    produced: &Result<Produced, Failure>,
    mark: u64,
) -> Result<(), String> {
    let expect = &step.expect;
    let output = match produced {
        Err(failure) => {
            return match &expect.error {
                Some(m) if !failure.guest_died && m.matches(failure.errno, &failure.text) => {
                    // The refusal may come with the kernel's words too.
                    kernel_line_seen(session, expect, mark)
                }
                Some(_) if !failure.guest_died => {
                    Err(format!("failed, but not as expected: {}", failure.text))
                }
                _ => Err(failure.text.clone()),
            };
        }
        Ok(o) => o,
    };
    if let Some(m) = &expect.error {
        return Err(format!(
            "expected a failure ({}), but the step succeeded",
            match m {
                ErrorMatch::Errno { name, .. } => name.clone(),
                ErrorMatch::Pattern(r) => format!("/{}/", r.as_str()),
            }
        ));
    }
    kernel_line_seen(session, expect, mark)?;
    if let Some(re) = &expect.output
        && !output.lines.iter().any(|l| re.is_match(l))
    {
        return Err(format!(
            "no output line matched /{}/; output: {:?}",
            re.as_str(),
            output.lines
        ));
    }
    judge_figures(expect, output.probe.as_ref())?;
    if !expect.attributed.is_empty() {
        let probe = output
            .probe
            .as_ref()
            .map(|p| &p.result)
            .ok_or_else(|| "'attributed' needs a write or read step".to_string())?;
        for disk in &expect.attributed {
            let kernel_name = session
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

/// Per-segment and latency expectations of a probe step.
fn judge_figures(expect: &super::model::Expect, probe: Option<&Probed>) -> Result<(), String> {
    let wants =
        !expect.segments.is_empty() || expect.latency_min.is_some() || expect.latency_max.is_some();
    if !wants {
        return Ok(());
    }
    let probe = probe.ok_or_else(|| {
        "'segments', 'latency_min' and 'latency_max' need a write or read step".to_string()
    })?;
    for segments in &expect.segments {
        segments.check(&probe.stats.segments)?;
    }
    let latency = probe.result.latency.as_ref();
    if let Some(min) = expect.latency_min {
        let fastest = latency.map_or(0, |l| l.min_ns);
        if u128::from(fastest) < min.as_nanos() {
            return Err(format!(
                "the fastest block took {}, less than latency_min {}",
                format_duration(Duration::from_nanos(fastest)),
                format_duration(min)
            ));
        }
    }
    if let Some(max) = expect.latency_max {
        let slowest = latency.map_or(0, |l| l.max_ns);
        if u128::from(slowest) > max.as_nanos() {
            return Err(format!(
                "the slowest block took {}, more than latency_max {}",
                format_duration(Duration::from_nanos(slowest)),
                format_duration(max)
            ));
        }
    }
    Ok(())
}

/// The kernel line `expect.kmsg` asks for arrived since `mark`, allowing a
/// moment for work the kernel finishes after the request.
fn kernel_line_seen(
    session: &Session,
    expect: &super::model::Expect,
    mark: u64,
) -> Result<(), String> {
    let Some(re) = &expect.kmsg else {
        return Ok(());
    };
    let deadline = Instant::now() + KMSG_GRACE;
    loop {
        let seen = session.kernel_log().since(mark);
        if seen.iter().any(|r| re.is_match(&r.text)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let tail: Vec<&str> = seen.iter().rev().take(5).map(|r| r.text.as_str()).collect();
            return Err(format!(
                "no kernel log line matched /{}/ during the step; last lines: {:?}",
                re.as_str(),
                tail
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Does the step's action. `lines` collects output that is kept even when
/// the action fails (a failed build's compiler messages).
fn perform(
    s: &mut Session,
    ctx: &LabContext,
    step: &Step,
    observer: &mut dyn StepObserver,
    lines: &mut Vec<String>,
) -> Result<Produced, Failure> {
    let mut out = Produced::default();
    let expects_failure = step.expect.expects_failure();
    match &step.kind {
        StepKind::Build { source } => {
            let (built, dir) = build(ctx, source, observer, lines)?;
            // Every module kbuild listed is loadable by its name.
            for (name, image, debug_image) in built.all() {
                let module = ModuleBuild {
                    image,
                    debug_image,
                    source: Some(dir.clone()),
                };
                s.register_module(&name, module);
            }
            let file = built
                .names()
                .iter()
                .map(|n| format!("{n}.ko"))
                .collect::<Vec<_>>()
                .join(", ");
            out.summary = if built.cached {
                format!("{file} (source unchanged: the cached build)")
            } else {
                format!("{file} in {:.1} s", built.duration.as_secs_f64())
            };
        }
        StepKind::ReloadModule { module, source } => {
            let (built, dir) = build(ctx, source, observer, lines)?;
            let all = built.all();
            let Some((_, image, debug_image)) = all.into_iter().find(|(n, _, _)| n == module)
            else {
                return Err(Failure::plain(format!(
                    "{} builds module '{}', not '{module}'",
                    source.display(),
                    built.names().join("', '")
                )));
            };
            let swap = s.swap_module(
                module,
                ModuleBuild {
                    image,
                    debug_image,
                    source: Some(dir),
                },
            )?;
            out.lines.push(format!(
                "{module}: swapped under {} device(s) ({}), I/O stopped {}",
                swap.devices.len(),
                swap.devices.join(", "),
                format_duration(swap.stalled)
            ));
            out.summary = out.lines.join("");
        }
        StepKind::Load { module, params } => {
            not_built_here(s, module)?;
            s.load_module(module, params)?
        }
        StepKind::Unload { module } => s.unload_module(module)?,
        StepKind::Disk {
            name,
            size_bytes,
            read_only,
            direct_io,
        } => {
            let disk = s.add_disk(name, *size_bytes, *read_only, *direct_io)?;
            out.summary = format!("{} ({})", disk.device.display(), disk.dev_t());
        }
        StepKind::Detach { disk } => s.detach_disk(disk)?,
        StepKind::Create { name, table } => {
            let lines = render_table(s, table)?;
            let dev = if expects_failure {
                s.create_device_unvalidated(name, &lines)?
            } else {
                s.create_device(name, &lines)?
            };
            out.summary = format!("/dev/mapper/{name} ({}:{})", dev.major, dev.minor);
        }
        StepKind::Reload { device, table } => {
            let lines = render_table(s, table)?;
            s.reload_device(device, &lines)?;
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
            let request = probe_request(
                s,
                &w.device,
                ProbeOp::Write,
                w.bs,
                w.seek,
                w.count,
                Some(w.pattern),
                w.direct,
                w.random_order,
            )?;
            let probed = s.probe(&request)?;
            observer.probed(&request, &probed);
            out = probe_output(probed)?;
        }
        StepKind::Read(r) => {
            let mut request = probe_request(
                s,
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
            let probed = s.probe(&request)?;
            observer.probed(&request, &probed);
            out = probe_output(probed)?;
        }
    }
    Ok(out)
}

fn build(
    ctx: &LabContext,
    source: &Path,
    observer: &mut dyn StepObserver,
    lines: &mut Vec<String>,
) -> Result<(BuiltModule, PathBuf), Failure> {
    let dir = ctx.roots.resolve(source).map_err(Failure::plain)?;
    let kdir = ctx
        .kdir
        .as_deref()
        .ok_or_else(|| Failure::plain("no kernel tree to build against"))?;
    let result = (ctx.builder)(&dir, kdir, &mut |line: &str| {
        observer.build_line(&dir, line);
        lines.push(line.to_string());
    });
    match result {
        Ok(built) => {
            observer.built(&dir, Ok(&built));
            Ok((built, dir))
        }
        Err(e) => {
            let text = format!("{e:#}");
            observer.built(&dir, Err(&text));
            let mut failure = Failure::plain(text);
            if let Some(build) = e.downcast_ref::<BuildFailure>() {
                failure.diagnostics = build.errors.iter().map(ToString::to_string).collect();
            }
            Err(failure)
        }
    }
}

/// A lab that loads a module no build made: the usual cause is a module
/// named differently from what the lab expects, so say both names.
fn not_built_here(s: &Session, module: &str) -> Result<(), Failure> {
    if s.modules().any(|m| m.name == module && m.image.is_some()) {
        return Ok(());
    }
    let built: Vec<String> = s
        .modules()
        .filter(|m| m.image.is_some())
        .map(|m| format!("'{}'", m.name))
        .collect();
    if built.is_empty() {
        return Ok(());
    }
    Err(Failure::plain(format!(
        "the lab loads module '{module}', but the build made {} (as kbuild's modules.order \
         lists it): the module must be named '{module}' (obj-m := {module}.o)",
        built.join(", ")
    )))
}

fn render_table(
    s: &Session,
    table: &super::model::TableTemplate,
) -> Result<Vec<TableLine>, Failure> {
    let disks = s
        .disks()
        .map(|d| (d.name.clone(), d.device.clone()))
        .collect();
    table
        .render(&disks)
        .map(|t| t.to_lines())
        .map_err(|e| Failure::plain(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn probe_request(
    s: &Session,
    target: &IoTarget,
    op: ProbeOp,
    bs: u32,
    offset_blocks: u64,
    count: Option<u64>,
    pattern: Option<PatternSpec>,
    direct: bool,
    random_order: bool,
) -> Result<ProbeRequest, Failure> {
    let (target, sectors) = match target {
        IoTarget::Device(name) => (
            ProbeTarget::Device(name.clone()),
            s.device(name).map(|d| d.sectors()),
        ),
        IoTarget::Disk(name) => (
            ProbeTarget::Disk(name.clone()),
            s.disk(name).map(|d| d.sectors()),
        ),
    };
    let count = match count {
        Some(c) => c,
        None => {
            let sectors = sectors.ok_or_else(|| {
                Failure::plain(format!(
                    "no device or disk '{}' in this session",
                    target.name()
                ))
            })?;
            let blocks = sectors * crate::units::SECTOR / u64::from(bs.max(1));
            if blocks <= offset_blocks {
                return Err(Failure::plain(
                    "nothing to do: the start is at or past the end of the device",
                ));
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

/// A probe's figures; an I/O error or a verify mismatch fails the step.
fn probe_output(probed: Probed) -> Result<Produced, Failure> {
    let result = &probed.result;
    if let Some(e) = &result.io_error {
        let text = format!("I/O error {} ({}) at byte {}", e.name, e.errno, e.offset);
        return Err(Failure {
            reason: text.clone(),
            text,
            errno: Some(e.errno),
            guest_died: false,
            diagnostics: Vec::new(),
        });
    }
    if let Some(m) = &result.mismatch {
        return Err(Failure::plain(format!(
            "verify failed at byte {}: expected {}, found {} ({} bad block(s))",
            m.offset, m.expected, m.found, m.total_bad_blocks
        )));
    }
    if result.cancelled {
        return Err(Failure::plain("interrupted"));
    }
    let summary = probe_summary(result);
    let mut lines = vec![summary.clone()];
    lines.extend(probed.bios.iter().map(|b| b.text.clone()));
    lines.extend(probed.notes.iter().cloned());
    Ok(Produced {
        lines,
        summary,
        probe: Some(probed),
    })
}

/// Bytes, rate, latency and where the I/O landed, in one line.
pub fn probe_summary(result: &ProbeResult) -> String {
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
    summary
}

pub fn format_line(l: &TableLine) -> String {
    if l.params.is_empty() {
        format!("{} {} {}", l.start, l.length, l.target)
    } else {
        format!("{} {} {} {}", l.start, l.length, l.target, l.params)
    }
}

pub fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        format!("{us} µs")
    } else if us < 10_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
