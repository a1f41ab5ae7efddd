//! Pickers: a list to choose from, narrowed by typing. Plain state edited
//! by keys; what a choice means is decided by the feature that opened the
//! picker (see `submit.rs`).

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
    /// A fault preset for the selected composer segment.
    FaultPreset,
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

    /// Enter: the selected item, else the typed text (a name the list does
    /// not have, such as a target type not loaded yet); `None` when there
    /// is neither.
    pub fn choice(&self) -> Option<String> {
        match self.filtered().get(self.selected) {
            Some(item) => Some(item.key.clone()),
            None if !self.filter.is_empty() => Some(self.filter.clone()),
            None => None,
        }
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        if self.selected + 1 < self.filtered().len() {
            self.selected += 1;
        }
    }

    pub fn backspace(&mut self) {
        self.filter.pop();
        self.selected = 0;
    }

    /// Typed text narrows the list.
    pub fn type_char(&mut self, c: char) {
        self.filter.push(c);
        self.selected = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        picker.type_char('c');
        assert_eq!(picker.choice().as_deref(), Some("c"));
        // A name the list does not have is taken as typed.
        picker.type_char('x');
        assert_eq!(picker.choice().as_deref(), Some("cx"));
    }
}
