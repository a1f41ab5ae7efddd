//! Mouse: a click focuses the pane under it (or the tab), selects the
//! segment under it on the composer's bar, the row under it in lists; the
//! wheel scrolls the Events pane.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::app::{App, PaneId, Phase};
use super::composer::bar::sector_at;
use super::composer::pane::bar_area;
use super::layout;

pub fn handle_mouse(app: &mut App, event: MouseEvent, screen: Rect) {
    if app.overlay.is_some() || matches!(app.phase, Phase::Quitting | Phase::Done) {
        return;
    }
    let areas = layout::compute(screen, app.focus, app.lab.is_some());
    let (column, row) = (event.column, event.row);
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some(tabs) = areas.tabs
                && row == tabs.y
            {
                if let Some(pane) = tab_at(app, column.saturating_sub(tabs.x)) {
                    app.focus = pane;
                }
                return;
            }
            let Some(pane) = areas.hit(column, row) else {
                return;
            };
            app.focus = pane;
            let Some(area) = areas.pane(pane) else {
                return;
            };
            let inner = Rect {
                x: area.x + 1,
                y: area.y + 1,
                width: area.width.saturating_sub(2),
                height: area.height.saturating_sub(2),
            };
            click_in_pane(app, pane, inner, column, row);
        }
        MouseEventKind::ScrollUp if areas.hit(column, row) == Some(PaneId::Events) => {
            app.events.scroll_up(3);
        }
        MouseEventKind::ScrollDown if areas.hit(column, row) == Some(PaneId::Events) => {
            app.events.scroll_down(3);
        }
        _ => {}
    }
}

fn click_in_pane(app: &mut App, pane: PaneId, inner: Rect, column: u16, row: u16) {
    if row < inner.y || column < inner.x {
        return;
    }
    let line = usize::from(row - inner.y);
    match pane {
        PaneId::Composer => {
            let bar = bar_area(inner);
            if row == bar.y && !app.composer.table.is_empty() && bar.width > 0 {
                let total = app.composer.total();
                app.composer
                    .set_cursor(sector_at(column - bar.x, total, bar.width));
            }
        }
        PaneId::Disks => {
            // Row 0 is the column header.
            let rows = app.state.disks.len() + app.state.devices.len();
            if line >= 1 && line - 1 < rows {
                app.disks_selected = line - 1;
            }
        }
        PaneId::Module => {
            // Two lines per source.
            let index = line / 2;
            if index < app.modules.sources.len() {
                app.modules.selected = index;
            }
        }
        PaneId::Lab => {
            if let Some(lab) = &mut app.lab
                && line >= 1
                && line - 1 < lab.steps.len()
            {
                lab.selected = line - 1;
            }
        }
        PaneId::Probes | PaneId::Events => {}
    }
}

/// The tab under a column of the tab bar (labels as `status::draw_tabs`
/// lays them out).
fn tab_at(app: &App, column: u16) -> Option<PaneId> {
    let mut x = 0u16;
    for pane in app.visible_panes() {
        let width = pane.title().chars().count() as u16 + 4;
        if column >= x && column < x + width {
            return Some(pane);
        }
        x += width + 1;
    }
    None
}
