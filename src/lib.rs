//! dmbench: a terminal workbench for writing and exercising Linux
//! device-mapper targets. See docs/architecture.md.

pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod crash;
pub mod exec;
pub mod frontend;
pub mod grade;
pub mod kbuild;
pub mod kernel;
pub mod lab;
pub mod output;
pub mod private_dir;
pub mod scaffold;
pub mod session;
pub mod signals;
pub mod table;
pub mod tui;
pub mod units;
pub mod vm;
