//! dm-delay.c `delay_ctr`: 3, 6 or 9 words, one `<device> <offset>
//! <delay_ms>` group each for reads (and everything, when alone), writes
//! (and flushes, when there are 6), and flushes.

use super::{ArgReader, DeviceOffset, Outcome, TargetArgs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayClass {
    pub backing: DeviceOffset,
    pub delay_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delay {
    /// One to three classes, in order: read, write, flush.
    pub classes: Vec<DelayClass>,
}

const CLASS_NAMES: [(&str, &str, &str); 3] = [
    ("device", "offset", "delay_ms"),
    ("write_device", "write_offset", "write_delay_ms"),
    ("flush_device", "flush_offset", "flush_delay_ms"),
];

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();
    let count = reader.remaining();
    if !matches!(count, 3 | 6 | 9) {
        reader.row_error(format!(
            "delay takes 3, 6 or 9 arguments (<device> <offset> <delay_ms> for reads, then \
             for writes, then for flushes), got {count}"
        ));
        reader.skip_rest();
        return reader.finish(None);
    }
    let mut classes = Vec::with_capacity(count / 3);
    for (device_name, offset_name, delay_name) in CLASS_NAMES.iter().take(count / 3) {
        let backing = reader.device_offset(device_name, offset_name, length, 1);
        let delay = reader.u32(delay_name, "a delay in milliseconds");
        if let (Some(backing), Some((_, delay_ms))) = (backing, delay) {
            classes.push(DelayClass { backing, delay_ms });
        }
    }
    let complete = classes.len() == count / 3;
    reader.finish(complete.then_some(TargetArgs::Delay(Delay { classes })))
}
