//! Command-line parsing only; `main.rs` dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dmbench",
    version,
    about = "A terminal workbench for writing and exercising device-mapper targets",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// A lab file to show in the TUI as guided steps.
    pub lab: Option<PathBuf>,

    /// Run LAB.toml without a user interface and exit 0 only if every step passed.
    #[arg(long, value_name = "LAB.toml", conflicts_with = "lab")]
    pub headless: Option<PathBuf>,

    /// Write a machine-readable report of a headless run.
    #[arg(long, value_name = "FILE.json", requires = "headless")]
    pub report: Option<PathBuf>,

    /// Where a lab's `build.source` paths resolve (default: the nearest
    /// folder above the lab that holds kmod/, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args, Default, Clone)]
pub struct TargetArgs {
    /// Run every privileged operation in the sandbox VM (the default when
    /// this host cannot do device-mapper).
    #[arg(long, conflicts_with = "local")]
    pub vm: bool,

    /// Run on this host directly (needs root and a kernel with device-mapper).
    #[arg(long)]
    pub local: bool,

    /// Lab kernel tree to boot (default: the cached `dmbench kernel build`).
    #[arg(long, value_name = "DIR")]
    pub kernel: Option<PathBuf>,

    /// Guest memory in MiB (backing files live in it, sparse).
    #[arg(long, default_value_t = 512)]
    pub vm_memory: u32,

    /// Guest time counts executed instructions (QEMU -icount): probe
    /// figures repeat exactly and ignore host load, but model instruction
    /// cost only, and the VM runs slower.
    #[arg(long)]
    pub vm_deterministic: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Guest side of the sandbox VM (PID 1 there); not for interactive use.
    Agent,
    /// Build or locate the lab kernel.
    Kernel {
        #[command(subcommand)]
        command: KernelCommand,
    },
    /// Build a target module from a kmod source directory (in a box that
    /// sees only a copy of the source, the kernel tree and the toolchain).
    Build {
        /// e.g. kmod/rust or kmod/c
        source: PathBuf,
        /// Kernel tree to build against (default: the lab kernel).
        #[arg(long)]
        kdir: Option<PathBuf>,
        /// Run make in the source directory itself, outside the box: only
        /// for a source you trust (its Makefile runs as you).
        #[arg(long)]
        unboxed: bool,
    },
    /// Grade submissions: every lab against every submission, each pair in
    /// its own sandbox VM; JUnit and JSON reports; exit 0 only if all passed.
    Grade(crate::grade::GradeArgs),
    /// Remove what a killed session left behind (only dmbench's own).
    Cleanup,
    /// Start a new target: DIR/NAME/ with its module source, a lab and a README.
    New {
        /// Module and target name: a C identifier of at most 15 bytes, lowercase by convention.
        name: String,
        /// Language of the module.
        #[arg(long, value_enum, default_value_t = crate::scaffold::Lang::Rust)]
        lang: crate::scaffold::Lang,
        /// Where to create NAME/ (must exist; NAME/ must not).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Sandbox VM utilities.
    Vm {
        #[command(subcommand)]
        command: VmCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KernelCommand {
    /// Fetch (or take) kernel source, apply the dmbench fragment, build, cache.
    Build {
        /// A kernel source directory or tarball instead of Debian's linux-source.
        #[arg(long, value_name = "DIR|TARBALL")]
        source: Option<PathBuf>,
        /// Debian package to fetch, e.g. linux-source-7.3 (default: newest offered).
        #[arg(long)]
        package: Option<String>,
    },
    /// Print the cached kernel tree, or fail if there is none.
    Path,
}

#[derive(Debug, Subcommand)]
pub enum VmCommand {
    /// Boot the VM, handshake, print timings, power off.
    Check {
        #[command(flatten)]
        target: TargetArgs,
    },
}
