//! Expectations on a probe's figures: per table segment (from DM
//! statistics) and on latency.
//!
//! ```toml
//! [steps.expect]
//! segments = { 0 = "writes>0", 1 = "writes>0 && reads==0" }
//! segments = { all = "write_sectors>=8" }     # every segment
//! latency_min = "100ms"                        # the fastest block took at least this
//! latency_max = "5ms"                          # the slowest block took at most this
//! ```

use std::fmt;
use std::time::Duration;

use crate::session::SegmentFigures;

/// Which segments a condition is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// 0-based, in table order.
    Index(usize),
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Reads,
    Writes,
    ReadSectors,
    WriteSectors,
    /// reads + writes
    Ios,
    /// read_sectors + write_sectors
    Sectors,
}

pub const FIELDS: &[(&str, Field)] = &[
    ("reads", Field::Reads),
    ("writes", Field::Writes),
    ("read_sectors", Field::ReadSectors),
    ("write_sectors", Field::WriteSectors),
    ("ios", Field::Ios),
    ("sectors", Field::Sectors),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// Longest first, so `>=` is not read as `>`.
const OPS: &[(&str, Op)] = &[
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    (">", Op::Gt),
    ("<", Op::Lt),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentExpect {
    pub which: Which,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// As written, for messages.
    pub text: String,
}

impl Which {
    pub fn parse(key: &str) -> Result<Which, String> {
        if key == "all" {
            return Ok(Which::All);
        }
        key.parse().map(Which::Index).map_err(|_| {
            format!("segment '{key}' is neither a segment number (0, 1, ...) nor 'all'")
        })
    }
}

impl Condition {
    /// `writes>0`, `read_sectors >= 8`.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        let (at, op_text, op) = OPS
            .iter()
            .filter_map(|(t, op)| text.find(t).map(|at| (at, *t, *op)))
            .min_by_key(|(at, t, _)| (*at, std::cmp::Reverse(t.len())))
            .ok_or_else(|| format!("'{text}' has no comparison (>, >=, <, <=, ==, !=)"))?;
        let name = text[..at].trim();
        let field = FIELDS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
                format!("'{name}' is not a segment figure; use {}", names.join(", "))
            })?;
        let number = text[at + op_text.len()..].trim();
        let value = number
            .parse()
            .map_err(|_| format!("'{number}' is not a whole number"))?;
        Ok(Condition { field, op, value })
    }

    pub fn holds(&self, s: &SegmentFigures) -> bool {
        let got = self.actual(s);
        match self.op {
            Op::Gt => got > self.value,
            Op::Ge => got >= self.value,
            Op::Lt => got < self.value,
            Op::Le => got <= self.value,
            Op::Eq => got == self.value,
            Op::Ne => got != self.value,
        }
    }

    pub fn actual(&self, s: &SegmentFigures) -> u64 {
        match self.field {
            Field::Reads => s.reads,
            Field::Writes => s.writes,
            Field::ReadSectors => s.read_sectors,
            Field::WriteSectors => s.write_sectors,
            Field::Ios => s.reads + s.writes,
            Field::Sectors => s.read_sectors + s.write_sectors,
        }
    }
}

impl SegmentExpect {
    /// `cond && cond ...`.
    pub fn parse(which: Which, text: &str) -> Result<SegmentExpect, String> {
        let conditions = text
            .split("&&")
            .map(Condition::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SegmentExpect {
            which,
            conditions,
            text: text.to_string(),
        })
    }

    /// Checks the segments a probe reported; the reason when it fails.
    pub fn check(&self, segments: &[SegmentFigures]) -> Result<(), String> {
        if segments.is_empty() {
            return Err(
                "no per-segment figures: the probe was not of a DM device with statistics".into(),
            );
        }
        let chosen: Vec<(usize, &SegmentFigures)> = match self.which {
            Which::All => segments.iter().enumerate().collect(),
            Which::Index(i) => match segments.get(i) {
                Some(s) => vec![(i, s)],
                None => {
                    return Err(format!(
                        "segment {i} does not exist: the table has {} segment(s)",
                        segments.len()
                    ));
                }
            },
        };
        for (i, s) in chosen {
            for c in &self.conditions {
                if !c.holds(s) {
                    return Err(format!(
                        "segment {i} ({} at {}+{}): expected {}, but {} = {}",
                        s.target,
                        s.start,
                        s.length,
                        self.text.trim(),
                        field_name(c.field),
                        c.actual(s)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn field_name(field: Field) -> &'static str {
    FIELDS
        .iter()
        .find(|(_, f)| *f == field)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Which::Index(i) => write!(f, "{i}"),
            Which::All => f.write_str("all"),
        }
    }
}

/// `100ms`, `50us`, `1.5s`, `250ns`, `2000µs`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("'{text}' has no unit (ns, us, ms or s)"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{number}' is not a number"))?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        other => return Err(format!("unknown unit '{other}': use ns, us, ms or s")),
    };
    Ok(Duration::from_secs_f64(value * scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Histogram;

    fn seg(reads: u64, writes: u64) -> SegmentFigures {
        SegmentFigures {
            start: 0,
            length: 100,
            target: "linear".into(),
            reads,
            writes,
            read_sectors: reads * 8,
            write_sectors: writes * 8,
            read_ns: 0,
            write_ns: 0,
            histogram: Histogram::default(),
        }
    }

    #[test]
    fn conditions_parse_and_judge() {
        let e = SegmentExpect::parse(Which::Index(1), "writes>0 && reads == 0").expect("parses");
        assert_eq!(e.conditions.len(), 2);
        assert!(e.check(&[seg(0, 0), seg(0, 3)]).is_ok());
        let why = e.check(&[seg(0, 0), seg(2, 3)]).expect_err("reads");
        assert!(why.contains("segment 1 (linear at 0+100)"), "{why}");
        assert!(why.contains("reads = 2"), "{why}");
        let all = SegmentExpect::parse(Which::All, "write_sectors>=8").expect("parses");
        assert!(all.check(&[seg(0, 1), seg(0, 2)]).is_ok());
        assert!(all.check(&[seg(0, 1), seg(0, 0)]).is_err());
        assert!(
            e.check(&[seg(0, 1)])
                .expect_err("missing")
                .contains("does not exist")
        );
        assert!(all.check(&[]).expect_err("none").contains("no per-segment"));
    }

    #[test]
    fn bad_conditions_say_why() {
        assert!(
            Condition::parse("writes")
                .unwrap_err()
                .contains("no comparison")
        );
        assert!(
            Condition::parse("bytes>0")
                .unwrap_err()
                .contains("not a segment figure")
        );
        assert!(
            Condition::parse("writes>x")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert_eq!(Condition::parse("sectors<=16").expect("parses").op, Op::Le);
        assert!(Which::parse("first").is_err());
        assert_eq!(Which::parse("all"), Ok(Which::All));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("20us"), Ok(Duration::from_micros(20)));
        assert!(parse_duration("50").is_err());
        assert!(parse_duration("5min").is_err());
    }
}
