//! A course lab's instructions: the `README.md` beside the lab file. It is
//! read once, before the terminal is taken, so drawing never touches the
//! disk; the Lab pane shows its first paragraph and `i` opens all of it.
//!
//! The file sits in a directory the user pointed at and is only shown,
//! but a FIFO there must not hang the start, a huge file must not fill
//! memory and escape sequences in it must not reach the terminal.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Read at most this much; a longer README is cut with a note.
const MAX_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readme {
    pub path: PathBuf,
    /// The text, one entry per line, safe to draw.
    pub lines: Vec<String>,
    /// The first paragraph of prose, on one line.
    pub summary: String,
}

/// The README beside `lab`, if there is one: `Ok(None)` when there is
/// none, `Err` (with the path in the words) when it cannot be read.
pub fn beside(lab: &Path) -> Result<Option<Readme>, String> {
    let path = lab
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("README.md");
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    // Non-blocking, so opening a FIFO returns at once; only a regular file
    // is read.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    if !file.metadata().map_err(fail)?.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    let cut = bytes.len() as u64 > MAX_BYTES;
    bytes.truncate(MAX_BYTES as usize);
    let mut readme = parse(path, &String::from_utf8_lossy(&bytes));
    if cut {
        readme.lines.push(format!(
            "[… cut: only the first {} KiB are shown]",
            MAX_BYTES / 1024
        ));
    }
    Ok(Some(readme))
}

/// Splits and cleans the text and finds its first paragraph.
pub fn parse(path: PathBuf, text: &str) -> Readme {
    let lines: Vec<String> = text.lines().map(clean).collect();
    let summary = first_paragraph(&lines);
    Readme {
        path,
        lines,
        summary,
    }
}

/// Tabs become spaces; other control characters (escape sequences) are
/// shown as '?' instead of reaching the terminal.
fn clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The first paragraph of prose: headings, images, badges, HTML and code
/// fences before it are skipped; its lines are joined and links keep
/// their text.
fn first_paragraph(lines: &[String]) -> String {
    let underline = |line: &str| !line.is_empty() && line.chars().all(|c| matches!(c, '=' | '-'));
    let mut words: Vec<&str> = Vec::new();
    let mut in_fence = false;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            if !words.is_empty() {
                break;
            }
            in_fence = !in_fence;
            continue;
        }
        // A line over `===` or `---` is a heading too.
        let heading = line.starts_with('#')
            || underline(line)
            || lines.get(i + 1).is_some_and(|next| underline(next.trim()));
        let markup =
            heading || line.starts_with('<') || line.starts_with("![") || line.starts_with("[![");
        if line.is_empty() || markup || in_fence {
            if !words.is_empty() {
                break;
            }
            continue;
        }
        words.extend(line.split_whitespace());
    }
    strip_links(&words.join(" "))
}

/// `[text](target)` becomes `text`.
fn strip_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else {
            break;
        };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&after[..close]);
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "# 02 · A read-only target\n\
        \n\
        ![build](badge.svg)\n\
        \n\
        Your target refuses every write with -EROFS\twhile reads\n\
        pass through to the [disk below](https://example.org/dm).\n\
        \n\
        ## Steps\n\
        \n\
        1. Build it.\n";

    #[test]
    fn the_summary_is_the_first_paragraph_of_prose() {
        let readme = parse(PathBuf::from("README.md"), README);
        assert_eq!(
            readme.summary,
            "Your target refuses every write with -EROFS while reads pass through to the \
             disk below."
        );
        assert_eq!(readme.lines.len(), 10);
        // Tabs are spaces in the text shown.
        assert!(
            readme.lines[4].contains("-EROFS    while"),
            "{:?}",
            readme.lines
        );
    }

    #[test]
    fn setext_headings_and_code_fences_are_not_the_summary() {
        let text = "Title\n=====\n\n```sh\ndmbench --vm lab.toml\n```\n\nThe lesson.\n";
        assert_eq!(parse(PathBuf::new(), text).summary, "The lesson.");
        assert_eq!(parse(PathBuf::new(), "# Only a title\n").summary, "");
    }

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        let readme = parse(PathBuf::new(), "Hello \x1b]0;owned\x07 there\r\n");
        assert_eq!(readme.lines, ["Hello ?]0;owned? there"]);
    }

    #[test]
    fn a_missing_readme_is_none_and_a_fifo_does_not_hang() {
        let dir = tempfile::tempdir().expect("tmp");
        let lab = dir.path().join("lab.toml");
        assert_eq!(beside(&lab), Ok(None));
        let fifo = dir.path().join("README.md");
        let Ok(name) = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()) else {
            panic!("path with a NUL");
        };
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let refused = beside(&lab).expect_err("a FIFO is not read");
        assert!(refused.contains("not a regular file"), "{refused}");
    }

    #[test]
    fn a_huge_readme_is_cut() {
        let dir = tempfile::tempdir().expect("tmp");
        let line = "word ".repeat(20) + "\n";
        std::fs::write(
            dir.path().join("README.md"),
            line.repeat((MAX_BYTES as usize / line.len()) + 100),
        )
        .expect("write");
        let readme = beside(&dir.path().join("lab.toml"))
            .expect("read")
            .expect("found");
        assert!(readme.lines.len() < 3000);
        assert!(readme.lines.last().is_some_and(|l| l.contains("cut")));
    }
}
