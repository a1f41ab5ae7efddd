//! Pure edits on a table for the UI: split, resize, delete, insert. Each
//! returns a new table with rows renumbered, or says why it cannot.

use std::fmt;

use super::catalog::{SplitRule, split_rule};
use super::model::{Segment, Table};
use super::numbers::parse_u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError(pub String);

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EditError {}

fn refuse<T>(message: impl Into<String>) -> Result<T, EditError> {
    Err(EditError(message.into()))
}

fn segment(table: &Table, index: usize) -> Result<&Segment, EditError> {
    table.segments.get(index).ok_or_else(|| {
        EditError(format!(
            "there is no segment {} (the table has {})",
            index + 1,
            table.segments.len()
        ))
    })
}

/// Splits segment `index` at absolute sector `at`, which must lie strictly
/// inside it. The second half keeps mapping the same data: its device
/// offsets move by the split distance (divided by the stripe count for
/// striped), and a crypt IV offset moves with them.
pub fn split_segment(table: &Table, index: usize, at: u64) -> Result<Table, EditError> {
    let original = segment(table, index)?;
    let line = original.line;
    if at <= original.start || at >= original.end() {
        return refuse(format!(
            "line {line}: sector {at} is not inside the segment (sectors {} to {})",
            original.start,
            original.end().saturating_sub(1)
        ));
    }
    let distance = at - original.start;
    let mut second = original.clone();
    second.start = at;
    second.length = original.end() - at;
    let mut first = original.clone();
    first.length = distance;

    match split_rule(&original.target) {
        SplitRule::Refuse(reason) => {
            return refuse(format!(
                "line {line}: a {} segment cannot be split: {reason}",
                original.target
            ));
        }
        SplitRule::Trivial => {}
        SplitRule::ShiftOffsets => {
            let decoded = original.decode().map_err(|errors| {
                let first_problem = errors.first().map(ToString::to_string).unwrap_or_default();
                EditError(format!(
                    "line {line}: fix the segment before splitting it ({first_problem})"
                ))
            })?;
            if !distance.is_multiple_of(decoded.split_alignment) {
                return refuse(format!(
                    "line {line}: the split must fall a multiple of {} sectors from the \
                     segment start ({} is {distance} sectors in)",
                    decoded.split_alignment, at
                ));
            }
            for shift in &decoded.shifts {
                let word = &mut second.args[shift.index];
                let old = parse_u64(word).map_err(|_| {
                    EditError(format!(
                        "line {line}: argument {} is not a number",
                        shift.index + 1
                    ))
                })?;
                let moved = old.checked_add(distance / shift.divisor).ok_or_else(|| {
                    EditError(format!(
                        "line {line}: argument {} would overflow",
                        shift.index + 1
                    ))
                })?;
                *word = moved.to_string();
            }
        }
    }
    // Some targets limit their own geometry (a dust block must fit, a
    // mirror region too): both halves must still decode.
    for half in [&first, &second] {
        if let Err(errors) = half.decode() {
            let first_problem = errors.first().map(ToString::to_string).unwrap_or_default();
            return refuse(format!(
                "line {line}: splitting at sector {at} would make an invalid half: \
                 {first_problem}"
            ));
        }
    }

    let mut segments = table.segments.clone();
    segments.splice(index..=index, [first, second]);
    Ok(Table::new(segments))
}

/// Gives segment `index` a new length; the segments after it move so that
/// the table stays contiguous.
pub fn resize_segment(table: &Table, index: usize, new_length: u64) -> Result<Table, EditError> {
    let original = segment(table, index)?;
    if new_length == 0 {
        return refuse(format!(
            "line {}: a segment needs at least 1 sector; delete it instead",
            original.line
        ));
    }
    let mut segments = table.segments.clone();
    segments[index].length = new_length;
    shift_from(&mut segments, index + 1, original.length, new_length)?;
    Ok(Table::new(segments))
}

/// Removes segment `index`; the segments after it move down to close the
/// hole.
pub fn delete_segment(table: &Table, index: usize) -> Result<Table, EditError> {
    let original = segment(table, index)?;
    let removed = original.length;
    let mut segments = table.segments.clone();
    segments.remove(index);
    shift_from(&mut segments, index, removed, 0)?;
    Ok(Table::new(segments))
}

/// Inserts a row before segment `index` (or at the end when `index` is the
/// segment count), starting where that segment started; later segments move
/// up by its length. The new row's own `start` is ignored.
pub fn insert_segment(table: &Table, index: usize, new: Segment) -> Result<Table, EditError> {
    if index > table.segments.len() {
        return refuse(format!(
            "cannot insert at position {}: the table has {} segments",
            index + 1,
            table.segments.len()
        ));
    }
    if new.length == 0 {
        return refuse("a segment needs at least 1 sector");
    }
    let start = match table.segments.get(index) {
        Some(next) => next.start,
        None => table.total_sectors(),
    };
    let mut segments = table.segments.clone();
    shift_from(&mut segments, index, 0, new.length)?;
    segments.insert(index, Segment { start, ..new });
    Ok(Table::new(segments))
}

/// Moves the segments from `from` on by `new - old` sectors.
fn shift_from(segments: &mut [Segment], from: usize, old: u64, new: u64) -> Result<(), EditError> {
    for later in segments.iter_mut().skip(from) {
        let moved = if new >= old {
            later.start.checked_add(new - old)
        } else {
            later.start.checked_sub(old - new)
        };
        later.start = moved.ok_or_else(|| {
            EditError(format!(
                "line {}: its start would leave the range of sector numbers",
                later.line
            ))
        })?;
    }
    Ok(())
}
