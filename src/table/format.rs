//! Writing tables back out, and converting to and from the wire form.
//!
//! Canonical text: one row per segment, words separated by single spaces,
//! rows separated by `\n` (no trailing newline), comments and blank lines
//! dropped. `format(parse(x))` is canonical, and formatting is idempotent.

use std::fmt;

use super::model::{Segment, Table};
use super::parse::split_words;
use crate::exec::protocol::TableLine;

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.start, self.length, self.target)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, segment) in self.segments.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

/// The canonical text of a table.
pub fn format(table: &Table) -> String {
    table.to_string()
}

impl Table {
    /// The rows as the executor sends them to the kernel.
    pub fn to_lines(&self) -> Vec<TableLine> {
        self.segments.iter().map(Segment::to_line).collect()
    }

    /// A table from rows the kernel (or the wire) gave; lines are numbered
    /// by position.
    pub fn from_lines(lines: &[TableLine]) -> Table {
        Table::new(lines.iter().map(Segment::from_line).collect())
    }
}

impl Segment {
    pub fn to_line(&self) -> TableLine {
        TableLine {
            start: self.start,
            length: self.length,
            target: self.target.clone(),
            params: self.params(),
        }
    }

    pub fn from_line(line: &TableLine) -> Segment {
        Segment::new(
            line.start,
            line.length,
            line.target.clone(),
            split_words(&line.params),
        )
    }
}
