//! The mapping table as dmbench holds it: ordered segments, each with the
//! raw argument words the kernel will see. Arguments stay as text so that
//! custom targets, half-edited forms and bad input remain representable;
//! [`Segment::decode`](crate::table::args) gives the typed view.

use std::fmt;
use std::str::FromStr;

/// One row of a table: `<start> <length> <target> <args...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// 1-based line in the text it came from; after an edit, its line in
    /// the canonical text.
    pub line: usize,
    /// First sector of the DM device this row maps.
    pub start: u64,
    /// Sectors mapped.
    pub length: u64,
    pub target: String,
    pub args: Vec<String>,
}

impl Segment {
    pub fn new(start: u64, length: u64, target: impl Into<String>, args: Vec<String>) -> Self {
        Segment {
            line: 0,
            start,
            length,
            target: target.into(),
            args,
        }
    }

    /// One past the last sector mapped (saturating, so malformed input
    /// cannot overflow).
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.length)
    }

    /// The argument words joined as the kernel receives them.
    pub fn params(&self) -> String {
        self.args.join(" ")
    }
}

/// A whole mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub segments: Vec<Segment>,
}

impl Table {
    pub fn new(segments: Vec<Segment>) -> Self {
        let mut table = Table { segments };
        table.renumber();
        table
    }

    /// Size of the DM device the table describes: the end of its last row.
    pub fn total_sectors(&self) -> u64 {
        self.segments.iter().map(Segment::end).max().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Gives every segment the line it has in the canonical text, after
    /// edits have inserted or removed rows.
    pub fn renumber(&mut self) {
        for (index, segment) in self.segments.iter_mut().enumerate() {
            segment.line = index + 1;
        }
    }

    /// The segment that maps `sector`, if any.
    pub fn segment_at(&self, sector: u64) -> Option<usize> {
        self.segments
            .iter()
            .position(|s| s.start <= sector && sector < s.end())
    }
}

/// A block device number as the kernel writes it in tables: `major:minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevT {
    pub major: u32,
    pub minor: u32,
}

impl DevT {
    pub fn new(major: u32, minor: u32) -> Self {
        DevT { major, minor }
    }
}

impl fmt::Display for DevT {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl FromStr for DevT {
    type Err = String;

    /// Accepts exactly `<digits>:<digits>`, the form the kernel's
    /// `dm_devt_from_path` recognises before falling back to a path lookup.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_devt = || format!("'{text}' is not a major:minor device number");
        let (major, minor) = text.split_once(':').ok_or_else(not_devt)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return Err(not_devt());
        }
        Ok(DevT {
            major: major.parse().map_err(|_| not_devt())?,
            minor: minor.parse().map_err(|_| not_devt())?,
        })
    }
}
