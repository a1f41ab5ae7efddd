//! The Events pane's model: a bounded ring of log entries with folding of
//! consecutive repeats, filters, pause/scroll-back and search.
//!
//! A target that logs every bio can produce tens of thousands of lines a
//! second. Three things keep the UI smooth: entries that differ only in
//! their numbers fold into one line with a count, the ring never holds more
//! than `capacity` entries, and the view only ever looks at the few entries
//! it draws (it walks back from the newest one).

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use crate::exec::protocol::Event;

/// Entries kept; older ones are dropped.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Longer lines are cut: a pathological line must not cost memory or
/// drawing time.
const MAX_TEXT: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A kernel log record with its syslog level.
    Kernel(u8),
    /// A DM device's event counter moved.
    Dm,
    /// The session's own action log.
    Action,
    /// The sandbox VM's serial console.
    Console,
    /// kmsg records lost before they were read.
    Lost,
    /// The UI's own notes (a command failed, a file was saved).
    Note { error: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Increases by one per entry ever pushed (folded repeats included in
    /// the entry they fold into).
    pub seq: u64,
    pub source: Source,
    /// Kernel timestamp (µs since boot) for kernel records.
    pub ts_us: Option<u64>,
    /// The newest text of the entry (folded repeats show the latest one).
    pub text: String,
    /// How many records this entry stands for.
    pub count: u32,
    fold_key: u64,
}

impl Entry {
    /// Warnings and errors: kernel levels 0-4, lost records, failures.
    pub fn is_problem(&self) -> bool {
        match self.source {
            Source::Kernel(level) => level <= 4,
            Source::Lost => true,
            Source::Note { error } => error,
            Source::Action => self.text.contains("FAILED"),
            Source::Dm | Source::Console => false,
        }
    }

    /// Device-mapper related: DM events, the kernel's DM messages and the
    /// session's device actions.
    pub fn is_dm(&self) -> bool {
        match self.source {
            Source::Dm => true,
            Source::Kernel(_) => {
                self.text.starts_with("device-mapper") || self.text.contains("dm-")
            }
            Source::Action => self.text.starts_with("device ") || self.text.contains("DM device"),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Dm,
    /// Kernel lines of the modules built or loaded in this session.
    Module,
    Problems,
}

impl Filter {
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Dm,
            Filter::Dm => Filter::Module,
            Filter::Module => Filter::Problems,
            Filter::Problems => Filter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Dm => "DM",
            Filter::Module => "module",
            Filter::Problems => "warn+err",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EventLog {
    entries: VecDeque<Entry>,
    capacity: usize,
    next_seq: u64,
    /// Records ever received (folded ones included).
    pub received: u64,
    /// Entries dropped off the front of the ring.
    pub dropped: u64,
    pub filter: Filter,
    /// When paused, the view shows nothing newer than this seq.
    pub anchor: Option<u64>,
    /// Matching entries hidden below the bottom of the view.
    pub scroll: usize,
    /// Case-insensitive search text; matching lines are highlighted.
    pub search: Option<String>,
    /// Module names for [`Filter::Module`].
    pub modules: Vec<String>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::with_capacity(DEFAULT_CAPACITY)
    }
}

impl EventLog {
    pub fn with_capacity(capacity: usize) -> Self {
        EventLog {
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
            next_seq: 0,
            received: 0,
            dropped: 0,
            filter: Filter::All,
            anchor: None,
            scroll: 0,
            search: None,
            modules: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter()
    }

    pub fn is_paused(&self) -> bool {
        self.anchor.is_some()
    }

    /// Adds an executor event; progress is not logged (the probe gauge
    /// shows it). Returns whether anything was logged.
    pub fn push_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Kmsg(record) => self.push(
                Source::Kernel(record.level),
                Some(record.ts_us),
                &record.text,
            ),
            Event::DmEvent { name, event_nr } => {
                self.push(Source::Dm, None, &format!("{name}: event {event_nr}"))
            }
            Event::Console { line } => self.push(Source::Console, None, line),
            Event::KmsgLost { count } => self.push(
                Source::Lost,
                None,
                &format!("{count} kernel log record(s) were overwritten before they were read"),
            ),
            Event::Action { text } => self.push(Source::Action, None, text),
            Event::Progress { .. } | Event::DmStats { .. } => return false,
        }
        true
    }

    pub fn note(&mut self, error: bool, text: &str) {
        self.push(Source::Note { error }, None, text);
    }

    /// Appends a record, folding it into the newest entry when the two
    /// differ only in their digits.
    pub fn push(&mut self, source: Source, ts_us: Option<u64>, text: &str) {
        self.received += 1;
        let text = clean(text);
        let fold_key = fold_key(source, &text);
        if let Some(last) = self.entries.back_mut()
            && last.fold_key == fold_key
            && last.source == source
        {
            last.count = last.count.saturating_add(1);
            last.text = text;
            last.ts_us = ts_us;
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push_back(Entry {
            seq,
            source,
            ts_us,
            text,
            count: 1,
            fold_key,
        });
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
    }

    pub fn matches_filter(&self, entry: &Entry) -> bool {
        match self.filter {
            Filter::All => true,
            Filter::Dm => entry.is_dm(),
            Filter::Problems => entry.is_problem(),
            Filter::Module => {
                matches!(entry.source, Source::Kernel(_))
                    && self
                        .modules
                        .iter()
                        .any(|m| !m.is_empty() && entry.text.contains(m.as_str()))
            }
        }
    }

    pub fn matches_search(&self, entry: &Entry) -> bool {
        match &self.search {
            Some(query) if !query.is_empty() => contains_ignore_case(&entry.text, query),
            _ => false,
        }
    }

    /// Entries the view shows, oldest first: up to `height` filtered
    /// entries ending `scroll` entries before the newest visible one.
    pub fn visible(&self, height: usize) -> Vec<&Entry> {
        // Scrolled back near the start, the view fills from the oldest
        // entry instead of leaving blank lines at the bottom.
        let scroll = if self.scroll > 0 {
            self.scroll
                .min(self.filtered_count().saturating_sub(height))
        } else {
            0
        };
        let mut out: Vec<&Entry> = self
            .entries
            .iter()
            .rev()
            .filter(|e| self.anchor.is_none_or(|a| e.seq <= a))
            .filter(|e| self.matches_filter(e))
            .skip(scroll)
            .take(height)
            .collect();
        out.reverse();
        out
    }

    /// Entries that pass the filter (and the pause point).
    pub fn filtered_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| self.anchor.is_none_or(|a| e.seq <= a))
            .filter(|e| self.matches_filter(e))
            .count()
    }

    pub fn toggle_pause(&mut self) {
        if self.anchor.is_some() {
            self.follow();
        } else {
            self.pause();
        }
    }

    pub fn pause(&mut self) {
        if self.anchor.is_none() {
            self.anchor = Some(self.entries.back().map_or(0, |e| e.seq));
        }
    }

    /// Back to following new entries at the bottom.
    pub fn follow(&mut self) {
        self.anchor = None;
        self.scroll = 0;
    }

    /// Scrolls towards older entries; scrolling back pauses the view so
    /// that new entries do not move what is being read.
    pub fn scroll_up(&mut self, lines: usize) {
        self.pause();
        let max = self.filtered_count().saturating_sub(1);
        self.scroll = (self.scroll + lines).min(max);
    }

    pub fn scroll_down(&mut self, lines: usize) {
        self.scroll = self.scroll.saturating_sub(lines);
    }

    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.scroll = 0;
    }

    /// Moves the view to the next match older (`older = true`) or newer
    /// than the entry at the bottom of the view. Returns false when there
    /// is none.
    pub fn jump_to_match(&mut self, older: bool) -> bool {
        if self.search.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        // Positions counted from the newest filtered entry, as `scroll` is.
        let positions: Vec<usize> = self
            .entries
            .iter()
            .rev()
            .filter(|e| self.anchor.is_none_or(|a| e.seq <= a))
            .filter(|e| self.matches_filter(e))
            .enumerate()
            .filter(|(_, e)| self.matches_search(e))
            .map(|(i, _)| i)
            .collect();
        let target = if older {
            positions.iter().copied().find(|&p| p > self.scroll)
        } else {
            positions.iter().rev().copied().find(|&p| p < self.scroll)
        };
        // The first jump lands on the newest match, even at the bottom.
        let target = target.or_else(|| {
            positions
                .first()
                .copied()
                .filter(|&p| p == self.scroll && self.anchor.is_none())
        });
        match target {
            Some(position) => {
                self.pause();
                self.scroll = position;
                true
            }
            None => false,
        }
    }

    /// Matches of the search among the filtered entries.
    pub fn search_count(&self) -> usize {
        if self.search.as_deref().is_none_or(str::is_empty) {
            return 0;
        }
        self.entries
            .iter()
            .filter(|e| self.matches_filter(e) && self.matches_search(e))
            .count()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.follow();
    }
}

