//! Reading dmsetup table text.
//!
//! Syntax, as `dmsetup` accepts it: one row per line,
//! `<start> <length> <target> [<args>...]`, words separated by whitespace.
//! Blank lines and lines whose first non-blank character is `#` are skipped
//! (a `#` later in a line is an ordinary character: device paths may hold
//! one). Parsing checks only this shape; what the arguments mean is checked
//! by [`validate`](crate::table::validate).

use super::error::{Field, TableError, TableErrors};
use super::model::{Segment, Table};
use super::numbers::parse_u64;

/// The characters the kernel's `dm_split_args` treats as separators
/// (C `isspace` in the ASCII range).
pub fn is_table_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Splits a parameter string into words the way the kernel does, minus its
/// backslash escapes (no target dmbench knows uses them).
pub fn split_words(text: &str) -> Vec<String> {
    text.split(is_table_space)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses table text; on failure returns every malformed line.
pub fn parse(text: &str) -> Result<Table, TableErrors> {
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let content = raw.trim_matches(is_table_space);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        match parse_row(line, content) {
            Ok(segment) => segments.push(segment),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    if errors.is_empty() {
        Ok(Table { segments })
    } else {
        Err(TableErrors(errors))
    }
}

fn parse_row(line: usize, content: &str) -> Result<Segment, Vec<TableError>> {
    if content.contains('\0') {
        // The kernel receives C strings: a NUL would silently cut the row.
        return Err(vec![TableError::row(line, "contains a NUL character")]);
    }
    let words = split_words(content);
    if words.len() < 3 {
        return Err(vec![TableError::row(
            line,
            format!(
                "expected '<start> <length> <target> [<arguments>...]', got {} word{}",
                words.len(),
                if words.len() == 1 { "" } else { "s" }
            ),
        )]);
    }
    let mut errors = Vec::new();
    let start = parse_u64(&words[0]).map_err(|e| {
        errors.push(TableError::field(
            line,
            Field::Start,
            e.describe(&words[0], "a sector number"),
        ))
    });
    let length = parse_u64(&words[1]).map_err(|e| {
        errors.push(TableError::field(
            line,
            Field::Length,
            e.describe(&words[1], "a number of sectors"),
        ))
    });
    match (start, length) {
        (Ok(start), Ok(length)) if errors.is_empty() => Ok(Segment {
            line,
            start,
            length,
            target: words[2].clone(),
            args: words[3..].to_vec(),
        }),
        _ => Err(errors),
    }
}
