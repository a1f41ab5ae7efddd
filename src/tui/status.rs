//! The status line (executor, kernel, session, what is running or the last
//! outcome, key hints) and the tab bar of the narrow layout.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Phase};
use super::keys::status_hint_line;
use super::widgets::fit;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let base = Style::new().bg(Color::Indexed(236)).fg(Color::White);
    // Narrow terminals drop the words and the pane hint, never the way out.
    let roomy = area.width >= 120;
    let mut spans = Vec::new();
    match (&app.phase, &app.info) {
        (Phase::Starting, _) => spans.push(Span::styled(
            if app.executor_hint == crate::exec::Placement::Vm {
                " starting sandbox VM… "
            } else {
                " starting session… "
            },
            base.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )),
        (Phase::Failed(_), _) => spans.push(Span::styled(
            " no session ",
            base.fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
        (_, Some(info)) => {
            spans.push(Span::styled(
                format!(" {} ", info.executor),
                base.add_modifier(Modifier::BOLD).fg(Color::Cyan),
            ));
            spans.push(Span::styled(
                if roomy {
                    format!("│ kernel {} │ session {} ", info.kernel, info.id)
                } else {
                    format!("│ {} │ {} ", info.kernel, info.id)
                },
                base,
            ));
        }
        (_, None) => {}
    }
    let right = match app.phase {
        Phase::Quitting => " tearing down… ".to_string(),
        _ if roomy => format!(" {} ", status_hint_line(app, Some(app.focus), usize::MAX)),
        _ => format!(
            " {} ",
            status_hint_line(app, None, usize::from(area.width) / 5)
        ),
    };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(used + right.chars().count());
    let middle = if let Some((_, what)) = app.busy.first() {
        let more = app.busy.len() - 1;
        Span::styled(
            fit(
                &format!(
                    "│ ⧗ {what}…{}",
                    if more > 0 {
                        format!(" (+{more})")
                    } else {
                        String::new()
                    }
                ),
                room,
            ),
            base.fg(Color::Yellow),
        )
    } else if let Some(notice) = &app.status {
        Span::styled(
            fit(&format!("│ {}", notice.text()), room),
            if notice.is_error() {
                base.fg(Color::LightRed)
            } else {
                base.fg(Color::Green)
            },
        )
    } else {
        Span::styled("", base)
    };
    let middle_len = middle.content.chars().count();
    spans.push(middle);
    spans.push(Span::styled(
        " ".repeat(room.saturating_sub(middle_len)),
        base,
    ));
    spans.push(Span::styled(right, base.fg(Color::Gray)));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}

pub fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let mut spans = Vec::new();
    for pane in app.visible_panes() {
        let style = if pane == app.focus {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Gray)
        };
        spans.push(Span::styled(
            format!(" {} {} ", pane.digit(), pane.title()),
            style,
        ));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
