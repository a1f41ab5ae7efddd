//! What dmbench knows about target types, for forms, pickers and help:
//! a one-line description, the arguments in order, an example and a colour
//! name per target. Argument names here are the names error messages use.

/// What an argument holds, so a form can offer the right input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A block device: a path such as `/dev/loop0` or `major:minor`.
    Device,
    /// A position on a device, in 512-byte sectors.
    Sector,
    /// A size in 512-byte sectors.
    Sectors,
    /// A size in bytes.
    Bytes,
    /// A plain count.
    Count,
    Milliseconds,
    Seconds,
    /// One word out of a fixed set.
    Choice(&'static [&'static str]),
    /// A count of feature words followed by the words themselves; the
    /// slice lists the feature names.
    Features(&'static [&'static str]),
    /// Free text (cipher specs, keys, arguments of unknown targets).
    Text,
}

/// Whether an argument must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Consecutive `Repeated` arguments form a group that repeats, e.g.
    /// striped's `<device> <offset>` per stripe.
    Repeated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    pub presence: Presence,
    pub help: &'static str,
}

/// How a segment of this target can be split in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitRule {
    /// Both halves keep the arguments unchanged (zero, error without device).
    Trivial,
    /// The second half's device offsets move by the split distance.
    ShiftOffsets,
    /// Cannot be split; the reason says why.
    Refuse(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// The argument syntax in the kernel documentation's notation.
    pub usage: &'static str,
    pub args: &'static [ArgSpec],
    /// Example arguments (without start, length and target name); `{disk}`
    /// stands for a device.
    pub example: &'static str,
    /// A colour name the UI can parse (ratatui `Color::from_str` accepts
    /// these), stable per target.
    pub colour: &'static str,
    pub split: SplitRule,
    /// Shipped with the kernel, as opposed to a module built in the lab.
    pub stock: bool,
}

const fn req(name: &'static str, kind: ArgKind, help: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        presence: Presence::Required,
        help,
    }
}

const fn opt(name: &'static str, kind: ArgKind, help: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        presence: Presence::Optional,
        help,
    }
}

const fn rep(name: &'static str, kind: ArgKind, help: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        presence: Presence::Repeated,
        help,
    }
}

pub const FLAKEY_FEATURES: &[&str] = &[
    "error_reads",
    "drop_writes",
    "error_writes",
    "corrupt_bio_byte",
    "random_read_corrupt",
    "random_write_corrupt",
];

/// dm-crypt's optional parameters, in the order the kernel prints them
/// (`compare_with_kernel` relies on that order).
pub const CRYPT_OPTIONS: &[&str] = &[
    "allow_discards",
    "same_cpu_crypt",
    "high_priority",
    "submit_from_crypt_cpus",
    "no_read_workqueue",
    "no_write_workqueue",
    "integrity:",
    "sector_size:",
    "iv_large_sectors",
    "integrity_key_size:",
];

pub const MIRROR_FEATURES: &[&str] = &["handle_errors", "keep_log"];

pub const SNAPSHOT_FEATURES: &[&str] = &["discard_zeroes_cow", "discard_passdown_origin"];

const DEVICE_HELP: &str = "backing device: a path such as /dev/loop0, or major:minor";
const OFFSET_HELP: &str = "first sector used on the device";

