//! What a step expects: kernel log lines, output, success or a given
//! failure. Regexes are compiled when the lab loads, so a bad one is a
//! load error, not a surprise halfway through a run.

use std::time::Duration;

use regex::Regex;

use super::errors::Report;
use super::fields::{At, Fields};
use super::figures::{SegmentExpect, Which, parse_duration};

#[derive(Debug, Clone)]
pub struct Expect {
    /// Must match a kernel log line seen during the step.
    pub kmsg: Option<Regex>,
    /// Must match the step's text output (status or table lines, info, a
    /// message reply, build output, a probe summary).
    pub output: Option<Regex>,
    /// Whether the step must succeed; false when `error` is set.
    pub ok: bool,
    /// The failure required, when the step must fail in a particular way.
    pub error: Option<ErrorMatch>,
    /// Disks (by lab name) that must each see I/O during a probe step, e.g.
    /// both legs of a striped device.
    pub attributed: Vec<String>,
    /// Conditions on the probe's per-segment figures (DM statistics).
    pub segments: Vec<SegmentExpect>,
    /// The fastest block of a probe took at least this long.
    pub latency_min: Option<Duration>,
    /// The slowest block of a probe took at most this long.
    pub latency_max: Option<Duration>,
}

impl Default for Expect {
    fn default() -> Self {
        Expect {
            kmsg: None,
            output: None,
            ok: true,
            error: None,
            attributed: Vec::new(),
            segments: Vec::new(),
            latency_min: None,
            latency_max: None,
        }
    }
}

impl Expect {
    pub fn expects_failure(&self) -> bool {
        !self.ok
    }
}

/// How a required failure is recognised.
#[derive(Debug, Clone)]
pub enum ErrorMatch {
    /// An errno by name (`EIO`, `EINVAL`, ...).
    Errno { name: String, code: i32 },
    /// A regex on the error text.
    Pattern(Regex),
}

impl ErrorMatch {
    /// `errno` is the failing call's errno when there was one; `text` the
    /// error as printed (including any errno name it mentions).
    pub fn matches(&self, errno: Option<i32>, text: &str) -> bool {
        match self {
            ErrorMatch::Errno { name, code } => {
                errno == Some(*code)
                    || text
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .any(|word| word == name)
            }
            ErrorMatch::Pattern(regex) => regex.is_match(text),
        }
    }

    /// An all-caps `E...` word naming a known errno is an errno; anything
    /// else is a regex.
    pub fn parse(text: &str) -> Result<ErrorMatch, regex::Error> {
        if let Some(code) = errno_code(text) {
            return Ok(ErrorMatch::Errno {
                name: text.to_string(),
                code,
            });
        }
        Regex::new(text).map(ErrorMatch::Pattern)
    }
}

