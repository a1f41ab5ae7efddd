use std::process::ExitCode;

use clap::Parser;

use dmbench::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Agent) => Err(anyhow::anyhow!("agent: not built yet")),
        Some(_) => Err(anyhow::anyhow!("not built yet")),
        None => Err(anyhow::anyhow!("not built yet")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dmbench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
