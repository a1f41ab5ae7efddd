//! dm-raid1.c `mirror_ctr` with the core or disk dirty log of dm-log.c:
//! `<core|disk> <#log_args> [<log_device>] <region_size> [sync|nosync]
//!  <#mirrors> [<device> <offset>]+ [<#features> handle_errors [keep_log]]`.

use super::{ArgReader, DeviceOffset, Outcome, TargetArgs, feature_group};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorLog {
    /// Region state in memory.
    Core,
    /// Region state on a log device.
    Disk { device: String },
}

/// The optional sync word of the log arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSync {
    /// No word given: resynchronise regions not known to be clean.
    Default,
    Sync,
    NoSync,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub log: MirrorLog,
    /// Sectors per region.
    pub region_size: u32,
    pub sync: RegionSync,
    pub legs: Vec<DeviceOffset>,
    pub handle_errors: bool,
    pub keep_log: bool,
}

/// MAX_NR_MIRRORS in dm-raid1.c (DM_KCOPYD_MAX_REGIONS + 1).
const MAX_MIRRORS: u32 = 9;

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();

    let log_type = reader.word("log_type");
    let disk_log = match log_type.map(|w| w.text) {
        Some("core") => false,
        Some("disk") => true,
        Some(other) => {
            if let Some(word) = log_type {
                reader.error(
                    word,
                    "log_type",
                    format!("'{other}' is not a log type dmbench knows: use core or disk"),
                );
            }
            reader.skip_rest();
            return reader.finish(None);
        }
        None => return reader.finish(None),
    };
    let (min_args, max_args) = if disk_log { (2, 3) } else { (1, 2) };
    let Some((count_word, log_args)) = reader.u32("log_arg_count", "a count of log arguments")
    else {
        reader.skip_rest();
        return reader.finish(None);
    };
    if log_args < min_args || log_args > max_args {
        let what = if disk_log {
            "<log_device> <region_size> [sync|nosync]"
        } else {
            "<region_size> [sync|nosync]"
        };
        reader.error(
            count_word,
            "log_arg_count",
            format!("must be {min_args} or {max_args} for this log ({what}), not {log_args}"),
        );
        reader.skip_rest();
        return reader.finish(None);
    }
    if log_args as usize > reader.remaining() {
        reader.error(
            count_word,
            "log_arg_count",
            format!(
                "announces {log_args} log arguments but only {} words follow",
                reader.remaining()
            ),
        );
        reader.skip_rest();
        return reader.finish(None);
    }

    let log = if disk_log {
        reader
            .whole_device("log_device", 0)
            .map(|device| MirrorLog::Disk { device })
    } else {
        Some(MirrorLog::Core)
    };
    let region_size = region_size(&mut reader, length);
    let sync = if log_args == max_args {
        reader.word("sync").and_then(|word| match word.text {
            "sync" => Some(RegionSync::Sync),
            "nosync" => Some(RegionSync::NoSync),
            other => {
                reader.error(word, "sync", format!("'{other}' is not sync or nosync"));
                None
            }
        })
    } else {
        Some(RegionSync::Default)
    };

    let Some((mirrors_word, mirrors)) = reader.u32("mirrors", "a number of mirrors") else {
        reader.skip_rest();
        return reader.finish(None);
    };
    if !(2..=MAX_MIRRORS).contains(&mirrors) {
        reader.error(
            mirrors_word,
            "mirrors",
            format!("{mirrors} mirrors: the kernel takes 2 to {MAX_MIRRORS}"),
        );
        reader.skip_rest();
        return reader.finish(None);
    }
    if reader.remaining() < 2 * mirrors as usize {
        reader.error(
            mirrors_word,
            "mirrors",
            format!(
                "{mirrors} mirrors need {} words (<device> <offset> each), only {} follow",
                2 * mirrors,
                reader.remaining()
            ),
        );
        reader.skip_rest();
        return reader.finish(None);
    }
    let mut legs = Vec::with_capacity(mirrors as usize);
    for n in 1..=mirrors {
        let device_name = format!("device of mirror {n}");
        let offset_name = format!("offset of mirror {n}");
        if let Some(leg) = reader.device_offset(&device_name, &offset_name, length, 1) {
            legs.push(leg);
        }
    }

    let (handle_errors, keep_log) = features(&mut reader);

    let value = match (log, region_size, sync) {
        (Some(log), Some(region_size), Some(sync)) if legs.len() == mirrors as usize => {
            Some(Mirror {
                log,
                region_size,
                sync,
                legs,
                handle_errors,
                keep_log,
            })
        }
        _ => None,
    };
    reader.finish(value.map(TargetArgs::Mirror))
}

/// dm-log.c `_check_region_size` and the region count limit.
fn region_size(reader: &mut ArgReader<'_>, length: u64) -> Option<u32> {
    let (word, size) = reader.u32("region_size", "a region size in sectors")?;
    let problem = if size < 2 {
        Some(format!("{size} is less than 2 sectors"))
    } else if !size.is_power_of_two() {
        Some(format!("{size} is not a power of two"))
    } else if u64::from(size) > length {
        Some(format!(
            "{size} is larger than the segment length of {length} sectors"
        ))
    } else if length.div_ceil(u64::from(size)) > u64::from(u32::MAX) {
        Some(format!(
            "{size} makes more than {} regions; choose a larger region",
            u32::MAX
        ))
    } else {
        None
    };
    match problem {
        Some(message) => {
            reader.error(word, "region_size", message);
            None
        }
        None => Some(size),
    }
}

/// `[<#features> handle_errors [keep_log]]`; names are case-sensitive in
/// the kernel (strcmp).
fn features(reader: &mut ArgReader<'_>) -> (bool, bool) {
    let (mut handle_errors, mut keep_log) = (false, false);
    let Some(words) = feature_group(reader, "features", u32::MAX) else {
        return (false, false);
    };
    let mut keep_log_word = None;
    for word in words {
        match word.text {
            "handle_errors" => handle_errors = true,
            "keep_log" => {
                keep_log = true;
                keep_log_word = Some(word);
            }
            other => reader.error(
                word,
                "features",
                format!("'{other}' is not a mirror feature: use handle_errors or keep_log"),
            ),
        }
    }
    if let (Some(word), false) = (keep_log_word, handle_errors) {
        reader.error(word, "features", "keep_log requires handle_errors");
    }
    (handle_errors, keep_log)
}
