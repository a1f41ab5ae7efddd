//! Drawing helpers every pane shares: the pane frame, hint lines, styles,
//! and text fitting. Drawing code takes `&App` and paints; none of it
//! changes state or does I/O.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::app::PaneId;

/// A pane's frame: the digit that focuses it in the title, a bold double
/// border when focused.
pub fn pane_block<'a>(id: PaneId, focused: bool, extra: impl Into<Line<'a>>) -> Block<'a> {
    let mut title = vec![Span::styled(
        format!(" {} {} ", id.digit(), id.title()),
        if focused {
            Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        },
    )];
    let extra: Line = extra.into();
    if !extra.spans.is_empty() {
        title.push(Span::raw("· "));
        title.extend(extra.spans);
        title.push(Span::raw(" "));
    }
    Block::bordered()
        .border_type(if focused {
            BorderType::Double
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            Style::new().fg(Color::Cyan)
        } else {
            Style::new().fg(Color::DarkGray)
        })
        .title(Line::from(title))
}

/// Scrolls a list that starts with a header row: the header stays, the
/// `skip` rows after it are left out.
pub fn keep_header_skip<'a>(lines: Vec<Line<'a>>, skip: usize) -> Vec<Line<'a>> {
    lines
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i > skip)
        .map(|(_, l)| l)
        .collect()
}

/// Key hints at the bottom of a pane, dim.
pub fn hints(text: &str) -> Line<'static> {
    Line::styled(text.to_string(), Style::new().fg(Color::DarkGray))
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn error_style() -> Style {
    Style::new().fg(Color::Red)
}

pub fn ok_style() -> Style {
    Style::new().fg(Color::Green)
}

/// The colour the catalog gives a target type.
pub fn target_colour(target: &str) -> Color {
    crate::table::catalog::colour_for(target)
        .parse()
        .unwrap_or(Color::White)
}

/// A rectangle of `width` x `height` centred in `area` (clamped).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Cuts text to `width` characters, marking the cut with '…'.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Durations in the unit that keeps them short: ns, µs, ms, s.
pub fn nanos(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => format!("{:.0}µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}ms", ns as f64 / 1e6),
        _ => format!("{:.2}s", ns as f64 / 1e9),
    }
}

/// Breaks text into lines of at most `width` characters, at spaces where
/// possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = current.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            current.push(' ');
            current.extend(word);
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > width {
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        current = word.into_iter().collect();
    }
    lines.push(current);
    lines
}