pub const CATALOG: &[TargetSpec] = &[
    TargetSpec {
        name: "linear",
        description: "Maps the range straight onto a range of another device.",
        usage: "<device> <offset>",
        args: &[
            req("device", ArgKind::Device, DEVICE_HELP),
            req("offset", ArgKind::Sector, OFFSET_HELP),
        ],
        example: "{disk} 0",
        colour: "blue",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "striped",
        description: "RAID-0: spreads chunks round-robin over several devices.",
        usage: "<#stripes> <chunk_size> [<device> <offset>]+",
        args: &[
            req(
                "stripes",
                ArgKind::Count,
                "number of devices (the kernel accepts 1)",
            ),
            req(
                "chunk_size",
                ArgKind::Sectors,
                "sectors per chunk; a power of two of at least 8 performs best",
            ),
            rep("device", ArgKind::Device, DEVICE_HELP),
            rep("offset", ArgKind::Sector, OFFSET_HELP),
        ],
        example: "2 8 {disk1} 0 {disk2} 0",
        colour: "magenta",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "mirror",
        description: "RAID-1: writes every block to all legs, reads from one.",
        usage: "<log_type> <#log_args> <log_args>... <#mirrors> [<device> <offset>]+ \
                [<#features> <features>...]",
        args: &[
            req(
                "log_type",
                ArgKind::Choice(&["core", "disk"]),
                "where the dirty-region log lives",
            ),
            req(
                "log_arg_count",
                ArgKind::Count,
                "core: 1 or 2 (region_size [sync|nosync]); disk: 2 or 3 (log device first)",
            ),
            opt(
                "log_device",
                ArgKind::Device,
                "disk log only: the log device",
            ),
            req(
                "region_size",
                ArgKind::Sectors,
                "sectors per region: a power of two, at least 2, at most the length",
            ),
            opt(
                "sync",
                ArgKind::Choice(&["sync", "nosync"]),
                "sync: resynchronise everything; nosync: assume in sync",
            ),
            req("mirrors", ArgKind::Count, "number of legs, 2 to 9"),
            rep("device", ArgKind::Device, DEVICE_HELP),
            rep("offset", ArgKind::Sector, OFFSET_HELP),
            opt(
                "features",
                ArgKind::Features(MIRROR_FEATURES),
                "<#features> handle_errors [keep_log]",
            ),
        ],
        example: "core 1 1024 2 {disk1} 0 {disk2} 0",
        colour: "cyan",
        split: SplitRule::Refuse("a mirror keeps one region log for the whole segment"),
        stock: true,
    },
    TargetSpec {
        name: "zero",
        description: "Reads return zeroes; writes are discarded.",
        usage: "",
        args: &[],
        example: "",
        colour: "gray",
        split: SplitRule::Trivial,
        stock: true,
    },
    TargetSpec {
        name: "error",
        description: "Fails every I/O; optionally names a device for its limits.",
        usage: "[<device> <offset>]",
        args: &[
            opt("device", ArgKind::Device, DEVICE_HELP),
            opt("offset", ArgKind::Sector, OFFSET_HELP),
        ],
        example: "",
        colour: "red",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "crypt",
        description: "Transparent encryption of the underlying device.",
        usage: "<cipher> <key> <iv_offset> <device> <offset> [<#options> <options>...]",
        args: &[
            req("cipher", ArgKind::Text, "e.g. aes-xts-plain64 or capi:..."),
            req(
                "key",
                ArgKind::Text,
                "hex key, :<size>:<logon|user|encrypted|trusted>:<description>, or -",
            ),
            req(
                "iv_offset",
                ArgKind::Sector,
                "added to the sector number for the IV",
            ),
            req("device", ArgKind::Device, DEVICE_HELP),
            req("offset", ArgKind::Sector, OFFSET_HELP),
            opt(
                "options",
                ArgKind::Features(CRYPT_OPTIONS),
                "<#options> allow_discards sector_size:<bytes> ...",
            ),
        ],
        example: "aes-xts-plain64 \
                  0000000000000000000000000000000000000000000000000000000000000000 0 {disk} 0",
        colour: "yellow",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "snapshot",
        description: "A writable point-in-time copy of an origin, changes kept on a COW device.",
        usage: "<origin> <cow> <P|PO|N> <chunk_size> [<#features> <features>...]",
        args: &[
            req("origin", ArgKind::Device, "the device being snapshotted"),
            req("cow", ArgKind::Device, "device that stores changed chunks"),
            req(
                "persistence",
                ArgKind::Choice(&["P", "PO", "N"]),
                "P persistent, PO persistent with overflow, N transient",
            ),
            req(
                "chunk_size",
                ArgKind::Sectors,
                "sectors per chunk, a power of two (0: read it from a persistent COW)",
            ),
            opt(
                "features",
                ArgKind::Features(SNAPSHOT_FEATURES),
                "<#features> discard_zeroes_cow [discard_passdown_origin]",
            ),
        ],
        example: "{origin} {cow} P 8",
        colour: "green",
        split: SplitRule::Refuse("a snapshot maps its whole origin through one exception store"),
        stock: true,
    },
    TargetSpec {
        name: "snapshot-origin",
        description: "The origin of snapshots: writes copy old chunks out first.",
        usage: "<origin>",
        args: &[req(
            "origin",
            ArgKind::Device,
            "the device being snapshotted",
        )],
        example: "{origin}",
        colour: "light_green",
        split: SplitRule::Refuse("snapshot-origin always maps its origin from sector 0"),
        stock: true,
    },
    TargetSpec {
        name: "delay",
        description: "Like linear, but delays reads, writes and flushes.",
        usage: "<device> <offset> <delay_ms> [<write_device> <write_offset> <write_delay_ms> \
                [<flush_device> <flush_offset> <flush_delay_ms>]]",
        args: &[
            req("device", ArgKind::Device, DEVICE_HELP),
            req("offset", ArgKind::Sector, OFFSET_HELP),
            req(
                "delay_ms",
                ArgKind::Milliseconds,
                "delay for reads (and all I/O if alone)",
            ),
            opt(
                "write_device",
                ArgKind::Device,
                "device for writes and flushes",
            ),
            opt("write_offset", ArgKind::Sector, OFFSET_HELP),
            opt("write_delay_ms", ArgKind::Milliseconds, "delay for writes"),
            opt("flush_device", ArgKind::Device, "device for flushes"),
            opt("flush_offset", ArgKind::Sector, OFFSET_HELP),
            opt("flush_delay_ms", ArgKind::Milliseconds, "delay for flushes"),
        ],
        example: "{disk} 0 100",
        colour: "light_blue",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "flakey",
        description: "Like linear, but fails or corrupts I/O during down intervals.",
        usage: "<device> <offset> <up_interval> <down_interval> [<#features> <features>...]",
        args: &[
            req("device", ArgKind::Device, DEVICE_HELP),
            req("offset", ArgKind::Sector, OFFSET_HELP),
            req(
                "up_interval",
                ArgKind::Seconds,
                "seconds of normal behaviour",
            ),
            req("down_interval", ArgKind::Seconds, "seconds of failure"),
            opt(
                "features",
                ArgKind::Features(FLAKEY_FEATURES),
                "<#feature words> error_reads drop_writes ...; none: all I/O fails",
            ),
        ],
        example: "{disk} 0 5 5",
        colour: "light_red",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "dust",
        description: "Like linear, but emulates bad blocks added by message.",
        usage: "<device> <offset> <block_size>",
        args: &[
            req("device", ArgKind::Device, DEVICE_HELP),
            req("offset", ArgKind::Sector, OFFSET_HELP),
            req(
                "block_size",
                ArgKind::Bytes,
                "bytes per block: a power of two, at least 512",
            ),
        ],
        example: "{disk} 0 512",
        colour: "light_yellow",
        split: SplitRule::ShiftOffsets,
        stock: true,
    },
    TargetSpec {
        name: "basic_target",
        description: "The lab's own target: passes I/O through to one device and logs it.",
        usage: "<device> <start_sector>",
        args: &[
            req("device", ArgKind::Device, DEVICE_HELP),
            req("start_sector", ArgKind::Sector, OFFSET_HELP),
        ],
        example: "{disk} 0",
        colour: "light_magenta",
        split: SplitRule::ShiftOffsets,
        stock: false,
    },
];

/// Colours for targets the catalog does not know, picked by name so that a
/// custom target keeps its colour from run to run.
const OTHER_COLOURS: &[&str] = &["light_cyan", "white", "dark_gray", "light_blue"];

pub fn lookup(target: &str) -> Option<&'static TargetSpec> {
    CATALOG.iter().find(|spec| spec.name == target)
}

/// The colour name for any target, known or not.
pub fn colour_for(target: &str) -> &'static str {
    if let Some(spec) = lookup(target) {
        return spec.colour;
    }
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let hash = target.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    OTHER_COLOURS[(hash % OTHER_COLOURS.len() as u64) as usize]
}

/// How a segment of `target` may be split; unknown targets refuse because
/// dmbench cannot tell which of their arguments are offsets.
pub fn split_rule(target: &str) -> SplitRule {
    lookup(target).map_or(
        SplitRule::Refuse("dmbench does not know which arguments of this target are offsets"),
        |spec| spec.split,
    )
}
