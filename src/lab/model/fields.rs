//! Typed access to the keys of one TOML table (a step, its expect table,
//! the top level), reporting missing keys, wrong types and unknown keys
//! (with the closest valid key) at their lines.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::errors::Report;
use super::suggest::closest;

pub(crate) struct Fields<'t, 'i> {
    table: &'t DeTable<'i>,
    /// Where to report a key that is missing (the table's header line).
    line: usize,
    /// What the table is, for messages: "write step", "expect table".
    what: String,
}

/// A value with the line it sits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub value: T,
    pub line: usize,
}

impl<'t, 'i> Fields<'t, 'i> {
    pub fn new(table: &'t DeTable<'i>, line: usize, what: impl Into<String>) -> Self {
        Fields {
            table,
            line,
            what: what.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    fn type_error(
        &self,
        report: &mut Report<'_>,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        want: &str,
    ) {
        report.at_offset(
            value.span().start,
            format!(
                "'{key}' must be {want}, not {}",
                article(value.get_ref().type_str())
            ),
        );
    }

    pub fn missing(&self, report: &mut Report<'_>, key: &str, hint: &str) {
        report.at_line(self.line, format!("{} has no '{key}' key{hint}", self.what));
    }

    /// Offset of a key's value, for callers that report on it later.
    pub fn offset(&self, key: &str) -> Option<usize> {
        self.get(key).map(|v| v.span().start)
    }

    pub fn opt_string(&self, report: &mut Report<'_>, key: &str) -> Option<At<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(text) => Some(At {
                value: text.to_string(),
                line: report.line_of(value.span().start),
            }),
            _ => {
                self.type_error(report, key, value, "a string");
                None
            }
        }
    }

    pub fn string(&self, report: &mut Report<'_>, key: &str) -> Option<At<String>> {
        if self.get(key).is_none() {
            self.missing(report, key, "");
            return None;
        }
        self.opt_string(report, key)
    }

    /// An array of strings.
    pub fn opt_string_list(&self, report: &mut Report<'_>, key: &str) -> Option<At<Vec<String>>> {
        let value = self.get(key)?;
        let line = report.line_of(value.span().start);
        let DeValue::Array(items) = value.get_ref() else {
            self.type_error(report, key, value, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(text) => out.push(text.to_string()),
                _ => {
                    self.type_error(report, key, item, "a string");
                    return None;
                }
            }
        }
        Some(At { value: out, line })
    }

    pub fn opt_bool(&self, report: &mut Report<'_>, key: &str) -> Option<At<bool>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(At {
                value: *flag,
                line: report.line_of(value.span().start),
            }),
            _ => {
                self.type_error(report, key, value, "true or false");
                None
            }
        }
    }

    /// A non-negative integer.
    pub fn opt_u64(&self, report: &mut Report<'_>, key: &str) -> Option<At<u64>> {
        let value = self.get(key)?;
        let line = report.line_of(value.span().start);
        match value.get_ref() {
            DeValue::Integer(int) => match i64::from_str_radix(int.as_str(), int.radix()) {
                Ok(n) if n >= 0 => Some(At {
                    value: n as u64,
                    line,
                }),
                Ok(n) => {
                    report.at_line(line, format!("'{key}' must not be negative, got {n}"));
                    None
                }
                Err(_) => {
                    report.at_line(line, format!("'{key}' is too large"));
                    None
                }
            },
            _ => {
                self.type_error(report, key, value, "a whole number");
                None
            }
        }
    }

    /// An integer, or a string a user writes a size in (`"4KiB"`), as bytes.
    pub fn opt_bytes(&self, report: &mut Report<'_>, key: &str) -> Option<At<u64>> {
        let value = self.get(key)?;
        if let DeValue::String(text) = value.get_ref() {
            let line = report.line_of(value.span().start);
            return match crate::units::parse_size(text) {
                Ok(bytes) => Some(At { value: bytes, line }),
                Err(e) => {
                    report.at_line(line, format!("'{key}': {e}"));
                    None
                }
            };
        }
        self.opt_u64(report, key)
    }

    /// A nested table, e.g. `[steps.expect]`.
    pub fn opt_table(
        &self,
        report: &mut Report<'_>,
        key: &str,
    ) -> Option<(&'t DeTable<'i>, usize)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(table) => Some((table, report.line_of(value.span().start))),
            _ => {
                self.type_error(report, key, value, "a table");
                None
            }
        }
    }

    /// A table whose values are all strings, e.g. `{ 0 = "writes>0" }`:
    /// each key with its value and line.
    pub fn opt_string_table(
        &self,
        report: &mut Report<'_>,
        key: &str,
    ) -> Option<Vec<(String, At<String>)>> {
        let (table, _) = self.opt_table(report, key)?;
        let mut out = Vec::new();
        for (name, value) in table.iter() {
            match value.get_ref() {
                DeValue::String(text) => out.push((
                    name.get_ref().to_string(),
                    At {
                        value: text.to_string(),
                        line: report.line_of(value.span().start),
                    },
                )),
                _ => {
                    self.type_error(report, name.get_ref(), value, "a string");
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Reports every key not in `allowed`, suggesting the closest allowed
    /// key; `hint` can add advice for a specific wrong key.
    pub fn reject_unknown(
        &self,
        report: &mut Report<'_>,
        allowed: &[&str],
        hint: impl Fn(&str) -> Option<String>,
    ) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let advice = hint(name)
                .or_else(|| closest(name, allowed).map(|c| format!("did you mean '{c}'?")))
                .unwrap_or_else(|| format!("valid keys: {}", allowed.join(", ")));
            report.at_offset(
                key.span().start,
                format!("unknown key '{name}' in {}; {advice}", self.what),
            );
        }
    }
}

fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}
