//! Decoding one `[[steps]]` table into a typed step, gathering the facts
//! the cross-step checks need even when the step itself is broken.

use toml::de::DeTable;

use super::errors::Report;
use super::expect::decode_expect;
use super::fields::{At, Fields};
use super::pattern::PatternSpec;
use super::suggest::closest;
use super::template::TableTemplate;
use super::{IoTarget, ReadStep, STEP_KINDS, Step, StepKind, WriteStep};
use crate::units::SECTOR;

/// What the cross-step checks need from a step, known as far as its keys
/// could be read.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepFacts {
    pub line: usize,
    pub kind: Option<&'static str>,
    /// The disk, device or module the step names, with its line.
    pub subject: Option<At<String>>,
    pub table: Option<At<TableTemplate>>,
    pub disk_sectors: Option<u64>,
    pub expects_failure: bool,
}

const COMMON: &[&str] = &["run", "note", "expect"];

fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "build" => &["source"],
        "load" => &["module", "params"],
        "disk" => &["name", "size", "read_only", "direct_io"],
        "create" => &["name", "table"],
        "write" => &[
            "device",
            "bs",
            "seek",
            "count",
            "pattern",
            "direct",
            "random_order",
        ],
        "read" => &[
            "device",
            "bs",
            "skip",
            "count",
            "verify",
            "direct",
            "random_order",
            "stamp_shift",
        ],
        "message" => &["device", "sector", "text"],
        "reload" => &["device", "table"],
        "unload" => &["module"],
        "reload-module" => &["module", "source"],
        "detach" => &["disk"],
        _ => &["device"],
    }
}

pub(crate) fn decode_step(
    table: &DeTable<'_>,
    line: usize,
    report: &mut Report<'_>,
) -> (Option<Step>, StepFacts) {
    let mut facts = StepFacts {
        line,
        ..StepFacts::default()
    };
    let top = Fields::new(table, line, "step");
    let Some(run) = top.string(report, "run") else {
        return (None, facts);
    };
    let Some(kind) = STEP_KINDS.iter().copied().find(|k| *k == run.value) else {
        let hint = closest(&run.value, STEP_KINDS)
            .map(|k| format!("did you mean '{k}'? "))
            .unwrap_or_default();
        report.at_line(
            run.line,
            format!(
                "unknown step kind '{}'; {hint}valid kinds: {}",
                run.value,
                STEP_KINDS.join(", ")
            ),
        );
        return (None, facts);
    };
    facts.kind = Some(kind);
    let fields = Fields::new(table, line, format!("{kind} step"));
    let mut allowed: Vec<&str> = COMMON.to_vec();
    allowed.extend_from_slice(allowed_keys(kind));
    fields.reject_unknown(report, &allowed, |key| misplaced_key_hint(kind, key));

    let note = fields.opt_string(report, "note").map(|n| n.value);
    let expect = decode_expect(&fields, report);
    facts.expects_failure = expect.as_ref().is_some_and(|e| e.expects_failure());
    let step_kind = decode_kind(kind, &fields, report, &mut facts);
    let step = match (step_kind, expect) {
        (Some(kind), Some(expect)) => Some(Step {
            line,
            note,
            kind,
            expect,
        }),
        _ => None,
    };
    (step, facts)
}

/// Advice for a key that belongs to a sibling step kind.
fn misplaced_key_hint(kind: &str, key: &str) -> Option<String> {
    match (kind, key) {
        ("write", "skip") => Some("writes position with 'seek' (as dd's output side)".into()),
        ("read", "seek") => Some("reads position with 'skip' (as dd's input side)".into()),
        ("write", "verify") => Some("writes take 'pattern'; 'verify' is for reads".into()),
        ("read", "pattern") => Some("reads take 'verify'; 'pattern' is for writes".into()),
        ("create", "device") => Some("create names its new device with 'name'".into()),
        ("reload", "name") => Some("reload names the device with 'device'".into()),
        _ => None,
    }
}

fn decode_kind(
    kind: &'static str,
    fields: &Fields<'_, '_>,
    report: &mut Report<'_>,
    facts: &mut StepFacts,
) -> Option<StepKind> {
    let mut subject = |key: &str, report: &mut Report<'_>| {
        let value = fields.string(report, key);
        facts.subject = value.clone();
        value.map(|v| v.value)
    };
    match kind {
        "build" => {
            let source = fields.string(report, "source")?;
            Some(StepKind::Build {
                source: source.value.into(),
            })
        }
        "load" => {
            let module = subject("module", report);
            let params = fields.opt_string(report, "params").map(|p| p.value);
            Some(StepKind::Load {
                module: module?,
                params: params.unwrap_or_default(),
            })
        }
        "unload" => subject("module", report).map(|module| StepKind::Unload { module }),
        "reload-module" => {
            let module = subject("module", report);
            let source = fields.string(report, "source");
            Some(StepKind::ReloadModule {
                module: module?,
                source: source?.value.into(),
            })
        }
        "detach" => subject("disk", report).map(|disk| StepKind::Detach { disk }),
        "disk" => {
            let name = subject("name", report);
            let size = disk_size(fields, report);
            facts.disk_sectors = size.map(|bytes| bytes / SECTOR);
            let read_only = fields
                .opt_bool(report, "read_only")
                .is_some_and(|b| b.value);
            let direct_io = fields
                .opt_bool(report, "direct_io")
                .is_some_and(|b| b.value);
            Some(StepKind::Disk {
                name: name?,
                size_bytes: size?,
                read_only,
                direct_io,
            })
        }
        "create" | "reload" => {
            let name = subject(if kind == "create" { "name" } else { "device" }, report);
            let table = table(fields, report);
            facts.table = table.clone();
            let (name, table) = (name?, table?.value);
            Some(if kind == "create" {
                StepKind::Create { name, table }
            } else {
                StepKind::Reload {
                    device: name,
                    table,
                }
            })
        }
        "write" | "read" => probe(kind, fields, report, facts),
        "message" => {
            let device = subject("device", report);
            let sector = fields.opt_u64(report, "sector").map(|s| s.value);
            let text = fields.string(report, "text");
            Some(StepKind::Message {
                device: device?,
                sector,
                text: text?.value,
            })
        }
        _ => {
            let device = subject("device", report)?;
            Some(match kind {
                "status" => StepKind::Status { device },
                "table" => StepKind::Table { device },
                "info" => StepKind::Info { device },
                "suspend" => StepKind::Suspend { device },
                "resume" => StepKind::Resume { device },
                _ => StepKind::Remove { device },
            })
        }
    }
}

