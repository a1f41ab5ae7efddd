//! The key table: every key the UI answers, where it works, what it does,
//! and the words that explain it. Dispatch, the help box (`?`) and the
//! hint lines under panes and prompts are all read from [`BINDINGS`], so
//! adding a key is adding a line here (and, for a new action, its arm in
//! the feature's `keys.rs`).
//!
//! Text typed into a form, a picker or the events search is not in the
//! table: a printable character that no binding of the open prompt takes
//! is typed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use crate::tui::app::PaneId;
use crate::tui::composer::keys::ComposerAction as Composer;
use crate::tui::disks::keys::DisksAction as Disks;
use crate::tui::events::keys::EventsAction as Events;
use crate::tui::lab::keys::LabAction as Lab;
use crate::tui::module::keys::ModuleAction as Module;
use crate::tui::probes::keys::ProbesAction as Probes;
use crate::tui::prompt::keys::{FormAction as Form, PickerAction as Picker};

use super::shell::ShellAction as Shell;

/// Where a binding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Before anything else, even in a prompt: the way out.
    Always,
    /// With no prompt open, for keys the focused pane does not take.
    Global,
    /// The focused pane, before the global keys.
    Pane(PaneId),
    Form,
    Picker,
    /// The events search being typed.
    Search,
    /// The help box.
    Help,
    BuildLog,
    /// A lab step's output, and other command output.
    Output,
    /// The lab's README.
    Readme,
    /// The reload diff, waiting for a yes or no.
    Confirm,
}

impl Context {
    /// The first column of the help box.
    pub fn label(self) -> &'static str {
        match self {
            Context::Always | Context::Global => "anywhere",
            Context::Pane(pane) => pane.title(),
            Context::Form => "form",
            Context::Picker => "picker",
            Context::Search => "search",
            Context::Help => "help",
            Context::BuildLog => "build log",
            Context::Output => "output",
            Context::Readme => "README",
            Context::Confirm => "reload",
        }
    }

    /// Contexts where unbound printable characters are typed as text.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::Form | Context::Picker | Context::Search)
    }
}

/// A key and the modifiers that matter for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    pub const fn shift(code: KeyCode) -> Key {
        Key {
            code,
            modifiers: KeyModifiers::SHIFT,
        }
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }

    /// The key a terminal event stands for. Shift is part of a character
    /// (`G`, `?`) and of Shift-Tab already, so it is dropped there; Ctrl
    /// and Alt stay.
    pub fn from_event(event: &KeyEvent) -> Key {
        let mut modifiers =
            event.modifiers & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
        if matches!(event.code, KeyCode::Char(_) | KeyCode::BackTab) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        Key {
            code: event.code,
            modifiers,
        }
    }

    /// How the help box writes the key.
    pub fn label(self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "BS".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        };
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", name.to_uppercase())
        } else if self.modifiers.contains(KeyModifiers::ALT) {
            format!("Alt-{name}")
        } else if self.modifiers.contains(KeyModifiers::SHIFT) {
            format!("S-{name}")
        } else {
            name
        }
    }

    /// How a hint line writes the key (Enter is a glyph there).
    pub fn short_label(self) -> String {
        match (self.code, self.modifiers) {
            (KeyCode::Enter, KeyModifiers::NONE) => "⏎".into(),
            _ => self.label(),
        }
    }
}

