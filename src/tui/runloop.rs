//! The UI loop: terminal input, worker updates and signals in, frames
//! out. Updates are applied as they come but drawn at most every
//! [`FRAME`], so a flood of kernel-log events costs one frame per tick,
//! not one per event.

use std::time::Duration;

use anyhow::Result;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::error::TryRecvError;

use super::action::Update;
use super::app::App;
use super::worker::WorkerHandle;
use super::{keys, mouse, ui};

/// ~30 frames per second at most.
pub const FRAME: Duration = Duration::from_millis(33);

/// Updates applied per batch before the loop looks at input again.
const BATCH: usize = 50_000;

/// Applies every update already waiting (up to a batch); returns false
/// when the worker's channel has closed.
pub fn drain(app: &mut App, updates: &mut UnboundedReceiver<Update>) -> bool {
    for _ in 0..BATCH {
        match updates.try_recv() {
            Ok(update) => app.apply(update),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
    true
}

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    worker: &WorkerHandle,
    updates: &mut UnboundedReceiver<Update>,
) -> Result<()>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    let mut input_open = true;
    loop {
        tokio::select! {
            event = input.next(), if input_open => match event {
                Some(Ok(TermEvent::Key(key))) => keys::handle_key(app, key),
                Some(Ok(TermEvent::Mouse(m))) => {
                    let size = terminal.size()?;
                    mouse::handle_mouse(app, m, Rect::new(0, 0, size.width, size.height));
                }
                Some(Ok(_)) => {}
                // The terminal is gone: nobody can press q any more.
                Some(Err(_)) | None => {
                    input_open = false;
                    app.request_quit();
                }
            },
            update = updates.recv(), if app.worker_alive => match update {
                Some(update) => {
                    app.apply(update);
                    if !drain(app, updates) {
                        app.worker_gone();
                    }
                }
                None => app.worker_gone(),
            },
            _ = terminate.recv() => app.request_quit(),
            _ = interrupt.recv() => app.request_quit(),
            _ = hangup.recv() => app.request_quit(),
            _ = tick.tick() => {
                if dirty {
                    // A vanished terminal must not stop the teardown.
                    if terminal.draw(|frame| ui::draw(frame, app)).is_err() {
                        input_open = false;
                        app.request_quit();
                    }
                    dirty = false;
                }
                for job in app.take_outbox() {
                    if !worker.send(job) {
                        app.worker_gone();
                    }
                }
                if app.should_exit() {
                    return Ok(());
                }
                continue;
            }
        }
        dirty = true;
        for job in app.take_outbox() {
            if !worker.send(job) {
                app.worker_gone();
            }
        }
        if app.should_exit() {
            // One last frame with the teardown result.
            let _ = terminal.draw(|frame| ui::draw(frame, app));
            return Ok(());
        }
    }
}
