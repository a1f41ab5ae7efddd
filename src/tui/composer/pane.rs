//! The Composer pane: the DM device's sector range as a bar of coloured,
//! labelled segments with a cursor, each backing disk as a bar showing the
//! ranges the segments use, validation of the selected segment, and the
//! table text in dmsetup syntax.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::bar::{self, column_of};
use super::model::{Composer, LiveState};
use crate::tui::app::{App, PaneId, Phase};
use crate::tui::keys::pane_hint_line;
use crate::tui::widgets::{
    dim, error_style, fit, hints, ok_style, pane_block, target_colour, wrap,
};

const FILLS: [&str; 2] = ["█", "▓"];

/// Screen geometry of the device bar, for mouse clicks.
pub fn bar_area(inner: Rect) -> Rect {
    Rect {
        x: inner.x,
        y: inner.y + 2,
        width: inner.width,
        height: 1,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let c = &app.composer;
    let live = c.live_state(&app.state.devices);
    let state = match live {
        LiveState::New => Span::styled("new", Style::new().fg(Color::Yellow)),
        LiveState::Same => Span::styled("live", ok_style()),
        LiveState::Modified => Span::styled("live, modified", Style::new().fg(Color::Magenta)),
    };
    let block = pane_block(
        PaneId::Composer,
        app.focus == PaneId::Composer,
        Line::from(vec![Span::raw(format!("{} ", c.name)), state]),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width < 10 {
        return;
    }
    if app.phase == Phase::Starting {
        let text = format!(
            "starting {}…",
            if app.executor_hint == crate::exec::Placement::Vm {
                "sandbox VM"
            } else {
                "session"
            }
        );
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(""),
                Line::styled(text, Style::new().fg(Color::Yellow)),
            ])
            .centered(),
            inner,
        );
        return;
    }
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    let width = inner.width;
    let line = |frame: &mut Frame, y: &mut u16, content: Line| {
        if *y < bottom.saturating_sub(1) {
            frame.render_widget(Paragraph::new(content), Rect::new(inner.x, *y, width, 1));
            *y += 1;
        }
    };

    let total = c.total();
    line(
        frame,
        &mut y,
        Line::from(vec![
            Span::styled(
                format!("/dev/mapper/{}", c.name),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "  {total} sectors ({})  {} segment{}",
                if total > 0 {
                    crate::units::format_size(total * 512)
                } else {
                    "empty".into()
                },
                c.table.segments.len(),
                if c.table.segments.len() == 1 { "" } else { "s" }
            )),
        ]),
    );
    if c.table.is_empty() {
        line(frame, &mut y, Line::raw(""));
        line(
            frame,
            &mut y,
            Line::styled(
                if app.state.disks.is_empty() {
                    "No segments. Add a disk with 'd', then a segment with 'a'."
                } else {
                    "No segments. Press 'a' to add one (or 'o' to open a table file)."
                },
                dim(),
            ),
        );
    } else {
        // Scale, bar, cursor.
        let end_label = total.to_string();
        let pad = usize::from(width).saturating_sub(1 + end_label.len());
        line(
            frame,
            &mut y,
            Line::styled(format!("0{}{end_label}", " ".repeat(pad)), dim()),
        );
        if y < bottom {
            paint_device_bar(frame, Rect::new(inner.x, y, width, 1), c);
            y += 1;
        }
        line(frame, &mut y, cursor_line(c, width));
        // The selected segment and its problems.
        if let Some(segment) = c.selected_segment() {
            let errors = c.errors_for(c.selected);
            line(
                frame,
                &mut y,
                Line::from(vec![
                    Span::styled(
                        format!("segment {}/{} ", c.selected + 1, c.table.segments.len()),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(
                        segment.target.clone(),
                        Style::new().fg(target_colour(&segment.target)),
                    ),
                    Span::raw(format!(
                        "  sectors {}..{} ({})",
                        segment.start,
                        segment.end(),
                        segment.length
                    )),
                    if errors.is_empty() {
                        Span::styled("  ✔ valid", ok_style())
                    } else {
                        Span::styled(format!("  ✘ {} problem(s)", errors.len()), error_style())
                    },
                ]),
            );
            for error in errors.iter().take(3) {
                let text = format!("✘ {error}");
                for part in wrap(&text, usize::from(width).saturating_sub(2))
                    .into_iter()
                    .take(3)
                {
                    line(
                        frame,
                        &mut y,
                        Line::styled(format!("  {part}"), error_style()),
                    );
                }
            }
            let other = c.validation.errors.len() - errors.len();
            if other > 0 {
                line(
                    frame,
                    &mut y,
                    Line::styled(
                        format!("  ✘ {other} problem(s) in other segments"),
                        error_style(),
                    ),
                );
            }
        }
    }
    if let Some(notice) = &c.message {
        line(
            frame,
            &mut y,
            Line::styled(
                fit(notice.text(), usize::from(width)),
                if notice.is_error() {
                    error_style()
                } else {
                    ok_style()
                },
            ),
        );
    }
    // Tall panes show the disks right under the device bar, as the
    // picture of the mapping; short ones put the table text first.
    if inner.height >= 20 {
        draw_disks(frame, inner, &mut y, app);
        draw_table(frame, inner, &mut y, c);
    } else {
        draw_table(frame, inner, &mut y, c);
        draw_disks(frame, inner, &mut y, app);
    }
    frame.render_widget(
        Paragraph::new(hints(&pane_hint_line(
            app,
            PaneId::Composer,
            usize::from(width),
        ))),
        Rect::new(inner.x, bottom - 1, width, 1),
    );
}

