//! The Composer feature: the table being built for one DM device (model
//! and validation), the segment form and the small forms, applying it
//! (create, or diff and reload), and the pane with the sector bars.

pub(crate) mod bar;
pub(crate) mod commands;
pub mod keys;
pub mod model;
pub mod pane;
pub(crate) mod presets;
pub(crate) mod reload;
pub mod segment_form;

pub use model::{ApplyPlan, Composer, DiskUse, LiveState, diff_lines, parse_length};
