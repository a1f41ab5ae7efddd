//! Things drawn over the panes: help, forms, pickers, the reload diff,
//! the build log, command output, and the teardown screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::{App, Confirm, Overlay, Phase};
use super::keys::table::{HelpRow, help_rows};
use super::keys::{Context, hint_line};
use super::prompt::{Form, Picker};
use super::widgets::{centered, dim, error_style, fit, keep_header_skip, ok_style, wrap};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if matches!(app.phase, Phase::Quitting | Phase::Done) {
        return teardown(frame, area, app);
    }
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(frame, area, *scroll),
        Some(Overlay::Form(form)) => draw_form(frame, area, form),
        Some(Overlay::Picker(picker)) => draw_picker(frame, area, picker),
        Some(Overlay::Confirm(confirm)) => draw_confirm(frame, area, confirm),
        Some(Overlay::BuildLog { source, scroll }) => {
            let Some(src) = app.modules.sources.get(*source) else {
                return;
            };
            let lines: Vec<String> = src.log.iter().cloned().collect();
            text_box(
                frame,
                area,
                &format!("Build log: {}", src.path.display()),
                &lines,
                *scroll,
                &hint_line(Context::BuildLog),
            );
        }
        Some(Overlay::Output { title, lines }) => {
            text_box(frame, area, title, lines, 0, &hint_line(Context::Output))
        }
        Some(Overlay::Readme { scroll }) => readme(frame, area, app, *scroll),
    }
}

fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16, title: &str) -> Rect {
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_style(Style::new().fg(Color::Cyan))
        .title(Span::styled(
            format!(" {title} "),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// The help box: the key table, one row per action (neighbours with the
/// same words share one), in two columns when the screen is wide.
fn help(frame: &mut Frame, area: Rect, scroll: usize) {
    let mut rows = help_rows();
    // The mouse is not in the key table; it gets the last row.
    rows.push(HelpRow {
        context: "mouse",
        keys: "click wheel".into(),
        help: "focus, select; scroll events",
    });
    let context_width = rows
        .iter()
        .map(|r| r.context.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    let keys_width = rows
        .iter()
        .map(|r| r.keys.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    let help_width = rows
        .iter()
        .map(|r| r.help.chars().count())
        .max()
        .unwrap_or(0);
    let column = (context_width + keys_width + help_width) as u16;
    let two_columns = area.width >= 120;
    let width = if two_columns {
        (2 * column + 4).min(area.width.saturating_sub(4))
    } else {
        area.width.saturating_sub(2).min(78)
    };
    let per_column = if two_columns {
        rows.len().div_ceil(2)
    } else {
        rows.len()
    };
    let height = (per_column as u16 + 2).min(area.height.saturating_sub(2));
    let title = format!("Keys ({})", hint_line(Context::Help));
    let inner = popup(frame, area, width, height, &title);
    let entry = |i: usize, w: usize| -> Vec<Span<'static>> {
        rows.get(i).map_or_else(Vec::new, |r| {
            vec![
                Span::styled(format!("{:<context_width$}", r.context), dim()),
                Span::styled(
                    format!("{:<keys_width$}", r.keys),
                    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                ),
                Span::raw(fit(r.help, w.saturating_sub(context_width + keys_width))),
            ]
        })
    };
    let mut lines = Vec::new();
    if two_columns {
        let half = usize::from(inner.width / 2);
        for row in 0..per_column {
            let mut spans = entry(row, half - 1);
            let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
            spans.push(Span::raw(" ".repeat(half.saturating_sub(used))));
            spans.extend(entry(row + per_column, half - 1));
            lines.push(Line::from(spans));
        }
    } else {
        for i in 0..per_column {
            lines.push(Line::from(entry(i, usize::from(inner.width))));
        }
    }
    let skip = scroll.min(lines.len().saturating_sub(usize::from(inner.height)));
    frame.render_widget(
        Paragraph::new(lines.split_off(skip.min(lines.len()))),
        inner,
    );
}

fn draw_form(frame: &mut Frame, area: Rect, form: &Form) {
    let width = area.width.saturating_sub(4).min(76);
    let inner_width = usize::from(width.saturating_sub(2));
    let mut lines = Vec::new();
    if let Some(about) = &form.about {
        lines.extend(
            crate::tui::widgets::wrap(about, inner_width)
                .into_iter()
                .map(|l| Line::styled(l, dim())),
        );
    }
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if field.readonly {
            dim()
        } else if focused {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let mut value = field.value.clone();
        if focused {
            value.push('▏');
        }
        let choices = if focused && !field.options.is_empty() {
            " ←→"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>16}: ", fit(&field.label, 16)), label_style),
            Span::styled(
                fit(&value, inner_width.saturating_sub(22)),
                if focused && field.fresh {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                },
            ),
            Span::styled(choices, dim()),
        ]));
        if let Some(error) = &field.error {
            lines.push(Line::styled(
                fit(&format!("{:>18}✘ {error}", ""), inner_width),
                error_style(),
            ));
        } else if focused && !field.help.is_empty() {
            lines.push(Line::styled(
                fit(&format!("{:>18}{}", "", field.help), inner_width),
                dim(),
            ));
        }
    }
    if let Some(message) = &form.message {
        lines.push(Line::styled(
            fit(&format!("✘ {message}"), inner_width),
            error_style(),
        ));
    }
    lines.push(Line::styled(
        fit(&hint_line(Context::Form), inner_width),
        dim(),
    ));
    let height = (lines.len() as u16 + 2).min(area.height);
    let inner = popup(frame, area, width, height, &form.title);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_picker(frame: &mut Frame, area: Rect, picker: &Picker) {
    let items = picker.filtered();
    let width = area.width.saturating_sub(4).min(72);
    let inner_width = usize::from(width.saturating_sub(2));
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", Style::new().fg(Color::Cyan)),
        Span::raw(format!("{}▏", picker.filter)),
    ])];
    for (i, item) in items.iter().enumerate() {
        let selected = i == picker.selected;
        let style = if selected {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{:<16}", if selected { "▸ " } else { "  " }, item.key),
                style,
            ),
            Span::styled(fit(&item.detail, inner_width.saturating_sub(19)), dim()),
        ]));
    }
    if items.is_empty() {
        lines.push(Line::styled(
            "  nothing matches: Enter uses the typed name",
            dim(),
        ));
    }
    // Typing is the text fallback, not a binding: said here in words.
    lines.push(Line::styled(
        fit(
            &format!("type to narrow · {}", hint_line(Context::Picker)),
            inner_width,
        ),
        dim(),
    ));
    let height = (lines.len() as u16 + 2).min(area.height);
    let inner = popup(frame, area, width, height, &picker.title);
    let skip = (picker.selected + 3).saturating_sub(usize::from(inner.height));
    let shown = keep_header_skip(lines, skip);
    frame.render_widget(Paragraph::new(shown), inner);
}

