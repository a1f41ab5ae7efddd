//! Fault presets in the composer: `p` picks one for the selected segment
//! (flaky disk, drop or error writes, corrupt byte N, bad blocks, slow
//! disk), a form tunes it with the kernel's limits checked as for the
//! table, and the segment becomes that table line mapping the same disk
//! range. Messages a preset needs once the device exists (dust's bad
//! blocks) are sent right after the device is created or reloaded.

use crate::table::presets::{self, Backing, PresetKind};
use crate::table::{Segment, TargetArgs};
use crate::tui::action::Command;
use crate::tui::app::{App, Overlay};
use crate::tui::notice::Notice;
use crate::tui::prompt::submit::reopen;
use crate::tui::prompt::{Field, Form, FormKind, PickItem, Picker, PickerKind};

pub(crate) fn open_picker(app: &mut App) {
    if app.composer.selected_segment().is_none() {
        app.composer.message = Some(Notice::Error(
            "add a segment first: a preset replaces the selected one".into(),
        ));
        return;
    }
    let items = presets::PRESETS
        .iter()
        .map(|p| PickItem {
            key: p.key.to_string(),
            detail: format!("{:<7} {}", p.target, first_sentence(p.help)),
        })
        .collect();
    app.overlay = Some(Overlay::Picker(Picker::new(
        PickerKind::FaultPreset,
        "Fault preset for the selected segment",
        items,
    )));
}

/// The picked preset's form, with its defaults.
pub(crate) fn open_form(app: &mut App, key: &str) {
    let Some(preset) = presets::lookup(key) else {
        return;
    };
    let fields = preset
        .fields
        .iter()
        .map(|f| {
            let field = Field::new(f.name, f.default).help(f.help);
            match f.kind {
                PresetKind::Choice(words) => {
                    field.options(words.iter().map(|w| w.to_string()).collect())
                }
                _ => field,
            }
        })
        .collect();
    let mut form = Form::new(
        FormKind::Preset {
            key: preset.key.to_string(),
        },
        format!(
            "{} ({}) on segment {}",
            preset.name,
            preset.target,
            app.composer.selected + 1
        ),
        fields,
    );
    form.about = Some(preset.help.to_string());
    app.overlay = Some(Overlay::Form(form));
}

pub(crate) fn submit(app: &mut App, mut form: Form, key: &str) {
    let Some(preset) = presets::lookup(key) else {
        return;
    };
    let Some(segment) = app.composer.selected_segment().cloned() else {
        return;
    };
    let Some(backing) = backing(app, &segment) else {
        form.message = Some("no disk to map the segment to: add one first ('d')".into());
        return reopen(app, form);
    };
    let values: Vec<String> = form.fields.iter().map(|f| f.value.clone()).collect();
    match preset.build(&values, &backing) {
        Ok(line) => {
            let index = app.composer.selected;
            let words = line.args.split_whitespace().map(str::to_string).collect();
            let start = segment.start;
            app.composer.put_segment(
                Some(index),
                index,
                Segment::new(start, segment.length, line.target, words),
            );
            app.composer
                .pending_messages
                .retain(|(sector, _)| *sector != start);
            for text in line.messages {
                app.composer.pending_messages.push((start, text));
            }
        }
        Err(errors) => {
            form.clear_errors();
            for e in errors {
                form.set_error(e.field, e.message);
            }
            reopen(app, form);
        }
    }
}

/// Sends the messages presets left for the device, after the command
/// that creates or reloads it (the worker runs commands in order).
pub(crate) fn send_pending(app: &mut App, device: &str) {
    for (sector, text) in std::mem::take(&mut app.composer.pending_messages) {
        app.submit(Command::Message {
            name: device.to_string(),
            sector: Some(sector),
            text,
        });
    }
}

/// The disk range the segment maps now, or the first disk from sector 0.
fn backing(app: &App, segment: &Segment) -> Option<Backing> {
    let mapped = segment.decode().ok().and_then(|d| match d.args {
        TargetArgs::Linear(d) | TargetArgs::BasicTarget(d) | TargetArgs::Error(Some(d)) => Some(d),
        TargetArgs::Flakey(f) => Some(f.backing),
        TargetArgs::Dust(d) => Some(d.backing),
        TargetArgs::Delay(d) => d.classes.into_iter().next().map(|c| c.backing),
        _ => None,
    });
    let (device, offset) = match mapped {
        Some(d) => (d.device, d.offset),
        None => (app.state.disks.first()?.device.display().to_string(), 0),
    };
    Some(Backing {
        device,
        offset,
        length: segment.length,
    })
}

fn first_sentence(text: &str) -> &str {
    text.split_once(". ").map_or(text, |(first, _)| first)
}
