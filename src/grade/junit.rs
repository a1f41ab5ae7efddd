//! JUnit XML, as CI dashboards read it (the Ant schema: `testsuites`,
//! one `testsuite` per submission, one `testcase` per lab). A failed pair
//! is a `failure` whose text gives the step, its lab line, the reason, the
//! decoded crash location, build errors and the kernel log; a timed-out
//! pair is a `failure` too; a pair that did not run, or that the grader
//! could not run, is an `error`. Nothing is ever `skipped`: a dashboard
//! shows skipped tests as green.

use std::fmt::Write as _;

use super::judge::crash_place;
use super::model::{GradeReport, PairResult, Verdict};

pub fn render(report: &GradeReport) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (id, submission) in report.submissions.iter().enumerate() {
        let cases: Vec<&PairResult> = report
            .results
            .iter()
            .filter(|r| &r.submission == submission)
            .collect();
        let count = |v: &[Verdict]| cases.iter().filter(|c| v.contains(&c.verdict)).count();
        let failures = count(&[Verdict::Failed, Verdict::TimedOut]);
        let errors = count(&[Verdict::NotRun, Verdict::Error]);
        let time: f64 = cases.iter().map(|c| c.duration_ms).sum::<f64>() / 1e3;
        let first = cases.iter().min_by(|a, b| a.started.cmp(&b.started));
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{name}\" package=\"{name}\" id=\"{id}\" \
             timestamp=\"{timestamp}\" hostname=\"{host}\" tests=\"{tests}\" \
             failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time:.3}\">",
            name = attr(submission),
            timestamp = first.map_or("1970-01-01T00:00:00", |c| c.started.as_str()),
            host = attr(first.map_or("localhost", |c| c.host.as_str())),
            tests = cases.len(),
        );
        xml.push_str("    <properties>\n");
        let _ = writeln!(
            xml,
            "      <property name=\"submission\" value=\"{}\"/>",
            attr(submission)
        );
        xml.push_str("    </properties>\n");
        for case in cases {
            testcase(&mut xml, report, case);
        }
        xml.push_str("    <system-out></system-out>\n    <system-err></system-err>\n");
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn testcase(xml: &mut String, report: &GradeReport, case: &PairResult) {
    let title = report
        .labs
        .iter()
        .find(|l| l.name == case.lab)
        .map_or(String::new(), |l| format!(": {}", l.title));
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        attr(&format!("{}{title}", case.lab)),
        attr(&case.submission),
        case.duration_ms / 1e3
    );
    let element = match case.verdict {
        Verdict::Passed => {
            xml.push_str("/>\n");
            return;
        }
        Verdict::Failed | Verdict::TimedOut => "failure",
        Verdict::NotRun | Verdict::Error => "error",
    };
    let kind = match case.verdict {
        Verdict::TimedOut => "timeout",
        Verdict::NotRun => "not-run",
        Verdict::Error => "grading-error",
        _ => "failed",
    };
    let message = case.reason.as_deref().unwrap_or(case.verdict.word());
    let _ = writeln!(
        xml,
        ">\n      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>\n    </testcase>",
        attr(&shorten(message, 400)),
        text(&details(case))
    );
}

/// The failure's text: everything a student needs to see why.
pub fn details(case: &PairResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", case.verdict.word());
    if let Some(reason) = &case.reason {
        let _ = writeln!(out, "{reason}");
    }
    if let Some(step) = &case.step {
        let _ = writeln!(
            out,
            "\nstep {}: {} (lab line {})",
            step.index, step.label, step.line
        );
        // The first line is in the reason already; a crash says more.
        if let Some(error) = step.error.as_ref().filter(|e| e.lines().count() > 1) {
            let _ = writeln!(out, "{error}");
        }
        if let Some(crash) = &step.crash {
            if let Some(place) = crash_place(crash) {
                let _ = writeln!(
                    out,
                    "kernel crash: {} {place}",
                    crash["message"].as_str().unwrap_or("")
                );
            }
            if let (Some(text), Some(location)) =
                (crash["source_line"].as_str(), crash["location"].as_str())
            {
                let line = location.rsplit_once(':').map_or("", |(_, l)| l);
                let _ = writeln!(out, "    {line} | {}", text.trim());
            }
        }
        if !step.diagnostics.is_empty() {
            let _ = writeln!(out, "build errors:");
            for d in &step.diagnostics {
                let _ = writeln!(out, "  {d}");
            }
        }
        if !step.kmsg.is_empty() {
            let _ = writeln!(out, "kernel log during the step:");
            for line in &step.kmsg {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    if !case.log.is_empty() && case.step.as_ref().is_none_or(|s| s.error.is_none()) {
        let _ = writeln!(out, "\nlast output of the run:");
        for line in &case.log {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max).collect();
    format!("{cut}...")
}

/// Characters XML 1.0 cannot carry at all (control characters from a
/// kernel log or a compiler) become U+FFFD.
fn legal(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
        c => c,
    }
}

fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(legal) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_illegal_characters_replaced() {
        assert_eq!(text("a<b>&c\u{1b}[0m"), "a&lt;b&gt;&amp;c\u{FFFD}[0m");
        assert_eq!(attr("say \"hi\"\n"), "say &quot;hi&quot;&#10;");
    }
}
