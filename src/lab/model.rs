//! The lab file model: a TOML file (see the lab format contract) read into
//! typed, checked steps. Everything that can be wrong with a lab is found
//! here, before anything runs, and reported as `FILE:LINE: message`.
//!
//! Keys, per step (`run` names the kind; any step may have `note` and an
//! `[steps.expect]` table with `kmsg`, `output`, `ok`, `error`):
//!
//! | run | keys (optional in brackets) |
//! |---|---|
//! | build | source |
//! | load | module, [params] |
//! | disk | name, size, [read_only], [direct_io] |
//! | create | name, table |
//! | write | device, [bs = 512], [seek = 0], [count], [pattern = "stamp"], [direct = false], [random_order = false] |
//! | read | device, [bs = 512], [skip = 0], [count], [verify], [direct = false], [random_order = false] |
//! | status, table, info | device |
//! | message | device, [sector], text |
//! | suspend, resume, remove | device |
//! | reload | device, table |
//! | unload | module |
//! | reload-module | module, source |
//! | detach | disk |
//!
//! Beyond the contract: `params` (module parameters, as for insmod),
//! `read_only` and `direct_io` (loop device flags), `random_order` (probe
//! blocks in shuffled order); `bs` and `size` take a number of bytes or a
//! size string (`"4KiB"`); `count` left out means "to the end of the
//! device"; write/read `device` may also name a disk, probing its loop
//! device directly. `expect.error` is an errno name (`"EIO"`) when it is
//! one, otherwise a regex on the error text; it implies `ok = false`.

mod checks;
mod errors;
mod expect;
mod fields;
pub mod figures;
mod pattern;
mod steps;
mod suggest;
mod template;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

pub use errors::{LabError, LabErrors};
pub use expect::{ErrorMatch, Expect, errno_code};
pub use pattern::PatternSpec;
pub use template::{Placeholder, SubstituteError, TableTemplate, substitute_disks};

use errors::Report;
use fields::Fields;

/// Step kinds, as `run` names them.
pub const STEP_KINDS: &[&str] = &[
    "build",
    "load",
    "disk",
    "create",
    "write",
    "read",
    "status",
    "table",
    "info",
    "message",
    "suspend",
    "resume",
    "reload",
    "remove",
    "unload",
    "reload-module",
    "detach",
];

#[derive(Debug, Clone)]
pub struct Lab {
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Line of the step's `[[steps]]` header.
    pub line: usize,
    pub note: Option<String>,
    pub kind: StepKind,
    pub expect: Expect,
}

/// What a probe reads or writes: a DM device, or a disk's loop device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoTarget {
    Device(String),
    Disk(String),
}

