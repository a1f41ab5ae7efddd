//! Targets with a fixed, short argument list: linear (and the lab's
//! basic_target, which takes the same words), zero, error, dust.

use super::{ArgReader, DeviceOffset, Outcome, TargetArgs};

/// dm-dust: `<device> <offset> <block_size>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dust {
    pub backing: DeviceOffset,
    /// Bytes per block.
    pub block_size: u32,
}

/// dm-linear.c `linear_ctr`: exactly `<device> <offset>`. basic_target
/// takes the same words, its offset being called `start_sector`.
pub(super) fn linear(
    mut reader: ArgReader<'_>,
    offset_name: &str,
    wrap: fn(DeviceOffset) -> TargetArgs,
) -> Outcome {
    let length = reader.length();
    let backing = reader.device_offset("device", offset_name, length, 1);
    reader.finish(backing.map(wrap))
}

/// dm-zero.c `zero_ctr`: no arguments.
pub(super) fn zero(reader: ArgReader<'_>) -> Outcome {
    reader.finish(Some(TargetArgs::Zero))
}

/// dm-target.c `io_err_ctr`: with exactly two words they are a device and
/// offset as for linear. The kernel ignores any other count; dmbench
/// refuses it, since such words can only be a mistake.
pub(super) fn error(mut reader: ArgReader<'_>) -> Outcome {
    if reader.remaining() == 0 {
        return reader.finish(Some(TargetArgs::Error(None)));
    }
    if reader.remaining() != 2 {
        reader.row_error(format!(
            "error takes no arguments, or <device> <offset>; got {} word{}",
            reader.remaining(),
            if reader.remaining() == 1 { "" } else { "s" }
        ));
        reader.skip_rest();
        return reader.finish(None);
    }
    let length = reader.length();
    let backing = reader.device_offset("device", "offset", length, 1);
    reader.finish(backing.map(|backing| TargetArgs::Error(Some(backing))))
}

/// dm-dust.c `dust_ctr`.
pub(super) fn dust(mut reader: ArgReader<'_>) -> Outcome {
    // DUST_MAX_BLKSZ_SECTORS in dm-dust.c.
    const MAX_BLOCK_SECTORS: u64 = 2_097_152;
    let length = reader.length();
    let backing = reader.device_offset("device", "offset", length, 1);
    let block_size = reader
        .u32("block_size", "a block size in bytes")
        .and_then(|(word, bytes)| {
            let limit = length.min(MAX_BLOCK_SECTORS);
            let problem = if bytes < 512 {
                Some(format!("{bytes} is less than 512 bytes"))
            } else if !bytes.is_power_of_two() {
                Some(format!("{bytes} is not a power of two"))
            } else if u64::from(bytes) / 512 > limit {
                Some(format!(
                    "{bytes} bytes ({} sectors) is larger than {limit} sectors (the segment \
                     length, at most {MAX_BLOCK_SECTORS})",
                    bytes / 512
                ))
            } else {
                None
            };
            match problem {
                Some(message) => {
                    reader.error(word, "block_size", message);
                    None
                }
                None => Some(bytes),
            }
        });
    let value = match (backing, block_size) {
        (Some(backing), Some(block_size)) => Some(Dust {
            backing,
            block_size,
        }),
        _ => None,
    };
    reader.finish(value.map(TargetArgs::Dust))
}
