//! dm-snap.c: `snapshot <origin> <cow> <P|PO|N> <chunk_size>
//! [<#features> <features>...]` and `snapshot-origin <origin>`.

use super::{ArgReader, Outcome, TargetArgs, feature_group};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// `P`: exceptions survive reboots.
    Persistent,
    /// `PO`: persistent, and userspace handles overflow.
    PersistentOverflow,
    /// `N`: exceptions live in memory only.
    Transient,
}

impl Persistence {
    /// The word the kernel prints back.
    pub fn word(self) -> &'static str {
        match self {
            Persistence::Persistent => "P",
            Persistence::PersistentOverflow => "PO",
            Persistence::Transient => "N",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub origin: String,
    pub cow: String,
    pub persistence: Persistence,
    /// Sectors per chunk; 0 asks a persistent store to read it from the COW.
    pub chunk_size: u32,
    pub discard_zeroes_cow: bool,
    pub discard_passdown_origin: bool,
}

/// `INT_MAX >> SECTOR_SHIFT` in dm-exception-store.c.
const MAX_CHUNK: u32 = (i32::MAX >> 9) as u32;

pub(super) fn decode(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();
    let origin = reader.whole_device("origin", length);
    let cow = reader.whole_device("cow", 0);
    let persistence =
        reader
            .word("persistence")
            .and_then(|word| match word.text.to_ascii_uppercase().as_str() {
                "P" => Some(Persistence::Persistent),
                "PO" => Some(Persistence::PersistentOverflow),
                "N" => Some(Persistence::Transient),
                _ => {
                    reader.error(
                    word,
                    "persistence",
                    format!(
                        "'{}' is not P (persistent), PO (persistent, overflow) or N (transient)",
                        word.text
                    ),
                );
                    None
                }
            });
    let chunk_size = reader
        .u32("chunk_size", "a chunk size in sectors")
        .and_then(|(word, chunk)| {
            let problem = if chunk == 0 {
                (persistence == Some(Persistence::Transient)).then(|| {
                    "0 (read from the COW device) only works for persistent snapshots".to_string()
                })
            } else if !chunk.is_power_of_two() {
                Some(format!("{chunk} is not a power of two"))
            } else if chunk > MAX_CHUNK {
                Some(format!("{chunk} is larger than {MAX_CHUNK} sectors"))
            } else {
                None
            };
            match problem {
                Some(message) => {
                    reader.error(word, "chunk_size", message);
                    None
                }
                None => Some(chunk),
            }
        });

    let (mut zeroes, mut passdown) = (false, false);
    if let Some(words) = feature_group(&mut reader, "features", 2) {
        for word in &words {
            match word.text.to_ascii_lowercase().as_str() {
                "discard_zeroes_cow" => zeroes = true,
                "discard_passdown_origin" => passdown = true,
                _ => reader.error(
                    *word,
                    "features",
                    format!(
                        "'{}' is not a snapshot feature: use discard_zeroes_cow or \
                         discard_passdown_origin",
                        word.text
                    ),
                ),
            }
        }
        if let (true, Some(word)) = (passdown && !zeroes, words.first()) {
            reader.error(
                *word,
                "features",
                "discard_passdown_origin requires discard_zeroes_cow",
            );
        }
    }

    let value = match (origin, cow, persistence, chunk_size) {
        (Some(origin), Some(cow), Some(persistence), Some(chunk_size)) => Some(Snapshot {
            origin,
            cow,
            persistence,
            chunk_size,
            discard_zeroes_cow: zeroes,
            discard_passdown_origin: passdown,
        }),
        _ => None,
    };
    reader.finish(value.map(TargetArgs::Snapshot))
}

/// `origin_ctr`: exactly one device, used from sector 0 for the length.
pub(super) fn origin(mut reader: ArgReader<'_>) -> Outcome {
    let length = reader.length();
    let origin = reader.whole_device("origin", length);
    reader.finish(origin.map(|origin| TargetArgs::SnapshotOrigin { origin }))
}
