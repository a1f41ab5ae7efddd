//! Typed arguments of the targets dmbench knows, decoded from a segment's
//! words with the kernel constructors' rules (drivers/md/dm-*.c), plus what
//! validation and editing need to know about each segment: which devices it
//! uses and how far, and which arguments move when it is split.

mod crypt;
mod delay;
mod flakey;
mod mirror;
mod reader;
mod simple;
mod snapshot;
mod striped;

pub use crypt::Crypt;
pub use delay::{Delay, DelayClass};
pub use flakey::{CorruptBioByte, Flakey, FlakeyFeatures};
pub use mirror::{Mirror, MirrorLog, RegionSync};
pub use simple::Dust;
pub use snapshot::{Persistence, Snapshot};
pub use striped::Striped;

pub(crate) use reader::{ArgReader, Word};

use super::error::TableError;
use super::model::Segment;

/// A device reference and the first sector used on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOffset {
    pub device: String,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetArgs {
    Linear(DeviceOffset),
    Striped(Striped),
    Mirror(Mirror),
    Zero,
    /// The error target optionally names a device (for its limits only).
    Error(Option<DeviceOffset>),
    Crypt(Crypt),
    Snapshot(Snapshot),
    SnapshotOrigin {
        origin: String,
    },
    Delay(Delay),
    Flakey(Flakey),
    Dust(Dust),
    /// The lab's own target: `<device> <start_sector>`.
    BasicTarget(DeviceOffset),
    /// A target dmbench has no rules for; its words are passed on as they are.
    Other,
}

/// A range of a device a segment needs: validation checks the device is
/// known and holds `offset + sectors` sectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUse {
    pub device: String,
    /// 1-based argument position of the device word, and its name.
    pub position: usize,
    pub name: String,
    pub offset: u64,
    /// Sectors needed from `offset`; 0 means the device must only exist.
    pub sectors: u64,
}

/// An argument holding a device offset that must grow by
/// `distance / divisor` when the segment's start moves by `distance`
/// (splitting keeps the second half mapped where it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetShift {
    /// 0-based index into the segment's args.
    pub index: usize,
    pub divisor: u64,
}

/// Everything known about a segment after decoding its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub args: TargetArgs,
    pub uses: Vec<DeviceUse>,
    pub shifts: Vec<OffsetShift>,
    /// Split points must lie a multiple of this many sectors from the
    /// segment start (striped chunk rows, crypt sector_size).
    pub split_alignment: u64,
    /// Allowed by the kernel but probably not meant.
    pub warnings: Vec<TableError>,
}

/// Facts gathered while a decoder reads words.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub uses: Vec<DeviceUse>,
    pub shifts: Vec<OffsetShift>,
    pub split_alignment: u64,
    pub warnings: Vec<TableError>,
}

impl Facts {
    pub fn into_decoded(self, args: TargetArgs) -> Decoded {
        Decoded {
            args,
            uses: self.uses,
            shifts: self.shifts,
            split_alignment: self.split_alignment.max(1),
            warnings: self.warnings,
        }
    }
}

/// What a decoder ends with: the arguments or every problem found, and
/// the facts gathered either way (validation still checks the devices of
/// a row whose other arguments are wrong).
pub(crate) struct Outcome {
    pub args: Result<TargetArgs, Vec<TableError>>,
    pub facts: Facts,
}

impl Segment {
    /// Decodes the arguments by the rules of the segment's target. Targets
    /// dmbench does not know decode to [`TargetArgs::Other`] and always
    /// succeed.
    pub fn decode(&self) -> Result<Decoded, Vec<TableError>> {
        let Outcome { args, facts } = self.decode_outcome();
        args.map(|args| facts.into_decoded(args))
    }

    pub(crate) fn decode_outcome(&self) -> Outcome {
        let reader = ArgReader::new(self);
        match self.target.as_str() {
            "linear" => simple::linear(reader, "offset", TargetArgs::Linear),
            "basic_target" => simple::linear(reader, "start_sector", TargetArgs::BasicTarget),
            "zero" => simple::zero(reader),
            "error" => simple::error(reader),
            "dust" => simple::dust(reader),
            "snapshot-origin" => snapshot::origin(reader),
            "striped" => striped::decode(reader),
            "mirror" => mirror::decode(reader),
            "crypt" => crypt::decode(reader),
            "snapshot" => snapshot::decode(reader),
            "delay" => delay::decode(reader),
            "flakey" => flakey::decode(reader),
            _ => reader.finish_unchecked(TargetArgs::Other),
        }
    }
}

/// Reads an optional `<#count> <words>...` group as `dm_read_arg_group`
/// does: the count must be within `max` and that many words must follow.
/// Returns the words with their positions; `None` when absent or broken.
pub(crate) fn feature_group<'a>(
    reader: &mut ArgReader<'a>,
    count_name: &str,
    max: u32,
) -> Option<Vec<Word<'a>>> {
    if reader.remaining() == 0 {
        return None;
    }
    let Some((count_word, count)) = reader.u32(count_name, "a count of feature words") else {
        // The words after a broken count mean nothing; do not report them.
        reader.skip_rest();
        return None;
    };
    if count > max {
        reader.error(
            count_word,
            count_name,
            format!("{count} feature words is more than the {max} this target accepts"),
        );
        reader.skip_rest();
        return None;
    }
    let available = reader.remaining();
    if count as usize > available {
        reader.error(
            count_word,
            count_name,
            format!(
                "announces {count} feature word{} but only {available} follow{}",
                if count == 1 { "" } else { "s" },
                if available == 1 { "s" } else { "" }
            ),
        );
        reader.skip_rest();
        return None;
    }
    let mut words = Vec::with_capacity(count as usize);
    for _ in 0..count {
        words.push(reader.word(count_name)?);
    }
    Some(words)
}
