//! Forms: labelled fields the UI asks to be filled. Plain state edited by
//! keys; what a form means is decided by the feature that opened it when
//! it is submitted (see `submit.rs`).
//!
//! Typing is meant to work blind (from a script or tmux): a field that
//! still holds its default is replaced by the first character typed, Enter
//! moves to the next field and submits on the last one.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
    /// Values Left/Right cycle through; free text is still accepted.
    pub options: Vec<String>,
    pub help: String,
    /// Shown under the field; set by the owner's validation.
    pub error: Option<String>,
    /// Still holds the value it was given: the first character typed
    /// replaces it.
    pub fresh: bool,
    /// Shown but not editable (e.g. the start sector of a segment).
    pub readonly: bool,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
            options: Vec::new(),
            help: String::new(),
            error: None,
            fresh: true,
            readonly: false,
        }
    }

    pub fn options(mut self, options: Vec<String>) -> Field {
        self.options = options;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Field {
        self.help = help.into();
        self
    }

    pub fn readonly(mut self) -> Field {
        self.readonly = true;
        self
    }

    fn cycle(&mut self, forward: bool) {
        if self.options.is_empty() {
            return;
        }
        let n = self.options.len();
        let next = match self.options.iter().position(|o| *o == self.value) {
            Some(i) if forward => (i + 1) % n,
            Some(i) => (i + n - 1) % n,
            None => 0,
        };
        self.value = self.options[next].clone();
        self.fresh = true;
    }
}

/// What a form is for; the owner acts on it at submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    AddDisk,
    /// Add (`index: None`, inserted at `at`) or edit a composer segment.
    Segment {
        index: Option<usize>,
        at: usize,
    },
    Resize {
        index: usize,
    },
    /// Move the composer cursor to a sector.
    GoTo,
    DeviceName,
    Probe(crate::exec::protocol::ProbeOp),
    SaveTable,
    OpenTable,
    /// A fault preset for the selected composer segment.
    Preset {
        key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// A problem with the form as a whole.
    pub message: Option<String>,
    /// Owner's bookkeeping (the segment form keeps the target its argument
    /// fields were built for).
    pub tag: String,
    /// What the form is about, shown above its fields (a preset's help).
    pub about: Option<String>,
}

/// The outcome of a key in a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    /// Edited or moved; the owner re-validates.
    Edited,
    Submit,
    /// Nothing to edit (the form has no fields).
    Ignored,
}

impl Form {
    pub fn new(kind: FormKind, title: impl Into<String>, fields: Vec<Field>) -> Form {
        let mut form = Form {
            kind,
            title: title.into(),
            fields,
            focus: 0,
            message: None,
            tag: String::new(),
            about: None,
        };
        if form.fields.first().is_some_and(|f| f.readonly) {
            form.move_focus(true);
        }
        form
    }

    pub fn value(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map_or("", |f| f.value.trim())
    }

    pub fn field_mut(&mut self, label: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.label == label)
    }

    pub fn has_errors(&self) -> bool {
        self.message.is_some() || self.fields.iter().any(|f| f.error.is_some())
    }

    /// Puts a problem under a field; the first problem found stays.
    pub fn set_error(&mut self, label: &str, message: impl Into<String>) {
        if let Some(field) = self.field_mut(label)
            && field.error.is_none()
        {
            field.error = Some(message.into());
        }
    }

    pub fn clear_errors(&mut self) {
        self.message = None;
        for field in &mut self.fields {
            field.error = None;
        }
    }

    /// Focuses the first field with an error, so Enter fixes it next.
    pub fn focus_first_error(&mut self) {
        if let Some(i) = self
            .fields
            .iter()
            .position(|f| f.error.is_some() && !f.readonly)
        {
            self.focus = i;
            if let Some(field) = self.fields.get_mut(i) {
                field.fresh = false;
            }
        }
    }

    fn last_editable(&self) -> Option<usize> {
        self.fields.iter().rposition(|f| !f.readonly)
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let mut i = self.focus;
        for _ in 0..n {
            i = if forward {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            if !self.fields[i].readonly {
                self.focus = i;
                self.fields[i].fresh = true;
                return;
            }
        }
    }

    /// Enter: the next field, or submit on the last one (or when the form
    /// has no fields).
    pub fn enter(&mut self) -> FormKey {
        if self.fields.is_empty() || Some(self.focus) >= self.last_editable() {
            FormKey::Submit
        } else {
            self.move_focus(true);
            FormKey::Edited
        }
    }

    pub fn next_field(&mut self) -> FormKey {
        self.move_focus(true);
        FormKey::Edited
    }

    pub fn previous_field(&mut self) -> FormKey {
        self.move_focus(false);
        FormKey::Edited
    }

    /// Left/Right: the focused field's previous or next choice.
    pub fn cycle_choice(&mut self, forward: bool) -> FormKey {
        self.edit(|field| field.cycle(forward))
    }

    pub fn backspace(&mut self) -> FormKey {
        self.edit(|field| {
            field.fresh = false;
            field.value.pop();
        })
    }

    pub fn clear_field(&mut self) -> FormKey {
        self.edit(|field| {
            field.value.clear();
            field.fresh = false;
        })
    }

    /// A typed character replaces a value still holding its default, else
    /// goes at its end.
    pub fn type_char(&mut self, c: char) -> FormKey {
        self.edit(|field| {
            if field.fresh {
                field.value.clear();
                field.fresh = false;
            }
            field.value.push(c);
        })
    }

    fn edit(&mut self, change: impl FnOnce(&mut Field)) -> FormKey {
        match self.fields.get_mut(self.focus) {
            Some(field) => {
                change(field);
                FormKey::Edited
            }
            None => FormKey::Ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_text(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.type_char(c);
        }
    }

    #[test]
    fn typing_replaces_a_default_and_enter_walks_to_submit() {
        let mut form = Form::new(
            FormKind::AddDisk,
            "Add disk",
            vec![Field::new("name", "disk1"), Field::new("size", "100MiB")],
        );
        type_text(&mut form, "data");
        assert_eq!(form.enter(), FormKey::Edited);
        type_text(&mut form, "20000s");
        assert_eq!(form.enter(), FormKey::Submit);
        assert_eq!(form.value("name"), "data");
        assert_eq!(form.value("size"), "20000s");
    }

    #[test]
    fn backspace_edits_the_default_instead_of_replacing_it() {
        let mut form = Form::new(FormKind::GoTo, "Go", vec![Field::new("sector", "100")]);
        form.backspace();
        type_text(&mut form, "5");
        assert_eq!(form.value("sector"), "105");
    }

    #[test]
    fn readonly_fields_are_skipped() {
        let mut form = Form::new(
            FormKind::GoTo,
            "x",
            vec![
                Field::new("start", "0").readonly(),
                Field::new("length", "8"),
            ],
        );
        assert_eq!(form.focus, 1);
        assert_eq!(form.enter(), FormKey::Submit);
    }

    #[test]
    fn left_and_right_cycle_options() {
        let mut form = Form::new(
            FormKind::GoTo,
            "x",
            vec![Field::new("t", "a").options(vec!["a".into(), "b".into(), "c".into()])],
        );
        form.cycle_choice(false);
        assert_eq!(form.value("t"), "c");
        form.cycle_choice(true);
        form.cycle_choice(true);
        assert_eq!(form.value("t"), "b");
    }
}
