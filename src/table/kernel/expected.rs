//! The words the kernel is expected to print for a loaded row (see the
//! rules in the parent module).

use std::collections::HashMap;
use std::fmt;

use crate::table::args::{
    Crypt, DeviceOffset, Flakey, Mirror, MirrorLog, RegionSync, Snapshot, TargetArgs,
};
use crate::table::model::{DevT, Segment};
use crate::table::numbers::parse_u64;

/// One predicted word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Word {
    Exact(String),
    /// A number, compared by value.
    Number(u64),
    /// Any number (a value the kernel decides, e.g. a snapshot chunk size
    /// read from the COW device).
    AnyNumber,
}

impl Word {
    pub fn matches(&self, got: &str) -> bool {
        match self {
            Word::Exact(want) => want == got,
            Word::Number(want) => parse_u64(got) == Ok(*want),
            Word::AnyNumber => parse_u64(got).is_ok(),
        }
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Word::Exact(word) => write!(f, "{word}"),
            Word::Number(n) => write!(f, "{n}"),
            Word::AnyNumber => write!(f, "<number>"),
        }
    }
}

type Form = Vec<Word>;

struct Builder<'a> {
    devices: &'a HashMap<String, DevT>,
    form: Form,
}

impl Builder<'_> {
    fn word(&mut self, word: impl Into<String>) -> &mut Self {
        self.form.push(Word::Exact(word.into()));
        self
    }

    fn number(&mut self, n: impl Into<u64>) -> &mut Self {
        self.form.push(Word::Number(n.into()));
        self
    }

    fn device(&mut self, reference: &str) -> Result<&mut Self, String> {
        let devt = device_number(reference, self.devices)?;
        self.form.push(Word::Exact(devt.to_string()));
        Ok(self)
    }

    fn device_offset(&mut self, backing: &DeviceOffset) -> Result<&mut Self, String> {
        self.device(&backing.device)?;
        Ok(self.number(backing.offset))
    }

    fn features(&mut self, names: &[String]) -> &mut Self {
        if !names.is_empty() {
            self.number(names.len() as u64);
            for name in names {
                self.word(name.clone());
            }
        }
        self
    }
}

fn device_number(reference: &str, devices: &HashMap<String, DevT>) -> Result<DevT, String> {
    if let Some(devt) = devices.get(reference) {
        return Ok(*devt);
    }
    reference.parse::<DevT>().map_err(|_| {
        format!(
            "no major:minor is known for '{reference}', so the kernel's table cannot be checked"
        )
    })
}

/// All acceptable forms, most likely first.
pub(super) fn expected_forms(
    segment: &Segment,
    devices: &HashMap<String, DevT>,
) -> Result<Vec<Form>, String> {
    let mut b = Builder {
        devices,
        form: Vec::new(),
    };
    let Ok(decoded) = segment.decode() else {
        return generic(segment, devices);
    };
    match &decoded.args {
        TargetArgs::Linear(backing) => {
            b.device_offset(backing)?;
        }
        TargetArgs::BasicTarget(backing) => {
            b.device_offset(backing)?;
            return Ok(vec![b.form, Vec::new()]);
        }
        TargetArgs::Zero | TargetArgs::Error(_) => {}
        TargetArgs::Striped(striped) => {
            b.number(striped.stripes.len() as u64)
                .number(striped.chunk_size);
            for leg in &striped.stripes {
                b.device_offset(leg)?;
            }
        }
        TargetArgs::Delay(delay) => {
            for class in &delay.classes {
                b.device_offset(&class.backing)?.number(class.delay_ms);
            }
        }
        TargetArgs::Flakey(flakey) => flakey_form(&mut b, flakey)?,
        TargetArgs::Dust(dust) => {
            b.device_offset(&dust.backing)?.number(dust.block_size);
        }
        TargetArgs::SnapshotOrigin { origin } => {
            b.device(origin)?;
        }
        TargetArgs::Snapshot(snapshot) => snapshot_form(&mut b, snapshot)?,
        TargetArgs::Mirror(mirror) => mirror_form(&mut b, mirror)?,
        TargetArgs::Crypt(crypt) => crypt_form(&mut b, crypt)?,
        TargetArgs::Other => return generic(segment, devices),
    }
    Ok(vec![b.form])
}

/// Unknown targets: words as loaded, device references mapped, numbers by
/// value; or nothing, for a target without a status function.
fn generic(segment: &Segment, devices: &HashMap<String, DevT>) -> Result<Vec<Form>, String> {
    let form = segment
        .args
        .iter()
        .map(|arg| {
            if let Some(devt) = devices.get(arg) {
                Word::Exact(devt.to_string())
            } else if let Ok(n) = parse_u64(arg) {
                Word::Number(n)
            } else if let Ok(devt) = arg.parse::<DevT>() {
                Word::Exact(devt.to_string())
            } else {
                Word::Exact(arg.clone())
            }
        })
        .collect();
    Ok(vec![form, Vec::new()])
}

