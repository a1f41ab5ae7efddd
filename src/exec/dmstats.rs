//! The text of DM statistics messages: what `@stats_create` is sent and
//! what `@stats_print` and `@stats_list` answer (drivers/md/dm-stats.c,
//! Documentation/admin-guide/device-mapper/statistics.rst). Pure parsing,
//! shared by the executor (which samples regions) and the session (which
//! creates and lists them).

use super::protocol::AreaCounters;

/// Latency histogram boundaries in nanoseconds: decades from 10 µs to 1 s,
/// so one region answers "how slow" for a RAM disk and a delay target
/// alike. The kernel reports one more bucket than boundaries.
pub const HISTOGRAM_NS: [u64; 6] = [
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// `@stats_create` for `start+length` split into `areas` areas, with
/// nanosecond times and, when `histogram`, the latency histogram. The
/// program id marks the region as this session's in `@stats_list`.
pub fn create_message(
    start: u64,
    length: u64,
    areas: u64,
    histogram: bool,
    program: &str,
) -> String {
    let mut options = vec!["precise_timestamps".to_string()];
    if histogram {
        let bounds: Vec<String> = HISTOGRAM_NS.iter().map(u64::to_string).collect();
        options.push(format!("histogram:{}", bounds.join(",")));
    }
    format!(
        "@stats_create {start}+{length} /{} {} {} {program}",
        areas.max(1),
        options.len(),
        options.join(" ")
    )
}

/// The region id `@stats_create` answers.
pub fn parse_region_id(reply: Option<&str>) -> Result<u32, String> {
    let text = reply.map(str::trim).unwrap_or("");
    text.parse::<u32>()
        .map_err(|_| format!("the kernel answered '{text}' instead of a region id"))
}

/// One line of `@stats_list`:
/// `<id>: <start>+<length> <step> <program_id> <aux_data> [precise_timestamps] [histogram:...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRegion {
    pub region: u32,
    pub start: u64,
    pub length: u64,
    pub step: u64,
    pub program: String,
    pub precise: bool,
    pub histogram: Vec<u64>,
}

pub fn parse_list(reply: &str) -> Result<Vec<ListedRegion>, String> {
    reply
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            parse_list_line(line).ok_or_else(|| format!("unexpected @stats_list line '{line}'"))
        })
        .collect()
}

fn parse_list_line(line: &str) -> Option<ListedRegion> {
    let (id, rest) = line.split_once(':')?;
    let mut words = rest.split_whitespace();
    let (start, length) = parse_range(words.next()?)?;
    let step = words.next()?.parse().ok()?;
    let program = words.next()?.to_string();
    let _aux = words.next()?;
    let mut region = ListedRegion {
        region: id.trim().parse().ok()?,
        start,
        length,
        step,
        program,
        precise: false,
        histogram: Vec::new(),
    };
    for word in words {
        if word == "precise_timestamps" {
            region.precise = true;
        } else if let Some(bounds) = word.strip_prefix("histogram:") {
            region.histogram = bounds
                .split(',')
                .map(|b| b.parse().ok())
                .collect::<Option<_>>()?;
        }
    }
    Some(region)
}

/// `<start>+<length>`.
fn parse_range(word: &str) -> Option<(u64, u64)> {
    let (start, length) = word.split_once('+')?;
    Some((start.parse().ok()?, length.parse().ok()?))
}

/// The lines of `@stats_print`: one per area, `<start>+<length>` then
/// 13 counters and, for a region with a histogram, `n0:n1:...`. Areas
/// are numbered in order; with `keep_idle` false, areas that saw no I/O
/// are left out. The last area's length is the step even where the
/// region ends sooner; it is cut to `region_end`.
pub fn parse_print(
    reply: &str,
    region_end: Option<u64>,
    keep_idle: bool,
) -> Result<Vec<AreaCounters>, String> {
    let mut areas = Vec::new();
    for (index, line) in reply.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let area = parse_print_line(line, index as u32, region_end)
            .ok_or_else(|| format!("unexpected @stats_print line '{line}'"))?;
        if keep_idle || !area.is_idle() {
            areas.push(area);
        }
    }
    Ok(areas)
}

fn parse_print_line(line: &str, index: u32, region_end: Option<u64>) -> Option<AreaCounters> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (start, step) = parse_range(words.first()?)?;
    let number = |i: usize| -> Option<u64> { words.get(i)?.parse().ok() };
    // Counter 9 (I/Os in flight) is printed signed and may be negative
    // for a moment; it is not used.
    let counters = [
        number(1)?,
        number(3)?,
        number(4)?,
        number(5)?,
        number(7)?,
        number(8)?,
    ];
    if words.len() < 14 {
        return None;
    }
    let histogram = match words.get(14) {
        Some(h) => h
            .split(':')
            .map(|n| n.parse().ok())
            .collect::<Option<Vec<u64>>>()?,
        None => Vec::new(),
    };
    let length = match region_end {
        Some(end) if start + step > end => end.saturating_sub(start),
        _ => step,
    };
    Some(AreaCounters {
        index,
        start,
        length,
        reads: counters[0],
        read_sectors: counters[1],
        read_ns: counters[2],
        writes: counters[3],
        write_sectors: counters[4],
        write_ns: counters[5],
        histogram,
    })
}

