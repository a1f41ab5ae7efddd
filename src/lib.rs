//! dmbench: a terminal workbench for writing and exercising Linux
//! device-mapper targets. See docs/architecture.md.

pub mod cli;
pub mod exec;
pub mod kbuild;
pub mod lab;
pub mod session;
pub mod table;
pub mod tui;
pub mod units;
pub mod vm;
