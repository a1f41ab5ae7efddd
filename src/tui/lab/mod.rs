//! The Lab feature: a lab's steps with live check marks (the view model),
//! running the current step with `n` through the step engine on the
//! worker, the instructions of a course lab (its README), and the pane
//! that shows them.

pub mod keys;
pub mod pane;
pub mod readme;
pub(crate) mod run;
pub mod view;

pub use readme::Readme;
pub use view::{LabInput, LabStep, LabView, Observed, StepState};
