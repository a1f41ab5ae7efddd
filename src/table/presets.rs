//! Fault presets: named, documented table lines for the fault-injection
//! targets (flakey, dust, delay), each with a form whose values are
//! checked against the limits of the kernel's constructor or message
//! handler (drivers/md/dm-flakey.c, dm-dust.c, dm-delay.c), so a value
//! the kernel would refuse is refused here, naming the limit.

/// What a form field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetKind {
    /// A whole number within `min..=max`.
    Number { min: u64, max: u64 },
    /// One word of a fixed set.
    Choice(&'static [&'static str]),
    /// Comma-separated whole numbers (dust's bad blocks).
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetField {
    pub name: &'static str,
    pub kind: PresetKind,
    pub default: &'static str,
    pub help: &'static str,
}

/// Where the faulty segment maps to, and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backing {
    pub device: String,
    pub offset: u64,
    /// The segment's length in sectors.
    pub length: u64,
}

/// A preset filled in: the target and its arguments, and the messages to
/// send once the device exists (dust's bad blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetLine {
    pub target: &'static str,
    pub args: String,
    pub messages: Vec<String>,
}

/// A value the form refuses: which field and why (the limit named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetError {
    pub field: &'static str,
    pub message: String,
}

pub struct Preset {
    /// Shown in the picker.
    pub name: &'static str,
    /// Stable identifier, e.g. `drop-writes`.
    pub key: &'static str,
    pub target: &'static str,
    /// What it does and what a probe will show.
    pub help: &'static str,
    pub fields: &'static [PresetField],
    build: fn(&Values<'_>, &Backing) -> Result<PresetLine, Vec<PresetError>>,
}

const U32_MAX: u64 = u32::MAX as u64;

const UP: PresetField = PresetField {
    name: "up_interval",
    kind: PresetKind::Number {
        min: 0,
        max: U32_MAX,
    },
    default: "0",
    help: "seconds of normal behaviour at the start of each cycle (0: faulty from the start)",
};

const DOWN: PresetField = PresetField {
    name: "down_interval",
    kind: PresetKind::Number {
        min: 0,
        max: U32_MAX,
    },
    default: "3600",
    help: "seconds of faulty behaviour after each up interval",
};

const FLAKY_UP: PresetField = PresetField { default: "5", ..UP };

const FLAKY_DOWN: PresetField = PresetField {
    default: "5",
    ..DOWN
};

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "flaky disk",
        key: "flaky-disk",
        target: "flakey",
        help: "Works normally for up_interval seconds, then fails every read and write \
               with EIO for down_interval seconds, over and over, counted from the \
               table load. A probe in a down interval stops at its first block with \
               EIO; one in an up interval passes, and data written then verifies.",
        fields: &[FLAKY_UP, FLAKY_DOWN],
        build: |v, b| {
            let (up, down) = intervals(v)?;
            Ok(flakey(b, up, down, &[]))
        },
    },
    Preset {
        name: "drop writes",
        key: "drop-writes",
        target: "flakey",
        help: "During down intervals writes are acknowledged but never reach the \
               disk; reads pass through. A write probe succeeds, yet reading the \
               blocks back with verify = \"stamp\" finds zeros (or older data) \
               where the stamps should be: the lost write is only caught by \
               reading it back.",
        fields: &[UP, DOWN],
        build: |v, b| {
            let (up, down) = intervals(v)?;
            Ok(flakey(b, up, down, &["drop_writes"]))
        },
    },
    Preset {
        name: "error writes",
        key: "error-writes",
        target: "flakey",
        help: "During down intervals every write fails with EIO; reads pass through. \
               A write probe stops at its first block with EIO (expect.error = \"EIO\"); \
               what was there before still reads back.",
        fields: &[UP, DOWN],
        build: |v, b| {
            let (up, down) = intervals(v)?;
            Ok(flakey(b, up, down, &["error_writes"]))
        },
    },
    Preset {
        name: "corrupt byte N",
        key: "corrupt-byte",
        target: "flakey",
        help: "During down intervals byte nth_byte (counting from 1) of the data of \
               every matching bio is overwritten with value: on writes before the \
               data reaches the disk, on reads after it comes back. A bio shorter \
               than nth_byte is left alone. A stamp verify reports a bad checksum \
               at that byte of the first block of each bio.",
        fields: &[
            UP,
            DOWN,
            PresetField {
                name: "nth_byte",
                kind: PresetKind::Number {
                    min: 1,
                    max: U32_MAX,
                },
                default: "100",
                help: "which byte of the bio's data, from 1 (past 40, a stamp's header)",
            },
            PresetField {
                name: "direction",
                kind: PresetKind::Choice(&["w", "r"]),
                default: "w",
                help: "w: corrupt writes, r: corrupt reads",
            },
            PresetField {
                name: "value",
                kind: PresetKind::Number { min: 0, max: 255 },
                default: "255",
                help: "the byte written there",
            },
            PresetField {
                name: "flags",
                kind: PresetKind::Number {
                    min: 0,
                    max: U32_MAX,
                },
                default: "0",
                help: "only bios with all these bi_opf flags (0: every bio)",
            },
        ],
        build: |v, b| {
            let (up, down) = intervals(v)?;
            let nth = v.number("nth_byte")?;
            let direction = v.text("direction");
            let value = v.number("value")?;
            let flags = v.number("flags")?;
            let feature = format!("corrupt_bio_byte {nth} {direction} {value} {flags}");
            Ok(flakey(b, up, down, &[&feature]))
        },
    },
    Preset {
        name: "bad blocks",
        key: "bad-blocks",
        target: "dust",
        help: "Like linear, but reads of the listed blocks fail with EIO (sent as \
               addbadblock messages, then enable). A write to a bad block clears it, \
               as a drive remaps a sector. A read probe stops with EIO at the first \
               bad block's byte offset (block x block_size); the blocks beside it \
               read fine.",
        fields: &[
            PresetField {
                name: "block_size",
                kind: PresetKind::Number {
                    min: 512,
                    max: 1 << 30,
                },
                default: "512",
                help: "bytes per block: a power of two from 512, at most the segment",
            },
            PresetField {
                name: "bad_blocks",
                kind: PresetKind::List,
                default: "20",
                help: "block numbers, comma-separated, each below length / block size",
            },
        ],
        build: |v, b| {
            let block_size = v.number("block_size")?;
            let block_sectors = block_size / 512;
            if !block_size.is_power_of_two() {
                return Err(v.fail(
                    "block_size",
                    format!("{block_size} is not a power of two, as dm-dust requires"),
                ));
            }
            // DUST_MAX_BLKSZ_SECTORS, and the segment must hold one block.
            let limit = b.length.min(2_097_152);
            if block_sectors > limit {
                return Err(v.fail(
                    "block_size",
                    format!(
                        "{block_size} bytes is {block_sectors} sectors, more than {limit} \
                         (the segment's length, at most 2097152): dm-dust refuses it"
                    ),
                ));
            }
            let blocks = b.length / block_sectors;
            let mut messages = Vec::new();
            for block in v.list("bad_blocks")? {
                if block >= blocks {
                    return Err(v.fail(
                        "bad_blocks",
                        format!(
                            "block {block} is out of range: the segment has {blocks} blocks \
                             of {block_size} bytes (0..={}); dm-dust refuses it",
                            blocks.saturating_sub(1)
                        ),
                    ));
                }
                messages.push(format!("addbadblock {block}"));
            }
            messages.push("enable".into());
            Ok(PresetLine {
                target: "dust",
                args: format!("{} {} {block_size}", b.device, b.offset),
                messages,
            })
        },
    },
    Preset {
        name: "slow disk",
        key: "slow-disk",
        target: "delay",
        help: "Like linear, but every read is held read_delay_ms and every write \
               write_delay_ms before it goes to the disk. A probe's latency (min and \
               p50) is the delay or more, and the segment's DM statistics histogram \
               counts its I/Os in the delay's bucket. dm-delay counts in kernel ticks \
               (4 ms in the lab kernel): a bio is released on the tick its delay \
               ends, so it may wait up to one tick less.",
        fields: &[
            PresetField {
                name: "read_delay_ms",
                kind: PresetKind::Number {
                    min: 0,
                    max: U32_MAX,
                },
                default: "100",
                help: "milliseconds each read waits",
            },
            PresetField {
                name: "write_delay_ms",
                kind: PresetKind::Number {
                    min: 0,
                    max: U32_MAX,
                },
                default: "100",
                help: "milliseconds each write (and flush) waits",
            },
        ],
        build: |v, b| {
            let read = v.number("read_delay_ms")?;
            let write = v.number("write_delay_ms")?;
            let (d, o) = (&b.device, b.offset);
            let args = if read == write {
                format!("{d} {o} {read}")
            } else {
                format!("{d} {o} {read} {d} {o} {write}")
            };
            Ok(PresetLine {
                target: "delay",
                args,
                messages: Vec::new(),
            })
        },
    },
];

