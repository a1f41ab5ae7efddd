//! The composer's segment form: length, target type and one field per
//! argument of that target (from the table catalog), with pickers for the
//! session's disks and validation messages under the field at fault.

use crate::session::{Device, Disk};
use crate::table::catalog::{self, ArgKind, ArgSpec, Presence, TargetSpec};
use crate::table::{Field as TableField, Segment, insert_segment, split_words};

use super::model::{Composer, parse_length, replace_segment};
use crate::tui::prompt::{Field, Form, FormKind};

pub const START: &str = "start";
pub const LENGTH: &str = "length";
pub const TARGET: &str = "target";
/// Fields before the argument fields.
const FIXED: usize = 3;
/// Label of the single field used for targets without a structured form.
pub const ARGUMENTS: &str = "arguments";

/// What the form needs to know about the session.
pub struct FormContext<'a> {
    pub disks: &'a [Disk],
    pub devices: &'a [Device],
    /// Target types to offer: the kernel's list plus built modules.
    pub targets: &'a [String],
}

/// A form for a new segment (`index: None`, inserted before `at`) or for
/// editing segment `index`. `target` overrides the target type.
pub fn segment_form(
    composer: &Composer,
    index: Option<usize>,
    target: Option<&str>,
    ctx: &FormContext<'_>,
) -> Form {
    let table = &composer.table;
    let existing = index.and_then(|i| table.segments.get(i));
    let at = match index {
        Some(i) => i,
        None if table.is_empty() => 0,
        None => (composer.selected + 1).min(table.segments.len()),
    };
    let start = existing.map_or_else(
        || {
            table
                .segments
                .get(at)
                .map_or(table.total_sectors(), |s| s.start)
        },
        |s| s.start,
    );
    let length = existing.map_or_else(
        || ctx.disks.first().map_or(2048, Disk::sectors),
        |s| s.length,
    );
    let target = target
        .map(str::to_string)
        .or_else(|| existing.map(|s| s.target.clone()))
        .unwrap_or_else(|| {
            if ctx.disks.is_empty() {
                "zero"
            } else {
                "linear"
            }
            .into()
        });
    let words = match existing {
        Some(s) if s.target == target => s.args.clone(),
        _ => example_words(&target, ctx.disks),
    };
    let mut fields = vec![
        Field::new(START, start.to_string())
            .readonly()
            .help("first sector of the DM device this segment maps"),
        Field::new(LENGTH, length.to_string()).help("sectors, or a size such as 10MiB"),
        Field::new(TARGET, target.clone())
            .options(ctx.targets.to_vec())
            .help("Left/Right: the kernel's targets and built modules"),
    ];
    fields.extend(argument_fields(&target, &words, ctx));
    let title = match index {
        Some(i) => format!("Edit segment {}", i + 1),
        None => format!("Add segment {}", at + 1),
    };
    let mut form = Form::new(FormKind::Segment { index, at }, title, fields);
    form.tag = target;
    form
}

/// When the target field changed to another type, rebuilds the argument
/// fields from that type's example.
pub fn retarget(form: &mut Form, ctx: &FormContext<'_>) {
    let target = form.value(TARGET).to_string();
    if target == form.tag || target.is_empty() {
        return;
    }
    let words = example_words(&target, ctx.disks);
    form.fields.truncate(FIXED);
    form.fields.extend(argument_fields(&target, &words, ctx));
    form.tag = target;
}

