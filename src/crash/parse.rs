//! Reading a kernel crash report (an Oops, BUG, general protection fault,
//! WARN or panic, as the console or the kernel log has it) into its parts:
//! what happened, where (the faulting instruction's function+offset and
//! module) and the call trace.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashKind {
    /// `BUG: ...` (e.g. a NULL pointer dereference) or `kernel BUG at`.
    Bug,
    /// `Oops: ...` without a BUG line before it.
    Oops,
    /// `general protection fault`.
    GeneralProtection,
    /// `WARNING: ...`: the kernel goes on.
    Warn,
    /// `Kernel panic - not syncing: ...` with no report before it.
    Panic,
}

impl CrashKind {
    /// Whether the guest survives it (only a WARN does; the sandbox VM runs
    /// with `oops=panic`).
    pub fn fatal(self) -> bool {
        self != CrashKind::Warn
    }

    pub fn name(self) -> &'static str {
        match self {
            CrashKind::Bug => "BUG",
            CrashKind::Oops => "Oops",
            CrashKind::GeneralProtection => "general protection fault",
            CrashKind::Warn => "WARN",
            CrashKind::Panic => "panic",
        }
    }
}

/// One `function+0xoff/0xsize [module]` of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub function: String,
    pub offset: u64,
    pub module: Option<String>,
    /// False for the unwinder's `? ` guesses.
    pub reliable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCrash {
    pub kind: CrashKind,
    /// The headline, e.g. `BUG: kernel NULL pointer dereference, address: ...`.
    pub message: String,
    /// Where it happened: the `RIP:` frame, or a WARN's own function.
    pub at: Option<RawFrame>,
    /// A WARN names its source line itself (`at file:line`).
    pub warn_location: Option<String>,
    pub trace: Vec<RawFrame>,
    /// The report's lines, timestamps removed.
    pub lines: Vec<String>,
}

/// The first crash report in `text`, if there is one.
pub fn parse(text: &str) -> Option<RawCrash> {
    let lines: Vec<String> = text.lines().map(strip_timestamp).collect();
    let start = lines.iter().position(|l| headline_kind(l).is_some())?;
    let lines: Vec<String> = lines[start..]
        .iter()
        .take_while(|l| !l.starts_with("---[ end Kernel panic"))
        .cloned()
        .collect();
    let mut kind = headline_kind(&lines[0])?;
    let mut message = lines[0].clone();
    // An Oops line follows a BUG line; a panic line follows everything.
    if kind == CrashKind::Panic
        && let Some(better) = lines.iter().skip(1).find(|l| {
            headline_kind(l).is_some_and(|k| k != CrashKind::Panic && k != CrashKind::Oops)
        })
    {
        kind = headline_kind(better).unwrap_or(kind);
        message = better.clone();
    }
    // The faulting instruction; a WARN also names its own source line.
    let at = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("RIP: ").and_then(rip_frame))
        .or_else(|| warn_frame(&message));
    let warn_location = (kind == CrashKind::Warn)
        .then(|| warn_location(&message))
        .flatten();
    let trace = call_trace(&lines);
    Some(RawCrash {
        kind,
        message: message.trim().to_string(),
        at,
        warn_location,
        trace,
        lines,
    })
}

fn headline_kind(line: &str) -> Option<CrashKind> {
    let l = line.trim_start();
    if l.starts_with("BUG: ") || l.starts_with("kernel BUG at ") {
        Some(CrashKind::Bug)
    } else if l.starts_with("Oops: ") {
        Some(CrashKind::Oops)
    } else if l.contains("general protection fault") && !l.starts_with("RIP") {
        Some(CrashKind::GeneralProtection)
    } else if l.starts_with("WARNING: ") {
        Some(CrashKind::Warn)
    } else if l.starts_with("Kernel panic - not syncing") {
        Some(CrashKind::Panic)
    } else {
        None
    }
}

/// `[    3.144171] text` -> `text`; anything before a console timestamp
/// (firmware noise on the same line) goes too.
fn strip_timestamp(line: &str) -> String {
    if let Some(open) = line.find('[')
        && let Some(close) = line[open..].find("] ")
    {
        let stamp = &line[open + 1..open + close];
        if stamp.trim().chars().all(|c| c.is_ascii_digit() || c == '.') && !stamp.is_empty() {
            return line[open + close + 2..].to_string();
        }
    }
    line.to_string()
}

/// `0010:basic_target_map+0x6d/0x11d [basic_target]`
fn rip_frame(rip: &str) -> Option<RawFrame> {
    let rest = rip.split_once(':').map_or(rip, |(_, r)| r);
    frame(rest)
}

/// `? name+0x1f/0x40 [module]` or `name+0x1f/0x40`.
pub(super) fn frame(text: &str) -> Option<RawFrame> {
    let text = text.trim();
    let (reliable, text) = match text.strip_prefix("? ") {
        Some(rest) => (false, rest),
        None => (true, text),
    };
    let (location, module) = match text.split_once(" [") {
        Some((loc, m)) => (loc, Some(m.trim_end_matches(']').to_string())),
        None => (text, None),
    };
    let (function, offsets) = location.rsplit_once('+')?;
    let offset_text = offsets.split('/').next()?;
    let offset = u64::from_str_radix(offset_text.trim_start_matches("0x"), 16).ok()?;
    if function.is_empty()
        || !function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
    {
        return None;
    }
    Some(RawFrame {
        function: function.to_string(),
        offset,
        module,
        reliable,
    })
}

