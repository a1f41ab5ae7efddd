//! The Probes pane's model: the write/read form (dd's bs/count/seek/skip,
//! pattern, O_DIRECT, verify), the probe in flight with its progress, and
//! the recent results for the sparkline.

use std::collections::VecDeque;

use crate::exec::protocol::{ProbeOp, ProbeResult};
use crate::lab::model::PatternSpec;
use crate::session::{BioJourney, Device, Disk, ProbeRequest, ProbeTarget};

use crate::tui::action::Ticket;
use crate::tui::prompt::{Field, Form, FormKind};

/// Results kept for the history and sparkline.
const HISTORY: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRecord {
    pub label: String,
    pub request: ProbeRequest,
    pub result: ProbeResult,
    /// Each bio's journey (small probes of a DM device in the VM).
    pub bios: Vec<BioJourney>,
    pub bios_total: usize,
    /// Why statistics or journeys are missing.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningProbe {
    pub ticket: Ticket,
    pub label: String,
    pub done: u64,
    pub total: u64,
    pub cancelling: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Probes {
    pub running: Option<RunningProbe>,
    pub history: VecDeque<ProbeRecord>,
    /// The last form submitted per operation, to prefill the next one.
    last_write: Option<Vec<Field>>,
    last_read: Option<Vec<Field>>,
    /// The last probe failed to start (bad target, I/O error text).
    pub error: Option<String>,
}

impl Probes {
    pub fn latest(&self) -> Option<&ProbeRecord> {
        self.history.back()
    }

    pub fn record(&mut self, record: ProbeRecord) {
        self.history.push_back(record);
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }

    /// MiB/s of recent probes, oldest first, for the sparkline.
    pub fn throughput(&self) -> Vec<u64> {
        self.history
            .iter()
            .map(|r| r.result.mib_per_s.max(0.0).round() as u64)
            .collect()
    }

    /// A probe submitted under `ticket`: shown as running, the last
    /// start error gone.
    pub fn started(&mut self, ticket: Ticket, label: String) {
        self.error = None;
        self.running = Some(RunningProbe {
            ticket,
            label,
            done: 0,
            total: 0,
            cancelling: false,
        });
    }

    pub fn progress(&mut self, done: u64, total: u64) {
        if let Some(running) = &mut self.running {
            running.done = done;
            running.total = total;
        }
    }

    /// The write or read form, prefilled from the last one of its kind.
    pub fn form(&self, op: ProbeOp, disks: &[Disk], devices: &[Device]) -> Form {
        let targets: Vec<String> = devices
            .iter()
            .map(|d| d.name.clone())
            .chain(disks.iter().map(|d| d.name.clone()))
            .collect();
        let first = targets.first().cloned().unwrap_or_default();
        let target = Field::new("target", first)
            .options(targets)
            .help("a DM device or disk of this session (Left/Right)");
        let bs = Field::new("bs", "512").help("bytes per block, e.g. 512 or 4KiB");
        let count = Field::new("count", "1").help("blocks; 'all' runs to the end of the target");
        let direct = Field::new("direct", "yes")
            .options(vec!["yes".into(), "no".into()])
            .help("O_DIRECT: bypass the page cache so each block reaches the target");
        let mut fields = match op {
            ProbeOp::Write => vec![
                target,
                bs,
                count,
                Field::new("seek", "0").help("first block, as dd's seek"),
                Field::new("pattern", "stamp")
                    .options(vec![
                        "stamp".into(),
                        "zero".into(),
                        "random".into(),
                        "0xa5".into(),
                    ])
                    .help("stamp: offset + checksum per block; zero; random; a byte 0xNN"),
                direct,
            ],
            ProbeOp::Read => vec![
                target,
                bs,
                count,
                Field::new("skip", "0").help("first block, as dd's skip"),
                Field::new("verify", "stamp")
                    .options(vec![
                        "stamp".into(),
                        "zero".into(),
                        "none".into(),
                        "0xa5".into(),
                    ])
                    .help("what the data must be: stamp, zero, a byte 0xNN, or none"),
                direct,
            ],
        };
        let last = match op {
            ProbeOp::Write => &self.last_write,
            ProbeOp::Read => &self.last_read,
        };
        if let Some(last) = last {
            for field in fields.iter_mut().skip(1) {
                if let Some(old) = last.iter().find(|f| f.label == field.label) {
                    field.value = old.value.clone();
                }
            }
            // Keep the last target when it still exists.
            if let (Some(old), Some(target)) = (last.first(), fields.first_mut())
                && target.options.contains(&old.value)
            {
                target.value = old.value.clone();
            }
        }
        let title = match op {
            ProbeOp::Write => "Write probe",
            ProbeOp::Read => "Read probe",
        };
        Form::new(FormKind::Probe(op), title, fields)
    }

    pub fn remember(&mut self, form: &Form) {
        let fields = Some(form.fields.clone());
        match form.kind {
            FormKind::Probe(ProbeOp::Write) => self.last_write = fields,
            FormKind::Probe(ProbeOp::Read) => self.last_read = fields,
            _ => {}
        }
    }
}

/// Reads a probe form into a request, setting errors on the fields at
/// fault. The seed makes `random` data differ from probe to probe.
pub fn parse_form(
    form: &mut Form,
    disks: &[Disk],
    devices: &[Device],
    seed: u64,
) -> Option<(ProbeRequest, String)> {
    form.clear_errors();
    let FormKind::Probe(op) = form.kind else {
        return None;
    };
    let name = form.value("target").to_string();
    let (target, size_bytes) = if let Some(d) = devices.iter().find(|d| d.name == name) {
        (ProbeTarget::Device(name.clone()), d.sectors() * 512)
    } else if let Some(d) = disks.iter().find(|d| d.name == name) {
        (ProbeTarget::Disk(name.clone()), d.size_bytes)
    } else {
        form.set_error("target", "not a DM device or disk of this session");
        return None;
    };
    let bs = match crate::units::parse_size(form.value("bs")) {
        Ok(bs) if bs <= u32::MAX as u64 => bs as u32,
        Ok(_) => {
            form.set_error("bs", "too large");
            return None;
        }
        Err(e) => {
            form.set_error("bs", e.to_string());
            return None;
        }
    };
    let direct = match form.value("direct") {
        "yes" | "y" | "true" | "on" => true,
        "no" | "n" | "false" | "off" => false,
        _ => {
            form.set_error("direct", "yes or no");
            return None;
        }
    };
    if direct && !bs.is_multiple_of(512) {
        form.set_error("bs", "O_DIRECT needs a multiple of 512 bytes");
    }
    let offset_label = match op {
        ProbeOp::Write => "seek",
        ProbeOp::Read => "skip",
    };
    let offset: u64 = match form.value(offset_label).parse() {
        Ok(n) => n,
        Err(_) => {
            form.set_error(offset_label, "a number of blocks");
            return None;
        }
    };
    let blocks = size_bytes / u64::from(bs.max(1));
    let count = match form.value("count") {
        "all" | "" => blocks.saturating_sub(offset),
        text => match text.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                form.set_error("count", "a positive number of blocks, or 'all'");
                return None;
            }
        },
    };
    if count == 0 || offset.saturating_add(count) > blocks {
        form.set_error(
            "count",
            format!(
                "{name} holds {blocks} blocks of {bs} B: blocks {offset}..{} are past its end",
                offset.saturating_add(count)
            ),
        );
    }
    let pattern = match op {
        ProbeOp::Write => match PatternSpec::parse(form.value("pattern")) {
            Ok(p) => Some(p.to_protocol(seed)),
            Err(e) => {
                form.set_error("pattern", e);
                None
            }
        },
        ProbeOp::Read => match form.value("verify") {
            "none" | "" => None,
            text => match PatternSpec::parse(text) {
                Ok(PatternSpec::Random) => {
                    form.set_error("verify", "random data cannot be verified");
                    None
                }
                Ok(p) => Some(p.to_protocol(seed)),
                Err(e) => {
                    form.set_error("verify", e);
                    None
                }
            },
        },
    };
    if form.has_errors() {
        form.focus_first_error();
        return None;
    }
    let request = ProbeRequest {
        target,
        op,
        bs,
        count,
        offset_blocks: offset,
        pattern,
        direct,
        random_order: false,
        stamp_shift: 0,
    };
    let label = label(&request, &name, form);
    Some((request, label))
}