/// Whether and where a binding is hinted, beside being in the help box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    No,
    /// On the hint line of the binding's own pane or prompt.
    Here(&'static str),
    /// A global key on the hint line of the pane it mostly serves.
    In(PaneId, &'static str),
    /// On the status line, whatever has the focus.
    Status(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    pub action: Action,
    pub hint: Hint,
    /// What the help box says; bindings of one context next to each other
    /// with the same words share a row.
    pub help: &'static str,
}

impl Binding {
    const fn hint(self, label: &'static str) -> Binding {
        Binding {
            hint: Hint::Here(label),
            ..self
        }
    }

    const fn hint_in(self, pane: PaneId, label: &'static str) -> Binding {
        Binding {
            hint: Hint::In(pane, label),
            ..self
        }
    }

    const fn status(self, label: &'static str) -> Binding {
        Binding {
            hint: Hint::Status(label),
            ..self
        }
    }
}

const fn bind(
    context: Context,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        context,
        keys,
        action,
        hint: Hint::No,
        help,
    }
}

const fn ch(c: char) -> Key {
    Key::plain(KeyCode::Char(c))
}

const ENTER: Key = Key::plain(KeyCode::Enter);
const ESC: Key = Key::plain(KeyCode::Esc);
const TAB: Key = Key::plain(KeyCode::Tab);
const BACKTAB: Key = Key::plain(KeyCode::BackTab);
const UP: Key = Key::plain(KeyCode::Up);
const DOWN: Key = Key::plain(KeyCode::Down);
const LEFT: Key = Key::plain(KeyCode::Left);
const RIGHT: Key = Key::plain(KeyCode::Right);
const HOME: Key = Key::plain(KeyCode::Home);
const END: Key = Key::plain(KeyCode::End);
const PGUP: Key = Key::plain(KeyCode::PageUp);
const PGDN: Key = Key::plain(KeyCode::PageDown);
const DEL: Key = Key::plain(KeyCode::Delete);
const BS: Key = Key::plain(KeyCode::Backspace);

use Context::{Always, Global};
const LAB: Context = Context::Pane(PaneId::Lab);
const MODULE: Context = Context::Pane(PaneId::Module);
const DISKS: Context = Context::Pane(PaneId::Disks);
const COMPOSER: Context = Context::Pane(PaneId::Composer);
const PROBES: Context = Context::Pane(PaneId::Probes);
const EVENTS: Context = Context::Pane(PaneId::Events);

use Action as A;

/// Every key binding, in the order the help box lists them.
#[rustfmt::skip]
pub static BINDINGS: &[Binding] = &[
    // Anywhere.
    bind(Global, &[ch('q')], A::Shell(Shell::Quit), "quit: tear everything down").status("quit"),
    bind(Always, &[Key::ctrl('c')], A::Shell(Shell::Quit), "quit: tear everything down"),
    bind(Global, &[ch('?')], A::Shell(Shell::Help), "this help").status("help"),
    bind(Global, &[TAB], A::Shell(Shell::FocusNext), "focus a pane").status("pane"),
    bind(Global, &[BACKTAB], A::Shell(Shell::FocusPrevious), "focus a pane"),
    bind(Global, &[ch('1')], A::Shell(Shell::Focus(PaneId::Lab)), "focus a pane"),
    bind(Global, &[ch('2')], A::Shell(Shell::Focus(PaneId::Module)), "focus a pane"),
    bind(Global, &[ch('3')], A::Shell(Shell::Focus(PaneId::Disks)), "focus a pane"),
    bind(Global, &[ch('4')], A::Shell(Shell::Focus(PaneId::Composer)), "focus a pane"),
    bind(Global, &[ch('5')], A::Shell(Shell::Focus(PaneId::Probes)), "focus a pane"),
    bind(Global, &[ch('6')], A::Shell(Shell::Focus(PaneId::Events)), "focus a pane"),
    bind(Global, &[ch('n')], A::Lab(Lab::RunStep), "run the current lab step (again if it failed)")
        .hint_in(PaneId::Lab, "run step"),
    bind(Global, &[ch('i')], A::Lab(Lab::Readme), "the lab's instructions (its README)")
        .hint_in(PaneId::Lab, "instructions"),
    bind(Global, &[ch('b')], A::Module(Module::Build), "build a module (rust / c)"),
    bind(Global, &[ch('l')], A::Module(Module::Load), "load a built module"),
    bind(Global, &[ch('u')], A::Module(Module::Unload), "unload a module"),
    bind(Global, &[ch('d')], A::Disks(Disks::Add), "add a disk (name, size)")
        .hint_in(PaneId::Disks, "add"),
    bind(Global, &[ch('w')], A::Probes(Probes::Write), "write probe: target, bs, count, seek, pattern")
        .hint_in(PaneId::Probes, "write"),
    bind(Global, &[ch('r')], A::Probes(Probes::Read), "read probe: target, bs, count, skip, verify")
        .hint_in(PaneId::Probes, "read"),
    bind(Global, &[ch('/')], A::Events(Events::Search), "search the events")
        .hint_in(PaneId::Events, "search"),
    bind(Global, &[ESC], A::Shell(Shell::Dismiss), "cancel the running probe / clear the message"),

    // Lab pane.
    bind(LAB, &[UP], A::Lab(Lab::Previous), "select a step"),
    bind(LAB, &[DOWN], A::Lab(Lab::Next), "select a step"),
    bind(LAB, &[ENTER], A::Lab(Lab::Details), "the step's note and output").hint("details"),

    // Module pane.
    bind(MODULE, &[ch('b')], A::Module(Module::BuildSelected), "build the selected source").hint("build"),
    bind(MODULE, &[ch('l')], A::Module(Module::LoadSelected), "load its module").hint("load"),
    bind(MODULE, &[ch('u')], A::Module(Module::UnloadSelected), "unload its module").hint("unload"),
    bind(MODULE, &[ch('R')], A::Module(Module::ReloadSelected), "hot reload: rebuild, swap under live devices").hint("reload"),
    bind(MODULE, &[ENTER, ch('v')], A::Module(Module::ShowLog), "its build log").hint("log"),
    bind(MODULE, &[UP], A::Module(Module::Previous), "select a source"),
    bind(MODULE, &[DOWN], A::Module(Module::Next), "select a source"),

    // Disks pane.
    bind(DISKS, &[ch('x'), DEL], A::Disks(Disks::Remove), "detach the disk / remove the DM device")
        .hint("detach/remove"),
    bind(DISKS, &[ENTER], A::Disks(Disks::EditTable), "edit a DM device's table in the composer")
        .hint("edit table"),
    bind(DISKS, &[UP], A::Disks(Disks::Previous), "select a row"),
    bind(DISKS, &[DOWN], A::Disks(Disks::Next), "select a row"),

    // Composer pane.
    bind(COMPOSER, &[ch('a')], A::Composer(Composer::Add), "add a segment after the selected one").hint("add"),
    bind(COMPOSER, &[ENTER], A::Composer(Composer::Apply), "apply: create, or diff and reload").hint("apply"),
    bind(COMPOSER, &[ch('t')], A::Composer(Composer::TargetType), "choose the segment's target type").hint("type"),
    bind(COMPOSER, &[ch('p')], A::Composer(Composer::Preset), "fault preset: flaky, drop/error writes, corrupt, bad blocks, slow"),
    bind(COMPOSER, &[ch('e')], A::Composer(Composer::Edit), "edit the segment's length and arguments").hint("edit"),
    bind(COMPOSER, &[ch('s')], A::Composer(Composer::Split), "split the segment at the cursor").hint("split"),
    bind(COMPOSER, &[ch('z')], A::Composer(Composer::Resize), "resize the segment (later ones move)").hint("resize"),
    bind(COMPOSER, &[ch('x'), DEL], A::Composer(Composer::Delete), "delete the segment").hint("delete"),
    bind(COMPOSER, &[ch('c')], A::Composer(Composer::Name), "name the DM device").hint("name"),
    bind(COMPOSER, &[ch('o')], A::Composer(Composer::OpenFile), "open a table file").hint("open"),
    bind(COMPOSER, &[ch('f')], A::Composer(Composer::SaveFile), "save the table to a file").hint("save"),
    bind(COMPOSER, &[UP, ch('[')], A::Composer(Composer::PreviousSegment), "select a segment"),
    bind(COMPOSER, &[DOWN, ch(']')], A::Composer(Composer::NextSegment), "select a segment"),
    bind(COMPOSER, &[LEFT], A::Composer(Composer::CursorLeft), "move the cursor a 64th"),
    bind(COMPOSER, &[RIGHT], A::Composer(Composer::CursorRight), "move the cursor a 64th"),
    bind(COMPOSER, &[Key::shift(KeyCode::Left)], A::Composer(Composer::SectorLeft), "move the cursor one sector"),
    bind(COMPOSER, &[Key::shift(KeyCode::Right)], A::Composer(Composer::SectorRight), "move the cursor one sector"),
    bind(COMPOSER, &[HOME], A::Composer(Composer::CursorStart), "cursor to the start / end"),
    bind(COMPOSER, &[END], A::Composer(Composer::CursorEnd), "cursor to the start / end"),
    bind(COMPOSER, &[ch('g')], A::Composer(Composer::GoTo), "cursor to a typed sector"),

    // Probes pane.
    bind(PROBES, &[ch('c')], A::Probes(Probes::Cancel), "cancel the running probe").hint("cancel"),
    bind(PROBES, &[ch('j')], A::Probes(Probes::Journeys), "the last probe's bios, hop by hop").hint("journeys"),

    // Events pane.
    bind(EVENTS, &[ch('f')], A::Events(Events::Filter), "filter: all, DM, module, warnings+errors").hint("filter"),
    bind(EVENTS, &[ch('p'), ch(' ')], A::Events(Events::Pause), "pause / resume").hint("pause"),
    bind(EVENTS, &[ch('C')], A::Events(Events::Clear), "clear").hint("clear"),
    bind(EVENTS, &[ch('n')], A::Events(Events::OlderMatch), "next / previous match of the search"),
    bind(EVENTS, &[ch('N')], A::Events(Events::NewerMatch), "next / previous match of the search"),
    bind(EVENTS, &[UP], A::Events(Events::LineUp), "scroll back (pauses)"),
    bind(EVENTS, &[DOWN], A::Events(Events::LineDown), "scroll back (pauses)"),
    bind(EVENTS, &[PGUP], A::Events(Events::PageUp), "scroll back (pauses)"),
    bind(EVENTS, &[PGDN], A::Events(Events::PageDown), "scroll back (pauses)"),
    bind(EVENTS, &[HOME], A::Events(Events::Oldest), "scroll back (pauses)"),
    bind(EVENTS, &[END, ch('G')], A::Events(Events::Follow), "follow new events again"),

    // A form.
    bind(Context::Form, &[ENTER], A::Form(Form::Enter), "next field; submit on the last").hint("next/submit"),
    bind(Context::Form, &[TAB, DOWN], A::Form(Form::NextField), "move between fields").hint("move"),
    bind(Context::Form, &[BACKTAB, UP], A::Form(Form::PreviousField), "move between fields").hint("move"),
    bind(Context::Form, &[LEFT], A::Form(Form::PreviousChoice), "cycle the field's choices").hint("choices"),
    bind(Context::Form, &[RIGHT], A::Form(Form::NextChoice), "cycle the field's choices").hint("choices"),
    bind(Context::Form, &[BS], A::Form(Form::Backspace), "delete a character (typing replaces a default)"),
    bind(Context::Form, &[Key::ctrl('u')], A::Form(Form::Clear), "clear the field"),
    bind(Context::Form, &[ESC], A::Form(Form::Cancel), "cancel").hint("cancel"),

    // A picker.
    bind(Context::Picker, &[ENTER], A::Picker(Picker::Choose), "choose (typed text narrows the list)").hint("choose"),
    bind(Context::Picker, &[UP], A::Picker(Picker::Up), "move").hint("move"),
    bind(Context::Picker, &[DOWN, TAB], A::Picker(Picker::Down), "move").hint("move"),
    bind(Context::Picker, &[BS], A::Picker(Picker::Backspace), "delete a character"),
    bind(Context::Picker, &[ESC], A::Picker(Picker::Cancel), "cancel").hint("cancel"),

    // The events search being typed.
    bind(Context::Search, &[ENTER], A::Events(Events::SearchRun), "search (empty: no search)").hint("search"),
    bind(Context::Search, &[BS], A::Events(Events::SearchBackspace), "delete a character"),
    bind(Context::Search, &[ESC], A::Events(Events::SearchCancel), "clear the search").hint("clear"),

    // Boxes over the panes.
    bind(Context::Help, &[UP], A::Shell(Shell::HelpUp), "scroll").hint("scroll"),
    bind(Context::Help, &[DOWN], A::Shell(Shell::HelpDown), "scroll").hint("scroll"),
    bind(Context::Help, &[ESC, ch('?'), ch('q'), ENTER], A::Shell(Shell::Close), "close").hint("close"),
    bind(Context::BuildLog, &[UP], A::Module(Module::LogOlder(1)), "scroll").hint("scroll"),
    bind(Context::BuildLog, &[DOWN], A::Module(Module::LogNewer(1)), "scroll").hint("scroll"),
    bind(Context::BuildLog, &[PGUP], A::Module(Module::LogOlder(10)), "scroll").hint("scroll"),
    bind(Context::BuildLog, &[PGDN], A::Module(Module::LogNewer(10)), "scroll").hint("scroll"),
    bind(Context::BuildLog, &[ESC, ch('q'), ENTER], A::Shell(Shell::Close), "close").hint("close"),
    bind(Context::Output, &[ESC, ch('q'), ENTER], A::Shell(Shell::Close), "close").hint("close"),
    bind(Context::Readme, &[UP], A::Lab(Lab::ReadmeUp(1)), "scroll").hint("scroll"),
    bind(Context::Readme, &[DOWN], A::Lab(Lab::ReadmeDown(1)), "scroll").hint("scroll"),
    bind(Context::Readme, &[PGUP], A::Lab(Lab::ReadmeUp(10)), "scroll").hint("scroll"),
    bind(Context::Readme, &[PGDN, ch(' ')], A::Lab(Lab::ReadmeDown(10)), "scroll").hint("scroll"),
    bind(Context::Readme, &[HOME], A::Lab(Lab::ReadmeTop), "back to the top"),
    bind(Context::Readme, &[ESC, ch('q'), ENTER, ch('i')], A::Shell(Shell::Close), "close").hint("close"),
    bind(Context::Confirm, &[ch('y'), ENTER], A::Composer(Composer::ConfirmReload), "suspend, load, resume")
        .hint("suspend, load, resume"),
    bind(Context::Confirm, &[ch('n'), ESC], A::Composer(Composer::KeepLive), "keep the live table")
        .hint("keep the live table"),
];

/// The binding a key has in a context: an exact match, else the key
/// without its modifiers (Ctrl-Left moves the cursor as Left does).
pub fn lookup(context: Context, key: Key) -> Option<&'static Binding> {
    let find = |key: Key| {
        BINDINGS
            .iter()
            .find(|b| b.context == context && b.keys.contains(&key))
    };
    find(key).or_else(|| {
        if key.modifiers.is_empty() {
            None
        } else {
            find(Key::plain(key.code))
        }
    })
}

