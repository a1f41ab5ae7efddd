//! The Lab pane: the lab's steps with live check marks, and the note of
//! the selected step.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::view::StepState;
use crate::tui::app::{App, PaneId};
use crate::tui::keys::pane_hint_line;
use crate::tui::widgets::{dim, error_style, fit, hints, keep_header_skip, ok_style, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(lab) = &app.lab else {
        let block = pane_block(PaneId::Lab, app.focus == PaneId::Lab, "");
        frame.render_widget(Paragraph::new("no lab").block(block), area);
        return;
    };
    let block = pane_block(
        PaneId::Lab,
        app.focus == PaneId::Lab,
        format!("{}/{} passed", lab.passed(), lab.steps.len()),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = vec![Line::styled(
        fit(&lab.title, width),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    let current = lab.current();
    for (i, step) in lab.steps.iter().enumerate() {
        let (mark, style) = match &step.state {
            StepState::Passed => ("✔", ok_style()),
            StepState::Failed(_) => ("✘", error_style()),
            StepState::Running => ("▶", Style::new().fg(Color::Yellow)),
            StepState::Pending if Some(i) == current => ("›", Style::new().fg(Color::Cyan)),
            StepState::Pending => ("·", dim()),
        };
        let mut text_style = if step.state == StepState::Passed {
            dim()
        } else {
            Style::new()
        };
        if i == lab.selected && app.focus == PaneId::Lab {
            text_style = text_style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(
                fit(
                    &format!("{:>2} {}", i + 1, step.label),
                    width.saturating_sub(2),
                ),
                text_style,
            ),
        ]));
    }
    // Below the list: two lines for the selected step's note, the hints.
    let room = inner.height.saturating_sub(3).max(2);
    let list_height = (lines.len() as u16).min(room);
    // Scroll only when the steps do not fit, keeping the selected one in
    // view.
    let step_rows = usize::from(list_height).saturating_sub(1);
    let skip = if lab.steps.len() <= step_rows {
        0
    } else {
        (lab.selected + 1).saturating_sub(step_rows)
    };
    let shown = keep_header_skip(lines, skip);
    frame.render_widget(
        Paragraph::new(shown),
        Rect {
            height: list_height,
            ..inner
        },
    );
    // The selected step's note or failure, below the list.
    let detail_area = Rect {
        y: inner.y + list_height,
        height: inner.height.saturating_sub(list_height + 1),
        ..inner
    };
    if let Some(step) = lab.steps.get(lab.selected) {
        let mut detail = Vec::new();
        if let StepState::Failed(reason) = &step.state {
            detail.push(Line::styled(format!("✘ {reason}"), error_style()));
        }
        if let Some(note) = &step.note {
            detail.push(Line::styled(note.clone(), dim()));
        }
        frame.render_widget(
            Paragraph::new(detail).wrap(Wrap { trim: true }),
            detail_area,
        );
    }
    frame.render_widget(
        Paragraph::new(hints(&pane_hint_line(PaneId::Lab, width))),
        Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
    );
}
