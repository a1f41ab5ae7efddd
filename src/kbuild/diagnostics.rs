//! Compiler messages in a build's output, as `file:line:col: severity:
//! message`: gcc prints them on one line; rustc prints a headline
//! (`error[E0599]: ...`) and, below it, the place (`  --> file:line:col`).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub severity: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )
    }
}

/// Reads a build's output line by line.
#[derive(Debug, Default)]
pub struct Diagnostics {
    found: Vec<Diagnostic>,
    /// A rustc headline waiting for its `-->` line.
    headline: Option<(String, String)>,
}

impl Diagnostics {
    pub fn line(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(place) = trimmed.strip_prefix("--> ") {
            if let (Some((severity, message)), Some((file, line, column))) =
                (self.headline.take(), split_location(place))
            {
                self.found.push(Diagnostic {
                    file,
                    line,
                    column,
                    severity,
                    message,
                });
            }
            return;
        }
        if let Some(headline) = rustc_headline(trimmed) {
            // One without a place ("aborting due to ...") is replaced.
            self.headline = Some(headline);
            return;
        }
        if let Some(d) = gcc_line(trimmed) {
            self.found.push(d);
        }
    }

    pub fn finish(self) -> Vec<Diagnostic> {
        self.found
    }
}

/// `error[E0599]: no method named ...` or `warning: unused ...`.
fn rustc_headline(line: &str) -> Option<(String, String)> {
    for severity in ["error", "warning"] {
        let Some(rest) = line.strip_prefix(severity) else {
            continue;
        };
        let rest = match rest.strip_prefix('[') {
            Some(code) => code.split_once(']')?.1,
            None => rest,
        };
        if let Some(message) = rest.strip_prefix(": ") {
            return Some((severity.to_string(), message.to_string()));
        }
    }
    None
}

/// `file:line:col: error: message`.
fn gcc_line(line: &str) -> Option<Diagnostic> {
    for severity in ["error", "warning"] {
        let marker = format!(": {severity}: ");
        if let Some(pos) = line.find(&marker) {
            let (file, line_no, column) = split_location(&line[..pos])?;
            return Some(Diagnostic {
                file,
                line: line_no,
                column,
                severity: severity.into(),
                message: line[pos + marker.len()..].to_string(),
            });
        }
    }
    None
}

fn split_location(text: &str) -> Option<(String, u32, u32)> {
    let mut parts = text.rsplitn(3, ':');
    let col = parts.next()?.trim().parse().ok()?;
    let line = parts.next()?.trim().parse().ok()?;
    let file = parts.next()?.to_string();
    Some((file, line, col))
}

/// A build that did not produce a module: the compiler's errors as
/// `file:line`, or the last lines of output when there are none.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BuildFailure {
    pub source: PathBuf,
    /// make's exit status.
    pub status: String,
    pub errors: Vec<Diagnostic>,
    pub tail: Vec<String>,
    /// Lines showing the build reaching outside its box (a path it may
    /// not see, the network): the build fails for them even when make
    /// carried on.
    pub outside: Vec<String>,
}

impl fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.outside.is_empty() {
            write!(
                f,
                "build of {} reached outside its box (a build sees only a copy of its \
                 own source, the kernel tree and the toolchain; no network):",
                self.source.display()
            )?;
            for line in &self.outside {
                write!(f, "\n{line}")?;
            }
            return Ok(());
        }
        if self.errors.is_empty() {
            return write!(
                f,
                "build of {} failed ({}); last output:\n{}",
                self.source.display(),
                self.status,
                self.tail.join("\n")
            );
        }
        write!(
            f,
            "build of {} failed with {} error(s):",
            self.source.display(),
            self.errors.len()
        )?;
        for error in &self.errors {
            write!(f, "\n{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Vec<Diagnostic> {
        let mut d = Diagnostics::default();
        for l in lines {
            d.line(l);
        }
        d.finish()
    }

    #[test]
    fn gcc_errors_become_file_line_col() {
        let found = read(&[
            "/w/kmod/c/basic_target.c:42:9: error: 'bi_rw' undeclared (first use in this function)",
        ]);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.file, "/w/kmod/c/basic_target.c");
        assert_eq!((d.line, d.column), (42, 9));
        assert_eq!(d.severity, "error");
        assert!(d.message.starts_with("'bi_rw'"));
    }

    #[test]
    fn rustc_headlines_take_the_place_below_them() {
        let found = read(&[
            "error[E0599]: no method named `sectr` found for reference `&Bio` in the current scope",
            "   --> /w/kmod/rust/basic_target_main.rs:88:22",
            "    |",
            "88  |         let s = bio.sectr();",
            "error: aborting due to 1 previous error",
            "  CC [M]  basic_target.o",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].to_string(),
            "/w/kmod/rust/basic_target_main.rs:88:22: error: no method named `sectr` found \
             for reference `&Bio` in the current scope"
        );
    }
}