impl IoTarget {
    pub fn name(&self) -> &str {
        match self {
            IoTarget::Device(name) | IoTarget::Disk(name) => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteStep {
    pub device: IoTarget,
    /// Bytes per block.
    pub bs: u32,
    /// First block, as dd's `seek`.
    pub seek: u64,
    /// Blocks; `None` goes to the end of the device.
    pub count: Option<u64>,
    pub pattern: PatternSpec,
    /// O_DIRECT.
    pub direct: bool,
    pub random_order: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadStep {
    pub device: IoTarget,
    pub bs: u32,
    /// First block, as dd's `skip`.
    pub skip: u64,
    pub count: Option<u64>,
    /// What the data must be; `None` reads without checking.
    pub verify: Option<PatternSpec>,
    pub direct: bool,
    pub random_order: bool,
    /// Bytes between where stamps were written and where they are read
    /// (e.g. a target's start offset when reading its backing disk).
    pub stamp_shift: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Build modules from a kmod source directory (relative to the
    /// project root).
    Build {
        source: PathBuf,
    },
    Load {
        module: String,
        params: String,
    },
    /// A sparse backing file on a loop device.
    Disk {
        name: String,
        size_bytes: u64,
        read_only: bool,
        direct_io: bool,
    },
    Create {
        name: String,
        table: TableTemplate,
    },
    Write(WriteStep),
    Read(ReadStep),
    Status {
        device: String,
    },
    Table {
        device: String,
    },
    Info {
        device: String,
    },
    Message {
        device: String,
        sector: Option<u64>,
        text: String,
    },
    Suspend {
        device: String,
    },
    Resume {
        device: String,
    },
    Reload {
        device: String,
        table: TableTemplate,
    },
    Remove {
        device: String,
    },
    Unload {
        module: String,
    },
    /// Rebuild a loaded module from `source` and swap it in under the
    /// devices that use it, keeping their names and data.
    ReloadModule {
        module: String,
        source: PathBuf,
    },
    Detach {
        disk: String,
    },
}

impl StepKind {
    /// The `run` word of this kind.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Build { .. } => "build",
            StepKind::Load { .. } => "load",
            StepKind::Disk { .. } => "disk",
            StepKind::Create { .. } => "create",
            StepKind::Write(_) => "write",
            StepKind::Read(_) => "read",
            StepKind::Status { .. } => "status",
            StepKind::Table { .. } => "table",
            StepKind::Info { .. } => "info",
            StepKind::Message { .. } => "message",
            StepKind::Suspend { .. } => "suspend",
            StepKind::Resume { .. } => "resume",
            StepKind::Reload { .. } => "reload",
            StepKind::Remove { .. } => "remove",
            StepKind::Unload { .. } => "unload",
            StepKind::ReloadModule { .. } => "reload-module",
            StepKind::Detach { .. } => "detach",
        }
    }
}

impl StepKind {
    /// One line naming the step, as progress lines and the Lab pane show it.
    pub fn label(&self) -> String {
        match self {
            StepKind::Build { source } => format!("build {}", source.display()),
            StepKind::Load { module, .. } => format!("load {module}"),
            StepKind::Disk {
                name, size_bytes, ..
            } => format!("disk {name} {}", crate::units::format_size(*size_bytes)),
            StepKind::Create { name, table } => {
                let n = table.table.segments.len();
                format!(
                    "create {name} ({n} segment{})",
                    if n == 1 { "" } else { "s" }
                )
            }
            StepKind::Write(w) => format!(
                "write {} bs={} seek={} count={}",
                w.device.name(),
                w.bs,
                w.seek,
                w.count.map_or("all".into(), |c| c.to_string())
            ),
            StepKind::Read(r) => format!(
                "read {} bs={} skip={} count={}",
                r.device.name(),
                r.bs,
                r.skip,
                r.count.map_or("all".into(), |c| c.to_string())
            ),
            StepKind::Message { device, text, .. } => format!("message {device} '{text}'"),
            StepKind::Unload { module } => format!("unload {module}"),
            StepKind::ReloadModule { module, source } => {
                format!("reload-module {module} from {}", source.display())
            }
            StepKind::Detach { disk } => format!("detach {disk}"),
            StepKind::Status { device }
            | StepKind::Table { device }
            | StepKind::Info { device }
            | StepKind::Suspend { device }
            | StepKind::Resume { device }
            | StepKind::Reload { device, .. }
            | StepKind::Remove { device } => format!("{} {device}", self.name()),
        }
    }
}

/// Reads and checks a lab file; `file` names it in messages.
pub fn load_lab(path: &Path) -> Result<Lab, LabErrors> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_lab(&file, &text),
        Err(e) => Err(LabErrors(vec![LabError {
            file,
            line: 0,
            message: format!("cannot read the lab file: {e}"),
        }])),
    }
}

/// Parses and checks lab text; `file` names it in messages.
pub fn parse_lab(file: &str, text: &str) -> Result<Lab, LabErrors> {
    let mut report = Report::new(file, text);
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(e) => {
            let offset = e.span().map_or(0, |span| span.start);
            report.at_offset(offset, e.message().to_string());
            return Err(report.finish());
        }
    };
    let top = Fields::new(document.get_ref(), 1, "the lab");
    top.reject_unknown(&mut report, &["title", "summary", "steps"], |_| None);
    let title = top.string(&mut report, "title").map(|t| t.value);
    let summary = top
        .opt_string(&mut report, "summary")
        .map(|s| s.value)
        .unwrap_or_default();

    let mut decoded = Vec::new();
    match document
        .get_ref()
        .get("steps")
        .map(|v| (v.span(), v.get_ref()))
    {
        None => top.missing(&mut report, "steps", " ([[steps]] tables)"),
        Some((span, DeValue::Array(items))) => {
            if items.is_empty() {
                report.at_offset(span.start, "the lab has no steps");
            }
            for item in items.iter() {
                let line = report.line_of(item.span().start);
                match item.get_ref() {
                    DeValue::Table(table) => {
                        decoded.push(steps::decode_step(table, line, &mut report));
                    }
                    other => report.at_line(
                        line,
                        format!("a step must be a table, not a {}", other.type_str()),
                    ),
                }
            }
        }
        Some((span, other)) => report.at_offset(
            span.start,
            format!(
                "'steps' must be an array of [[steps]] tables, not a {}",
                other.type_str()
            ),
        ),
    }
    checks::check_steps(&mut decoded, &mut report);

    if !report.is_empty() {
        return Err(report.finish());
    }
    let steps: Option<Vec<Step>> = decoded.into_iter().map(|(step, _)| step).collect();
    match (title, steps) {
        (Some(title), Some(steps)) => Ok(Lab {
            title,
            summary,
            steps,
        }),
        // Every path that leaves a step undecoded reports why; this only
        // guards against a silent failure.
        _ => {
            report.at_line(1, "the lab could not be read");
            Err(report.finish())
        }
    }
}
