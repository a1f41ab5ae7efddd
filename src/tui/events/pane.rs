//! The Events pane: kernel log records coloured by level, DM events, the
//! session's action log and the UI's notes, in arrival order; folded
//! repeats show their count. Only the lines that fit are looked at.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::log::{Entry, Source};
use crate::tui::app::{App, PaneId};
use crate::tui::keys::{Context, hint_line};
use crate::tui::widgets::{dim, fit, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let log = &app.events;
    let mut title = vec![Span::raw(format!("{} ", log.filter.label()))];
    if log.is_paused() {
        title.push(Span::styled(
            if log.scroll > 0 {
                format!("PAUSED ↑{} ", log.scroll)
            } else {
                "PAUSED ".to_string()
            },
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(query) = &log.search {
        title.push(Span::styled(
            format!("/{query} ({}) ", log.search_count()),
            Style::new().fg(Color::Cyan),
        ));
    }
    title.push(Span::styled(
        format!("{} lines, {} records", log.len(), log.received),
        dim(),
    ));
    let block = pane_block(
        PaneId::Events,
        app.focus == PaneId::Events,
        Line::from(title),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let input_row = app.search_input.is_some();
    let height = usize::from(inner.height) - usize::from(input_row);
    let width = usize::from(inner.width);
    let lines: Vec<Line> = log
        .visible(height)
        .into_iter()
        .map(|e| entry_line(e, log.matches_search(e), width))
        .collect();
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: height as u16,
            ..inner
        },
    );
    if let Some(input) = &app.search_input {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("/{input}▏  ({})", hint_line(Context::Search)),
                Style::new().fg(Color::Cyan),
            )),
            Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
        );
    }
}

fn level_style(level: u8) -> Style {
    match level {
        0..=3 => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        4 => Style::new().fg(Color::Yellow),
        5 => Style::new().fg(Color::Cyan),
        6 => Style::new(),
        _ => dim(),
    }
}

fn entry_line(entry: &Entry, matched: bool, width: usize) -> Line<'static> {
    let (prefix, style) = match entry.source {
        Source::Kernel(level) => (
            match entry.ts_us {
                Some(us) => format!("[{:>5}.{:06}] ", us / 1_000_000, us % 1_000_000),
                None => "[kernel] ".into(),
            },
            level_style(level),
        ),
        Source::Dm => ("dm event ".into(), Style::new().fg(Color::Magenta)),
        Source::Action => ("» ".into(), Style::new().fg(Color::Green)),
        Source::Console => ("vm│ ".into(), dim()),
        Source::Lost => ("!! ".into(), Style::new().fg(Color::Yellow)),
        Source::Note { error: true } => ("✘ ".into(), Style::new().fg(Color::Red)),
        Source::Note { error: false } => ("· ".into(), Style::new().fg(Color::Blue)),
    };
    let gutter = if matched { "▌" } else { " " };
    let count = if entry.count > 1 {
        format!(" … ×{}", entry.count)
    } else {
        String::new()
    };
    let room = width.saturating_sub(1 + prefix.chars().count() + count.chars().count());
    let mut text_style = style;
    if matched {
        text_style = text_style
            .bg(Color::Indexed(236))
            .add_modifier(Modifier::BOLD);
    }
    Line::from(vec![
        Span::styled(gutter, Style::new().fg(Color::Cyan)),
        Span::styled(prefix, dim()),
        Span::styled(fit(&entry.text, room), text_style),
        Span::styled(
            count,
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
    ])
}
