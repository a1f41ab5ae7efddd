//! The small subcommands: build a module, check the VM, start a front end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::cli::{RunArgs, TargetArgs};
use crate::exec::protocol::Request;
use crate::exec::{Executor, discard_events};
use crate::vm::VmExecutor;

pub fn build_module(source: &Path, kdir: Option<PathBuf>, boxed: bool) -> Result<bool> {
    let kdir = match kdir {
        Some(k) => k,
        None => match crate::kernel::find_cached() {
            Some(k) => k.tree(),
            None => crate::kbuild::host_kdir(),
        },
    };
    eprintln!("building {} against {}", source.display(), kdir.display());
    let options = crate::kbuild::BuildOptions { boxed };
    let built = crate::kbuild::build_with(source, &kdir, options, &mut |line| eprintln!("{line}"))?;
    for w in &built.warnings {
        eprintln!("{w}");
    }
    eprintln!(
        "built module{} '{}' in {:.1} s",
        if built.others.is_empty() { "" } else { "s" },
        built.names().join("', '"),
        built.duration.as_secs_f64()
    );
    for (_, path, _) in built.all() {
        println!("{}", path.display());
    }
    Ok(true)
}

/// Boots the VM, handshakes, lists targets, powers off, printing timings.
pub fn vm_check(target: &TargetArgs) -> Result<bool> {
    let config = crate::frontend::vm_config(target)?;
    let started = Instant::now();
    let mut vm = VmExecutor::boot(config, discard_events())?;
    let booted = started.elapsed();
    let t = vm.timings.clone();
    let rt = Instant::now();
    let reply = vm.call(Request::SystemInfo)?;
    let round_trip = rt.elapsed();
    let targets = match vm.call(Request::DmTargetVersions)? {
        crate::exec::Response::TargetVersions { targets } => targets,
        _ => Vec::new(),
    };
    let sd = Instant::now();
    vm.shutdown()?;
    println!("accelerator:        {}", t.accel);
    println!("guest image:        {} KiB", t.image_bytes / 1024);
    println!(
        "boot to handshake:  {:.3} s",
        t.spawn_to_handshake.as_secs_f64()
    );
    println!("total to ready:     {:.3} s", booted.as_secs_f64());
    println!(
        "request round trip: {:.3} ms",
        round_trip.as_secs_f64() * 1e3
    );
    println!("shutdown:           {:.3} s", sd.elapsed().as_secs_f64());
    println!("{reply:?}");
    println!(
        "targets: {}",
        targets
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(true)
}

pub fn run_front_end(run: RunArgs) -> Result<bool> {
    if let Some(lab) = run.headless {
        return crate::lab::runner::run(crate::lab::runner::RunOptions {
            lab,
            report: run.report,
            root: run.root,
            target: run.target,
        });
    }
    run_tui(run)
}

/// The interactive workbench: the session (and the VM boot) starts on the
/// TUI's worker thread, so the screen is up at once.
fn run_tui(run: RunArgs) -> Result<bool> {
    use crate::frontend::{self, Placement};
    crate::signals::install();
    let mut notes = Vec::new();
    let placement = frontend::choose_placement(&run.target, &mut |l| notes.push(l.to_string()));
    for note in &notes {
        crate::output::error_line(&format!("dmbench: {note}"));
    }
    let kdir = frontend::module_kdir(placement, &run.target);
    if placement == Placement::Vm {
        // Fail before the screen is taken when there is nothing to boot.
        frontend::vm_config(&run.target)?;
    }
    let options = crate::tui::TuiOptions {
        roots: crate::lab::roots::SourceRoots::new(run.lab.as_deref(), run.root.as_deref()),
        kdir,
        executor: placement,
        ..Default::default()
    };
    let target = run.target.clone();
    let factory = move |events| frontend::open_session(placement, &target, events);
    crate::tui::run(factory, run.lab.map(crate::tui::LabInput::Path), options)?;
    Ok(true)
}
