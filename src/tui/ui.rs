//! The whole screen: panes where the layout puts them, the status line,
//! and whatever overlay is open.

use ratatui::Frame;

use super::app::{App, PaneId};
use super::{composer, disks, events, lab, layout, module, overlay, probes, status};

pub fn draw(frame: &mut Frame, app: &App) {
    let areas = layout::compute(frame.area(), app.focus, app.lab.is_some());
    if let Some(tabs) = areas.tabs {
        status::draw_tabs(frame, tabs, app);
    }
    for (id, area) in &areas.panes {
        match id {
            PaneId::Lab => lab::pane::draw(frame, *area, app),
            PaneId::Module => module::pane::draw(frame, *area, app),
            PaneId::Disks => disks::pane::draw(frame, *area, app),
            PaneId::Composer => composer::pane::draw(frame, *area, app),
            PaneId::Probes => probes::pane::draw(frame, *area, app),
            PaneId::Events => events::pane::draw(frame, *area, app),
        }
    }
    status::draw(frame, areas.status, app);
    overlay::draw(frame, app);
}