/// `flakey_status`, STATUSTYPE_TABLE.
fn flakey_form(b: &mut Builder<'_>, flakey: &Flakey) -> Result<(), String> {
    b.device_offset(&flakey.backing)?
        .number(flakey.up_interval)
        .number(flakey.down_interval);
    let f = flakey.features.effective();
    let mut words: Vec<String> = Vec::new();
    if f.error_reads {
        words.push("error_reads".into());
    }
    if f.drop_writes {
        words.push("drop_writes".into());
    } else if f.error_writes {
        words.push("error_writes".into());
    }
    if let Some(c) = f.corrupt_bio_byte {
        words.push("corrupt_bio_byte".into());
        words.push(c.nth_byte.to_string());
        words.push(if c.writes { "w" } else { "r" }.into());
        words.push(c.value.to_string());
        words.push(c.flags.to_string());
    }
    if f.random_read_corrupt > 0 {
        words.push("random_read_corrupt".into());
        words.push(f.random_read_corrupt.to_string());
    }
    if f.random_write_corrupt > 0 {
        words.push("random_write_corrupt".into());
        words.push(f.random_write_corrupt.to_string());
    }
    // The kernel always prints the count, even with no features.
    b.number(words.len() as u64);
    for word in words {
        b.word(word);
    }
    Ok(())
}

/// `snapshot_status` with the store's status (`P`/`PO`/`N` and chunk).
fn snapshot_form(b: &mut Builder<'_>, snapshot: &Snapshot) -> Result<(), String> {
    b.device(&snapshot.origin)?.device(&snapshot.cow)?;
    b.word(snapshot.persistence.word());
    if snapshot.chunk_size == 0 {
        b.form.push(Word::AnyNumber);
    } else {
        b.number(snapshot.chunk_size);
    }
    let mut features = Vec::new();
    if snapshot.discard_zeroes_cow {
        features.push("discard_zeroes_cow".to_string());
    }
    if snapshot.discard_passdown_origin {
        features.push("discard_passdown_origin".to_string());
    }
    b.features(&features);
    Ok(())
}

/// `mirror_status` with the core or disk log's `core_status`/`disk_status`.
fn mirror_form(b: &mut Builder<'_>, mirror: &Mirror) -> Result<(), String> {
    let sync_word = match mirror.sync {
        RegionSync::Default => None,
        RegionSync::Sync => Some("sync"),
        RegionSync::NoSync => Some("nosync"),
    };
    let extra = u64::from(sync_word.is_some());
    match &mirror.log {
        MirrorLog::Core => {
            b.word("core").number(1 + extra);
        }
        MirrorLog::Disk { device } => {
            b.word("disk").number(2 + extra).device(device)?;
        }
    }
    b.number(mirror.region_size);
    if let Some(word) = sync_word {
        b.word(word);
    }
    b.number(mirror.legs.len() as u64);
    for leg in &mirror.legs {
        b.device_offset(leg)?;
    }
    let mut features = Vec::new();
    if mirror.handle_errors {
        features.push("handle_errors".to_string());
    }
    if mirror.keep_log {
        features.push("keep_log".to_string());
    }
    b.features(&features);
    Ok(())
}

/// `crypt_status`, STATUSTYPE_TABLE.
fn crypt_form(b: &mut Builder<'_>, crypt: &Crypt) -> Result<(), String> {
    b.word(crypt.cipher.clone());
    if crypt.key.starts_with(':') || crypt.key == "-" {
        b.word(crypt.key.clone());
    } else if crypt.key.is_empty() {
        b.word("-");
    } else {
        b.word(crypt.key.to_ascii_lowercase());
    }
    b.number(crypt.iv_offset).device_offset(&crypt.backing)?;
    b.features(&crypt_options(&crypt.options));
    Ok(())
}

/// The kernel's order of crypt options, by the prefix that identifies each
/// (the catalog lists them in that order).
const CRYPT_ORDER: &[&str] = crate::table::catalog::CRYPT_OPTIONS;

fn crypt_options(options: &[String]) -> Vec<String> {
    let mut slots: Vec<Option<String>> = vec![None; CRYPT_ORDER.len()];
    for option in options {
        let lower = option.to_ascii_lowercase();
        let Some(rank) = CRYPT_ORDER.iter().position(|name| {
            if name.ends_with(':') {
                lower.starts_with(name)
            } else {
                lower == *name
            }
        }) else {
            continue;
        };
        let printed = match CRYPT_ORDER[rank] {
            // The profile keeps the case it was given (kstrdup of the input).
            "integrity:" => {
                let mut parts = option.splitn(3, ':');
                let (_, size, profile) = (parts.next(), parts.next(), parts.next());
                let size = size.map(crate::table::numbers::canonical_number);
                format!(
                    "integrity:{}:{}",
                    size.unwrap_or_default(),
                    profile.unwrap_or("")
                )
            }
            "sector_size:" | "integrity_key_size:" => {
                let (name, value) = lower.split_once(':').unwrap_or((&lower, ""));
                if name == "sector_size" && parse_u64(value) == Ok(512) {
                    continue;
                }
                format!("{name}:{}", crate::table::numbers::canonical_number(value))
            }
            _ => lower,
        };
        slots[rank] = Some(printed);
    }
    slots.into_iter().flatten().collect()
}
