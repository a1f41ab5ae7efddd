//! The Disks pane: the session's backing files on loop devices and its DM
//! devices, with sizes and live I/O counters (sampled by the worker about
//! once a second).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::stats::StatView;
use crate::tui::app::{App, PaneId};
use crate::tui::keys::pane_hint_line;
use crate::tui::widgets::{dim, fit, hints, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane_block(
        PaneId::Disks,
        app.focus == PaneId::Disks,
        format!(
            "{} disk(s), {} device(s)",
            app.state.disks.len(),
            app.state.devices.len()
        ),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let wide = width >= 60;
    let mut lines = Vec::new();
    if app.state.disks.is_empty() && app.state.devices.is_empty() {
        lines.push(Line::styled("No disks yet: press 'd' to add one.", dim()));
    } else {
        lines.push(Line::styled(
            fit(
                &if wide {
                    format!(
                        "  {:<10} {:<7} {:>8} {:>7} {:>7} {:>9} {:>9}",
                        "name", "dev", "size", "r ios", "w ios", "read/s", "write/s"
                    )
                } else {
                    format!(
                        "  {:<9} {:<6} {:>7} {:>5} {:>5}",
                        "name", "dev", "size", "r", "w"
                    )
                },
                width,
            ),
            dim(),
        ));
    }
    let mut row = 0;
    for disk in &app.state.disks {
        let kernel = disk.kernel_name();
        lines.push(row_line(
            app,
            row,
            &disk.name,
            &kernel,
            disk.size_bytes,
            app.stats.get(&kernel),
            wide,
            width,
            None,
        ));
        row += 1;
    }
    for device in &app.state.devices {
        let kernel = device.kernel_name();
        let note = format!(
            "{} seg{}",
            device.table.len(),
            if device.suspended { ", suspended" } else { "" }
        );
        lines.push(row_line(
            app,
            row,
            &device.name,
            &kernel,
            device.sectors() * 512,
            app.stats.get(&kernel),
            wide,
            width,
            Some(note),
        ));
        row += 1;
    }
    // The selected row's details (backing file, UUID) above the hints.
    let detail = if app.focus == PaneId::Disks {
        selected_detail(app)
    } else {
        Vec::new()
    };
    let detail_rows = if inner.height as usize > detail.len() + 4 {
        detail.len()
    } else {
        0
    };
    let height = usize::from(inner.height.saturating_sub(1)) - detail_rows;
    // Keep the selected row in view.
    let skip = (app.disks_selected + 2).saturating_sub(height);
    let shown: Vec<Line> = lines
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i > skip)
        .map(|(_, l)| l)
        .take(height)
        .collect();
    frame.render_widget(
        Paragraph::new(shown),
        Rect {
            height: height as u16,
            ..inner
        },
    );
    for (i, text) in detail.into_iter().take(detail_rows).enumerate() {
        frame.render_widget(
            Paragraph::new(Line::styled(fit(&text, width), dim())),
            Rect::new(inner.x, inner.y + (height + i) as u16, inner.width, 1),
        );
    }
    frame.render_widget(
        Paragraph::new(hints(&pane_hint_line(app, PaneId::Disks, width))),
        Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
    );
}

/// Where the selected disk's data lives, or what the selected device is.
fn selected_detail(app: &App) -> Vec<String> {
    let i = app.disks_selected;
    if let Some(disk) = app.state.disks.get(i) {
        return vec![
            format!("{} {} ({})", disk.name, disk.device.display(), disk.dev_t()),
            format!("backing {}", disk.backing.display()),
        ];
    }
    let Some(device) = i
        .checked_sub(app.state.disks.len())
        .and_then(|j| app.state.devices.get(j))
    else {
        return Vec::new();
    };
    vec![
        format!(
            "{} {}:{}",
            device.path().display(),
            device.major,
            device.minor
        ),
        format!("uuid {}", device.uuid),
    ]
}

#[allow(clippy::too_many_arguments)]
fn row_line(
    app: &App,
    row: usize,
    name: &str,
    kernel: &str,
    bytes: u64,
    stat: Option<&StatView>,
    wide: bool,
    width: usize,
    note: Option<String>,
) -> Line<'static> {
    let selected = app.focus == PaneId::Disks && row == app.disks_selected;
    let marker = if selected { "▸ " } else { "  " };
    let is_device = note.is_some();
    let size = crate::units::format_size(bytes);
    let (rios, wios) = stat.map_or((0, 0), |s| (s.counters.read_ios, s.counters.write_ios));
    let text = if wide {
        let rate = |sectors_per_s: f64| {
            if sectors_per_s <= 0.0 {
                "-".to_string()
            } else {
                format!("{:.1}KiB", sectors_per_s / 2.0)
            }
        };
        format!(
            "{marker}{:<10} {:<7} {:>8} {:>7} {:>7} {:>9} {:>9}{}",
            fit(name, 10),
            kernel,
            size,
            rios,
            wios,
            rate(stat.map_or(0.0, |s| s.read_rate)),
            rate(stat.map_or(0.0, |s| s.write_rate)),
            note.map(|n| format!("  {n}")).unwrap_or_default()
        )
    } else {
        format!(
            "{marker}{:<9} {:<6} {:>7} {:>5} {:>5}",
            fit(name, 9),
            kernel,
            size,
            rios,
            wios
        )
    };
    let mut style = if is_device {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::from(Span::styled(fit(&text, width), style))
}