fn paint_device_bar(frame: &mut Frame, area: Rect, c: &Composer) {
    let spans: Vec<bar::Span> = c
        .table
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let broken = !c.errors_for(i).is_empty();
            let selected = i == c.selected;
            let name = if broken {
                format!("✘{}", s.target)
            } else {
                s.target.clone()
            };
            bar::Span {
                start: s.start,
                length: s.length,
                colour: target_colour(&s.target),
                fill: FILLS[i % 2],
                label: if selected {
                    format!("[{name}]")
                } else {
                    format!(" {name} ")
                },
                emphasis: selected,
            }
        })
        .collect();
    bar::paint(
        frame.buffer_mut(),
        area,
        c.total(),
        &spans,
        (" ", Style::new()),
    );
}

fn cursor_line(c: &Composer, width: u16) -> Line<'static> {
    let col = usize::from(column_of(c.cursor, c.total(), width));
    let label = format!("▲ {}", c.cursor);
    let width = usize::from(width);
    // The label goes right of the marker when it fits, else left of it.
    let text = if col + label.chars().count() <= width {
        format!("{}{label}", " ".repeat(col))
    } else {
        let left = format!("{} ▲", c.cursor);
        format!(
            "{}{left}",
            " ".repeat((col + 1).saturating_sub(left.chars().count()))
        )
    };
    Line::styled(text, Style::new().fg(Color::Yellow))
}

fn text_row(frame: &mut Frame, inner: Rect, y: &mut u16, content: Line) {
    if *y + 1 < inner.y + inner.height {
        frame.render_widget(
            Paragraph::new(content),
            Rect::new(inner.x, *y, inner.width, 1),
        );
        *y += 1;
    }
}

fn draw_disks(frame: &mut Frame, inner: Rect, y: &mut u16, app: &App) {
    let c = &app.composer;
    let bottom = inner.y + inner.height;
    let width = inner.width;
    for disk in &app.state.disks {
        if *y + 2 >= bottom {
            break;
        }
        text_row(
            frame,
            inner,
            y,
            Line::from(vec![
                Span::styled(disk.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
                Span::styled(
                    format!(
                        " {} {} {}s",
                        disk.device.display(),
                        disk.dev_t(),
                        disk.sectors()
                    ),
                    dim(),
                ),
            ]),
        );
        let spans: Vec<bar::Span> = c
            .disk_uses(disk)
            .into_iter()
            .filter_map(|u| {
                let segment = c.table.segments.get(u.segment)?;
                Some(bar::Span {
                    start: u.offset,
                    length: u.sectors,
                    colour: target_colour(&segment.target),
                    fill: FILLS[u.segment % 2],
                    label: format!("{}", u.segment + 1),
                    emphasis: u.segment == c.selected,
                })
            })
            .collect();
        bar::paint(
            frame.buffer_mut(),
            Rect::new(inner.x, *y, width, 1),
            disk.sectors(),
            &spans,
            ("·", dim()),
        );
        *y += 1;
    }
}

fn draw_table(frame: &mut Frame, inner: Rect, y: &mut u16, c: &Composer) {
    let bottom = inner.y + inner.height;
    let width = inner.width;
    if !c.table.is_empty() && *y + 1 < bottom {
        text_row(
            frame,
            inner,
            y,
            Line::styled("table (dmsetup syntax):", dim()),
        );
        for (i, segment) in c.table.segments.iter().enumerate() {
            let marker = if i == c.selected { "▸ " } else { "  " };
            let style = if c.errors_for(i).is_empty() {
                Style::new()
            } else {
                error_style()
            };
            text_row(
                frame,
                inner,
                y,
                Line::styled(
                    fit(&format!("{marker}{segment}"), usize::from(width)),
                    style,
                ),
            );
        }
    }
}
