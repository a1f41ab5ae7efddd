//! Problems in a lab file, each as `FILE:LINE: message`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabError {
    pub file: String,
    /// 1-based; 0 when the problem has no line (the file cannot be read).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for LabError {}

/// Every problem found, by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabErrors(pub Vec<LabError>);

impl LabErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, LabError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for LabErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::table::error::write_one_per_line(f, &self.0)
    }
}

impl std::error::Error for LabErrors {}

/// Collects problems against one file, turning byte offsets into lines.
pub(crate) struct Report<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<LabError>,
}

impl<'a> Report<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Report {
            file,
            text,
            errors: Vec::new(),
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    pub fn at_line(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(LabError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    pub fn at_offset(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.at_line(line, message);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(mut self) -> LabErrors {
        // Stable: problems on one line keep the order they were found in.
        self.errors.sort_by_key(|e| e.line);
        LabErrors(self.errors)
    }
}