/// One entry of a hint line: the first key of each binding it stands for,
/// their actions, and the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintItem {
    pub keys: Vec<String>,
    pub actions: Vec<Action>,
    pub label: &'static str,
}

impl HintItem {
    /// `←/→`
    pub fn keys_text(&self) -> String {
        self.keys.join("/")
    }
}

/// Hints of the bindings `wanted` picks, in table order; neighbours with
/// the same words share an entry (`←/→ choices`).
fn collect_hints(wanted: impl Fn(&Binding) -> Option<&'static str>) -> Vec<HintItem> {
    let mut items: Vec<HintItem> = Vec::new();
    for binding in BINDINGS {
        let Some(label) = wanted(binding) else {
            continue;
        };
        let key = binding
            .keys
            .first()
            .map(|k| k.short_label())
            .unwrap_or_default();
        match items.last_mut() {
            Some(last) if last.label == label => {
                last.keys.push(key);
                last.actions.push(binding.action);
            }
            _ => items.push(HintItem {
                keys: vec![key],
                actions: vec![binding.action],
                label,
            }),
        }
    }
    items
}

/// The hints of a prompt or box (`Context::Form`, `Context::Help`, …).
pub fn hints(context: Context) -> Vec<HintItem> {
    collect_hints(|b| match b.hint {
        Hint::Here(label) if b.context == context => Some(label),
        _ => None,
    })
}

