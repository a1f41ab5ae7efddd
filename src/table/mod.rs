//! The mapping-table model: parse dmsetup table text, check it against the
//! rules of each target and the devices it names, write it back in
//! canonical form, compare it with the kernel's own report, and edit it.
//!
//! ```text
//! text --parse--> Table --validate(resolver)--> errors / warnings
//!                   |  \--to_lines--> Vec<TableLine> (wire)
//!                   |--format--> canonical text
//!                   \--split/resize/delete/insert--> Table
//! ```

pub mod args;
pub mod catalog;
mod edit;
pub(crate) mod error;
mod format;
mod kernel;
mod model;
mod numbers;
mod parse;
pub mod presets;
mod validate;

pub use args::{Decoded, DeviceOffset, DeviceUse, TargetArgs};
pub use edit::{EditError, delete_segment, insert_segment, resize_segment, split_segment};
pub use error::{Field, TableError, TableErrors};
pub use format::format;
pub use kernel::{KernelMismatch, compare_with_kernel};
pub use model::{DevT, Segment, Table};
pub use parse::{parse, split_words};
pub use validate::{
    DeviceInfo, DeviceResolver, MAX_SECTORS, MAX_TARGET_NAME, Validation, check_arguments,
    check_layout, validate,
};

#[cfg(test)]
mod tests;
