//! Actions of the shell itself: quitting, the help box, moving the focus,
//! closing a box, and Esc's "never mind".

use crate::tui::app::{App, Overlay, PaneId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellAction {
    Quit,
    Help,
    FocusNext,
    FocusPrevious,
    Focus(PaneId),
    /// Esc with no prompt open: cancel the running probe, else clear the
    /// status line's message.
    Dismiss,
    /// Closes whatever box is open.
    Close,
    HelpUp,
    HelpDown,
}

pub fn perform(app: &mut App, action: ShellAction) -> bool {
    match action {
        ShellAction::Quit => app.request_quit(),
        ShellAction::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        ShellAction::FocusNext => cycle_focus(app, true),
        ShellAction::FocusPrevious => cycle_focus(app, false),
        ShellAction::Focus(pane) => {
            if app.visible_panes().contains(&pane) {
                app.focus = pane;
            }
        }
        ShellAction::Dismiss => {
            if !app.cancel_probe() {
                app.status = None;
            }
        }
        ShellAction::Close => app.overlay = None,
        ShellAction::HelpUp | ShellAction::HelpDown => {
            if let Some(Overlay::Help { scroll }) = &mut app.overlay {
                *scroll = if action == ShellAction::HelpDown {
                    *scroll + 1
                } else {
                    scroll.saturating_sub(1)
                };
            }
        }
    }
    true
}

fn cycle_focus(app: &mut App, forward: bool) {
    let panes = app.visible_panes();
    let n = panes.len();
    let i = panes.iter().position(|p| *p == app.focus).unwrap_or(0);
    app.focus = panes[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
}