/// Reads a step's `[steps.expect]` table; `None` when it is broken.
pub(crate) fn decode_expect(step: &Fields<'_, '_>, report: &mut Report<'_>) -> Option<Expect> {
    let Some((table, line)) = step.opt_table(report, "expect") else {
        // Absent is the default; present but not a table was reported.
        return step.offset("expect").is_none().then(Expect::default);
    };
    let fields = Fields::new(table, line, "expect table");
    fields.reject_unknown(
        report,
        &[
            "kmsg",
            "output",
            "ok",
            "error",
            "attributed",
            "segments",
            "latency_min",
            "latency_max",
        ],
        |_| None,
    );
    let attributed = fields
        .opt_string_list(report, "attributed")
        .map(|a| a.value)
        .unwrap_or_default();
    let mut sound = true;
    let mut segments = Vec::new();
    for (key, text) in fields
        .opt_string_table(report, "segments")
        .unwrap_or_default()
    {
        match Which::parse(&key).and_then(|which| SegmentExpect::parse(which, &text.value)) {
            Ok(expect) => segments.push(expect),
            Err(why) => {
                sound = false;
                report.at_line(text.line, format!("'segments': {why}"));
            }
        }
    }
    let mut duration = |key: &str, report: &mut Report<'_>| {
        let text = fields.opt_string(report, key)?;
        parse_duration(&text.value)
            .map_err(|why| {
                sound = false;
                report.at_line(text.line, format!("'{key}': {why}"));
            })
            .ok()
    };
    let latency_min = duration("latency_min", report);
    let latency_max = duration("latency_max", report);
    let mut regex = |key: &str, report: &mut Report<'_>| {
        let text = fields.opt_string(report, key)?;
        match Regex::new(&text.value) {
            Ok(regex) => Some(regex),
            Err(e) => {
                sound = false;
                report.at_line(
                    text.line,
                    format!("'{key}' is not a valid regex: {}", regex_reason(&e)),
                );
                None
            }
        }
    };
    let kmsg = regex("kmsg", report);
    let output = regex("output", report);
    let error =
        fields
            .opt_string(report, "error")
            .and_then(|text| match ErrorMatch::parse(&text.value) {
                Ok(error) => Some(error),
                Err(e) => {
                    sound = false;
                    report.at_line(
                        text.line,
                        format!(
                            "'error' is neither an errno name nor a valid regex: {}",
                            regex_reason(&e)
                        ),
                    );
                    None
                }
            });
    let ok = fields.opt_bool(report, "ok");
    if let (Some(At { value: true, line }), true) = (&ok, fields.offset("error").is_some()) {
        sound = false;
        report.at_line(
            *line,
            "ok = true contradicts 'error': a step that must fail cannot also succeed",
        );
    }
    if (fields.offset("ok").is_some() && ok.is_none()) || !sound {
        return None;
    }
    Some(Expect {
        kmsg,
        output,
        ok: error.is_none() && ok.is_none_or(|ok| ok.value),
        error,
        attributed,
        segments,
        latency_min,
        latency_max,
    })
}

/// The one line of a regex error that says what is wrong.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map_or_else(
            || text.lines().map(str::trim).collect::<Vec<_>>().join(" "),
            str::to_string,
        )
}

/// The errnos device-mapper work runs into.
const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("EIO", libc::EIO),
    ("ENXIO", libc::ENXIO),
    ("E2BIG", libc::E2BIG),
    ("EBADF", libc::EBADF),
    ("EAGAIN", libc::EAGAIN),
    ("ENOMEM", libc::ENOMEM),
    ("EACCES", libc::EACCES),
    ("EFAULT", libc::EFAULT),
    ("ENOTBLK", libc::ENOTBLK),
    ("EBUSY", libc::EBUSY),
    ("EEXIST", libc::EEXIST),
    ("ENODEV", libc::ENODEV),
    ("EINVAL", libc::EINVAL),
    ("ENOTTY", libc::ENOTTY),
    ("EFBIG", libc::EFBIG),
    ("ENOSPC", libc::ENOSPC),
    ("EROFS", libc::EROFS),
    ("ERANGE", libc::ERANGE),
    ("ENODATA", libc::ENODATA),
    ("ENOSYS", libc::ENOSYS),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("EILSEQ", libc::EILSEQ),
    ("ENOEXEC", libc::ENOEXEC),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("EKEYREJECTED", libc::EKEYREJECTED),
    ("ENOKEY", libc::ENOKEY),
];

pub fn errno_code(name: &str) -> Option<i32> {
    ERRNOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_and_regexes() {
        let eio = ErrorMatch::parse("EIO").expect("valid");
        assert!(matches!(eio, ErrorMatch::Errno { code, .. } if code == libc::EIO));
        assert!(eio.matches(Some(libc::EIO), ""));
        assert!(eio.matches(None, "read failed: I/O error (EIO) at byte 0"));
        assert!(!eio.matches(Some(libc::EINVAL), "EIOX"));
        let pattern = ErrorMatch::parse("too small|Invalid").expect("valid");
        assert!(pattern.matches(
            None,
            "device-mapper: table: 253:0: linear: Invalid argument"
        ));
        assert!(ErrorMatch::parse("(unclosed").is_err());
        // Not a known errno, so a regex.
        assert!(matches!(
            ErrorMatch::parse("EXT4"),
            Ok(ErrorMatch::Pattern(_))
        ));
    }
}