/// Sums areas (a region's total); histograms add bucket by bucket.
pub fn total(areas: &[AreaCounters]) -> AreaCounters {
    let mut sum = AreaCounters::default();
    for a in areas {
        sum.reads += a.reads;
        sum.read_sectors += a.read_sectors;
        sum.read_ns += a.read_ns;
        sum.writes += a.writes;
        sum.write_sectors += a.write_sectors;
        sum.write_ns += a.write_ns;
        if sum.histogram.len() < a.histogram.len() {
            sum.histogram.resize(a.histogram.len(), 0);
        }
        for (s, n) in sum.histogram.iter_mut().zip(&a.histogram) {
            *s += n;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_message_names_areas_options_and_program() {
        assert_eq!(
            create_message(100, 50, 8, false, "DMBENCH-dmb1"),
            "@stats_create 100+50 /8 1 precise_timestamps DMBENCH-dmb1"
        );
        assert_eq!(
            create_message(0, 20000, 1, true, "p"),
            "@stats_create 0+20000 /1 2 precise_timestamps \
             histogram:10000,100000,1000000,10000000,100000000,1000000000 p"
        );
        assert!(create_message(0, 8, 0, false, "p").contains(" /1 "));
    }

    #[test]
    fn region_ids() {
        assert_eq!(parse_region_id(Some("3\n")), Ok(3));
        assert!(parse_region_id(None).is_err());
        assert!(parse_region_id(Some("-22")).is_err());
    }

    #[test]
    fn list_lines_with_and_without_options() {
        let reply = "0: 0+20000 20000 DMBENCH-dmb1 - precise_timestamps histogram:10,20\n\
                     1: 0+8192 4096 - -\n";
        let regions = parse_list(reply).expect("parses");
        assert_eq!(
            regions[0],
            ListedRegion {
                region: 0,
                start: 0,
                length: 20000,
                step: 20000,
                program: "DMBENCH-dmb1".into(),
                precise: true,
                histogram: vec![10, 20],
            }
        );
        assert_eq!(regions[1].step, 4096);
        assert!(!regions[1].precise);
        assert!(parse_list("").expect("empty").is_empty());
        assert!(parse_list("garbage").is_err());
    }

    #[test]
    fn print_lines_as_the_kernel_writes_them() {
        // Two areas of a 20000-sector region in 12000-sector steps; the
        // second is cut at the region's end.
        let reply = "0+12000 0 0 0 0 1 0 8 96000 0 97000 97000 0 96000 0:1:0:0\n\
                     12000+12000 4 1 32 40000 0 0 0 0 -1 0 0 40000 0 4:0:0:0\n";
        let areas = parse_print(reply, Some(20000), true).expect("parses");
        assert_eq!(areas.len(), 2);
        assert_eq!(
            (areas[0].writes, areas[0].write_sectors, areas[0].write_ns),
            (1, 8, 96000)
        );
        assert_eq!(areas[0].histogram, vec![0, 1, 0, 0]);
        assert_eq!((areas[1].start, areas[1].length), (12000, 8000));
        assert_eq!((areas[1].reads, areas[1].read_sectors), (4, 32));
        let sum = total(&areas);
        assert_eq!((sum.reads, sum.writes), (4, 1));
        assert_eq!(sum.histogram, vec![4, 1, 0, 0]);
    }

    #[test]
    fn idle_areas_can_be_left_out_and_indexes_stay_true() {
        let reply = "0+10 0 0 0 0 0 0 0 0 0 0 0 0 0\n10+10 0 0 0 0 2 0 16 5 0 5 5 0 5\n";
        let areas = parse_print(reply, None, false).expect("parses");
        assert_eq!(areas.len(), 1);
        assert_eq!(areas[0].index, 1);
        assert!(areas[0].histogram.is_empty());
    }

    #[test]
    fn malformed_print_lines_are_refused() {
        assert!(parse_print("0+10 1 2 3", None, true).is_err());
        assert!(parse_print("x+10 0 0 0 0 0 0 0 0 0 0 0 0 0", None, true).is_err());
        assert!(parse_print("0+10 0 0 0 0 0 0 0 0 0 0 0 0 0 1:x", None, true).is_err());
    }
}
