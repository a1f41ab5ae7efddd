//! Labs: scripted sequences of steps (build, load, disk, create, probe,
//! ...) read from TOML, run headless or shown as guided instructions.
//! `model` turns a lab file into checked, typed steps; `engine` runs a
//! step on a Session and judges it, for both front ends.

pub mod engine;
pub mod model;
pub mod report;
pub mod roots;
pub mod runner;
