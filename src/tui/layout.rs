//! Where each pane goes for a terminal size. Pure: drawing and mouse
//! clicks compute the same areas from the same inputs.
//!
//! Wide (at least 120x36): every pane at once — Lab, Module and Disks
//! stacked on the left, the Composer in the middle, Probes on the right,
//! Events across the bottom. Narrow (down to 80x24): a tab bar, the focused
//! pane, and Events below it (the Events tab gives Events the whole
//! height).

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::PaneId;

pub const WIDE_MIN_WIDTH: u16 = 120;
pub const WIDE_MIN_HEIGHT: u16 = 36;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Areas {
    pub panes: Vec<(PaneId, Rect)>,
    /// The tab bar (narrow layout only).
    pub tabs: Option<Rect>,
    pub status: Rect,
    pub wide: bool,
}

impl Areas {
    pub fn pane(&self, id: PaneId) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == id).map(|(_, r)| *r)
    }

    /// The pane under a screen position.
    pub fn hit(&self, column: u16, row: u16) -> Option<PaneId> {
        self.panes
            .iter()
            .find(|(_, r)| {
                column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height
            })
            .map(|(p, _)| *p)
    }
}

pub fn compute(area: Rect, focus: PaneId, has_lab: bool) -> Areas {
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
        wide(body, status, has_lab)
    } else {
        narrow(body, status, focus, has_lab)
    }
}

fn wide(body: Rect, status: Rect, has_lab: bool) -> Areas {
    let events_height = (body.height / 3).max(8);
    let [top, events] =
        Layout::vertical([Constraint::Min(10), Constraint::Length(events_height)]).areas(body);
    let left_width = (top.width * 26 / 100).max(34);
    let probes_width = (top.width * 29 / 100).max(40);
    let [left, composer, probes] = Layout::horizontal([
        Constraint::Length(left_width),
        Constraint::Min(40),
        Constraint::Length(probes_width),
    ])
    .areas(top);
    let mut panes = Vec::new();
    if has_lab {
        let [lab, module, disks] = Layout::vertical([
            Constraint::Percentage(40),
            Constraint::Percentage(25),
            Constraint::Percentage(35),
        ])
        .areas(left);
        panes.push((PaneId::Lab, lab));
        panes.push((PaneId::Module, module));
        panes.push((PaneId::Disks, disks));
    } else {
        let [module, disks] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(left);
        panes.push((PaneId::Module, module));
        panes.push((PaneId::Disks, disks));
    }
    panes.push((PaneId::Composer, composer));
    panes.push((PaneId::Probes, probes));
    panes.push((PaneId::Events, events));
    Areas {
        panes,
        tabs: None,
        status,
        wide: true,
    }
}

fn narrow(body: Rect, status: Rect, focus: PaneId, has_lab: bool) -> Areas {
    let [tabs, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
    let focus = if focus == PaneId::Lab && !has_lab {
        PaneId::Composer
    } else {
        focus
    };
    let panes = if focus == PaneId::Events {
        vec![(PaneId::Events, rest)]
    } else {
        let events_height = (rest.height / 3).max(5).min(rest.height.saturating_sub(6));
        let [main, events] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(events_height)]).areas(rest);
        vec![(focus, main), (PaneId::Events, events)]
    };
    Areas {
        panes,
        tabs: Some(tabs),
        status,
        wide: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_layout_shows_every_pane() {
        let areas = compute(Rect::new(0, 0, 160, 48), PaneId::Composer, true);
        assert!(areas.wide);
        assert_eq!(areas.panes.len(), 6);
        assert_eq!(areas.hit(80, 5), Some(PaneId::Composer));
        assert_eq!(areas.hit(80, 46), Some(PaneId::Events));
    }

    #[test]
    fn narrow_layout_shows_the_focused_pane_and_events() {
        let areas = compute(Rect::new(0, 0, 80, 24), PaneId::Disks, false);
        assert!(!areas.wide);
        let ids: Vec<PaneId> = areas.panes.iter().map(|(p, _)| *p).collect();
        assert_eq!(ids, [PaneId::Disks, PaneId::Events]);
        assert_eq!(areas.status.y, 23);
    }
}