pub fn lookup(key: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.key == key)
}

impl Preset {
    /// The defaults, as a form starts.
    pub fn defaults(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.default.to_string()).collect()
    }

    /// Checks `values` (one per field, in order) and builds the line. Every
    /// value the kernel would refuse is reported with its limit.
    pub fn build(
        &self,
        values: &[String],
        backing: &Backing,
    ) -> Result<PresetLine, Vec<PresetError>> {
        let values = Values {
            fields: self.fields,
            values,
        };
        let errors = values.check();
        if !errors.is_empty() {
            return Err(errors);
        }
        (self.build)(&values, backing)
    }
}

/// A form's values with the checks every field gets.
struct Values<'a> {
    fields: &'static [PresetField],
    values: &'a [String],
}

impl Values<'_> {
    fn raw(&self, name: &str) -> &str {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .and_then(|i| self.values.get(i))
            .map_or("", |v| v.trim())
    }

    fn text(&self, name: &str) -> String {
        self.raw(name).to_ascii_lowercase()
    }

    fn fail(&self, field: &'static str, message: String) -> Vec<PresetError> {
        vec![PresetError { field, message }]
    }

    fn number(&self, name: &'static str) -> Result<u64, Vec<PresetError>> {
        self.raw(name)
            .parse()
            .map_err(|_| self.fail(name, format!("'{}' is not a whole number", self.raw(name))))
    }

    fn list(&self, name: &'static str) -> Result<Vec<u64>, Vec<PresetError>> {
        let raw = self.raw(name);
        if raw.is_empty() {
            return Err(self.fail(name, "name at least one block".into()));
        }
        raw.split(',')
            .map(|w| {
                w.trim()
                    .parse()
                    .map_err(|_| self.fail(name, format!("'{}' is not a block number", w.trim())))
            })
            .collect()
    }

    /// Per-field checks: numbers within the kernel's range, choices.
    fn check(&self) -> Vec<PresetError> {
        let mut errors = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let raw = self.values.get(i).map_or("", |v| v.trim());
            let problem = match field.kind {
                PresetKind::Number { min, max } => match raw.parse::<u64>() {
                    Err(_) => Some(format!("'{raw}' is not a whole number")),
                    Ok(n) if n < min => Some(format!("{n} is less than {min}, the least allowed")),
                    Ok(n) if n > max => Some(format!(
                        "{n} is more than {max}{}",
                        if max == U32_MAX {
                            ", the kernel's limit (32 bits)"
                        } else {
                            ", the kernel's limit"
                        }
                    )),
                    Ok(_) => None,
                },
                PresetKind::Choice(words) => (!words.contains(&raw.to_ascii_lowercase().as_str()))
                    .then(|| format!("'{raw}' is not one of {}", words.join(", "))),
                PresetKind::List => None,
            };
            if let Some(message) = problem {
                errors.push(PresetError {
                    field: field.name,
                    message,
                });
            }
        }
        errors
    }
}