/// The hints under a pane: its own keys and the global keys that serve it.
pub fn pane_hints(pane: PaneId) -> Vec<HintItem> {
    collect_hints(|b| match b.hint {
        Hint::Here(label) if b.context == Context::Pane(pane) => Some(label),
        Hint::In(p, label) if p == pane => Some(label),
        _ => None,
    })
}

/// The hints on the status line whatever has the focus.
pub fn status_hints() -> Vec<HintItem> {
    collect_hints(|b| match b.hint {
        Hint::Status(label) => Some(label),
        _ => None,
    })
}

/// A hint line as text: `a add  t type`.
pub fn hint_text(items: &[HintItem]) -> String {
    hint_text_within(items, usize::MAX)
}

/// As much of a hint line as fits in `width` columns, in whole entries
/// (the help box has the rest).
pub fn hint_text_within(items: &[HintItem], width: usize) -> String {
    let mut text = String::new();
    for item in items {
        let entry = format!("{} {}", item.keys_text(), item.label);
        let gap = if text.is_empty() { 0 } else { 2 };
        if text.chars().count() + gap + entry.chars().count() > width {
            break;
        }
        if gap > 0 {
            text.push_str("  ");
        }
        text.push_str(&entry);
    }
    text
}

/// One row of the help box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub context: &'static str,
    pub keys: String,
    pub help: &'static str,
}

