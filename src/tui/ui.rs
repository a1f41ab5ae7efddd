//! The whole screen: panes where the layout puts them, the status line,
//! and whatever overlay is open.

use ratatui::Frame;

use super::app::{App, PaneId};
use super::layout;
use super::panes;

pub fn draw(frame: &mut Frame, app: &App) {
    let areas = layout::compute(frame.area(), app.focus, app.lab.is_some());
    if let Some(tabs) = areas.tabs {
        panes::status::draw_tabs(frame, tabs, app);
    }
    for (id, area) in &areas.panes {
        match id {
            PaneId::Lab => panes::lab::draw(frame, *area, app),
            PaneId::Module => panes::module::draw(frame, *area, app),
            PaneId::Disks => panes::disks::draw(frame, *area, app),
            PaneId::Composer => panes::composer::draw(frame, *area, app),
            PaneId::Probes => panes::probes::draw(frame, *area, app),
            PaneId::Events => panes::events::draw(frame, *area, app),
        }
    }
    panes::status::draw(frame, areas.status, app);
    panes::overlay::draw(frame, app);
}