/// The `file.c:42` a WARNING line names, in either of the kernel's forms:
/// `WARNING: CPU: 0 PID: 1 at kmod/c/x.c:42 x_map+0x10/0x20 [x]` or
/// `WARNING: x.c:42 at x_map+0x10/0x20 [x], CPU#0: init/1`.
fn warn_location(message: &str) -> Option<String> {
    message
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .find(|w| {
            w.rsplit_once(':').is_some_and(|(file, line)| {
                file.contains('.') && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .map(str::to_string)
}

/// The `function+off/size [module]` a WARNING line names.
fn warn_frame(message: &str) -> Option<RawFrame> {
    let words: Vec<&str> = message.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if !w.contains("+0x") {
            return None;
        }
        let module = words
            .get(i + 1)
            .filter(|m| m.starts_with('['))
            .map(|m| m.trim_end_matches(','));
        frame(&format!("{w} {}", module.unwrap_or_default()))
    })
}

/// The frames between `Call Trace:` and the end of the task's stack.
fn call_trace(lines: &[String]) -> Vec<RawFrame> {
    let Some(start) = lines.iter().position(|l| l.trim() == "Call Trace:") else {
        return Vec::new();
    };
    lines[start + 1..]
        .iter()
        .map(|l| l.trim())
        .take_while(|l| {
            !l.starts_with("</TASK>")
                && !l.starts_with("Modules linked in")
                && !l.starts_with("---[ end")
        })
        .filter(|l| !l.starts_with('<'))
        .filter_map(frame)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OOPS: &str = include_str!("fixtures/null_deref_oops.txt");

    #[test]
    fn a_null_dereference_in_a_module() {
        let crash = parse(OOPS).expect("a report");
        assert_eq!(crash.kind, CrashKind::Bug);
        assert_eq!(
            crash.message,
            "BUG: kernel NULL pointer dereference, address: 0000000000000030"
        );
        let at = crash.at.expect("RIP");
        assert_eq!(at.function, "basic_target_map");
        assert_eq!(at.offset, 0x6d);
        assert_eq!(at.module.as_deref(), Some("basic_target"));
        assert_eq!(crash.trace.len(), 14);
        assert_eq!(crash.trace[0].function, "__map_bio");
        assert!(!crash.trace[0].reliable, "a guessing unwinder's '?'");
        assert!(
            crash.lines[0].starts_with("BUG:"),
            "timestamps and noise go"
        );
    }

    #[test]
    fn a_warn_names_its_line_and_the_guest_goes_on() {
        let text = "[ 5.1] ------------[ cut here ]------------\n\
                    [ 5.1] WARNING: CPU: 0 PID: 93 at kmod/c/basic_target.c:170 basic_target_map+0x31/0x11d [basic_target]\n\
                    [ 5.1] Modules linked in: basic_target(O)\n\
                    [ 5.1] Call Trace:\n\
                    [ 5.1]  <TASK>\n\
                    [ 5.1]  __map_bio+0x9a/0x14b\n\
                    [ 5.1]  dm_submit_bio+0x387/0x439\n\
                    [ 5.1]  </TASK>\n\
                    [ 5.1] ---[ end trace 0000000000000000 ]---\n";
        let crash = parse(text).expect("a report");
        assert_eq!(crash.kind, CrashKind::Warn);
        assert!(!crash.kind.fatal());
        assert_eq!(
            crash.warn_location.as_deref(),
            Some("kmod/c/basic_target.c:170")
        );
        assert_eq!(
            crash.at.as_ref().map(|f| f.function.as_str()),
            Some("basic_target_map")
        );
        assert_eq!(crash.trace.len(), 2);
        assert!(crash.trace.iter().all(|f| f.reliable));
    }

    #[test]
    fn the_newer_warning_line_reads_too() {
        let text = "WARNING: basic_target.c:158 at basic_target_map+0x71/0x134 [basic_target], CPU#0: init/1\n\
                    ---[ end trace 0000000000000000 ]---";
        let crash = parse(text).expect("a report");
        assert_eq!(crash.kind, CrashKind::Warn);
        assert_eq!(crash.warn_location.as_deref(), Some("basic_target.c:158"));
        let at = crash.at.expect("the frame");
        assert_eq!(at.function, "basic_target_map");
        assert_eq!(at.offset, 0x71);
        assert_eq!(at.module.as_deref(), Some("basic_target"));
    }

    #[test]
    fn a_bare_panic_is_a_panic() {
        let crash =
            parse("[ 2.0] Kernel panic - not syncing: sysrq triggered crash\n").expect("report");
        assert_eq!(crash.kind, CrashKind::Panic);
        assert!(crash.at.is_none());
    }

    #[test]
    fn frames_read_every_form() {
        let f = frame(" ? _RNvNtCs1234_12basic_target3map+0x1f/0x40 [basic_target]").expect("f");
        assert!(!f.reliable);
        assert_eq!(f.offset, 0x1f);
        assert_eq!(f.module.as_deref(), Some("basic_target"));
        assert!(frame("not a frame").is_none());
        assert!(frame("</TASK>").is_none());
    }
}
