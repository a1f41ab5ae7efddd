//! The Lab feature: a lab's steps with live check marks (the view model),
//! running the current step with `n` through the step engine on the
//! worker, and the pane that shows them.

pub mod keys;
pub mod pane;
pub(crate) mod run;
pub mod view;

pub use view::{LabInput, LabStep, LabView, Observed, StepState};