fn label(request: &ProbeRequest, name: &str, form: &Form) -> String {
    let (op, offset, data) = match request.op {
        ProbeOp::Write => ("write", "seek", form.value("pattern")),
        ProbeOp::Read => ("read", "skip", form.value("verify")),
    };
    format!(
        "{op} {name} bs={} {offset}={} count={} {data}{}",
        request.bs,
        request.offset_blocks,
        request.count,
        if request.direct { " direct" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn disk() -> Disk {
        Disk {
            name: "disk1".into(),
            size_bytes: 20000 * 512,
            backing: PathBuf::from("/tmp/disk1.img"),
            device: PathBuf::from("/dev/loop0"),
            major: 7,
            minor: 0,
        }
    }

    #[test]
    fn a_default_write_form_gives_a_one_block_stamp_probe() {
        let probes = Probes::default();
        let mut form = probes.form(ProbeOp::Write, &[disk()], &[]);
        let (request, label) = parse_form(&mut form, &[disk()], &[], 1).expect("valid");
        assert_eq!(request.target, ProbeTarget::Disk("disk1".into()));
        assert_eq!(
            (request.bs, request.count, request.offset_blocks),
            (512, 1, 0)
        );
        assert!(request.direct);
        assert_eq!(label, "write disk1 bs=512 seek=0 count=1 stamp direct");
    }

    #[test]
    fn past_the_end_is_refused_on_the_count_field() {
        let probes = Probes::default();
        let mut form = probes.form(ProbeOp::Read, &[disk()], &[]);
        if let Some(f) = form.field_mut("skip") {
            f.value = "19999".into();
        }
        if let Some(f) = form.field_mut("count") {
            f.value = "2".into();
        }
        assert!(parse_form(&mut form, &[disk()], &[], 1).is_none());
        let error = form.field_mut("count").and_then(|f| f.error.clone());
        assert!(error.is_some_and(|e| e.contains("20000 blocks")));
    }

    #[test]
    fn count_all_runs_to_the_end() {
        let probes = Probes::default();
        let mut form = probes.form(ProbeOp::Read, &[disk()], &[]);
        if let Some(f) = form.field_mut("count") {
            f.value = "all".into();
        }
        if let Some(f) = form.field_mut("bs") {
            f.value = "4KiB".into();
        }
        let (request, _) = parse_form(&mut form, &[disk()], &[], 1).expect("valid");
        assert_eq!(request.count, 20000 * 512 / 4096);
    }
}