/// Checks the form against the table it would go into. On success returns
/// the segment; otherwise the errors are set on the fields.
pub fn check(composer: &Composer, form: &mut Form, ctx: &FormContext<'_>) -> Option<Segment> {
    form.clear_errors();
    let FormKind::Segment { index, at } = form.kind else {
        return None;
    };
    let length = parse_length(form.value(LENGTH));
    if let (Err(e), Some(field)) = (&length, form.fields.get_mut(1)) {
        field.error = Some(e.clone());
    }
    let target = form.value(TARGET).to_string();
    if (target.is_empty() || target.contains(char::is_whitespace))
        && let Some(field) = form.fields.get_mut(2)
    {
        field.error = Some("choose a target type (Left/Right, or type its name)".into());
    }
    let (args, spans) = collect_words(form, ctx.disks);
    let Ok(length) = length else {
        return None;
    };
    if form.has_errors() {
        return None;
    }
    let segment = Segment::new(0, length, target, args);
    let candidate = match index {
        Some(i) => replace_segment(&composer.table, i, segment.clone()),
        None => insert_segment(&composer.table, at, segment.clone()).map_err(|e| e.to_string()),
    };
    let candidate = match candidate {
        Ok(table) => table,
        Err(e) => {
            form.message = Some(e);
            return None;
        }
    };
    let line = index.unwrap_or(at) + 1;
    let validation = crate::table::validate(&candidate, composer.resolver());
    for error in validation.errors.iter().filter(|e| e.line == line) {
        let target_field = match &error.field {
            TableField::Start | TableField::Length => Some(1),
            TableField::Target => Some(2),
            TableField::Argument { position, name } => {
                Some(field_for_argument(form, &spans, *position, name))
            }
            TableField::Row => None,
        };
        match target_field.and_then(|i| form.fields.get_mut(i)) {
            Some(field) if field.error.is_none() => field.error = Some(error.message.clone()),
            Some(_) => {}
            None if form.message.is_none() => form.message = Some(error.message.clone()),
            None => {}
        }
    }
    if form.has_errors() {
        None
    } else {
        Some(segment)
    }
}

/// Words of the argument fields in order, with each field's word span
/// (field index, first 1-based position, word count). Disk names typed in
/// place of a device become the disk's loop device.
fn collect_words(form: &Form, disks: &[Disk]) -> (Vec<String>, Vec<(usize, usize, usize)>) {
    let mut words = Vec::new();
    let mut spans = Vec::new();
    for (i, field) in form.fields.iter().enumerate().skip(FIXED) {
        let first = words.len() + 1;
        for word in split_words(&field.value) {
            let word = disks
                .iter()
                .find(|d| d.name == word)
                .map_or(word, |d| d.device.display().to_string());
            words.push(word);
        }
        spans.push((i, first, words.len() + 1 - first));
    }
    (words, spans)
}

fn field_for_argument(
    form: &Form,
    spans: &[(usize, usize, usize)],
    position: usize,
    name: &str,
) -> usize {
    if let Some((i, _, _)) = spans
        .iter()
        .find(|(_, first, count)| *count > 0 && (*first..*first + *count).contains(&position))
    {
        return *i;
    }
    // A missing argument has no word: find its field by name.
    if let Some(i) = form
        .fields
        .iter()
        .enumerate()
        .skip(FIXED)
        .position(|(_, f)| f.label.split_whitespace().any(|w| w == name))
    {
        return i + FIXED;
    }
    form.fields
        .len()
        .checked_sub(1)
        .filter(|&i| i >= FIXED)
        .unwrap_or(2)
}

/// The catalog's example arguments with `{...}` placeholders replaced by
/// the session's disks, one disk per distinct placeholder.
fn example_words(target: &str, disks: &[Disk]) -> Vec<String> {
    let Some(spec) = catalog::lookup(target) else {
        return Vec::new();
    };
    let mut seen: Vec<String> = Vec::new();
    split_words(spec.example)
        .into_iter()
        .map(|word| {
            if word.starts_with('{') && word.ends_with('}') {
                let position = seen.iter().position(|w| *w == word).unwrap_or_else(|| {
                    seen.push(word.clone());
                    seen.len() - 1
                });
                disks
                    .get(position)
                    .map(|d| d.device.display().to_string())
                    .unwrap_or_default()
            } else {
                word
            }
        })
        .collect()
}