/// dm-flakey's interval rules: the cycle must not be empty or overflow.
fn intervals(v: &Values<'_>) -> Result<(u64, u64), Vec<PresetError>> {
    let up = v.number("up_interval")?;
    let down = v.number("down_interval")?;
    if up + down == 0 {
        return Err(v.fail(
            "down_interval",
            "up and down are both 0: dm-flakey refuses an empty cycle \
             (\"Total (up + down) interval is zero\")"
                .into(),
        ));
    }
    if up + down > U32_MAX {
        return Err(v.fail(
            "down_interval",
            format!(
                "up + down = {} is more than {U32_MAX}: dm-flakey refuses it (\"Interval overflow\")",
                up + down
            ),
        ));
    }
    Ok((up, down))
}

fn flakey(b: &Backing, up: u64, down: u64, features: &[&str]) -> PresetLine {
    let mut args = format!("{} {} {up} {down}", b.device, b.offset);
    if !features.is_empty() {
        // The feature count counts words, parameters included.
        let words: usize = features.iter().map(|f| f.split_whitespace().count()).sum();
        args.push_str(&format!(" {words} {}", features.join(" ")));
    }
    PresetLine {
        target: "flakey",
        args,
        messages: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Segment;

    fn backing() -> Backing {
        Backing {
            device: "/dev/loop0".into(),
            offset: 0,
            length: 2000,
        }
    }

    fn build(key: &str, values: &[&str]) -> Result<PresetLine, Vec<PresetError>> {
        let preset = lookup(key).expect("preset");
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        preset.build(&values, &backing())
    }

    #[test]
    fn every_preset_builds_a_line_the_table_rules_accept() {
        for preset in PRESETS {
            let line = preset
                .build(&preset.defaults(), &backing())
                .unwrap_or_else(|e| panic!("{}: {e:?}", preset.key));
            assert_eq!(line.target, preset.target);
            let words = line.args.split_whitespace().map(str::to_string).collect();
            let segment = Segment::new(0, 2000, line.target, words);
            assert!(
                segment.decode().is_ok(),
                "{}: {} {:?}",
                preset.key,
                line.args,
                segment.decode().err()
            );
            assert!(preset.help.len() > 80, "{} explains itself", preset.key);
            assert!(preset.fields.iter().all(|f| !f.help.is_empty()));
        }
    }

    #[test]
    fn the_lines_are_the_kernels_syntax() {
        assert_eq!(
            build("flaky-disk", &["5", "5"]).expect("ok").args,
            "/dev/loop0 0 5 5"
        );
        assert_eq!(
            build("drop-writes", &["0", "60"]).expect("ok").args,
            "/dev/loop0 0 0 60 1 drop_writes"
        );
        assert_eq!(
            build("error-writes", &["0", "60"]).expect("ok").args,
            "/dev/loop0 0 0 60 1 error_writes"
        );
        assert_eq!(
            build("corrupt-byte", &["0", "60", "32", "W", "255", "0"])
                .expect("ok")
                .args,
            "/dev/loop0 0 0 60 5 corrupt_bio_byte 32 w 255 0"
        );
        let dust = build("bad-blocks", &["4096", "3, 7"]).expect("ok");
        assert_eq!(dust.args, "/dev/loop0 0 4096");
        assert_eq!(dust.messages, ["addbadblock 3", "addbadblock 7", "enable"]);
        assert_eq!(
            build("slow-disk", &["100", "100"]).expect("ok").args,
            "/dev/loop0 0 100"
        );
        assert_eq!(
            build("slow-disk", &["10", "200"]).expect("ok").args,
            "/dev/loop0 0 10 /dev/loop0 0 200"
        );
    }

    fn refusal(key: &str, values: &[&str]) -> PresetError {
        let errors = build(key, values).expect_err("refused");
        errors.into_iter().next().expect("one error")
    }

    #[test]
    fn values_the_kernel_refuses_are_refused_naming_the_limit() {
        let e = refusal("flaky-disk", &["0", "0"]);
        assert!(e.message.contains("interval is zero"), "{e:?}");
        let e = refusal("flaky-disk", &["4294967295", "1"]);
        assert!(e.message.contains("Interval overflow"), "{e:?}");
        let e = refusal("flaky-disk", &["4294967296", "1"]);
        assert_eq!(e.field, "up_interval");
        assert!(e.message.contains("32 bits"), "{e:?}");
        let e = refusal("corrupt-byte", &["0", "1", "0", "w", "1", "0"]);
        assert_eq!(e.field, "nth_byte");
        assert!(e.message.contains("less than 1"), "{e:?}");
        let e = refusal("corrupt-byte", &["0", "1", "1", "x", "1", "0"]);
        assert_eq!(e.field, "direction");
        let e = refusal("corrupt-byte", &["0", "1", "1", "r", "256", "0"]);
        assert!(e.message.contains("more than 255"), "{e:?}");
        let e = refusal("bad-blocks", &["1000", "1"]);
        assert!(e.message.contains("power of two"), "{e:?}");
        let e = refusal("bad-blocks", &["256", "1"]);
        assert!(e.message.contains("less than 512"), "{e:?}");
        let e = refusal("bad-blocks", &["2097152", "1"]);
        assert!(e.message.contains("more than 2000"), "{e:?}");
        let e = refusal("bad-blocks", &["4096", "250"]);
        assert!(e.message.contains("has 250 blocks"), "{e:?}");
        let e = refusal("bad-blocks", &["4096", ""]);
        assert_eq!(e.field, "bad_blocks");
        let e = refusal("slow-disk", &["-1", "5"]);
        assert!(e.message.contains("not a whole number"), "{e:?}");
    }
}
