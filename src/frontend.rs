//! What both front ends share: choosing where operations run and opening a
//! Session there.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::TargetArgs;
pub use crate::exec::Placement;
use crate::exec::local::LocalExecutor;
use crate::exec::{EventSink, Executor};
use crate::session::{Session, SessionOptions, ledger};
use crate::vm::{VmConfig, VmExecutor};

/// Why this host cannot run device-mapper itself, if it cannot.
pub fn host_dm_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not running as root".into());
    }
    // The control node can exist without a driver behind it (a static
    // /dev); the kernel's own list of misc devices says whether DM is there.
    let misc = std::fs::read_to_string("/proc/misc").unwrap_or_default();
    if !misc
        .lines()
        .any(|l| l.trim_end().ends_with(" device-mapper"))
    {
        return Some("this kernel has no device-mapper".into());
    }
    None
}

pub fn choose_placement(target: &TargetArgs, say: &mut dyn FnMut(&str)) -> Placement {
    if target.vm {
        return Placement::Vm;
    }
    if target.local {
        return Placement::Local;
    }
    match host_dm_unavailable() {
        None => Placement::Local,
        Some(why) => {
            say(&format!("{why}: using the sandbox VM"));
            Placement::Vm
        }
    }
}

pub fn vm_config(target: &TargetArgs) -> Result<VmConfig> {
    let kernel = match &target.kernel {
        Some(p) if p.is_dir() => p.join("vmlinux"),
        Some(p) => p.clone(),
        None => crate::kernel::locate()?,
    };
    let agent = agent_binary()?;
    let mut config = VmConfig::new(kernel, agent);
    config.memory_mib = target.vm_memory;
    config.deterministic = target.vm_deterministic;
    Ok(config)
}

/// The kernel tree modules are built against: the VM's lab kernel (the
/// `--kernel` tree, else the cached build), or this host's own tree.
pub fn module_kdir(placement: Placement, target: &TargetArgs) -> Option<PathBuf> {
    match (placement, &target.kernel) {
        (Placement::Vm, Some(k)) if k.is_dir() => Some(k.clone()),
        (Placement::Vm, _) => crate::kernel::find_cached().map(|k| k.tree()),
        (Placement::Local, _) => Some(crate::kbuild::host_kdir()),
    }
}

/// The binary that becomes the guest's init: this very program, unless
/// `DMBENCH_AGENT_BIN` names another build.
pub fn agent_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("DMBENCH_AGENT_BIN") {
        return Ok(PathBuf::from(p));
    }
    std::env::current_exe().context("locating the dmbench binary")
}

pub fn open_executor(
    placement: Placement,
    target: &TargetArgs,
    events: EventSink,
) -> Result<Box<dyn Executor>> {
    Ok(match placement {
        Placement::Local => Box::new(LocalExecutor::new(events)),
        Placement::Vm => Box::new(
            VmExecutor::boot(vm_config(target)?, events).context("starting the sandbox VM")?,
        ),
    })
}

pub fn open_session(
    placement: Placement,
    target: &TargetArgs,
    events: EventSink,
) -> Result<Session> {
    let work_dir = match placement {
        // Guest tmpfs: sparse files cost only what is written.
        Placement::Vm => PathBuf::from("/run/dmbench"),
        // Private (0700, ours): nobody else can reach or swap the files.
        Placement::Local => crate::private_dir::runtime_subdir("work")?,
    };
    Session::open(
        |sink| open_executor(placement, target, sink),
        events,
        SessionOptions {
            work_dir,
            ledger_dir: Some(ledger::ledger_dir()?),
        },
    )
}
