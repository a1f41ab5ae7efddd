//! dm-crypt.c `crypt_ctr`: `<cipher> <key> <iv_offset> <device> <offset>
//! [<#options> <options>...]`.
//!
//! The cipher is only checked for presence: the kernel's crypto API decides
//! what exists. Keys are checked for form (hex, `-`, or a keyring
//! reference), options by name and value range.

use super::DeviceOffset;
use super::{ArgReader, OffsetShift, Outcome, TargetArgs, Word, feature_group};
use crate::table::numbers::parse_u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypt {
    pub cipher: String,
    /// As written: hex, `-` for none, or `:<size>:<type>:<description>`.
    pub key: String,
    pub iv_offset: u64,
    pub backing: DeviceOffset,
    /// Option words as written (matched case-insensitively, as the kernel
    /// does).
    pub options: Vec<String>,
}

/// MAX_TAG_SIZE in dm-crypt.c.
const MAX_TAG_SIZE: u32 = 480;
const FLAG_OPTIONS: &[&str] = &[
    "allow_discards",
    "same_cpu_crypt",
    "high_priority",
    "submit_from_crypt_cpus",
    "no_read_workqueue",
    "no_write_workqueue",
    "iv_large_sectors",
];
const KEY_TYPES: &[&str] = &["logon", "user", "encrypted", "trusted"];

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();
    let cipher = reader.word("cipher").map(|w| w.text.to_string());
    let key = reader
        .word("key")
        .and_then(|word| match key_problem(word.text) {
            Some(problem) => {
                reader.error(word, "key", problem);
                None
            }
            None => Some(word.text.to_string()),
        });
    let iv_offset = reader.sector("iv_offset");
    let backing = reader.device_offset("device", "offset", length, 1);
    let options = options(&mut reader, length);

    let sector_sectors = options
        .as_ref()
        .map_or(1, |(_, sector_size)| u64::from(*sector_size) / 512);
    if let Some((word, iv)) = iv_offset {
        reader.facts.shifts.push(OffsetShift {
            index: word.index,
            divisor: 1,
        });
        if !iv.is_multiple_of(sector_sectors) {
            reader.error(
                word,
                "iv_offset",
                format!(
                    "{iv} is not a multiple of the sector_size option ({sector_sectors} sectors)"
                ),
            );
        }
    }
    reader.facts.split_alignment = sector_sectors;

    let value = match (cipher, key, iv_offset, backing, options) {
        (Some(cipher), Some(key), Some((_, iv_offset)), Some(backing), Some((options, _))) => {
            Some(Crypt {
                cipher,
                key,
                iv_offset,
                backing,
                options,
            })
        }
        _ => None,
    };
    reader.finish(value.map(TargetArgs::Crypt))
}

fn key_problem(key: &str) -> Option<String> {
    if key == "-" {
        return None;
    }
    if let Some(rest) = key.strip_prefix(':') {
        // :<size>:<type>:<description>, as get_key_size and crypt_set_keyring_key read it.
        let mut parts = rest.splitn(3, ':');
        let (size, kind, description) = (parts.next(), parts.next(), parts.next());
        return match (size.map(parse_u32), kind, description) {
            (Some(Ok(_)), Some(kind), Some(description))
                if KEY_TYPES.contains(&kind) && !description.is_empty() =>
            {
                None
            }
            (Some(Ok(_)), Some(kind), Some(_)) if !KEY_TYPES.contains(&kind) => Some(format!(
                "keyring key type '{kind}' is not one of {}",
                KEY_TYPES.join(", ")
            )),
            _ => Some(
                "a keyring key reads :<size>:<logon|user|encrypted|trusted>:<description>"
                    .to_string(),
            ),
        };
    }
    if !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(
            "is not hexadecimal (use - for no key, or a :size:type:desc reference)".into(),
        );
    }
    if !key.len().is_multiple_of(2) {
        return Some(format!("has {} hex digits, an odd number", key.len()));
    }
    None
}

/// Reads the option group; returns the option words and the sector size
/// in bytes they select (512 unless `sector_size:` says otherwise).
fn options(reader: &mut ArgReader<'_>, length: u64) -> Option<(Vec<String>, u32)> {
    if reader.remaining() == 0 {
        return Some((Vec::new(), 512));
    }
    let words = feature_group(reader, "options", 9)?;
    let mut sector_size = 512;
    let mut ok = true;
    for word in &words {
        if let Some(problem) = option_problem(word, length, &mut sector_size) {
            ok = false;
            reader.error(*word, "options", problem);
        }
    }
    ok.then(|| {
        (
            words.iter().map(|w| w.text.to_string()).collect(),
            sector_size,
        )
    })
}

fn option_problem(word: &Word<'_>, length: u64, sector_size: &mut u32) -> Option<String> {
    let lower = word.text.to_ascii_lowercase();
    if FLAG_OPTIONS.contains(&lower.as_str()) {
        return None;
    }
    if let Some(rest) = lower.strip_prefix("integrity:") {
        let (bytes, profile) = rest.split_once(':').unwrap_or((rest, ""));
        return match parse_u32(bytes) {
            Ok(n) if (1..=MAX_TAG_SIZE).contains(&n) && matches!(profile, "aead" | "none") => None,
            Ok(n) if (1..=MAX_TAG_SIZE).contains(&n) => {
                Some(format!("integrity profile '{profile}' is not aead or none"))
            }
            _ => Some(format!(
                "integrity:<bytes>:<aead|none> needs 1 to {MAX_TAG_SIZE} bytes"
            )),
        };
    }
    if let Some(rest) = lower.strip_prefix("integrity_key_size:") {
        return match parse_u32(rest) {
            Ok(n) if n > 0 => None,
            _ => Some("integrity_key_size:<bytes> needs a positive number".into()),
        };
    }
    if let Some(rest) = lower.strip_prefix("sector_size:") {
        return match parse_u32(rest) {
            Ok(n) if (512..=4096).contains(&n) && n.is_power_of_two() => {
                if !length.is_multiple_of(u64::from(n) / 512) {
                    Some(format!(
                        "the length of {length} sectors is not a multiple of sector_size {n}"
                    ))
                } else {
                    *sector_size = n;
                    None
                }
            }
            _ => Some("sector_size:<bytes> needs a power of two from 512 to 4096".into()),
        };
    }
    Some(format!(
        "'{}' is not a crypt option: use {}, integrity:<bytes>:<aead|none>, \
         integrity_key_size:<bytes> or sector_size:<bytes>",
        word.text,
        FLAG_OPTIONS.join(", ")
    ))
}
