//! A one-line outcome worth telling the user: the status line's last
//! word, and the composer's verdict on its last edit.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something went as asked (green).
    Info(String),
    /// Something was refused or failed (red).
    Error(String),
}

impl Notice {
    pub fn text(&self) -> &str {
        match self {
            Notice::Info(text) | Notice::Error(text) => text,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Notice::Error(_))
    }
}
