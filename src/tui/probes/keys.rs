//! What the probe keys do: `w`/`r` open the write or read form anywhere;
//! `c` in the Probes pane (and Esc anywhere) cancels the running probe.

use crate::exec::protocol::ProbeOp;
use crate::tui::app::App;

use super::commands;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbesAction {
    Write,
    Read,
    Cancel,
    /// The journey view: every bio of the last probe, hop by hop.
    Journeys,
}

pub fn perform(app: &mut App, action: ProbesAction) -> bool {
    match action {
        ProbesAction::Write => commands::open_probe(app, ProbeOp::Write),
        ProbesAction::Read => commands::open_probe(app, ProbeOp::Read),
        ProbesAction::Cancel => commands::cancel(app),
        ProbesAction::Journeys => commands::show_journeys(app),
    }
    true
}
