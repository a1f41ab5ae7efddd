use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use dmbench::cli::{Cli, Command, KernelCommand, VmCommand};

fn main() -> ExitCode {
    // In the sandbox VM this binary is /init: PID 1, no arguments to parse.
    if std::process::id() == 1 {
        return exit(dmbench::exec::agent::run().map(|_| true));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Agent) => dmbench::exec::agent::run().map(|_| true),
        Some(Command::Kernel { command }) => kernel(command),
        Some(Command::Build {
            source,
            kdir,
            unboxed,
        }) => dmbench::commands::build_module(&source, kdir, !unboxed),
        Some(Command::Grade(args)) => dmbench::grade::run(args),
        Some(Command::Cleanup) => dmbench::cleanup::run(),
        Some(Command::New { name, lang, dir }) => dmbench::scaffold::run(&name, lang, &dir),
        Some(Command::Vm {
            command: VmCommand::Check { target },
        }) => dmbench::commands::vm_check(&target),
        None => dmbench::commands::run_front_end(cli.run),
    };
    exit(result)
}

fn kernel(command: KernelCommand) -> Result<bool> {
    use dmbench::kernel::{self, BuildRequest, Source};
    match command {
        KernelCommand::Path => {
            let k = kernel::find_cached().ok_or_else(|| {
                anyhow::anyhow!("no lab kernel is cached: run `dmbench kernel build`")
            })?;
            println!("{}", k.tree().display());
            Ok(true)
        }
        KernelCommand::Build { source, package } => {
            let source = match source {
                None => Source::Debian { package },
                Some(p) if p.is_dir() => Source::Dir(p),
                Some(p) => Source::Tarball(p),
            };
            let built = kernel::build(BuildRequest { source }, &mut |line| eprintln!("{line}"))?;
            println!("{}", built.tree().display());
            Ok(true)
        }
    }
}

fn exit(result: Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("dmbench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
