//! Labs: scripted sequences of steps (build, load, disk, create, probe,
//! ...) read from TOML, run headless or shown as guided instructions.
//! `model` turns a lab file into checked, typed steps.

pub mod model;
