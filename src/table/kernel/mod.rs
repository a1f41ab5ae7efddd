//! Does the table the kernel reports equal the table we loaded?
//!
//! The kernel writes its table back in its own words (`dmsetup table`):
//! devices become `major:minor`, numbers lose leading zeros, and some
//! targets print normalised or defaulted arguments. [`compare_with_kernel`]
//! predicts the kernel's words for each loaded row and compares.
//!
//! Everywhere: start, length and target name must be equal; a device
//! reference is replaced by the `major:minor` the caller's map gives (a
//! reference already written as `major:minor` is used as is, minus leading
//! zeros); numbers compare by value.
//!
//! Per target — exact:
//! - `linear`, `dust`: every word, in order.
//! - `striped`: `<#stripes> <chunk> (<dev> <offset>)+`.
//! - `zero`: no words. `error`: no words, even when a device was given
//!   (the error target has no status function, so the kernel prints nothing).
//! - `delay`: the 3, 6 or 9 words as loaded (the kernel prints as many
//!   groups as it was given).
//! - `flakey`: `<dev> <offset> <up> <down> <#words> <features>`, where the
//!   features are what the kernel ended up with, in its order: `error_reads`,
//!   then `drop_writes` or `error_writes`, then `corrupt_bio_byte <n> <r|w>
//!   <value> <flags>`, `random_read_corrupt <p>`, `random_write_corrupt <p>`
//!   (zero probabilities omitted). No effective feature (none given, or
//!   only zero probabilities) means the kernel's default, printed as
//!   `2 error_reads error_writes`. Names lower-cased, as the kernel matched
//!   them case-insensitively.
//! - `basic_target`: `<dev> <start_sector>` like linear, or no words at all
//!   (a module without a status function prints nothing).
//! - `snapshot-origin`: `<dev>`.
//!
//! Best effort:
//! - `snapshot`: `<origin> <cow> <P|PO|N> <chunk> [<#f> <features>]`, type
//!   upper-cased, features in the kernel's order; chunk size 0 (read from
//!   the COW) matches any number.
//! - `mirror`: `<core|disk> <#log args> [<log dev>] <region> [sync|nosync]
//!   <#legs> (<dev> <offset>)+ [<#f> handle_errors [keep_log]]`; a feature
//!   count of 0 is omitted, as the kernel does.
//! - `crypt`: cipher as written, a hex key lower-cased, `-` and keyring
//!   references as written; options lower-cased, de-duplicated, in the
//!   kernel's order, `sector_size:512` dropped (the default is not
//!   printed). Options the kernel adds on its own (zoned devices) are not
//!   predicted, nor a key the kernel chose to hide.
//! - any other target: the words as loaded with device references mapped
//!   and numbers compared by value, or no words at all (a target without a
//!   status function).

mod expected;

use std::collections::HashMap;
use std::fmt;

use super::model::{DevT, Table};
use super::parse::split_words;
use crate::exec::protocol::TableLine;
use expected::{Word, expected_forms};

/// One way the kernel's table differs from the loaded one. `line` is the
/// loaded table's line; 0 for the table as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelMismatch {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for KernelMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "table: {}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// Compares a loaded table with the kernel's report of it. `devices` maps
/// each device reference used in `loaded` to its `major:minor`.
pub fn compare_with_kernel(
    loaded: &Table,
    kernel: &[TableLine],
    devices: &HashMap<String, DevT>,
) -> Result<(), Vec<KernelMismatch>> {
    let mut mismatches = Vec::new();
    if loaded.segments.len() != kernel.len() {
        mismatches.push(KernelMismatch {
            line: 0,
            message: format!(
                "{} segment{} loaded, but the kernel reports {}",
                loaded.segments.len(),
                if loaded.segments.len() == 1 { "" } else { "s" },
                kernel.len()
            ),
        });
    }
    for (ours, theirs) in loaded.segments.iter().zip(kernel) {
        let mut mismatch = |message: String| {
            mismatches.push(KernelMismatch {
                line: ours.line,
                message,
            })
        };
        if (ours.start, ours.length) != (theirs.start, theirs.length) {
            mismatch(format!(
                "loaded sectors {}+{}, the kernel reports {}+{}",
                ours.start, ours.length, theirs.start, theirs.length
            ));
        }
        if ours.target != theirs.target {
            mismatch(format!(
                "loaded target '{}', the kernel reports '{}'",
                ours.target, theirs.target
            ));
            continue;
        }
        let forms = match expected_forms(ours, devices) {
            Ok(forms) => forms,
            Err(problem) => {
                mismatch(problem);
                continue;
            }
        };
        let words = split_words(&theirs.params);
        if !forms.iter().any(|form| matches(form, &words)) {
            let predicted = forms.first().map(|form| render(form)).unwrap_or_default();
            mismatch(format!(
                "expected the kernel to report '{}', it reports '{}'",
                predicted,
                words.join(" ")
            ));
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(mismatches)
    }
}

fn matches(form: &[Word], words: &[String]) -> bool {
    form.len() == words.len() && form.iter().zip(words).all(|(want, got)| want.matches(got))
}

fn render(form: &[Word]) -> String {
    form.iter()
        .map(Word::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
