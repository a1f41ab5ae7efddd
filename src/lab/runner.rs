//! The headless runner: `dmbench --headless LAB.toml [--vm] [--report F]`.
//! One progress line per step; the first failed step stops the run; the
//! session is always torn down; exit status 0 only if every step passed.
//! The steps themselves run in the engine, exactly as in the TUI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::engine::{self, LabContext, StepRecord, Unobserved};
use super::model::{self, Lab};
use super::report::{Report, TeardownEntry};
use super::roots::SourceRoots;
use crate::cli::TargetArgs;
use crate::frontend;
use crate::output;
use crate::session::{Session, TeardownReport, teardown::VM_GONE};

pub struct RunOptions {
    pub lab: PathBuf,
    pub report: Option<PathBuf>,
    /// `--root`: where `build.source` resolves.
    pub root: Option<PathBuf>,
    pub target: TargetArgs,
}

/// Runs a lab; Ok(true) when every step passed and teardown was clean.
pub fn run(options: RunOptions) -> Result<bool> {
    // A malformed lab is rejected here, before anything is created.
    let lab = model::load_lab(&options.lab).map_err(|errors| anyhow!("{errors}"))?;
    let roots = SourceRoots::new(Some(&options.lab), options.root.as_deref());
    roots
        .check(&options.lab.display().to_string(), &lab)
        .map_err(|errors| anyhow!("{errors}"))?;
    crate::signals::install();
    output::line(&format!("lab: {} ({} steps)", lab.title, lab.steps.len()));

    let placement = frontend::choose_placement(&options.target, &mut |l| output::line(l));
    let started = Instant::now();
    let mut session =
        frontend::open_session(placement, &options.target, crate::exec::discard_events())?;
    let clock = session.clocksource();
    output::line(&format!(
        "ready: {} executor, kernel {}, session {} ({:.2} s){}",
        session.placement(),
        session.kernel_release(),
        session.id(),
        started.elapsed().as_secs_f64(),
        if clock == "jiffies" {
            " -- note: the kernel times with jiffies, latencies are coarse"
        } else {
            ""
        }
    ));
    // Ctrl-C/SIGTERM cancel a probe in flight at once; the run then stops
    // before the next step and tears down as usual.
    let cancel = session.canceller();
    std::thread::spawn(move || {
        while !crate::signals::interrupted() {
            std::thread::sleep(Duration::from_millis(100));
        }
        cancel();
    });
    let ctx = LabContext {
        roots,
        kdir: frontend::module_kdir(placement, &options.target),
        builder: crate::kbuild::default_builder(),
    };
    let steps = run_steps(&mut session, &ctx, &lab);
    let passed = steps.iter().all(StepRecord::passed);

    let executor = session.placement();
    let kernel = session.kernel_release().to_string();
    let teardown = session.close();
    print_teardown(&teardown);
    let clean = teardown.all_ok();
    if let Some(path) = &options.report {
        let report = Report {
            lab: options.lab.display().to_string(),
            title: lab.title.clone(),
            executor,
            kernel,
            passed: passed && clean,
            steps,
            teardown: TeardownEntry::all(&teardown),
        };
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    let verdict = if passed && clean { "PASSED" } else { "FAILED" };
    output::line(&format!(
        "{verdict}: {} in {:.2} s",
        lab.title,
        started.elapsed().as_secs_f64()
    ));
    Ok(passed && clean)
}

/// Every step in order until one fails or the run is interrupted; the rest
/// are recorded as skipped.
fn run_steps(session: &mut Session, ctx: &LabContext, lab: &Lab) -> Vec<StepRecord> {
    let total = lab.steps.len();
    let mut records = Vec::new();
    let mut stopped = false;
    for (i, step) in lab.steps.iter().enumerate() {
        let label = format!("[{:>2}/{total}] {}", i + 1, step.kind.label());
        if stopped || crate::signals::interrupted() {
            if !stopped {
                output::line(&format!("{label:<48} interrupted"));
            }
            stopped = true;
            records.push(StepRecord::skipped(i + 1, step));
            continue;
        }
        let record = engine::run_step(session, ctx, i + 1, step, &mut Unobserved);
        let took = engine::format_duration(Duration::from_secs_f64(record.duration_ms / 1e3));
        match &record.error {
            None => output::line(&format!("{label:<48} ok     {took:>9}  {}", record.summary)),
            Some(reason) => {
                output::line(&format!("{label:<48} FAILED {took:>9}"));
                output::line(&format!("        line {}: {}", step.line, indent(reason)));
                stopped = true;
            }
        }
        if let Some(crash) = record.crash.as_ref().filter(|c| !c.kind.fatal()) {
            // The kernel went on; the run does too, but says what it saw.
            output::line(&format!("        kernel {}", indent(&crash.summary())));
        }
        records.push(record);
    }
    records
}

/// Each removal, or, when the sandbox VM died, one line saying so.
fn print_teardown(teardown: &TeardownReport) {
    if teardown.vm_gone.is_some() {
        output::line(&format!("teardown: {VM_GONE}"));
        return;
    }
    for step in &teardown.steps {
        match &step.error {
            None => output::line(&format!("teardown: removed {}", step.resource)),
            Some(e) => output::line(&format!("teardown: FAILED {}: {e}", step.resource)),
        }
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n        ")
}
