//! dm-flakey.c `flakey_ctr` and `parse_features`: `<device> <offset>
//! <up_interval> <down_interval> [<#feature_words> <features>...]`.
//!
//! The feature count counts words, parameters included (corrupt_bio_byte
//! takes four, the random_*_corrupt features one). Names are matched
//! case-insensitively, as the kernel does.

use super::{ArgReader, DeviceOffset, Outcome, TargetArgs, Word, feature_group};
use crate::table::numbers::parse_u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptBioByte {
    /// 1-based byte within the bio's data.
    pub nth_byte: u32,
    /// Corrupt writes (`w`) rather than reads (`r`).
    pub writes: bool,
    pub value: u8,
    /// Only bios with all these `bi_opf` flags are corrupted.
    pub flags: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlakeyFeatures {
    pub error_reads: bool,
    pub drop_writes: bool,
    pub error_writes: bool,
    pub corrupt_bio_byte: Option<CorruptBioByte>,
    /// Probability out of 1 000 000 000; 0 is off.
    pub random_read_corrupt: u32,
    pub random_write_corrupt: u32,
}

impl FlakeyFeatures {
    /// What the kernel ends up doing: with no effective feature, both reads
    /// and writes fail during the down interval.
    pub fn effective(&self) -> FlakeyFeatures {
        let any = self.error_reads
            || self.drop_writes
            || self.error_writes
            || self.corrupt_bio_byte.is_some()
            || self.random_read_corrupt > 0
            || self.random_write_corrupt > 0;
        if any {
            *self
        } else {
            FlakeyFeatures {
                error_reads: true,
                error_writes: true,
                ..*self
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flakey {
    pub backing: DeviceOffset,
    /// Seconds of normal behaviour.
    pub up_interval: u32,
    /// Seconds of failure.
    pub down_interval: u32,
    /// As written (see [`FlakeyFeatures::effective`] for the kernel's view).
    pub features: FlakeyFeatures,
}

/// PROBABILITY_BASE in dm-flakey.c: 100%.
const PROBABILITY_BASE: u32 = 1_000_000_000;

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();
    let backing = reader.device_offset("device", "offset", length, 1);
    let up = reader.u32("up_interval", "a number of seconds");
    let down = reader.u32("down_interval", "a number of seconds");
    if let (Some((word, up)), Some((_, down))) = (up, down) {
        if up.checked_add(down).is_none() {
            reader.error(word, "up_interval", "up + down interval overflows 32 bits");
        } else if up == 0 && down == 0 {
            reader.error(word, "up_interval", "up and down intervals are both zero");
        }
    }
    let features = match feature_group(&mut reader, "features", 11) {
        Some(words) => parse_features(&mut reader, &words),
        None => Some(FlakeyFeatures::default()),
    };
    let value = match (backing, up, down, features) {
        (Some(backing), Some((_, up_interval)), Some((_, down_interval)), Some(features)) => {
            Some(Flakey {
                backing,
                up_interval,
                down_interval,
                features,
            })
        }
        _ => None,
    };
    reader.finish(value.map(TargetArgs::Flakey))
}

fn parse_features(reader: &mut ArgReader<'_>, words: &[Word<'_>]) -> Option<FlakeyFeatures> {
    let mut features = FlakeyFeatures::default();
    let mut ok = true;
    let mut rest = words.iter();
    let fail = |reader: &mut ArgReader<'_>, word: &Word<'_>, message: String| {
        reader.error(*word, "features", message);
        false
    };
    while let Some(word) = rest.next() {
        let name = word.text.to_ascii_lowercase();
        let duplicate = match name.as_str() {
            "error_reads" => std::mem::replace(&mut features.error_reads, true),
            "drop_writes" => std::mem::replace(&mut features.drop_writes, true),
            "error_writes" => std::mem::replace(&mut features.error_writes, true),
            "corrupt_bio_byte" => {
                let params: Vec<&Word<'_>> = rest.by_ref().take(4).collect();
                match corrupt_bio_byte(&params) {
                    Ok(corrupt) => features.corrupt_bio_byte.replace(corrupt).is_some(),
                    Err(message) => {
                        ok = fail(reader, word, message);
                        continue;
                    }
                }
            }
            "random_read_corrupt" | "random_write_corrupt" => {
                let probability = match rest.next().map(|w| parse_u32(w.text)) {
                    Some(Ok(p)) if p <= PROBABILITY_BASE => p,
                    _ => {
                        ok = fail(
                            reader,
                            word,
                            format!("{name} needs a probability from 0 to {PROBABILITY_BASE}"),
                        );
                        continue;
                    }
                };
                let slot = if name == "random_read_corrupt" {
                    &mut features.random_read_corrupt
                } else {
                    &mut features.random_write_corrupt
                };
                std::mem::replace(slot, probability) > 0
            }
            _ => {
                ok = fail(
                    reader,
                    word,
                    format!(
                        "'{}' is not a flakey feature: use error_reads, drop_writes, \
                         error_writes, corrupt_bio_byte, random_read_corrupt or \
                         random_write_corrupt",
                        word.text
                    ),
                );
                continue;
            }
        };
        if duplicate {
            ok = fail(reader, word, format!("{name} is given twice"));
        }
    }
    if let (Some(message), Some(word)) = (conflict(&features), words.first()) {
        ok = fail(reader, word, message);
    }
    ok.then_some(features)
}

fn corrupt_bio_byte(params: &[&Word<'_>]) -> Result<CorruptBioByte, String> {
    const USAGE: &str = "corrupt_bio_byte takes <nth_byte> <r|w> <value 0-255> <flags>";
    let [nth, direction, value, flags] = params else {
        return Err(format!("{USAGE}; the feature count leaves too few words"));
    };
    let nth_byte = match parse_u32(nth.text) {
        Ok(n) if n >= 1 => n,
        _ => return Err(format!("{USAGE}; nth_byte '{}' is not 1 or more", nth.text)),
    };
    let writes = match direction.text.to_ascii_lowercase().as_str() {
        "w" => true,
        "r" => false,
        _ => {
            return Err(format!(
                "{USAGE}; direction '{}' is not r or w",
                direction.text
            ));
        }
    };
    let value = match parse_u32(value.text)
        .ok()
        .and_then(|v| u8::try_from(v).ok())
    {
        Some(v) => v,
        None => return Err(format!("{USAGE}; value '{}' is not 0-255", value.text)),
    };
    let flags = parse_u32(flags.text)
        .map_err(|_| format!("{USAGE}; flags '{}' is not a number", flags.text))?;
    Ok(CorruptBioByte {
        nth_byte,
        writes,
        value,
        flags,
    })
}

/// The combinations `parse_features` refuses.
fn conflict(f: &FlakeyFeatures) -> Option<String> {
    let corrupts_writes =
        f.corrupt_bio_byte.is_some_and(|c| c.writes) || f.random_write_corrupt > 0;
    let corrupts_reads = f.corrupt_bio_byte.is_some_and(|c| !c.writes) || f.random_read_corrupt > 0;
    if f.drop_writes && f.error_writes {
        Some("drop_writes and error_writes exclude each other".into())
    } else if f.drop_writes && corrupts_writes {
        Some("drop_writes cannot be combined with corrupting writes".into())
    } else if f.error_writes && corrupts_writes {
        Some("error_writes cannot be combined with corrupting writes".into())
    } else if f.error_reads && corrupts_reads {
        Some("error_reads cannot be combined with corrupting reads".into())
    } else {
        None
    }
}
