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
use crate::tui::widgets::{dim, error_style, fit, hints, ok_style, pane_block, wrap};

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
    // Under the title, what the lab is about: one line at least, up to
    // three when every step fits as well.
    let summary = match lab.summary_text() {
        "" => Vec::new(),
        text => wrap(text, width),
    };
    let spare = usize::from(inner.height).saturating_sub(1 + lab.steps.len() + 2 + 1);
    let summary_rows = if summary.is_empty() || inner.height < 6 {
        0
    } else {
        spare.clamp(1, 3).min(summary.len())
    };
    let mut header = vec![Line::styled(
        fit(&lab.title, width),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for (i, text) in summary.iter().take(summary_rows).enumerate() {
        let cut = i + 1 == summary_rows && summary.len() > summary_rows;
        let text = if cut {
            fit(&format!("{text} …"), width)
        } else {
            text.clone()
        };
        header.push(Line::styled(text, dim()));
    }
    let header_height = header.len() as u16;
    frame.render_widget(
        Paragraph::new(header),
        Rect {
            height: header_height.min(inner.height),
            ..inner
        },
    );
    let current = lab.current();
    let mut lines = Vec::new();
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
    let room = inner.height.saturating_sub(3 + header_height).max(1);
    let step_rows = (lines.len() as u16).min(room);
    // Scroll only when the steps do not fit, keeping the selected one in
    // view.
    let skip = if lab.steps.len() <= usize::from(step_rows) {
        0
    } else {
        (lab.selected + 1).saturating_sub(usize::from(step_rows))
    };
    let shown: Vec<Line> = lines.into_iter().skip(skip).collect();
    let list_height = header_height + step_rows;
    frame.render_widget(
        Paragraph::new(shown),
        Rect {
            y: inner.y + header_height,
            height: step_rows.min(inner.height.saturating_sub(header_height)),
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
        Paragraph::new(hints(&pane_hint_line(app, PaneId::Lab, width))),
        Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
    );
}
