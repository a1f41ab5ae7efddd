//! Checking a table before it goes anywhere near an ioctl: its layout, each
//! target's arguments, and the devices it names. Every problem is
//! returned, not just the first.

use std::collections::{BTreeMap, HashMap};

use super::args::{Decoded, DeviceUse, TargetArgs};
use super::error::{Field, TableError, TableErrors};
use super::model::{DevT, Segment, Table};

/// What the session knows about a device a table names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Size in 512-byte sectors; `None` skips size checks.
    pub sectors: Option<u64>,
    /// The kernel's number for it, when known.
    pub dev_t: Option<DevT>,
}

impl DeviceInfo {
    pub fn new(sectors: u64, dev_t: DevT) -> Self {
        DeviceInfo {
            sectors: Some(sectors),
            dev_t: Some(dev_t),
        }
    }
}

/// Answers "what is this device reference?" for the caller's world: a
/// session maps its loop devices and DM devices (by path or
/// `major:minor`), a lab maps its `{disk}` placeholders.
pub trait DeviceResolver {
    /// `None` when the reference names nothing known.
    fn resolve(&self, reference: &str) -> Option<DeviceInfo>;

    /// Why an unknown reference is unknown, worded to follow the argument
    /// name in an error.
    fn unknown_reason(&self, reference: &str) -> String {
        format!("'{reference}' is not a device this session knows")
    }
}

impl DeviceResolver for HashMap<String, DeviceInfo> {
    fn resolve(&self, reference: &str) -> Option<DeviceInfo> {
        self.get(reference).copied()
    }
}

impl DeviceResolver for BTreeMap<String, DeviceInfo> {
    fn resolve(&self, reference: &str) -> Option<DeviceInfo> {
        self.get(reference).copied()
    }
}

impl<F: Fn(&str) -> Option<DeviceInfo>> DeviceResolver for F {
    fn resolve(&self, reference: &str) -> Option<DeviceInfo> {
        self(reference)
    }
}

/// The outcome: errors stop a load; warnings are things the kernel accepts
/// that are probably not meant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validation {
    pub errors: Vec<TableError>,
    pub warnings: Vec<TableError>,
}

impl Validation {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The warnings when there are no errors, otherwise the errors.
    pub fn into_result(self) -> Result<Vec<TableError>, TableErrors> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(TableErrors(self.errors))
        }
    }
}

/// Sectors the kernel can address: `dm_table_add_target` refuses rows
/// ending past `LLONG_MAX >> SECTOR_SHIFT`.
pub const MAX_SECTORS: u64 = (i64::MAX as u64) >> 9;

/// Target type names travel in a 16-byte field including the NUL
/// (DM_MAX_TYPE_NAME).
pub const MAX_TARGET_NAME: usize = 15;

/// Everything: layout, arguments, devices.
pub fn validate(table: &Table, resolver: &dyn DeviceResolver) -> Validation {
    let mut validation = Validation {
        errors: check_layout(table),
        warnings: Vec::new(),
    };
    for segment in &table.segments {
        let outcome = segment.decode_outcome();
        match outcome.args {
            Ok(args) => {
                let decoded = outcome.facts.into_decoded(args);
                check_devices(segment, &decoded.uses, resolver, &mut validation.errors);
                check_snapshot_devices(segment, &decoded, resolver, &mut validation.errors);
                if matches!(decoded.args, TargetArgs::Other) {
                    validation.warnings.push(TableError::field(
                        segment.line,
                        Field::Target,
                        format!(
                            "dmbench has no rules for '{}'; its arguments go to the kernel \
                             unchecked",
                            segment.target
                        ),
                    ));
                }
                validation.warnings.extend(decoded.warnings);
            }
            Err(errors) => {
                validation.errors.extend(errors);
                // Devices are still worth checking: a row usually has
                // several things to fix, better all at once.
                check_devices(
                    segment,
                    &outcome.facts.uses,
                    resolver,
                    &mut validation.errors,
                );
            }
        }
    }
    // Stable: problems at one place keep the order they were found in.
    validation.errors.sort_by_key(TableError::sort_key);
    validation.warnings.sort_by_key(TableError::sort_key);
    validation
}

