//! Problems found in a table, each pinned to a line and, where there is
//! one, the argument at fault: people fix tables by reading these.

use std::fmt;

/// Which part of a row a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The row as a whole (field count, position in the table).
    Row,
    Start,
    Length,
    Target,
    /// A target argument: 1-based position after the target name, and the
    /// name the catalog gives it.
    Argument {
        position: usize,
        name: String,
    },
}

/// One problem. `line` is 1-based; 0 means the table as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub line: usize,
    pub field: Field,
    pub message: String,
}

impl TableError {
    pub fn row(line: usize, message: impl Into<String>) -> Self {
        TableError {
            line,
            field: Field::Row,
            message: message.into(),
        }
    }

    pub fn field(line: usize, field: Field, message: impl Into<String>) -> Self {
        TableError {
            line,
            field,
            message: message.into(),
        }
    }

    /// `position` is 1-based, counted after the target name.
    pub fn argument(
        line: usize,
        position: usize,
        name: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        TableError {
            line,
            field: Field::Argument {
                position,
                name: name.into(),
            },
            message: message.into(),
        }
    }
}

impl TableError {
    /// Orders problems as a reader meets them: by line, then left to right
    /// along the row.
    pub fn sort_key(&self) -> (usize, usize) {
        let column = match &self.field {
            Field::Row => 0,
            Field::Start => 1,
            Field::Length => 2,
            Field::Target => 3,
            Field::Argument { position, .. } => 3 + position,
        };
        (self.line, column)
    }
}

impl TableError {
    /// The message with the line called something else, e.g. `table line 2`
    /// when the table sits inside another file.
    pub fn with_line_label(&self, label: &str) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_labelled(&mut text, label);
        text
    }

    fn write_labelled(&self, f: &mut impl fmt::Write, label: &str) -> fmt::Result {
        if self.line == 0 {
            write!(f, "table")?;
        } else {
            write!(f, "{label} {}", self.line)?;
        }
        match &self.field {
            Field::Row => {}
            Field::Start => write!(f, ", start")?,
            Field::Length => write!(f, ", length")?,
            Field::Target => write!(f, ", target")?,
            Field::Argument { position, name } if name.is_empty() => {
                write!(f, ", argument {position}")?
            }
            Field::Argument { position, name } => write!(f, ", argument {position} ({name})")?,
        }
        write!(f, ": {}", self.message)
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_labelled(f, "line")
    }
}

impl std::error::Error for TableError {}

/// Every problem found, in line order: tables are fixed faster when all
/// mistakes show at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableErrors(pub Vec<TableError>);

impl TableErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, TableError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for TableErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_one_per_line(f, &self.0)
    }
}

/// A list of errors, one per line (no trailing newline).
pub(crate) fn write_one_per_line<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            writeln!(f)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl std::error::Error for TableErrors {}

impl IntoIterator for TableErrors {
    type Item = TableError;
    type IntoIter = std::vec::IntoIter<TableError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
