//! The table composer's model: the table being built for one DM device, a
//! cursor on its sector range, the selected segment, and live validation
//! against the session's disks and devices. Edits go through the table
//! module's split/resize/delete/insert, which keep the table contiguous.

use crate::exec::protocol::TableLine;
use crate::session::{BlockDeviceMap, Device, Disk};
use crate::table::{self, DeviceUse, Segment, Table, TableError, Validation, validate};

use crate::tui::notice::Notice;

/// How the composer's table relates to a live device of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// No device of that name yet: apply creates it.
    New,
    /// The device runs exactly this table.
    Same,
    /// The device runs another table: apply reloads it.
    Modified,
}

/// What Enter in the composer leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyPlan {
    Create { name: String, table: Vec<TableLine> },
    Reload { name: String, table: Vec<TableLine> },
}

/// A range of a disk used by a segment, for the disk bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskUse {
    pub segment: usize,
    pub offset: u64,
    pub sectors: u64,
}

#[derive(Debug, Clone)]
pub struct Composer {
    /// Name of the DM device the table is for.
    pub name: String,
    pub table: Table,
    pub selected: usize,
    /// A sector of the device; splits happen here.
    pub cursor: u64,
    pub validation: Validation,
    /// Outcome of the last edit.
    pub message: Option<Notice>,
    /// Messages fault presets need once the device exists (segment start
    /// sector, text): dust's bad blocks.
    pub pending_messages: Vec<(u64, String)>,
    devices: BlockDeviceMap,
}

impl Composer {
    pub fn new(name: impl Into<String>) -> Composer {
        let mut composer = Composer {
            name: name.into(),
            table: Table::default(),
            selected: 0,
            cursor: 0,
            validation: Validation::default(),
            message: None,
            pending_messages: Vec::new(),
            devices: BlockDeviceMap::default(),
        };
        composer.revalidate();
        composer
    }

    /// Learns the session's disks and devices (for validation and the
    /// disk bars); called whenever the session state changes.
    pub fn set_session(&mut self, disks: &[Disk], devices: &[Device]) {
        // The device being composed cannot map itself.
        let map = BlockDeviceMap::new(disks, devices.iter().filter(|d| d.name != self.name));
        if map != self.devices {
            self.devices = map;
            self.revalidate();
        }
    }

    pub fn resolver(&self) -> &BlockDeviceMap {
        &self.devices
    }

    pub fn total(&self) -> u64 {
        self.table.total_sectors()
    }

    pub fn selected_segment(&self) -> Option<&Segment> {
        self.table.segments.get(self.selected)
    }

    pub fn text(&self) -> String {
        table::format(&self.table)
    }

    /// Replaces the table (after an edit or a load), keeping the selection
    /// and cursor inside it.
    pub fn set_table(&mut self, mut new: Table) {
        new.renumber();
        self.table = new;
        let count = self.table.segments.len();
        self.selected = self.selected.min(count.saturating_sub(1));
        self.cursor = self.cursor.min(self.total().saturating_sub(1));
        self.revalidate();
    }

    pub fn revalidate(&mut self) {
        self.validation = if self.table.is_empty() {
            Validation::default()
        } else {
            validate(&self.table, &self.devices)
        };
    }

    /// Errors about one segment (by index).
    pub fn errors_for(&self, index: usize) -> Vec<&TableError> {
        let line = index + 1;
        self.validation
            .errors
            .iter()
            .filter(|e| e.line == line)
            .collect()
    }

    fn ok(&mut self, text: impl Into<String>) {
        self.message = Some(Notice::Info(text.into()));
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.message = Some(Notice::Error(text.into()));
    }

    /// Sectors one Left/Right press moves: a 64th of the device.
    pub fn cursor_step(&self) -> u64 {
        (self.total() / 64).max(1)
    }

    pub fn move_cursor(&mut self, delta: i64) {
        let last = self.total().saturating_sub(1);
        let moved = if delta < 0 {
            self.cursor.saturating_sub(delta.unsigned_abs())
        } else {
            self.cursor.saturating_add(delta as u64)
        };
        self.set_cursor(moved.min(last));
    }

    /// Puts the cursor on a sector and selects the segment under it.
    pub fn set_cursor(&mut self, sector: u64) {
        self.cursor = sector.min(self.total().saturating_sub(1));
        if let Some(index) = self.table.segment_at(self.cursor) {
            self.selected = index;
        }
    }

    /// Selects a segment and puts the cursor at its start.
    pub fn select(&mut self, index: usize) {
        if let Some(segment) = self.table.segments.get(index) {
            self.selected = index;
            self.cursor = segment.start;
        }
    }

