//! Block tracepoint records in the fake executor, for a probe that asks
//! for them: each block queued on the DM device, remapped by a
//! `<device> <offset>` target (linear, basic_target) onto its loop device,
//! issued, completed, and completed back at the DM device; times advance
//! 10 µs a step so views of them are stable.

use crate::exec::protocol::{ProbeOp, ProbeSpec, TableLine, TraceRecord};

pub fn records(spec: &ProbeSpec, dm: (u32, u32), table: &[TableLine]) -> Vec<TraceRecord> {
    let rwbs = match spec.op {
        ProbeOp::Write => "WS",
        ProbeOp::Read => "R",
    };
    let per_block = (u64::from(spec.bs) / 512).max(1);
    let mut out = Vec::new();
    let mut ts = 1_000_000_000u64;
    let rec = |ts: u64, event: &str, dev: (u32, u32), sector: u64, from| TraceRecord {
        ts_ns: ts,
        event: event.into(),
        major: dev.0,
        minor: dev.1,
        rwbs: rwbs.into(),
        sector,
        sectors: per_block,
        from,
        error: 0,
    };
    for block in 0..spec.count {
        let sector = (spec.offset_blocks + block) * per_block;
        out.push(rec(ts, "block_bio_queue", dm, sector, None));
        let line = table
            .iter()
            .find(|l| l.start <= sector && sector < l.start + l.length);
        let words: Vec<&str> = line
            .map(|l| l.params.split_whitespace().collect())
            .unwrap_or_default();
        let disk = words
            .first()
            .and_then(|d| d.strip_prefix("/dev/loop"))
            .and_then(|n| n.parse::<u32>().ok());
        let offset: u64 = words.get(1).and_then(|o| o.parse().ok()).unwrap_or(0);
        if let (Some(minor), Some(line)) = (disk, line) {
            let to = sector - line.start + offset;
            let loop_dev = (7, minor);
            out.push(rec(
                ts + 10_000,
                "block_bio_remap",
                loop_dev,
                to,
                Some((dm.0, dm.1, sector)),
            ));
            out.push(rec(ts + 20_000, "block_rq_issue", loop_dev, to, None));
            out.push(rec(ts + 60_000, "block_rq_complete", loop_dev, to, None));
        }
        out.push(rec(ts + 70_000, "block_bio_complete", dm, sector, None));
        ts += 100_000;
    }
    out
}