/// Layout only: rows present, contiguous from sector 0, non-empty, within
/// the kernel's limits, target names that fit.
pub fn check_layout(table: &Table) -> Vec<TableError> {
    let mut errors = Vec::new();
    if table.segments.is_empty() {
        errors.push(TableError::row(0, "the table has no segments"));
        return errors;
    }
    let mut previous: Option<&Segment> = None;
    for segment in &table.segments {
        let line = segment.line;
        if segment.length == 0 {
            errors.push(TableError::field(
                line,
                Field::Length,
                "must be at least 1 sector",
            ));
        }
        match segment.start.checked_add(segment.length) {
            Some(end) if end <= MAX_SECTORS => {}
            _ => errors.push(TableError::field(
                line,
                Field::Length,
                format!("the segment would end past sector {MAX_SECTORS}, the kernel's limit"),
            )),
        }
        match previous {
            None if segment.start != 0 => errors.push(TableError::field(
                line,
                Field::Start,
                format!(
                    "the first segment must start at sector 0, not {}",
                    segment.start
                ),
            )),
            Some(prev) if segment.start > prev.end() => errors.push(TableError::field(
                line,
                Field::Start,
                format!(
                    "starts at sector {}, but line {} ends at sector {}: a gap of {} sectors",
                    segment.start,
                    prev.line,
                    prev.end(),
                    segment.start - prev.end()
                ),
            )),
            Some(prev) if segment.start < prev.end() => errors.push(TableError::field(
                line,
                Field::Start,
                format!(
                    "starts at sector {}, inside line {} which ends at sector {}: {} sectors \
                     overlap",
                    segment.start,
                    prev.line,
                    prev.end(),
                    prev.end() - segment.start
                ),
            )),
            _ => {}
        }
        if segment.target.len() > MAX_TARGET_NAME {
            errors.push(TableError::field(
                line,
                Field::Target,
                format!(
                    "'{}' is longer than the kernel's {MAX_TARGET_NAME}-character limit",
                    segment.target
                ),
            ));
        }
        previous = Some(segment);
    }
    errors
}

/// Arguments only (no devices): what can be checked before any disk
/// exists.
pub fn check_arguments(table: &Table) -> Vec<TableError> {
    table
        .segments
        .iter()
        .filter_map(|segment| segment.decode().err())
        .flatten()
        .collect()
}

fn check_devices(
    segment: &Segment,
    uses: &[DeviceUse],
    resolver: &dyn DeviceResolver,
    errors: &mut Vec<TableError>,
) {
    for device_use in uses {
        match resolver.resolve(&device_use.device) {
            None => errors.push(arg_error(
                segment,
                device_use,
                resolver.unknown_reason(&device_use.device),
            )),
            Some(info) => {
                if let Some(message) = size_problem(segment, device_use, info) {
                    errors.push(arg_error(segment, device_use, message));
                }
            }
        }
    }
}

/// dm-snap.c refuses a COW device that is the origin itself.
fn check_snapshot_devices(
    segment: &Segment,
    decoded: &Decoded,
    resolver: &dyn DeviceResolver,
    errors: &mut Vec<TableError>,
) {
    let TargetArgs::Snapshot(snapshot) = &decoded.args else {
        return;
    };
    let numbers = (
        resolver.resolve(&snapshot.origin).and_then(|i| i.dev_t),
        resolver.resolve(&snapshot.cow).and_then(|i| i.dev_t),
    );
    let same = match numbers {
        (Some(origin), Some(cow)) => origin == cow,
        _ => snapshot.origin == snapshot.cow,
    };
    // uses[1] is the COW device (decode order).
    if let (true, Some(cow)) = (same, decoded.uses.get(1)) {
        errors.push(arg_error(
            segment,
            cow,
            "the COW device cannot be the origin device",
        ));
    }
}

fn size_problem(segment: &Segment, device_use: &DeviceUse, info: DeviceInfo) -> Option<String> {
    let size = info.sectors?;
    if device_use.sectors == 0 {
        return None;
    }
    let needed_end = device_use.offset.checked_add(device_use.sectors);
    if device_use.offset < size && needed_end.is_some_and(|end| end <= size) {
        return None;
    }
    let span = if device_use.sectors == segment.length {
        format!("{} sectors (the segment length)", device_use.sectors)
    } else {
        format!("{} sectors", device_use.sectors)
    };
    Some(format!(
        "'{}' has {size} sectors, but this segment needs {span} from sector {}, up to \
         sector {}",
        device_use.device,
        device_use.offset,
        needed_end.map_or_else(|| "beyond 2^64".to_string(), |end| end.to_string())
    ))
}

fn arg_error(segment: &Segment, device_use: &DeviceUse, message: impl Into<String>) -> TableError {
    TableError::argument(segment.line, device_use.position, &device_use.name, message)
}
