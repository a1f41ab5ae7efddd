//! Lines of the tracefs `trace` file for the block tracepoints
//! (include/trace/events/block.h), parsed into `TraceRecord`s:
//!
//! ```text
//! dmbench-1 [000] .....  12.000010: block_bio_queue: 254,0 WS 10 + 1 [dmbench]
//! dmbench-1 [000] .....  12.000020: block_bio_remap: 7,0 WS 8010 + 1 <- (254,0) 10
//! loop0-52  [000] .....  12.000040: block_rq_issue: 7,0 WS 512 () 8010 + 1 none,0,0 [loop0]
//! <idle>-0  [000] ..s1.  12.000090: block_rq_complete: 7,0 WS () 8010 + 1 none,0,0 [0]
//! <idle>-0  [000] ..s1.  12.000107: block_bio_complete: 254,0 WS 10 + 1 [0]
//! ```

use std::sync::LazyLock;

use regex::Regex;

use super::protocol::TraceRecord;

/// The tracepoints a journey is made of.
pub const EVENTS: [&str; 5] = [
    "block_bio_queue",
    "block_bio_remap",
    "block_rq_issue",
    "block_rq_complete",
    "block_bio_complete",
];

/// Task names may hold spaces and dashes; the timestamp followed by the
/// event name is what anchors a line.
static LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\s(\d+)\.(\d+):\s+(block_\w+):\s+(.*)$").ok());

/// Every block record of a `trace` file; comment and other lines are
/// skipped.
pub fn parse(text: &str) -> Vec<TraceRecord> {
    text.lines().filter_map(parse_line).collect()
}

pub fn parse_line(line: &str) -> Option<TraceRecord> {
    let caps = LINE.as_ref()?.captures(line)?;
    let secs: u64 = caps[1].parse().ok()?;
    let frac = &caps[2];
    // Microseconds normally; any number of digits is read as a fraction.
    let digits = frac.len().min(9);
    let frac_ns: u64 = frac[..digits].parse::<u64>().ok()? * 10u64.pow(9 - digits as u32);
    let event = caps[3].to_string();
    if !EVENTS.contains(&event.as_str()) {
        return None;
    }
    let words: Vec<&str> = caps[4].split_whitespace().collect();
    let (major, minor) = parse_dev(words.first()?)?;
    let rwbs = words.get(1)?.to_string();
    let plus = words.iter().position(|w| *w == "+")?;
    let sector = words.get(plus.checked_sub(1)?)?.parse().ok()?;
    let sectors = words.get(plus + 1)?.parse().ok()?;
    let from = match words.iter().position(|w| *w == "<-") {
        Some(arrow) => {
            let dev = words.get(arrow + 1)?;
            let (m, n) = parse_dev(dev.strip_prefix('(')?.strip_suffix(')')?)?;
            Some((m, n, words.get(arrow + 2)?.parse().ok()?))
        }
        None => None,
    };
    let error = if event.ends_with("_complete") {
        let last = words.last()?;
        last.strip_prefix('[')?.strip_suffix(']')?.parse().ok()?
    } else {
        0
    };
    Some(TraceRecord {
        ts_ns: secs * 1_000_000_000 + frac_ns,
        event,
        major,
        minor,
        rwbs,
        sector,
        sectors,
        from,
        error,
    })
}

/// `major,minor`.
fn parse_dev(word: &str) -> Option<(u32, u32)> {
    let (major, minor) = word.split_once(',')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "\
# tracer: nop
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
         dmbench-1       [000] .....    12.000010: block_bio_queue: 254,0 WS 10 + 1 [dmbench]
         dmbench-1       [000] .....    12.000020: block_bio_remap: 7,0 WS 8010 + 1 <- (254,0) 10
         dmbench-1       [000] .....    12.000025: block_bio_queue: 7,0 WS 8010 + 1 [dmbench]
 kworker/u4:1 extra-33   [000] .....    12.000040: block_rq_issue: 7,0 WS 512 () 8010 + 1 none,0,0 [kworker/u4:1]
          <idle>-0       [000] ..s1.    12.000090: block_rq_complete: 7,0 WS () 8010 + 1 none,0,0 [0]
          <idle>-0       [000] ..s1.    12.000107: block_bio_complete: 254,0 WS 10 + 1 [-5]
         dmbench-1       [000] .....    12.000200: block_plug: [dmbench]
";

    #[test]
    fn every_journey_event_is_read_and_the_rest_skipped() {
        let records = parse(TRACE);
        let events: Vec<&str> = records.iter().map(|r| r.event.as_str()).collect();
        assert_eq!(
            events,
            [
                "block_bio_queue",
                "block_bio_remap",
                "block_bio_queue",
                "block_rq_issue",
                "block_rq_complete",
                "block_bio_complete"
            ]
        );
        let remap = &records[1];
        assert_eq!((remap.major, remap.minor), (7, 0));
        assert_eq!((remap.sector, remap.sectors), (8010, 1));
        assert_eq!(remap.from, Some((254, 0, 10)));
        assert_eq!(remap.ts_ns, 12_000_020_000);
        let issue = &records[3];
        assert_eq!((issue.sector, issue.rwbs.as_str()), (8010, "WS"));
        assert_eq!(records[4].error, 0);
        assert_eq!(records[5].error, -5);
    }

    #[test]
    fn broken_lines_are_skipped() {
        assert!(parse_line("   x-1 [000] ..... 1.5: block_bio_queue: 254 W 10 + 1 [x]").is_none());
        assert!(parse_line("   x-1 [000] ..... 1.5: block_bio_queue: 254,0 W 10 1 [x]").is_none());
        assert!(parse_line("nothing to see").is_none());
    }
}
