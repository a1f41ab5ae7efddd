//! Tables inside labs: dmsetup text whose device words may hold `{disk}`
//! placeholders, replaced by that disk's loop device when the step runs.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::table::{self, Table};

/// A `{name}` found in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    /// The line within the table text (1-based).
    pub table_line: usize,
}

/// A table as a lab writes it, placeholders intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableTemplate {
    pub table: Table,
}

/// A placeholder with no disk path to put in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstituteError {
    pub table_line: usize,
    pub name: String,
}

impl fmt::Display for SubstituteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "table line {}: {{{}}} names no disk of this session",
            self.table_line, self.name
        )
    }
}

impl std::error::Error for SubstituteError {}

impl TableTemplate {
    /// Parses the table text and its placeholders' syntax; messages say
    /// `table line N: ...`.
    pub fn parse(text: &str) -> Result<TableTemplate, Vec<String>> {
        let table = table::parse(text).map_err(|errors| {
            errors
                .iter()
                .map(|e| e.with_line_label("table line"))
                .collect::<Vec<_>>()
        })?;
        let mut problems = Vec::new();
        for segment in &table.segments {
            for word in &segment.args {
                if let Err(problem) = placeholders_in(word) {
                    problems.push(format!("table line {}: {problem}", segment.line));
                }
            }
        }
        if problems.is_empty() {
            Ok(TableTemplate { table })
        } else {
            Err(problems)
        }
    }

    /// Every placeholder, in order of appearance.
    pub fn placeholders(&self) -> Vec<Placeholder> {
        let mut found = Vec::new();
        for segment in &self.table.segments {
            for word in &segment.args {
                for name in placeholders_in(word).unwrap_or_default() {
                    found.push(Placeholder {
                        name,
                        table_line: segment.line,
                    });
                }
            }
        }
        found
    }

    /// The concrete table, each `{disk}` replaced by the disk's device path.
    pub fn render(&self, disks: &HashMap<String, PathBuf>) -> Result<Table, SubstituteError> {
        let mut table = self.table.clone();
        for segment in &mut table.segments {
            for word in &mut segment.args {
                *word = substitute_word(word, disks).map_err(|name| SubstituteError {
                    table_line: segment.line,
                    name,
                })?;
            }
        }
        Ok(table)
    }

    /// The concrete table as canonical text.
    pub fn render_text(&self, disks: &HashMap<String, PathBuf>) -> Result<String, SubstituteError> {
        self.render(disks).map(|t| table::format(&t))
    }
}

/// Substitutes `{disk}` placeholders in table text and returns the
/// canonical concrete text.
pub fn substitute_disks(
    text: &str,
    disks: &HashMap<String, PathBuf>,
) -> Result<String, SubstituteError> {
    let template = TableTemplate::parse(text).map_err(|problems| SubstituteError {
        table_line: 0,
        name: problems.join("; "),
    })?;
    template.render_text(disks)
}

/// The placeholder names in one word; an error for stray or empty braces.
fn placeholders_in(word: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = word;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("'}}' without '{{' in '{word}'"));
        }
        let after = &rest[open + 1..];
        let Some(close) = after
            .find(['{', '}'])
            .filter(|&i| after[i..].starts_with('}'))
        else {
            return Err(format!("unclosed '{{' in '{word}'"));
        };
        let name = &after[..close];
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid {
            return Err(format!(
                "'{{{name}}}' is not a disk placeholder: write {{name}} with a disk's name"
            ));
        }
        names.push(name.to_string());
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Replaces every placeholder in a word; the error is the unknown name.
fn substitute_word(word: &str, disks: &HashMap<String, PathBuf>) -> Result<String, String> {
    let names = placeholders_in(word).map_err(|_| word.to_string())?;
    let mut result = word.to_string();
    for name in names {
        let path = disks.get(&name).ok_or_else(|| name.clone())?;
        result = result.replacen(&format!("{{{name}}}"), &path.to_string_lossy(), 1);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disks() -> HashMap<String, PathBuf> {
        [("disk1", "/dev/loop3"), ("disk2", "/dev/loop4")]
            .into_iter()
            .map(|(name, path)| (name.to_string(), PathBuf::from(path)))
            .collect()
    }

    #[test]
    fn substitutes_every_placeholder() {
        let text = "0 100 linear {disk1} 0\n100 64   striped 2 8 {disk1} 100 {disk2} 0";
        assert_eq!(
            substitute_disks(text, &disks()),
            Ok("0 100 linear /dev/loop3 0\n100 64 striped 2 8 /dev/loop3 100 /dev/loop4 0".into())
        );
        let template = TableTemplate::parse(text).expect("parses");
        let names: Vec<String> = template
            .placeholders()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["disk1", "disk1", "disk2"]);
    }

    #[test]
    fn unknown_and_malformed_placeholders() {
        let err =
            substitute_disks("0 1 zero\n1 1 linear {disk9} 0", &disks()).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "table line 2: {disk9} names no disk of this session"
        );
        let err = TableTemplate::parse("0 1 linear {disk1 0").expect_err("unclosed");
        assert_eq!(err, ["table line 1: unclosed '{' in '{disk1'"]);
        let err = TableTemplate::parse("0 1 linear {} 0").expect_err("empty");
        assert!(err[0].contains("'{}' is not a disk placeholder"));
        let err = TableTemplate::parse("0 1 linear x} 0").expect_err("stray");
        assert!(err[0].contains("'}' without '{'"));
    }
}
