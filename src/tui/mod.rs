//! The interactive workbench: panes for the lab, the module, disks, the
//! table composer, probes and events, over one Session.
//!
//! The UI renders from state and never blocks on I/O. A worker thread
//! creates and owns the Session and performs commands sent over a channel;
//! results and executor events come back over another channel; the draw
//! loop only reads state:
//!
//! ```text
//!  keys/mouse ─► App (state) ─► outbox ─► Job ─► worker ─► Session ─► Executor
//!                  ▲                                 │
//!                  └──────── Update (results, events) ┘
//! ```
//!
//! Quitting (`q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP) tears the session down
//! on the worker and shows each step; the terminal is restored on every
//! exit path, panics included. Keys are listed in [`keys::table`].

// The shell: state, messages to and from the worker, keys, drawing, the
// loop and the terminal.
pub mod action;
pub mod app;
pub mod keys;
pub mod layout;
pub mod mouse;
pub mod notice;
mod overlay;
mod runloop;
mod status;
pub mod terminal;
// Always compiled, like `exec::fake`, and likewise absent from the binary.
#[doc(hidden)]
pub mod testing;
pub mod ui;
mod updates;
pub mod widgets;
pub mod worker;

// One folder per feature: its model, what its keys do, its pane.
pub mod composer;
pub mod disks;
pub mod events;
pub mod lab;
pub mod map;
pub mod module;
pub mod probes;
pub mod prompt;

#[cfg(test)]
mod key_tests;
#[cfg(test)]
mod live_demo;
#[cfg(test)]
mod snapshot_tests;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::exec::{EventSink, Placement};
use crate::kbuild::Builder;
use crate::lab::engine::LabContext;
use crate::lab::model::{Lab, StepKind};
use crate::lab::roots::SourceRoots;
use crate::session::{Session, TeardownReport};

pub use action::{Command, Update};
pub use app::App;
pub use lab::LabInput;
#[doc(hidden)]
pub use testing::{bench_render, render_to_string};
pub use worker::SessionFactory;

/// The run loop's frame period (benchmarks report latency against it).
pub fn runloop_frame() -> Duration {
    runloop::FRAME
}

/// How the TUI is set up; `main.rs` fills it from the command line.
#[derive(Clone)]
pub struct TuiOptions {
    /// Where kmod sources resolve (`--root`, else near the lab, else here).
    pub roots: SourceRoots,
    /// Kernel tree modules are built against (default: the host's).
    pub kdir: Option<PathBuf>,
    /// Where the session will run: what the UI says while it starts.
    pub executor: Placement,
    /// How often disk I/O counters are sampled.
    pub stats_interval: Duration,
    /// Module builder; `kbuild::build` when `None`.
    pub builder: Option<Builder>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            roots: SourceRoots::fixed(PathBuf::from(".")),
            kdir: None,
            executor: Placement::Vm,
            stats_interval: Duration::from_secs(1),
            builder: None,
        }
    }
}

impl TuiOptions {
    /// What the worker gives the step engine.
    fn lab_context(&self) -> LabContext {
        LabContext {
            roots: self.roots.clone(),
            kdir: Some(self.kdir.clone().unwrap_or_else(crate::kbuild::host_kdir)),
            builder: self
                .builder
                .clone()
                .unwrap_or_else(crate::kbuild::default_builder),
        }
    }
}

/// Runs the workbench until the user quits and the session is torn down.
///
/// `session_factory` is called on the worker thread with the event sink
/// the executor must deliver to; it may take seconds (booting the sandbox
/// VM) while the UI already shows "starting sandbox VM…". A bad lab file is
/// reported before the terminal is touched. After the terminal is
/// restored, the teardown report is printed; an incomplete teardown is an
/// error.
pub fn run<F>(session_factory: F, lab: Option<LabInput>, options: TuiOptions) -> Result<()>
where
    F: FnOnce(EventSink) -> Result<Session> + Send + 'static,
{
    let (mut app, lab) = new_app(lab, &options)?;
    let (updates_tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let worker = worker::spawn(
        Box::new(session_factory),
        updates_tx,
        worker::WorkerConfig {
            context: options.lab_context(),
            lab,
            stats_interval: Some(options.stats_interval),
        },
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the UI runtime")?;
    let outcome = match terminal::enter() {
        Ok(mut guard) => {
            let outcome = runtime.block_on(runloop::run(
                &mut guard.terminal,
                &mut app,
                &worker,
                &mut updates,
            ));
            drop(guard);
            outcome
        }
        Err(e) => Err(e),
    };
    if app.teardown_report.is_none() {
        // The loop ended without a teardown (an error): do it now, on the
        // worker, and collect what it reports.
        crate::output::error_line("dmbench: tearing down the session…");
        drop(worker);
        while let Ok(update) = updates.try_recv() {
            app.apply(update);
        }
    } else {
        worker.join();
    }
    let report = app.teardown_report.clone().unwrap_or_default();
    print_report(&app, &report);
    outcome?;
    if !report.all_ok() {
        return Err(anyhow!(
            "teardown left resources behind: run `dmbench cleanup`"
        ));
    }
    Ok(())
}

/// The app as `run` starts it, and the lab its worker runs steps of: the
/// lab read and checked (its kmod sources found) before anything starts.
pub fn new_app(lab: Option<LabInput>, options: &TuiOptions) -> Result<(App, Option<Lab>)> {
    let root = options.roots.primary().to_path_buf();
    let sources = module::scan_sources(&root);
    let mut app = App::new(root, sources, options.executor);
    // Read here, before the terminal is taken: what each source builds.
    for source in &mut app.modules.sources {
        source.declares = crate::kbuild::declared_modules(&source.path);
    }
    let (lab, readme) = match lab {
        None => return Ok((app, None)),
        Some(LabInput::Path(path)) => {
            let lab = crate::lab::model::load_lab(&path)
                .map_err(|errors| anyhow!("{errors}"))
                .with_context(|| format!("lab {}", path.display()))?;
            options
                .roots
                .check(&path.display().to_string(), &lab)
                .map_err(|errors| anyhow!("{errors}"))?;
            // Read here, once: drawing never touches the disk.
            (lab, lab::readme::beside(&path))
        }
        Some(LabInput::Parsed(lab)) => (lab, Ok(None)),
        Some(LabInput::Steps { title, steps }) => {
            let view = lab::LabView::from_titles(title, steps);
            return Ok((app.with_lab(view, None), None));
        }
    };
    let device = first_device(&lab);
    let (readme, unreadable) = match readme {
        Ok(readme) => (readme, None),
        Err(e) => (None, Some(e)),
    };
    let view = lab::LabView::from_lab(&lab).with_readme(readme);
    let mut app = app.with_lab(view, device);
    if let Some(e) = unreadable {
        // Not worth refusing the lab for: the steps still run.
        app.complain(format!("the lab's README cannot be shown: {e}"));
    }
    Ok((app, Some(lab)))
}

fn first_device(lab: &Lab) -> Option<String> {
    lab.steps.iter().find_map(|s| match &s.kind {
        StepKind::Create { name, .. } => Some(name.clone()),
        _ => None,
    })
}

fn print_report(app: &App, report: &TeardownReport) {
    let id = app.info.as_ref().map_or("", |i| i.id.as_str());
    if report.steps.is_empty() {
        return;
    }
    crate::output::line(&format!("dmbench: session {id} torn down:"));
    crate::output::text(&report.to_string());
}