fn disk_size(fields: &Fields<'_, '_>, report: &mut Report<'_>) -> Option<u64> {
    if fields.offset("size").is_none() {
        fields.missing(report, "size", " (e.g. size = \"20000s\" or \"10MiB\")");
        return None;
    }
    let size = fields.opt_bytes(report, "size")?;
    if size.value % SECTOR != 0 {
        report.at_line(
            size.line,
            format!(
                "size {} bytes is not a whole number of 512-byte sectors",
                size.value
            ),
        );
        return None;
    }
    if size.value == 0 {
        report.at_line(size.line, "size must not be zero");
        return None;
    }
    Some(size.value)
}

fn table(fields: &Fields<'_, '_>, report: &mut Report<'_>) -> Option<At<TableTemplate>> {
    let text = fields.string(report, "table")?;
    match TableTemplate::parse(&text.value) {
        Ok(template) => Some(At {
            value: template,
            line: text.line,
        }),
        Err(problems) => {
            for problem in problems {
                report.at_line(text.line, problem);
            }
            None
        }
    }
}

fn probe(
    kind: &str,
    fields: &Fields<'_, '_>,
    report: &mut Report<'_>,
    facts: &mut StepFacts,
) -> Option<StepKind> {
    let device = fields.string(report, "device");
    facts.subject = device.clone();
    let direct = fields.opt_bool(report, "direct").is_some_and(|d| d.value);
    let random_order = fields
        .opt_bool(report, "random_order")
        .is_some_and(|r| r.value);
    let bs = block_size(fields, report, direct);
    let position_key = if kind == "write" { "seek" } else { "skip" };
    let position = fields.opt_u64(report, position_key).map_or(0, |p| p.value);
    let count = match fields.opt_u64(report, "count") {
        Some(At { value: 0, line }) => {
            report.at_line(
                line,
                "count must be at least 1 (leave it out to go to the end)",
            );
            return None;
        }
        other => other.map(|c| c.value),
    };
    let pattern_key = if kind == "write" { "pattern" } else { "verify" };
    let pattern = match fields.opt_string(report, pattern_key) {
        None => Ok(None),
        Some(text) => match PatternSpec::parse(&text.value) {
            Ok(PatternSpec::Random) if kind == "read" => {
                report.at_line(
                    text.line,
                    "verify = \"random\" cannot be checked: use stamp, zero or 0xNN",
                );
                Err(())
            }
            Ok(pattern) => Ok(Some(pattern)),
            Err(problem) => {
                report.at_line(text.line, format!("'{pattern_key}': {problem}"));
                Err(())
            }
        },
    };
    // Reading stamps through another path than they were written (the raw
    // disk under a target that moved them): how far they moved.
    let stamp_shift = if kind == "read" {
        fields
            .opt_bytes(report, "stamp_shift")
            .map_or(0, |s| s.value)
    } else {
        0
    };
    let (device, bs, pattern) = (device?.value, bs?, pattern.ok()?);
    let target = IoTarget::Device(device);
    Some(if kind == "write" {
        StepKind::Write(WriteStep {
            device: target,
            bs,
            seek: position,
            count,
            pattern: pattern.unwrap_or(PatternSpec::Stamp),
            direct,
            random_order,
        })
    } else {
        StepKind::Read(ReadStep {
            device: target,
            bs,
            skip: position,
            count,
            verify: pattern,
            direct,
            random_order,
            stamp_shift,
        })
    })
}

/// `bs`: bytes per block, 512 (dd's default) when absent.
fn block_size(fields: &Fields<'_, '_>, report: &mut Report<'_>, direct: bool) -> Option<u32> {
    let Some(bs) = fields.opt_bytes(report, "bs") else {
        return (fields.offset("bs").is_none()).then_some(512);
    };
    let Ok(bytes) = u32::try_from(bs.value) else {
        report.at_line(bs.line, format!("bs {} is larger than 4 GiB", bs.value));
        return None;
    };
    if bytes == 0 {
        report.at_line(bs.line, "bs must be at least 1 byte");
        return None;
    }
    if direct && u64::from(bytes) % SECTOR != 0 {
        report.at_line(
            bs.line,
            format!("with direct = true, bs must be a multiple of 512 bytes, not {bytes}"),
        );
        return None;
    }
    Some(bytes)
}
