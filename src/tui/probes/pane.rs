//! The Probes pane: the probe in flight with a progress gauge, the latest
//! result (throughput, latency percentiles, verification, per-disk
//! attribution) and a sparkline of recent throughput.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Sparkline};

use crate::exec::protocol::ProbeOp;
use crate::tui::app::{App, PaneId};
use crate::tui::keys::pane_hint_line;
use crate::tui::widgets::{dim, error_style, fit, hints, nanos, ok_style, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let probes = &app.probes;
    let block = pane_block(
        PaneId::Probes,
        app.focus == PaneId::Probes,
        format!("{} run", probes.history.len()),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 {
        return;
    }
    let width = usize::from(inner.width);
    let bottom = inner.y + inner.height - 1;
    let mut y = inner.y;

    if let Some(running) = &probes.running {
        let ratio = if running.total > 0 {
            (running.done as f64 / running.total as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                fit(&running.label, width),
                Style::new().fg(Color::Yellow),
            )),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
        if y < bottom {
            let label = if running.cancelling {
                "cancelling…".to_string()
            } else {
                format!(
                    "{:.0}%  {} of {}  (Esc cancels)",
                    ratio * 100.0,
                    crate::units::format_size(running.done),
                    crate::units::format_size(running.total.max(1))
                )
            };
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(label)
                    .gauge_style(Style::new().fg(Color::Yellow)),
                Rect::new(inner.x, y, inner.width, 1),
            );
            y += 1;
        }
    }
    if let Some(error) = &probes.error
        && y < bottom
    {
        frame.render_widget(
            Paragraph::new(Line::styled(
                fit(&format!("✘ {error}"), width),
                error_style(),
            )),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }

    // Where the I/O landed: the sector map of the device probed.
    let map = crate::tui::map::pane::lines(app, width);
    if !map.is_empty() {
        let height = (map.len() as u16).min(bottom.saturating_sub(y));
        frame.render_widget(
            Paragraph::new(map),
            Rect::new(inner.x, y, inner.width, height),
        );
        y += height;
    }

    let mut lines: Vec<Line> = Vec::new();
    match probes.latest() {
        None if probes.running.is_none() => {
            lines.push(Line::styled("No probes yet: 'w' writes, 'r' reads.", dim()));
        }
        None => {}
        Some(record) => {
            let r = &record.result;
            lines.push(Line::styled(
                fit(&record.label, width),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            lines.push(Line::raw(fit(
                &format!(
                    "{} in {} · {:.1} MiB/s · {} block(s)",
                    bytes(r.bytes),
                    nanos(r.elapsed_ns),
                    r.mib_per_s,
                    r.blocks
                ),
                width,
            )));
            if let Some(l) = &r.latency {
                lines.push(Line::raw(fit(
                    &format!(
                        "latency min {} p50 {} p99 {} max {}",
                        nanos(l.min_ns),
                        nanos(l.median_ns),
                        nanos(l.p99_ns),
                        nanos(l.max_ns)
                    ),
                    width,
                )));
            }
            let verdict = if r.cancelled {
                Line::styled("cancelled", Style::new().fg(Color::Yellow))
            } else if let Some(e) = &r.io_error {
                Line::styled(
                    fit(
                        &format!("✘ I/O error {} at byte {}", e.name, e.offset),
                        width,
                    ),
                    error_style(),
                )
            } else if let Some(m) = &r.mismatch {
                Line::styled(
                    fit(
                        &format!(
                            "✘ MISMATCH at byte {}: expected {}, found {} ({} bad)",
                            m.offset, m.expected, m.found, m.total_bad_blocks
                        ),
                        width,
                    ),
                    error_style(),
                )
            } else if r.op == ProbeOp::Read && record.request.pattern.is_some() {
                Line::styled("✔ data verified", ok_style())
            } else {
                Line::styled("✔ done", ok_style())
            };
            lines.push(verdict);
            // Each bio's journey: the first ones, `j` shows them all.
            for bio in record.bios.iter().take(2) {
                lines.push(Line::styled(fit(&format!("↳ {}", bio.text), width), dim()));
            }
            if record.bios_total > 2 {
                lines.push(Line::styled(
                    fit(
                        &format!("↳ … {} bios in all ('j')", record.bios_total),
                        width,
                    ),
                    dim(),
                ));
            }
            for note in &record.notes {
                lines.push(Line::styled(
                    fit(note, width),
                    Style::new().fg(Color::Yellow),
                ));
            }
            if !r.attribution.is_empty() {
                lines.push(Line::styled(
                    fit(
                        &format!(
                            "{:<8} {:>6} {:>8} {:>6} {:>8}",
                            "device", "r ios", "r sect", "w ios", "w sect"
                        ),
                        width,
                    ),
                    dim(),
                ));
                for a in &r.attribution {
                    let busy = a.delta.read_ios + a.delta.write_ios > 0;
                    lines.push(Line::styled(
                        fit(
                            &format!(
                                "{:<8} {:>6} {:>8} {:>6} {:>8}",
                                a.device,
                                a.delta.read_ios,
                                a.delta.read_sectors,
                                a.delta.write_ios,
                                a.delta.write_sectors
                            ),
                            width,
                        ),
                        if busy { Style::new() } else { dim() },
                    ));
                }
            }
        }
    }
    let text_height = (lines.len() as u16).min(bottom.saturating_sub(y));
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, y, inner.width, text_height),
    );
    y += text_height;

    // Sparkline and history in what is left.
    if probes.history.len() > 1 && y + 3 <= bottom {
        let data = probes.throughput();
        let max = data.iter().copied().max().unwrap_or(0);
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("MiB/s over the last {} probes (max {max})", data.len()),
                dim(),
            )),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
        let take = usize::from(inner.width);
        let start = data.len().saturating_sub(take);
        frame.render_widget(
            Sparkline::default()
                .data(&data[start..])
                .style(Style::new().fg(Color::Green)),
            Rect::new(inner.x, y, inner.width, 2),
        );
        y += 2;
    }
    if y + 1 < bottom && probes.history.len() > 1 {
        let room = usize::from(bottom - y);
        let recent: Vec<Line> = probes
            .history
            .iter()
            .rev()
            .skip(1)
            .take(room)
            .map(|r| {
                let flag = if r.result.io_error.is_some() || r.result.mismatch.is_some() {
                    Span::styled("✘ ", error_style())
                } else {
                    Span::styled("  ", Style::new())
                };
                Line::from(vec![
                    flag,
                    Span::styled(
                        fit(
                            &format!("{:>7.1} MiB/s  {}", r.result.mib_per_s, r.label),
                            width.saturating_sub(2),
                        ),
                        dim(),
                    ),
                ])
            })
            .collect();
        frame.render_widget(
            Paragraph::new(recent),
            Rect::new(inner.x, y, inner.width, bottom - y),
        );
    }
    frame.render_widget(
        Paragraph::new(hints(&pane_hint_line(app, PaneId::Probes, width))),
        Rect::new(inner.x, bottom, inner.width, 1),
    );
}

/// A byte count as people read it: exact below 1 MiB, else in MiB.
fn bytes(n: u64) -> String {
    if n < 1 << 20 {
        format!("{n} B")
    } else {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    }
}
