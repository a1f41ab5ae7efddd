//! Pickers: a list to choose from, narrowed by typing. Plain state edited
//! by keys; what a choice means is decided by the feature that opened the
//! picker (see `submit.rs`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One choice in a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    /// What is returned and matched by typing.
    pub key: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerKind {
    /// Which kmod source to build.
    BuildSource,
    LoadModule,
    UnloadModule,
    /// Target type of the selected composer segment.
    TargetType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub kind: PickerKind,
    pub title: String,
    pub items: Vec<PickItem>,
    /// Typed text narrowing the list.
    pub filter: String,
    /// Index into the filtered list.
    pub selected: usize,
}

pub enum PickerKey {
    Moved,
    Chosen(String),
    Cancel,
    Ignored,
}

impl Picker {
    pub fn new(kind: PickerKind, title: impl Into<String>, items: Vec<PickItem>) -> Picker {
        Picker {
            kind,
            title: title.into(),
            items,
            filter: String::new(),
            selected: 0,
        }
    }

    /// Items matching the typed text: key prefixes first, then any
    /// substring of key or detail.
    pub fn filtered(&self) -> Vec<&PickItem> {
        if self.filter.is_empty() {
            return self.items.iter().collect();
        }
        let f = self.filter.to_lowercase();
        let mut out: Vec<&PickItem> = self
            .items
            .iter()
            .filter(|i| i.key.to_lowercase().starts_with(&f))
            .collect();
        out.extend(self.items.iter().filter(|i| {
            !i.key.to_lowercase().starts_with(&f)
                && (i.key.to_lowercase().contains(&f) || i.detail.to_lowercase().contains(&f))
        }));
        out
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> PickerKey {
        let count = self.filtered().len();
        match key.code {
            KeyCode::Esc => PickerKey::Cancel,
            KeyCode::Enter => match self.filtered().get(self.selected) {
                Some(item) => PickerKey::Chosen(item.key.clone()),
                // Free text for a name the list does not have (e.g. a
                // target type not loaded yet).
                None if !self.filter.is_empty() => PickerKey::Chosen(self.filter.clone()),
                None => PickerKey::Cancel,
            },
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                PickerKey::Moved
            }
            KeyCode::Down | KeyCode::Tab => {
                if self.selected + 1 < count {
                    self.selected += 1;
                }
                PickerKey::Moved
            }
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
                PickerKey::Moved
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.selected = 0;
                PickerKey::Moved
            }
            _ => PickerKey::Ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn picker_filters_by_prefix_then_substring() {
        let mut picker = Picker::new(
            PickerKind::BuildSource,
            "Build",
            vec![
                PickItem {
                    key: "rust".into(),
                    detail: "kmod/rust".into(),
                },
                PickItem {
                    key: "c".into(),
                    detail: "kmod/c".into(),
                },
            ],
        );
        picker.handle_key(key(KeyCode::Char('c')));
        match picker.handle_key(key(KeyCode::Enter)) {
            PickerKey::Chosen(k) => assert_eq!(k, "c"),
            _ => panic!("expected a choice"),
        }
    }
}
