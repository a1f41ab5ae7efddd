//! The sector map as lines for a width: the device's segments as a bar
//! coloured by target, heat rows for writes and reads (where the recent
//! probes' I/O landed, from the kernel's own statistics), and one row per
//! backing disk with where those bytes arrived. Live while a probe runs.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

use super::model::{cells, project};
use crate::session::Device;
use crate::tui::app::App;
use crate::tui::widgets::{dim, fit, target_colour};

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const WRITE: Color = Color::LightRed;
const READ: Color = Color::LightCyan;
/// Row labels: `W`, `R`, disk names.
const LABEL: usize = 7;

/// The device the map shows: the one a probe is running on, else the
/// last one probed that still exists.
pub fn shown_device(app: &App) -> Option<&Device> {
    let live = app
        .state
        .devices
        .iter()
        .find(|d| app.maps.get(&d.name).is_some_and(|h| h.is_live()));
    live.or_else(|| {
        app.probes
            .history
            .iter()
            .rev()
            .find_map(|r| match &r.request.target {
                crate::session::ProbeTarget::Device(name) => {
                    app.state.devices.iter().find(|d| &d.name == name)
                }
                crate::session::ProbeTarget::Disk(_) => None,
            })
    })
}

/// The map's lines for `width` columns; empty when no device was probed.
pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(device) = shown_device(app) else {
        return Vec::new();
    };
    let sectors = device.sectors();
    let bar = width.saturating_sub(LABEL).max(1);
    let heat = app.maps.get(&device.name);
    let areas = heat.map(|h| h.areas()).unwrap_or_default();
    let mut title = format!("map {} · {} s", device.name, sectors);
    if let Some((_, ms)) = heat.and_then(|h| h.live.as_ref()) {
        title.push_str(&format!(" · live {:.1} s", *ms as f64 / 1000.0));
    }
    let mut out = vec![Line::styled(fit(&title, width), dim())];

    // The segments, each cell in the colour of the target it starts in;
    // every other segment is drawn low, so two of one target stay apart.
    let mut spans = vec![Span::styled(format!("{:<LABEL$}", "table"), dim())];
    for cell in 0..bar {
        let sector = (cell as u128 * u128::from(sectors) / bar as u128) as u64;
        let segment = device
            .table
            .iter()
            .enumerate()
            .find(|(_, l)| l.start <= sector && sector < l.start + l.length);
        let (glyph, target) = match segment {
            Some((i, l)) => (if i % 2 == 0 { "▀" } else { "▄" }, l.target.as_str()),
            None => (" ", "?"),
        };
        spans.push(Span::styled(glyph, Style::new().fg(target_colour(target))));
    }
    out.push(Line::from(spans));

    let notice = app
        .dm_stats
        .get(&device.name)
        .and_then(|s| s.notice.clone());
    if let Some(notice) = notice {
        out.push(Line::styled(
            fit(&notice, width),
            Style::new().fg(Color::Yellow),
        ));
        return out;
    }
    let map_cells = cells(&areas, sectors, bar);
    let scale = map_cells
        .iter()
        .map(|(r, w)| (*r).max(*w))
        .max()
        .unwrap_or(0);
    out.push(heat_line("W", map_cells.iter().map(|c| c.1), scale, WRITE));
    out.push(heat_line("R", map_cells.iter().map(|c| c.0), scale, READ));

    // Each disk the table names, with where the device's I/O arrived.
    for disk in &app.state.disks {
        let path = disk.device.display().to_string();
        if !device
            .table
            .iter()
            .any(|l| l.params.split_whitespace().any(|w| w == path))
        {
            continue;
        }
        let landed = project(&device.table, &areas, &path);
        let disk_cells = cells(&landed, disk.sectors(), bar);
        let scale = disk_cells.iter().map(|(r, w)| r + w).max().unwrap_or(0);
        let mut spans = vec![Span::styled(
            format!("{:<LABEL$}", fit(&disk.name, LABEL - 1)),
            Style::new(),
        )];
        for (r, w) in disk_cells {
            spans.push(glyph(r + w, scale, if w >= r { WRITE } else { READ }));
        }
        out.push(Line::from(spans));
    }
    out
}

fn heat_line(
    label: &str,
    values: impl Iterator<Item = u64>,
    scale: u64,
    colour: Color,
) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{label:<LABEL$}"),
        Style::new().fg(colour),
    )];
    spans.extend(values.map(|v| glyph(v, scale, colour)));
    Line::from(spans)
}

/// A cell: a dim dot when idle, else a bar as high as its share of the
/// busiest cell.
fn glyph(value: u64, scale: u64, colour: Color) -> Span<'static> {
    if value == 0 || scale == 0 {
        return Span::styled("·", dim());
    }
    let level = ((value * LEVELS.len() as u64).div_ceil(scale)).clamp(1, LEVELS.len() as u64);
    Span::styled(
        LEVELS[(level - 1) as usize].to_string(),
        Style::new().fg(colour),
    )
}
