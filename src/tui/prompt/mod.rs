//! The two ways the UI asks for input, forms and pickers, and where what
//! they collect goes.

pub mod form;
pub(crate) mod keys;
pub mod picker;
pub(crate) mod submit;

pub use form::{Field, Form, FormKey, FormKind};
pub use picker::{PickItem, Picker, PickerKind};
