//! The Module pane: kmod sources with their build state, and whether the
//! module they build is loaded.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::model::BuildState;
use crate::tui::app::{App, PaneId};
use crate::tui::keys::pane_hint_line;
use crate::tui::widgets::{dim, error_style, fit, hints, ok_style, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane_block(PaneId::Module, app.focus == PaneId::Module, "");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    if app.modules.sources.is_empty() {
        lines.push(Line::styled(
            fit(
                &format!(
                    "no kmod/rust or kmod/c under {}",
                    app.project_root.display()
                ),
                width,
            ),
            dim(),
        ));
    }
    for (i, source) in app.modules.sources.iter().enumerate() {
        let selected = app.focus == PaneId::Module && i == app.modules.selected;
        let marker = if selected { "▸ " } else { "  " };
        let mut head = Style::new().add_modifier(Modifier::BOLD);
        if selected {
            head = head.add_modifier(Modifier::REVERSED);
        }
        let (state, style) = match &source.state {
            BuildState::NotBuilt if !source.declares.is_empty() => {
                (format!("{} · not built", source.declares.join(" ")), dim())
            }
            BuildState::NotBuilt => ("not built".to_string(), dim()),
            BuildState::Building => (
                format!(
                    "building… {}",
                    source.log.back().map(String::as_str).unwrap_or("")
                ),
                Style::new().fg(Color::Yellow),
            ),
            BuildState::Built(info) => {
                let loaded = app
                    .state
                    .modules
                    .iter()
                    .any(|m| m.name == info.name && m.loaded);
                (
                    format!(
                        "{} built in {:.1}s{}{}",
                        info.name,
                        info.duration.as_secs_f64(),
                        match info.warnings.len() {
                            0 => String::new(),
                            n => format!(", {n} warning(s)"),
                        },
                        if loaded {
                            " · loaded"
                        } else {
                            " · not loaded"
                        }
                    ),
                    if loaded { ok_style() } else { Style::new() },
                )
            }
            BuildState::Failed(e) => (
                format!("FAILED: {}", e.lines().next().unwrap_or_default()),
                error_style(),
            ),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{:<5}", source.label), head),
            Span::styled(
                fit(
                    &format!(
                        " {}",
                        source
                            .path
                            .strip_prefix(&app.project_root)
                            .unwrap_or(&source.path)
                            .display()
                    ),
                    width.saturating_sub(7),
                ),
                dim(),
            ),
        ]));
        lines.push(Line::styled(fit(&format!("    {state}"), width), style));
    }
    // Modules the session knows that no listed source built.
    for module in &app.state.modules {
        let from_source = app
            .modules
            .sources
            .iter()
            .any(|s| s.module_name() == Some(module.name.as_str()));
        if !from_source {
            lines.push(Line::styled(
                fit(
                    &format!(
                        "  {} {}",
                        module.name,
                        if module.loaded {
                            "loaded"
                        } else {
                            "not loaded"
                        }
                    ),
                    width,
                ),
                if module.loaded {
                    ok_style()
                } else {
                    Style::new()
                },
            ));
        }
    }
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), body);
    frame.render_widget(
        Paragraph::new(hints(&pane_hint_line(app, PaneId::Module, width))),
        Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
    );
}
