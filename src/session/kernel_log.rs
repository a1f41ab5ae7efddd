//! The session's journal of kernel-log records: the executor's event sink
//! passes through it, so whoever drives the session (a lab step in either
//! front end) can ask which kernel lines arrived since a mark.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::exec::protocol::KmsgRecord;
use crate::exec::{Event, EventSink};

/// Records kept; older ones are dropped (a target logging every bio must
/// not grow the journal without bound).
const KEEP: usize = 20_000;

#[derive(Default)]
struct Journal {
    records: VecDeque<KmsgRecord>,
    /// How many records were ever seen: marks count from here.
    seen: u64,
}

/// A cheap handle; clones share one journal.
#[derive(Clone, Default)]
pub struct KernelLog {
    journal: Arc<Mutex<Journal>>,
}

impl KernelLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// An event sink that records kernel-log records here and passes every
    /// event on to `next`.
    pub fn tee(&self, next: EventSink) -> EventSink {
        let journal = self.journal.clone();
        Arc::new(move |event| {
            if let Event::Kmsg(record) = &event
                && let Ok(mut j) = journal.lock()
            {
                j.records.push_back(record.clone());
                j.seen += 1;
                if j.records.len() > KEEP {
                    j.records.pop_front();
                }
            }
            next(event);
        })
    }

    /// A position: `since(mark)` returns what arrives after it.
    pub fn mark(&self) -> u64 {
        self.journal.lock().map_or(0, |j| j.seen)
    }

    /// Records seen after `mark` (those still kept).
    pub fn since(&self, mark: u64) -> Vec<KmsgRecord> {
        self.since_at(mark).0
    }

    /// Records seen after `mark` (those still kept), and the mark of the
    /// first one returned: record `i` is at mark `first + i`.
    pub fn since_at(&self, mark: u64) -> (Vec<KmsgRecord>, u64) {
        let Ok(j) = self.journal.lock() else {
            return (Vec::new(), mark);
        };
        let first_kept = j.seen - j.records.len() as u64;
        let first = mark.max(first_kept);
        let records = j
            .records
            .iter()
            .skip((first - first_kept) as usize)
            .cloned()
            .collect();
        (records, first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64) -> Event {
        Event::Kmsg(KmsgRecord {
            seq,
            level: 6,
            ts_us: seq,
            text: format!("line {seq}"),
        })
    }

    #[test]
    fn lines_after_a_mark_and_every_event_passed_on() {
        let log = KernelLog::new();
        let passed = Arc::new(Mutex::new(0usize));
        let counter = passed.clone();
        let sink = log.tee(Arc::new(move |_| {
            if let Ok(mut n) = counter.lock() {
                *n += 1;
            }
        }));
        sink(record(1));
        let mark = log.mark();
        sink(record(2));
        sink(Event::Action { text: "x".into() });
        sink(record(3));
        let texts: Vec<String> = log.since(mark).into_iter().map(|r| r.text).collect();
        assert_eq!(texts, ["line 2", "line 3"]);
        assert_eq!(*passed.lock().expect("lock"), 4);
    }

    #[test]
    fn the_journal_is_bounded() {
        let log = KernelLog::new();
        let sink = log.tee(crate::exec::discard_events());
        for i in 0..(KEEP as u64 + 10) {
            sink(record(i));
        }
        let all = log.since(0);
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].seq, 10);
        let mark = log.mark();
        sink(record(99_999));
        assert_eq!(log.since(mark).len(), 1);
    }
}
