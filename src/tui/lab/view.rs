//! The Lab pane's model: a lab's steps with live check marks.
//!
//! Check marks come two ways. Guided: the user works with the other panes
//! and the current step is ticked off as soon as the session shows it done
//! (the disk exists, the probe ran and the kernel logged what the step
//! expects). Driven: `n` runs the current step through the step engine on
//! the worker, which judges it exactly as the headless mode does; this
//! pane only shows the record that comes back.

use std::path::PathBuf;

use crate::exec::protocol::ProbeOp;
use crate::lab::engine::{Outcome, StepRecord};
use crate::lab::model::{Lab, Step, StepKind};
use crate::session::{Device, Disk, Module};

use super::readme::Readme;
use crate::tui::action::Ticket;

/// What the TUI is given to show as a lab.
pub enum LabInput {
    /// A lab file, read and checked before the UI starts.
    Path(PathBuf),
    Parsed(Lab),
    /// Only titles: shown as a checklist the user ticks by running it.
    Steps {
        title: String,
        steps: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Pending,
    Running,
    Passed,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct LabStep {
    pub label: String,
    pub note: Option<String>,
    pub step: Option<Step>,
    pub state: StepState,
    /// Output of the step when it was run from here.
    pub output: Option<String>,
    /// The engine's record when it was run from here.
    pub record: Option<StepRecord>,
}

#[derive(Debug, Clone)]
struct Running {
    index: usize,
    ticket: Ticket,
}

/// What the session looks like, for guided check marks.
pub struct Observed<'a> {
    pub disks: &'a [Disk],
    pub devices: &'a [Device],
    pub modules: &'a [Module],
    /// kmod sources built successfully in this session.
    pub built: &'a [PathBuf],
}

#[derive(Debug, Clone)]
pub struct LabView {
    pub title: String,
    pub summary: String,
    /// The README beside the lab file, when there is one.
    pub readme: Option<Readme>,
    pub steps: Vec<LabStep>,
    pub selected: usize,
    running: Option<Running>,
    /// Whether a kernel line since the current step became current
    /// matched its `expect.kmsg`. Checked line by line on arrival, so a
    /// flood costs one regex match per line, not a rescan.
    kmsg_hit: bool,
    /// Probes since the current step became current: (target, op, ok).
    probes: Vec<(String, ProbeOp, bool)>,
}

impl LabView {
    pub fn from_lab(lab: &Lab) -> LabView {
        LabView::new(
            lab.title.clone(),
            lab.summary.clone(),
            lab.steps
                .iter()
                .map(|step| LabStep {
                    label: step.kind.label(),
                    note: step.note.clone(),
                    step: Some(step.clone()),
                    state: StepState::Pending,
                    output: None,
                    record: None,
                })
                .collect(),
        )
    }

    pub fn from_titles(title: String, steps: Vec<String>) -> LabView {
        LabView::new(
            title,
            String::new(),
            steps
                .into_iter()
                .map(|label| LabStep {
                    label,
                    note: None,
                    step: None,
                    state: StepState::Pending,
                    output: None,
                    record: None,
                })
                .collect(),
        )
    }

    fn new(title: String, summary: String, steps: Vec<LabStep>) -> LabView {
        LabView {
            title,
            summary,
            readme: None,
            steps,
            selected: 0,
            running: None,
            kmsg_hit: false,
            probes: Vec::new(),
        }
    }

    /// Shows the lab's README as its instructions.
    pub fn with_readme(mut self, readme: Option<Readme>) -> LabView {
        self.readme = readme;
        self
    }

    /// What the pane says under the title: the README's first paragraph,
    /// else the lab's own summary.
    pub fn summary_text(&self) -> &str {
        match &self.readme {
            Some(readme) if !readme.summary.is_empty() => &readme.summary,
            _ => &self.summary,
        }
    }

    /// The first step not passed yet, unless one has failed (a failed step
    /// stops the lab as it does a headless run, until it is retried).
    pub fn current(&self) -> Option<usize> {
        let index = self
            .steps
            .iter()
            .position(|s| s.state != StepState::Passed)?;
        Some(index)
    }

    pub fn passed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.state == StepState::Passed)
            .count()
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Marks the current step as run by `ticket`; returns the step.
    pub fn start(&mut self, ticket: Ticket) -> Option<usize> {
        let index = self.current()?;
        if self.running.is_some() {
            return None;
        }
        let step = self.steps.get_mut(index)?;
        step.state = StepState::Running;
        step.output = None;
        self.running = Some(Running { index, ticket });
        self.selected = index;
        Some(index)
    }

    pub fn kernel_line(&mut self, text: &str) {
        if self.kmsg_hit {
            return;
        }
        let regex = self
            .current()
            .and_then(|i| self.steps.get(i))
            .and_then(|s| s.step.as_ref())
            .and_then(|s| s.expect.kmsg.as_ref());
        if regex.is_some_and(|r| r.is_match(text)) {
            self.kmsg_hit = true;
        }
    }

    pub fn probe_seen(&mut self, target: &str, op: ProbeOp, ok: bool) {
        self.probes.push((target.to_string(), op, ok));
    }