enum Slot<'a> {
    One(&'a ArgSpec),
    Group(Vec<&'a ArgSpec>),
    Rest(&'a ArgSpec),
}

/// The catalog's arguments as form slots, or `None` when positions would
/// be ambiguous (an optional argument before a required one, as mirror's
/// log device): such targets get one free-text field.
fn slots(spec: &'static TargetSpec) -> Option<Vec<Slot<'static>>> {
    let mut out = Vec::new();
    let mut seen_optional = false;
    let mut args = spec.args.iter().peekable();
    while let Some(arg) = args.next() {
        let last_was_open = matches!(out.last(), Some(Slot::Group(_) | Slot::Rest(_)));
        if matches!(arg.kind, ArgKind::Features(_)) {
            out.push(Slot::Rest(arg));
            continue;
        }
        if last_was_open {
            return None;
        }
        match arg.presence {
            Presence::Repeated => {
                let mut group = vec![arg];
                while let Some(next) = args.next_if(|a| a.presence == Presence::Repeated) {
                    group.push(next);
                }
                out.push(Slot::Group(group));
            }
            Presence::Required if seen_optional => return None,
            Presence::Required => out.push(Slot::One(arg)),
            Presence::Optional => {
                seen_optional = true;
                out.push(Slot::One(arg));
            }
        }
    }
    Some(out)
}

fn argument_fields(target: &str, words: &[String], ctx: &FormContext<'_>) -> Vec<Field> {
    let spec = catalog::lookup(target);
    let Some((spec, slots)) = spec.and_then(|s| slots(s).map(|slots| (s, slots))) else {
        let help = spec.map_or_else(
            || "words passed to the target's constructor".to_string(),
            |s| s.usage.to_string(),
        );
        return vec![Field::new(ARGUMENTS, words.join(" ")).help(help)];
    };
    if spec.args.is_empty() {
        return Vec::new();
    }
    let mut rest = words.iter();
    let mut fields = Vec::new();
    for slot in slots {
        let field = match slot {
            Slot::One(arg) => {
                let value = rest.next().cloned().unwrap_or_default();
                let mut field = Field::new(arg.name, value).help(arg_help(arg, ctx));
                field.options = arg_options(arg, ctx);
                field
            }
            Slot::Group(group) => {
                let names: Vec<&str> = group.iter().map(|a| a.name).collect();
                let value: Vec<String> = rest.by_ref().cloned().collect();
                Field::new(format!("{} …", names.join(" ")), value.join(" ")).help(format!(
                    "one or more groups of <{}>{}",
                    names.join("> <"),
                    disk_hint(ctx)
                ))
            }
            Slot::Rest(arg) => {
                let value: Vec<String> = rest.by_ref().cloned().collect();
                Field::new(arg.name, value.join(" ")).help(arg.help)
            }
        };
        fields.push(field);
    }
    // Words beyond what the catalog describes stay in the last field.
    let extra: Vec<String> = rest.cloned().collect();
    if let (false, Some(last)) = (extra.is_empty(), fields.last_mut()) {
        if !last.value.is_empty() {
            last.value.push(' ');
        }
        last.value.push_str(&extra.join(" "));
    }
    fields
}

fn arg_help(arg: &ArgSpec, ctx: &FormContext<'_>) -> String {
    let optional = if arg.presence == Presence::Optional {
        " (optional: leave empty)"
    } else {
        ""
    };
    match arg.kind {
        ArgKind::Device => format!("{}{optional}{}", arg.help, disk_hint(ctx)),
        _ => format!("{}{optional}", arg.help),
    }
}

fn disk_hint(ctx: &FormContext<'_>) -> String {
    if ctx.disks.is_empty() {
        return " · no disks yet: add one with 'd'".into();
    }
    let names: Vec<String> = ctx
        .disks
        .iter()
        .map(|d| format!("{}={}", d.name, d.device.display()))
        .collect();
    format!(" · {}", names.join(" "))
}

fn arg_options(arg: &ArgSpec, ctx: &FormContext<'_>) -> Vec<String> {
    match arg.kind {
        ArgKind::Device => ctx
            .disks
            .iter()
            .map(|d| d.device.display().to_string())
            .chain(ctx.devices.iter().map(|d| d.path().display().to_string()))
            .collect(),
        ArgKind::Choice(choices) => choices.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    }
}