/// The help box's rows: every binding, in table order; neighbours of one
/// context with the same words share a row (`↑ ↓  select a step`).
pub fn help_rows() -> Vec<HelpRow> {
    let mut rows: Vec<(HelpRow, Vec<String>)> = Vec::new();
    for binding in BINDINGS {
        let labels = binding.keys.iter().map(|k| k.label());
        match rows.last_mut() {
            Some((row, keys))
                if row.context == binding.context.label() && row.help == binding.help =>
            {
                keys.extend(labels);
            }
            _ => rows.push((
                HelpRow {
                    context: binding.context.label(),
                    keys: String::new(),
                    help: binding.help,
                },
                labels.collect(),
            )),
        }
    }
    rows.into_iter()
        .map(|(mut row, keys)| {
            row.keys = join_keys(&keys);
            row
        })
        .collect()
}

/// Key labels with a space between; a run of three or more successive
/// digits is written as a range (`1-6`).
fn join_keys(keys: &[String]) -> String {
    let digit = |s: &str| -> Option<u32> {
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then(|| c.to_digit(10)).flatten()
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i;
        if let Some(first) = digit(&keys[i]) {
            while j + 1 < keys.len() && digit(&keys[j + 1]) == Some(first + (j + 1 - i) as u32) {
                j += 1;
            }
        }
        if j >= i + 2 {
            out.push(format!("{}-{}", keys[i], keys[j]));
        } else {
            out.extend(keys[i..=j].iter().cloned());
        }
        i = j + 1;
    }
    out.join(" ")
}