    /// The engine's verdict on the step `ticket` ran.
    pub fn record(&mut self, ticket: Ticket, record: StepRecord) {
        let Some(running) = self.running.clone() else {
            return;
        };
        if running.ticket != ticket {
            return;
        }
        let outcome = match (&record.outcome, &record.error) {
            (Outcome::Passed, _) => Ok(()),
            (_, Some(reason)) => Err(reason.clone()),
            (_, None) => Err("the step did not run".to_string()),
        };
        if let Some(step) = self.steps.get_mut(running.index) {
            let mut output = record.output.join("\n");
            if let Some(refusal) = &record.refusal {
                output = refusal.clone();
            }
            step.output = Some(output);
            step.record = Some(record);
        }
        self.settle(running.index, outcome);
    }

    /// The command of a running step ended without a record (the worker
    /// refused it); the step failed with that reason.
    pub fn finished_without_record(&mut self, ticket: Ticket, error: &str) {
        if let Some(running) = self.running.clone()
            && running.ticket == ticket
        {
            self.settle(running.index, Err(error.to_string()));
        }
    }

    fn kmsg_missing(&self, index: usize) -> bool {
        let Some(step) = self.steps.get(index).and_then(|s| s.step.as_ref()) else {
            return false;
        };
        step.expect.kmsg.is_some() && !self.kmsg_hit
    }

    fn settle(&mut self, index: usize, outcome: Result<(), String>) {
        self.running = None;
        if let Some(step) = self.steps.get_mut(index) {
            step.state = match outcome {
                Ok(()) => StepState::Passed,
                Err(reason) => StepState::Failed(reason),
            };
        }
        if self
            .steps
            .get(index)
            .is_some_and(|s| s.state == StepState::Passed)
        {
            self.next_step();
        }
    }

    fn next_step(&mut self) {
        self.kmsg_hit = false;
        self.probes.clear();
        if let Some(current) = self.current() {
            self.selected = current;
        }
    }

    /// Ticks off current steps the session shows done (guided mode).
    pub fn observe(&mut self, observed: &Observed<'_>) {
        while self.running.is_none() {
            let Some(index) = self.current() else {
                return;
            };
            let Some(step) = self.steps.get(index) else {
                return;
            };
            if step.state != StepState::Pending {
                return;
            }
            let Some(lab_step) = &step.step else {
                return;
            };
            if !self.done_by_user(lab_step, observed) || self.kmsg_missing(index) {
                return;
            }
            self.settle(index, Ok(()));
        }
    }

    /// Whether the session state shows this step done. Steps that must
    /// fail or whose output must match can only be checked by running
    /// them (`n`).
    fn done_by_user(&self, step: &Step, o: &Observed<'_>) -> bool {
        if step.expect.expects_failure() || step.expect.output.is_some() {
            return false;
        }
        let device = |name: &str| o.devices.iter().find(|d| d.name == name);
        match &step.kind {
            StepKind::Build { source } => o.built.iter().any(|b| b.ends_with(source)),
            StepKind::Load { module, .. } => {
                o.modules.iter().any(|m| m.name == *module && m.loaded)
            }
            StepKind::Disk { name, .. } => o.disks.iter().any(|d| d.name == *name),
            StepKind::Create { name, .. } => device(name).is_some(),
            StepKind::Write(w) => self.probed(w.device.name(), ProbeOp::Write),
            StepKind::Read(r) => self.probed(r.device.name(), ProbeOp::Read),
            StepKind::Suspend { device: d } => device(d).is_some_and(|d| d.suspended),
            StepKind::Remove { device: d } => device(d).is_none(),
            StepKind::Unload { module } => !o.modules.iter().any(|m| m.name == *module && m.loaded),
            StepKind::Detach { disk } => !o.disks.iter().any(|d| d.name == *disk),
            // Nothing in the session state records these: run them with `n`.
            StepKind::Status { .. }
            | StepKind::Table { .. }
            | StepKind::Info { .. }
            | StepKind::Message { .. }
            | StepKind::Resume { .. }
            | StepKind::Reload { .. }
            | StepKind::ReloadModule { .. } => false,
        }
    }

    fn probed(&self, target: &str, op: ProbeOp) -> bool {
        self.probes
            .iter()
            .any(|(t, o, ok)| t == target && *o == op && *ok)
    }

    /// The selected step's title and text for the details box: its label,
    /// note, failure and output.
    pub fn details(&self) -> Option<(String, Vec<String>)> {
        let step = self.steps.get(self.selected)?;
        let mut lines = vec![step.label.clone()];
        if let Some(note) = &step.note {
            lines.push(String::new());
            lines.push(note.clone());
        }
        if let StepState::Failed(reason) = &step.state {
            lines.push(String::new());
            lines.push(format!("FAILED: {reason}"));
        }
        if let Some(output) = &step.output {
            lines.push(String::new());
            lines.extend(output.lines().map(str::to_string));
        }
        Some((format!("Step {}", self.selected + 1), lines))
    }

    pub fn select_previous(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.steps.len().saturating_sub(1));
    }

    /// Clears a failed step so it can be tried again.
    pub fn retry(&mut self) {
        if let Some(index) = self.current()
            && let Some(step) = self.steps.get_mut(index)
            && matches!(step.state, StepState::Failed(_))
        {
            step.state = StepState::Pending;
        }
    }
}
