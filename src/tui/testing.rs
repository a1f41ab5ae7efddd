//! What tests and benchmarks need: rendering a state to text, a harness
//! that drives the real worker over a Session on the fake executor, key
//! scripts, and the frame-render benchmark hook.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::error::TryRecvError;

use crate::exec::Placement;
use crate::exec::fake::FakeExecutor;
use crate::exec::protocol::{Event, KmsgRecord};
use crate::kbuild::{Builder, BuiltModule};
use crate::lab::engine::LabContext;
use crate::lab::model::Lab;
use crate::lab::roots::SourceRoots;
use crate::session::{Session, SessionOptions};

use super::action::{Command, Job, Update};
use super::app::App;
use super::lab::LabView;
use super::worker::{self, SessionFactory, WorkerConfig, WorkerHandle};
use super::{keys, ui};

/// Draws `app` on a `width` x `height` test terminal and returns the
/// screen as text, one line per row, trailing spaces removed.
pub fn render_to_string(app: &App, width: u16, height: u16) -> String {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let _ = terminal.draw(|frame| ui::draw(frame, app));
    buffer_text(terminal.backend().buffer())
}

fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            if let Some(cell) = buffer.cell((x, y)) {
                line.push_str(cell.symbol());
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// An app holding `events` kernel-log records that do not fold (as after
/// a flood), ready to draw.
pub fn flood_app(events: usize) -> App {
    let mut app = App::new(PathBuf::from("/project"), Vec::new(), Placement::Vm);
    for i in 0..events {
        app.apply(Update::Event(Event::Kmsg(KmsgRecord {
            seq: i as u64,
            level: (i % 8) as u8,
            ts_us: i as u64 * 50,
            text: format!("basic_target: write request: sector {i} size 512"),
        })));
    }
    app
}

/// Benchmark hook: renders `frames` frames at 160x48 from a state with
/// 10,000 events and returns the mean time per frame.
pub fn bench_render(frames: u32) -> Duration {
    let app = flood_app(10_000);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let frames = frames.max(1);
    let started = Instant::now();
    for _ in 0..frames {
        let _ = terminal.draw(|frame| ui::draw(frame, &app));
    }
    started.elapsed() / frames
}

/// A session over the fake executor, created on the worker as in real use.
pub fn fake_session_factory() -> SessionFactory {
    Box::new(|events| {
        Session::open(
            |sink| Ok(Box::new(FakeExecutor::new(sink))),
            events,
            SessionOptions {
                work_dir: PathBuf::from("/tmp/dmbench-ui"),
                ledger_dir: None,
            },
        )
    })
}

/// A builder that "builds" `<name>.ko` into `out` without a kernel tree.
pub fn fake_builder(out: PathBuf, name: &'static str) -> Builder {
    Arc::new(
        move |source: &Path, _kdir: &Path, on_line: &mut dyn FnMut(&str)| {
            on_line(&format!("make -C /kdir M={} modules", source.display()));
            on_line(&format!("  CC [M]  {}/{name}.o", source.display()));
            on_line(&format!("  LD [M]  {}/{name}.ko", source.display()));
            let path = out.join(format!("{name}.ko"));
            std::fs::write(&path, b"\x7fELF fake module")?;
            Ok(BuiltModule {
                name: name.to_string(),
                path,
                duration: Duration::from_millis(2700),
                warnings: Vec::new(),
                cached: false,
                others: Vec::new(),
            })
        },
    )
}

/// Parses a key script: characters stand for themselves; `<Enter>`,
/// `<Esc>`, `<Tab>`, `<BackTab>`, `<Up>`, `<Down>`, `<Left>`, `<Right>`,
/// `<S-Left>`, `<S-Right>`, `<Home>`, `<End>`, `<PgUp>`, `<PgDn>`,
/// `<Del>`, `<BS>`, `<Space>`, `<C-c>` name special keys.
pub fn parse_keys(script: &str) -> Vec<KeyEvent> {
    let mut keys = Vec::new();
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && let Some(key) = named_key(&rest[1..end])
        {
            keys.push(key);
            rest = &rest[end + 1..];
            continue;
        }
        keys.push(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        rest = &rest[c.len_utf8()..];
    }
    keys
}

fn named_key(name: &str) -> Option<KeyEvent> {
    let plain = |code| Some(KeyEvent::new(code, KeyModifiers::NONE));
    match name {
        "Enter" => plain(KeyCode::Enter),
        "Esc" => plain(KeyCode::Esc),
        "Tab" => plain(KeyCode::Tab),
        "BackTab" => Some(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
        "Up" => plain(KeyCode::Up),
        "Down" => plain(KeyCode::Down),
        "Left" => plain(KeyCode::Left),
        "Right" => plain(KeyCode::Right),
        "S-Left" => Some(KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT)),
        "S-Right" => Some(KeyEvent::new(KeyCode::Right, KeyModifiers::SHIFT)),
        "Home" => plain(KeyCode::Home),
        "End" => plain(KeyCode::End),
        "PgUp" => plain(KeyCode::PageUp),
        "PgDn" => plain(KeyCode::PageDown),
        "Del" => plain(KeyCode::Delete),
        "BS" => plain(KeyCode::Backspace),
        "Space" => plain(KeyCode::Char(' ')),
        "C-c" => Some(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        _ => None,
    }
}

/// The UI state driven by the real worker over a real Session on the fake
/// executor, synchronously: every key is followed by waiting until the
/// worker has answered everything it was sent.
pub struct Harness {
    pub app: App,
    worker: Option<WorkerHandle>,
    updates: UnboundedReceiver<Update>,
    next_sync: u64,
    /// Holds the fake build output.
    _scratch: Option<tempfile_dir::Dir>,
}

/// A scratch directory removed on drop (no dev-dependency needed here,
/// since the benchmark binary uses this module too).
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> std::io::Result<Dir> {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // Fixed-width name: snapshots mask it without moving columns.
            let path = std::env::temp_dir().join(format!(
                "dmbench-ui-{:010}-{:020}",
                std::process::id(),
                nanos % 10u128.pow(20)
            ));
            std::fs::create_dir_all(path.join("kmod/rust"))?;
            std::fs::create_dir_all(path.join("kmod/c"))?;
            Ok(Dir(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// How long the harness waits for the worker before giving up.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

impl Harness {
    /// A ready session with no kmod sources.
    pub fn new() -> Harness {
        Harness::start(
            App::new(PathBuf::from("/project"), Vec::new(), Placement::Vm),
            None,
            None,
        )
    }

    /// A ready session whose project has `kmod/rust` and `kmod/c`; builds
    /// produce a fake `basic_target.ko`.
    pub fn with_sources() -> Harness {
        Harness::project(None)
    }

    /// As `with_sources`, showing `lab` in the Lab pane; `n` runs its steps
    /// on the worker through the step engine.
    pub fn with_lab(lab: Lab) -> Harness {
        Harness::project(Some(lab))
    }

    fn project(lab: Option<Lab>) -> Harness {
        match tempfile_dir::Dir::new() {
            Ok(dir) => {
                let root = dir.path().to_path_buf();
                let sources = vec![root.join("kmod/rust"), root.join("kmod/c")];
                let mut app = App::new(root, sources, Placement::Vm);
                if let Some(lab) = &lab {
                    app = app.with_lab(LabView::from_lab(lab), None);
                }
                Harness::start(app, Some(dir), lab)
            }
            Err(_) => Harness::new(),
        }
    }

    /// Starts the worker for a prepared app.
    pub fn start_with(app: App) -> Harness {
        Harness::start(app, None, None)
    }

    fn start(app: App, scratch: Option<tempfile_dir::Dir>, lab: Option<Lab>) -> Harness {
        let out = scratch
            .as_ref()
            .map_or_else(std::env::temp_dir, |d| d.path().to_path_buf());
        let (tx, updates) = tokio::sync::mpsc::unbounded_channel();
        let worker = worker::spawn(
            fake_session_factory(),
            tx,
            WorkerConfig {
                context: LabContext {
                    roots: SourceRoots::fixed(app.project_root.clone()),
                    kdir: Some(PathBuf::from("/kdir")),
                    builder: fake_builder(out, "basic_target"),
                },
                lab,
                stats_interval: None,
            },
        );
        let mut harness = Harness {
            app,
            worker: Some(worker),
            updates,
            next_sync: 1,
            _scratch: scratch,
        };
        harness.settle();
        harness
    }

    /// Hands queued commands to the worker and applies everything it sends
    /// until it has caught up (builds included).
    pub fn settle(&mut self) {
        let deadline = Instant::now() + SETTLE_LIMIT;
        loop {
            let jobs = self.app.take_outbox();
            let Some(worker) = &self.worker else {
                return;
            };
            for job in jobs {
                worker.send(job);
            }
            let n = self.next_sync;
            self.next_sync += 1;
            worker.send(Job {
                ticket: 0,
                command: Command::Sync(n),
            });
            while self.app.synced < n {
                if !self.receive(deadline) {
                    return;
                }
            }
            // Builds finish on their own thread and come back as jobs.
            let building = self
                .app
                .modules
                .sources
                .iter()
                .any(|s| s.state == super::module::BuildState::Building)
                || !self.app.busy.is_empty();
            if self.app.has_outbox() || building {
                if building && !self.receive(deadline) {
                    return;
                }
                continue;
            }
            return;
        }
    }

    /// Applies one update, waiting for it; false at the deadline or when
    /// the worker is gone.
    fn receive(&mut self, deadline: Instant) -> bool {
        loop {
            match self.updates.try_recv() {
                Ok(update) => {
                    self.app.apply(update);
                    return true;
                }
                Err(TryRecvError::Disconnected) => {
                    self.app.worker_gone();
                    return false;
                }
                Err(TryRecvError::Empty) if Instant::now() >= deadline => return false,
                Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Presses the keys of a script (see [`parse_keys`]), letting the
    /// worker catch up after each.
    pub fn keys(&mut self, script: &str) {
        for key in parse_keys(script) {
            keys::handle_key(&mut self.app, key);
            self.settle();
        }
    }

    /// Feeds an executor event as if the session had sent it.
    pub fn event(&mut self, event: Event) {
        self.app.apply(Update::Event(event));
    }

    /// The screen as text, with the session id (time-based) replaced so
    /// snapshots are stable.
    pub fn render(&self, width: u16, height: u16) -> String {
        let mut text = render_to_string(&self.app, width, height);
        if let Some(info) = &self.app.info {
            text = mask(&text, &info.id, "dmb");
        }
        // The scratch project lives in a temporary directory.
        if let Some(dir) = &self._scratch {
            text = mask(&text, &dir.path().display().to_string(), "/scratch-");
        }
        text
    }

    /// Quits as `q` does and waits for the teardown to finish.
    pub fn quit(&mut self) {
        self.app.request_quit();
        self.settle_until_done();
    }

    fn settle_until_done(&mut self) {
        let deadline = Instant::now() + SETTLE_LIMIT;
        if let Some(worker) = &self.worker {
            for job in self.app.take_outbox() {
                worker.send(job);
            }
        }
        while !self.app.should_exit() {
            if !self.receive(deadline) {
                break;
            }
        }
        if let Some(worker) = self.worker.take() {
            worker.join();
        }
    }
}

/// Replaces `secret` (and any prefix of it cut short with '…') by `keep`
/// padded with 'X' to the same length, so nothing else on a line moves.
fn mask(text: &str, secret: &str, keep: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let masked =
        |n: usize| -> String { keep.chars().chain(std::iter::repeat('X')).take(n).collect() };
    let mut out = text.replace(secret, &masked(chars.len()));
    for n in (3..chars.len()).rev() {
        let prefix: String = chars[..n].iter().collect();
        out = out.replace(&format!("{prefix}…"), &format!("{}…", masked(n)));
    }
    out
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Dropping the worker handle tears the session down.
        self.worker.take();
    }
}