/// Control characters would corrupt the screen; tabs become spaces.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT));
    for (count, c) in text.chars().enumerate() {
        if count >= MAX_TEXT {
            out.push('…');
            break;
        }
        out.push(match c {
            '\t' | '\n' | '\r' => ' ',
            c if c.is_control() => '?',
            c => c,
        });
    }
    out
}

/// A hash of the text with every run of digits replaced by one marker:
/// "write request: sector 10" and "... sector 11" fold together.
fn fold_key(source: Source, text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut hasher);
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                '#'.hash(&mut hasher);
            }
            in_digits = true;
        } else {
            in_digits = false;
            c.hash(&mut hasher);
        }
    }
    hasher.finish()
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let needle = needle.as_bytes();
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::protocol::KmsgRecord;

    fn kmsg(level: u8, text: &str) -> Event {
        Event::Kmsg(KmsgRecord {
            seq: 0,
            level,
            ts_us: 0,
            text: text.into(),
        })
    }

    #[test]
    fn consecutive_repeats_fold_with_a_count() {
        let mut log = EventLog::default();
        for sector in 0..120 {
            log.push_event(&kmsg(
                6,
                &format!("basic_target: write request: sector {sector}"),
            ));
        }
        log.push_event(&kmsg(6, "something else"));
        log.push_event(&kmsg(6, "basic_target: write request: sector 7"));
        assert_eq!(log.len(), 3);
        let first = log.entries().next().expect("an entry");
        assert_eq!(first.count, 120);
        assert_eq!(first.text, "basic_target: write request: sector 119");
        assert_eq!(log.received, 122);
    }

    #[test]
    fn different_sources_or_levels_do_not_fold() {
        let mut log = EventLog::default();
        log.push_event(&kmsg(6, "x 1"));
        log.push_event(&kmsg(3, "x 2"));
        log.push(Source::Action, None, "x 3");
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn the_ring_is_bounded() {
        let mut log = EventLog::with_capacity(100);
        for i in 0..1000 {
            // Alternate so nothing folds.
            log.push(Source::Action, None, if i % 2 == 0 { "a" } else { "b" });
        }
        assert_eq!(log.len(), 100);
        assert_eq!(log.dropped, 900);
        assert_eq!(log.entries().last().map(|e| e.seq), Some(999));
    }

    #[test]
    fn long_lines_are_cut_and_control_characters_replaced() {
        let mut log = EventLog::default();
        log.push(
            Source::Action,
            None,
            &format!("a\x1b[2Jb{}", "x".repeat(1000)),
        );
        let entry = log.entries().next().expect("an entry");
        assert!(entry.text.starts_with("a?[2Jb"));
        assert_eq!(entry.text.chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn filters_select_dm_module_and_problem_lines() {
        let mut log = EventLog {
            modules: vec!["basic_target".into()],
            ..Default::default()
        };
        log.push_event(&kmsg(6, "basic_target: read request"));
        log.push_event(&kmsg(3, "device-mapper: table: 253:0: linear: bad"));
        log.push_event(&Event::DmEvent {
            name: "x".into(),
            event_nr: 1,
        });
        log.push_event(&Event::Action {
            text: "disk d: 1MiB".into(),
        });
        let shown = |log: &EventLog| log.visible(10).len();
        assert_eq!(shown(&log), 4);
        log.set_filter(Filter::Dm);
        assert_eq!(shown(&log), 2);
        log.set_filter(Filter::Module);
        assert_eq!(shown(&log), 1);
        log.set_filter(Filter::Problems);
        assert_eq!(shown(&log), 1);
    }

    #[test]
    fn pausing_freezes_the_view_while_entries_keep_arriving() {
        let mut log = EventLog::default();
        log.push(Source::Action, None, "one");
        log.pause();
        log.push(Source::Action, None, "two");
        let texts: Vec<&str> = log.visible(5).iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["one"]);
        log.follow();
        assert_eq!(log.visible(5).len(), 2);
    }

    #[test]
    fn scrolling_back_pauses_and_shows_older_entries() {
        let mut log = EventLog::default();
        for word in ["a", "b", "c", "d"] {
            log.push(Source::Action, None, word);
        }
        log.scroll_up(2);
        assert!(log.is_paused());
        let texts: Vec<&str> = log.visible(1).iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["b"]);
        log.scroll_up(100);
        assert_eq!(log.scroll, 3);
    }

    #[test]
    fn search_jumps_between_matches() {
        let mut log = EventLog::default();
        for word in ["alpha", "beta", "alphabet", "gamma"] {
            log.push(Source::Action, None, word);
        }
        log.search = Some("ALPHA".into());
        assert_eq!(log.search_count(), 2);
        assert!(log.jump_to_match(true));
        assert_eq!(log.visible(1)[0].text, "alphabet");
        assert!(log.jump_to_match(true));
        assert_eq!(log.visible(1)[0].text, "alpha");
        assert!(!log.jump_to_match(true));
        assert!(log.jump_to_match(false));
        assert_eq!(log.visible(1)[0].text, "alphabet");
    }
}
