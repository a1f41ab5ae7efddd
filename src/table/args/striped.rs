//! dm-stripe.c `stripe_ctr`: `<#stripes> <chunk_size> [<device> <offset>]+`.
//!
//! The kernel's rules, exactly: #stripes and chunk_size are non-zero 32-bit
//! numbers; the length divides by #stripes; the resulting stripe width
//! divides by chunk_size; one `<device> <offset>` pair per stripe. A single
//! stripe, a chunk that is not a power of two, or one smaller than a page
//! are accepted by the kernel and only warned about here.

use super::{ArgReader, DeviceOffset, Outcome, TargetArgs};
use crate::table::error::{Field, TableError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Striped {
    /// Sectors per chunk.
    pub chunk_size: u32,
    pub stripes: Vec<DeviceOffset>,
}

/// Sectors in a 4 KiB page: the chunk size striped.rst asks for at least.
const PAGE_SECTORS: u32 = 8;

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let line = reader.line();
    let length = reader.length();
    let stripes = reader
        .u32("stripes", "a number of stripes")
        .and_then(|(word, n)| {
            if n == 0 {
                reader.error(word, "stripes", "must be at least 1");
                None
            } else {
                Some((word, n))
            }
        });
    let chunk = reader
        .u32("chunk_size", "a chunk size in sectors")
        .and_then(|(word, n)| {
            if n == 0 {
                reader.error(word, "chunk_size", "must be at least 1 sector");
                None
            } else {
                Some((word, n))
            }
        });
    let (Some((stripes_word, stripes)), Some((chunk_word, chunk))) = (stripes, chunk) else {
        reader.skip_rest();
        return reader.finish(None);
    };

    if stripes == 1 {
        reader.facts.warnings.push(TableError::argument(
            line,
            stripes_word.position(),
            "stripes",
            "a single stripe maps like linear",
        ));
    }
    if chunk < PAGE_SECTORS || !chunk.is_power_of_two() {
        reader.facts.warnings.push(TableError::argument(
            line,
            chunk_word.position(),
            "chunk_size",
            format!(
                "{chunk} is accepted, but the kernel documentation asks for a power of two \
                 of at least {PAGE_SECTORS} sectors (one page)"
            ),
        ));
    }

    let mut geometry_ok = true;
    let width = length / u64::from(stripes);
    if !length.is_multiple_of(u64::from(stripes)) {
        geometry_ok = false;
        reader.push(TableError::field(
            line,
            Field::Length,
            format!("{length} sectors is not divisible by {stripes} stripes"),
        ));
    } else if !width.is_multiple_of(u64::from(chunk)) {
        geometry_ok = false;
        reader.error(
            chunk_word,
            "chunk_size",
            format!(
                "the stripe width of {width} sectors (length {length} / {stripes} stripes) is \
                 not a multiple of the chunk size {chunk}"
            ),
        );
    }

    let wanted = 2 * stripes as usize;
    if reader.remaining() != wanted {
        reader.error(
            stripes_word,
            "stripes",
            format!(
                "{stripes} stripe{} need{} {wanted} words (<device> <offset> each), got {}",
                if stripes == 1 { "" } else { "s" },
                if stripes == 1 { "s" } else { "" },
                reader.remaining()
            ),
        );
        reader.skip_rest();
        return reader.finish(None);
    }

    let mut legs = Vec::with_capacity(stripes as usize);
    for n in 1..=stripes {
        let device_name = format!("device of stripe {n}");
        let offset_name = format!("offset of stripe {n}");
        if let Some(leg) =
            reader.device_offset(&device_name, &offset_name, width, u64::from(stripes))
        {
            legs.push(leg);
        }
    }
    reader.facts.split_alignment = u64::from(stripes) * u64::from(chunk);
    let complete = geometry_ok && legs.len() == stripes as usize;
    reader.finish(complete.then_some(TargetArgs::Striped(Striped {
        chunk_size: chunk,
        stripes: legs,
    })))
}