fn draw_confirm(frame: &mut Frame, area: Rect, confirm: &Confirm) {
    let width = area.width.saturating_sub(4).min(100);
    let inner_width = usize::from(width.saturating_sub(2));
    let mut lines = vec![Line::styled("live table → new table:", dim())];
    for (mark, text) in &confirm.diff {
        let style = match mark {
            '-' => error_style(),
            '+' => ok_style(),
            _ => Style::new(),
        };
        lines.push(Line::styled(
            fit(&format!("{mark} {text}"), inner_width),
            style,
        ));
    }
    for note in &confirm.notes {
        lines.push(Line::styled(
            fit(note, inner_width),
            Style::new().fg(Color::Yellow),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        fit(&hint_line(Context::Confirm), inner_width),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    let height = (lines.len() as u16 + 2).min(area.height);
    let inner = popup(frame, area, width, height, &confirm.title);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A box of text showing its tail, `scroll` lines up from the end.
fn text_box(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: &[String],
    scroll: usize,
    hint: &str,
) {
    let width = area.width.saturating_sub(4).min(120);
    let height = area
        .height
        .saturating_sub(4)
        .min(lines.len() as u16 + 3)
        .max(5);
    let inner = popup(frame, area, width, height, title);
    let room = usize::from(inner.height.saturating_sub(1));
    // Wrapped here, not by the widget, so the tail really is the tail.
    let wrapped: Vec<String> = lines
        .iter()
        .flat_map(|l| wrap(l, usize::from(inner.width)))
        .collect();
    let end = wrapped.len().saturating_sub(scroll);
    let start = end.saturating_sub(room);
    let mut shown: Vec<Line> = wrapped[start..end]
        .iter()
        .map(|l| Line::raw(l.clone()))
        .collect();
    if lines.is_empty() {
        shown.push(Line::styled("(nothing yet)", dim()));
    }
    frame.render_widget(
        Paragraph::new(shown),
        Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        },
    );
    frame.render_widget(
        Paragraph::new(Line::styled(hint.to_string(), dim())),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        ),
    );
}

/// The lab's README from source line `scroll` on, wrapped to the box.
fn readme(frame: &mut Frame, area: Rect, app: &App, scroll: usize) {
    let Some((lab, readme)) = app
        .lab
        .as_ref()
        .and_then(|lab| lab.readme.as_ref().map(|r| (lab, r)))
    else {
        return;
    };
    let width = area.width.saturating_sub(4).min(100);
    let height = area.height.saturating_sub(2);
    let inner = popup(
        frame,
        area,
        width,
        height,
        &format!("README · {}", lab.title),
    );
    let room = usize::from(inner.height.saturating_sub(1));
    let text_width = usize::from(inner.width);
    let lines: Vec<Line> = readme
        .lines
        .iter()
        .skip(scroll)
        .flat_map(|l| wrap_indented(l, text_width))
        .take(room)
        .map(|l| {
            if l.starts_with('#') {
                Line::styled(l, Style::new().add_modifier(Modifier::BOLD))
            } else {
                Line::raw(l)
            }
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        },
    );
    let position = format!(
        "line {} of {}  ",
        (scroll + 1).min(readme.lines.len()),
        readme.lines.len()
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(
                &format!("{position}{}", hint_line(Context::Readme)),
                text_width,
            ),
            dim(),
        )),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        ),
    );
}

/// Wraps a line and indents its continuation rows as the line itself is
/// indented, so list items and code keep their shape.
fn wrap_indented(line: &str, width: usize) -> Vec<String> {
    let text = line.trim_start_matches(' ');
    let indent = (line.len() - text.len()).min(width / 2);
    let pad = " ".repeat(indent);
    wrap(text, width - indent)
        .into_iter()
        .map(|row| format!("{pad}{row}"))
        .collect()
}

fn teardown(frame: &mut Frame, area: Rect, app: &App) {
    let width = area.width.saturating_sub(4).min(90);
    let inner_width = usize::from(width.saturating_sub(2));
    let mut lines = Vec::new();
    for text in &app.teardown_lines {
        let text = text.trim_start_matches("teardown: ");
        let (mark, style) = if text.starts_with("FAILED") {
            ("✘ ", error_style())
        } else {
            ("✔ ", ok_style())
        };
        lines.push(Line::from(vec![
            Span::styled(mark, style),
            Span::raw(fit(text, inner_width.saturating_sub(2))),
        ]));
    }
    match &app.teardown_report {
        None => lines.push(Line::styled(
            "removing what this session created…",
            Style::new().fg(Color::Yellow),
        )),
        Some(report) if report.steps.is_empty() => {
            lines.push(Line::styled("nothing to remove", dim()))
        }
        Some(report) if report.all_ok() => {
            lines.push(Line::styled("everything removed", ok_style()))
        }
        Some(_) => lines.push(Line::styled(
            "some resources remain: run `dmbench cleanup`",
            error_style(),
        )),
    }
    let room = usize::from(area.height.saturating_sub(4));
    let skip = lines.len().saturating_sub(room);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let title = match &app.info {
        Some(info) => format!("Tearing down session {}", info.id),
        None => "Tearing down".to_string(),
    };
    let inner = popup(frame, area, width, height, &title);
    frame.render_widget(Paragraph::new(lines), inner);
}