    pub fn select_next(&mut self, forward: bool) {
        let count = self.table.segments.len();
        if count == 0 {
            return;
        }
        let index = if forward {
            (self.selected + 1).min(count - 1)
        } else {
            self.selected.saturating_sub(1)
        };
        self.select(index);
    }

    pub fn split_at_cursor(&mut self) {
        match table::split_segment(&self.table, self.selected, self.cursor) {
            Ok(new) => {
                let at = self.cursor;
                self.set_table(new);
                self.select(self.selected + 1);
                self.ok(format!("split at sector {at}"));
            }
            Err(e) => self.fail(e.to_string()),
        }
    }

    pub fn resize_selected(&mut self, length: u64) {
        match table::resize_segment(&self.table, self.selected, length) {
            Ok(new) => {
                self.set_table(new);
                self.ok(format!(
                    "segment {} is now {length} sectors",
                    self.selected + 1
                ));
            }
            Err(e) => self.fail(e.to_string()),
        }
    }

    pub fn delete_selected(&mut self) {
        if self.table.is_empty() {
            return self.fail("the table has no segments");
        }
        match table::delete_segment(&self.table, self.selected) {
            Ok(new) => {
                let index = self.selected + 1;
                self.set_table(new);
                self.select(self.selected);
                self.ok(format!("deleted segment {index}"));
            }
            Err(e) => self.fail(e.to_string()),
        }
    }

    /// Adds a segment before `at`, or replaces segment `index`.
    pub fn put_segment(&mut self, index: Option<usize>, at: usize, segment: Segment) {
        let result = match index {
            Some(i) => replace_segment(&self.table, i, segment),
            None => table::insert_segment(&self.table, at, segment).map_err(|e| e.to_string()),
        };
        match result {
            Ok(new) => {
                let selected = index.unwrap_or(at);
                self.set_table(new);
                self.select(selected);
                self.ok(match index {
                    Some(i) => format!("segment {} updated", i + 1),
                    None => format!("segment {} added", selected + 1),
                });
            }
            Err(e) => self.fail(e),
        }
    }

    pub fn load_text(&mut self, text: &str) {
        match table::parse(text) {
            Ok(new) => {
                self.selected = 0;
                self.set_table(new);
                self.select(0);
                self.ok(format!("{} segment(s) loaded", self.table.segments.len()));
            }
            Err(errors) => self.fail(format!("cannot use that table: {errors}")),
        }
    }

    pub fn live_state(&self, devices: &[Device]) -> LiveState {
        match devices.iter().find(|d| d.name == self.name) {
            None => LiveState::New,
            Some(device) if device.table == self.table.to_lines() => LiveState::Same,
            Some(_) => LiveState::Modified,
        }
    }

    /// What Enter should do, or why it cannot.
    pub fn plan(&self, devices: &[Device]) -> Result<ApplyPlan, String> {
        if self.table.is_empty() {
            return Err("the table is empty: add a segment with 'a'".into());
        }
        if let Some(first) = self.validation.errors.first() {
            let more = self.validation.errors.len() - 1;
            return Err(if more == 0 {
                format!("fix the table first: {first}")
            } else {
                format!("fix the table first: {first} (and {more} more)")
            });
        }
        let lines = self.table.to_lines();
        match self.live_state(devices) {
            LiveState::New => Ok(ApplyPlan::Create {
                name: self.name.clone(),
                table: lines,
            }),
            LiveState::Modified => Ok(ApplyPlan::Reload {
                name: self.name.clone(),
                table: lines,
            }),
            LiveState::Same => Err(format!("{} already runs this table", self.name)),
        }
    }

    /// Ranges of each disk the segments use, for the disk bars.
    pub fn disk_uses(&self, disk: &Disk) -> Vec<DiskUse> {
        let mut out = Vec::new();
        let ours = disk.dev_t();
        for (index, segment) in self.table.segments.iter().enumerate() {
            let Ok(decoded) = segment.decode() else {
                continue;
            };
            for DeviceUse {
                device,
                offset,
                sectors,
                ..
            } in decoded.uses
            {
                let same = self.devices.dev_t(&device) == Some(ours);
                if same {
                    out.push(DiskUse {
                        segment: index,
                        offset,
                        // "Must only exist" uses mark the device as a whole.
                        sectors: if sectors == 0 {
                            disk.sectors()
                        } else {
                            sectors
                        },
                    });
                }
            }
        }
        out
    }
}

pub(crate) fn replace_segment(
    table: &Table,
    index: usize,
    segment: Segment,
) -> Result<Table, String> {
    let old_length = table
        .segments
        .get(index)
        .map(|s| s.length)
        .ok_or_else(|| format!("there is no segment {}", index + 1))?;
    let mut edited = table.clone();
    edited.segments[index].target = segment.target;
    edited.segments[index].args = segment.args;
    if segment.length == old_length {
        return Ok(edited);
    }
    table::resize_segment(&edited, index, segment.length).map_err(|e| e.to_string())
}

/// A line diff (longest common subsequence): `-` removed, `+` added,
/// ` ` kept. Tables are small, so the quadratic table is fine.
pub fn diff_lines(old: &[String], new: &[String]) -> Vec<(char, String)> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push((' ', old[i].clone()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', old[i].clone()));
            i += 1;
        } else {
            out.push(('+', new[j].clone()));
            j += 1;
        }
    }
    out
}

/// Parses a segment length: a bare number is sectors (the unit tables
/// speak); with a unit (`s`, `B`, `KiB`, `MiB`, `GiB`) it is a size that
/// must be a whole number of sectors.
pub fn parse_length(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter a length: sectors, or a size such as 10MiB".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let sectors: u64 = text.parse().map_err(|_| format!("'{text}' is too large"))?;
        if sectors == 0 {
            return Err("a segment needs at least 1 sector".into());
        }
        return Ok(sectors);
    }
    let bytes = crate::units::parse_size(text).map_err(|e| e.to_string())?;
    if !bytes.is_multiple_of(crate::units::SECTOR) {
        return Err(format!("{text} is not a whole number of 512-byte sectors"));
    }
    Ok(bytes / crate::units::SECTOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn disk(name: &str, minor: u32, sectors: u64) -> Disk {
        Disk {
            name: name.into(),
            size_bytes: sectors * 512,
            backing: PathBuf::from(format!("/tmp/{name}.img")),
            device: PathBuf::from(format!("/dev/loop{minor}")),
            major: 7,
            minor,
        }
    }

    fn composer() -> Composer {
        let mut c = Composer::new("dev");
        c.set_session(&[disk("d0", 0, 1000), disk("d1", 1, 1000)], &[]);
        c.load_text("0 1000 linear /dev/loop0 0");
        c
    }

    #[test]
    fn split_resize_delete_keep_the_table_valid() {
        let mut c = composer();
        c.set_cursor(400);
        c.split_at_cursor();
        assert_eq!(
            c.text(),
            "0 400 linear /dev/loop0 0\n400 600 linear /dev/loop0 400"
        );
        assert_eq!(c.selected, 1);
        c.resize_selected(100);
        assert_eq!(c.total(), 500);
        c.delete_selected();
        assert_eq!(c.text(), "0 400 linear /dev/loop0 0");
        assert!(c.validation.is_ok());
    }

    #[test]
    fn a_disk_overrun_is_an_error_and_blocks_apply() {
        let mut c = composer();
        c.resize_selected(2000);
        assert!(!c.validation.is_ok());
        let err = c.plan(&[]).expect_err("invalid");
        assert!(err.contains("1000 sectors"), "{err}");
    }

    #[test]
    fn plan_creates_then_reloads_a_live_device() {
        let c = composer();
        assert!(matches!(c.plan(&[]), Ok(ApplyPlan::Create { .. })));
        let live = Device {
            name: "dev".into(),
            uuid: String::new(),
            table: table::parse("0 500 zero").expect("parses").to_lines(),
            major: 253,
            minor: 0,
            suspended: false,
        };
        assert!(matches!(
            c.plan(std::slice::from_ref(&live)),
            Ok(ApplyPlan::Reload { .. })
        ));
        let same = Device {
            table: c.table.to_lines(),
            ..live
        };
        assert_eq!(c.live_state(&[same]), LiveState::Same);
    }

    #[test]
    fn disk_uses_follow_the_segments() {
        let mut c = composer();
        c.load_text("0 300 linear /dev/loop0 100\n300 200 linear 7:1 0");
        assert_eq!(
            c.disk_uses(&disk("d0", 0, 1000)),
            [DiskUse {
                segment: 0,
                offset: 100,
                sectors: 300
            }]
        );
        assert_eq!(c.disk_uses(&disk("d1", 1, 1000)).len(), 1);
    }

    #[test]
    fn lengths_take_sectors_or_sizes() {
        assert_eq!(parse_length("2048"), Ok(2048));
        assert_eq!(parse_length("1MiB"), Ok(2048));
        assert_eq!(parse_length("20000s"), Ok(20000));
        assert!(parse_length("100B").is_err());
        assert!(parse_length("0").is_err());
    }

    #[test]
    fn diff_marks_removed_and_added_lines() {
        let old = vec!["a".to_string(), "b".into(), "c".into()];
        let new = vec!["a".to_string(), "x".into(), "c".into()];
        let diff = diff_lines(&old, &new);
        assert_eq!(
            diff,
            [
                (' ', "a".to_string()),
                ('-', "b".into()),
                ('+', "x".into()),
                (' ', "c".into())
            ]
        );
    }
}
