//! A cursor over a segment's argument words that names every problem by
//! line, position and argument name, and keeps going so that one pass
//! reports all of them.

use super::{DeviceOffset, DeviceUse, Facts, OffsetShift, Outcome, TargetArgs};
use crate::table::catalog;
use crate::table::error::TableError;
use crate::table::model::Segment;
use crate::table::numbers::{parse_u32, parse_u64};

/// One argument word and where it sits (0-based index into the args).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word<'a> {
    pub index: usize,
    pub text: &'a str,
}

impl Word<'_> {
    /// 1-based position, as error messages count.
    pub fn position(&self) -> usize {
        self.index + 1
    }
}

pub(crate) struct ArgReader<'a> {
    segment: &'a Segment,
    next: usize,
    missing_reported: bool,
    errors: Vec<TableError>,
    pub facts: Facts,
}

impl<'a> ArgReader<'a> {
    pub fn new(segment: &'a Segment) -> Self {
        ArgReader {
            segment,
            next: 0,
            missing_reported: false,
            errors: Vec::new(),
            facts: Facts {
                split_alignment: 1,
                ..Facts::default()
            },
        }
    }

    pub fn line(&self) -> usize {
        self.segment.line
    }

    /// Records a problem that is not about one argument word.
    pub fn push(&mut self, error: TableError) {
        self.errors.push(error);
    }

    pub fn length(&self) -> u64 {
        self.segment.length
    }

    pub fn remaining(&self) -> usize {
        self.segment.args.len().saturating_sub(self.next)
    }

    fn usage(&self) -> String {
        let usage = catalog::lookup(&self.segment.target).map_or("", |spec| spec.usage);
        if usage.is_empty() {
            format!("{} takes no arguments", self.segment.target)
        } else {
            format!("{} takes {usage}", self.segment.target)
        }
    }

    /// Takes the next word. A missing word is reported once per segment:
    /// after the first, the rest are missing too and say nothing new.
    pub fn word(&mut self, name: &str) -> Option<Word<'a>> {
        let args: &'a [String] = &self.segment.args;
        match args.get(self.next) {
            Some(text) => {
                let word = Word {
                    index: self.next,
                    text: text.as_str(),
                };
                self.next += 1;
                Some(word)
            }
            None => {
                if !self.missing_reported {
                    self.missing_reported = true;
                    let message = format!("missing; {}", self.usage());
                    self.error_at(self.next, name, message);
                }
                None
            }
        }
    }

    /// A number of sectors or a sector position (64-bit).
    pub fn sector(&mut self, name: &str) -> Option<(Word<'a>, u64)> {
        let word = self.word(name)?;
        match parse_u64(word.text) {
            Ok(n) => Some((word, n)),
            Err(e) => {
                self.error(word, name, e.describe(word.text, "a sector number"));
                None
            }
        }
    }

    /// A 32-bit unsigned number; `what` completes "is not ..." in errors.
    pub fn u32(&mut self, name: &str, what: &str) -> Option<(Word<'a>, u32)> {
        let word = self.word(name)?;
        match parse_u32(word.text) {
            Ok(n) => Some((word, n)),
            Err(e) => {
                self.error(word, name, e.describe(word.text, what));
                None
            }
        }
    }

    pub fn error(&mut self, word: Word<'_>, name: &str, message: impl Into<String>) {
        self.error_at(word.index, name, message);
    }

    pub fn error_at(&mut self, index: usize, name: &str, message: impl Into<String>) {
        self.errors.push(TableError::argument(
            self.segment.line,
            index + 1,
            name,
            message,
        ));
    }

    pub fn row_error(&mut self, message: impl Into<String>) {
        self.errors
            .push(TableError::row(self.segment.line, message.into()));
    }

    /// Drops the remaining words after a problem that makes them
    /// meaningless (a wrong count), so they are not reported a second time.
    pub fn skip_rest(&mut self) {
        self.next = self.segment.args.len();
    }

    /// Reports words left over after the last argument the target reads.
    pub fn reject_rest(&mut self) {
        let extra = self.remaining();
        if extra == 0 {
            return;
        }
        let first = &self.segment.args[self.next];
        let message = if extra == 1 {
            format!("unexpected '{first}'; {}", self.usage())
        } else {
            format!(
                "unexpected '{first}' and {} more word{}; {}",
                extra - 1,
                if extra == 2 { "" } else { "s" },
                self.usage()
            )
        };
        self.error_at(self.next, "", message);
        self.next = self.segment.args.len();
    }

    /// Reads `<device> <offset>`, recording that `sectors` sectors of the
    /// device are used from the offset and that the offset moves by
    /// `distance / divisor` when the segment is split.
    pub fn device_offset(
        &mut self,
        device_name: &str,
        offset_name: &str,
        sectors: u64,
        divisor: u64,
    ) -> Option<DeviceOffset> {
        let device = self.word(device_name)?;
        let offset = self.sector(offset_name);
        // The device is checked even when its offset is wrong.
        self.facts.uses.push(DeviceUse {
            device: device.text.to_string(),
            position: device.position(),
            name: device_name.to_string(),
            offset: offset.map_or(0, |(_, n)| n),
            sectors: if offset.is_some() { sectors } else { 0 },
        });
        let (offset_word, offset) = offset?;
        self.facts.shifts.push(OffsetShift {
            index: offset_word.index,
            divisor,
        });
        Some(DeviceOffset {
            device: device.text.to_string(),
            offset,
        })
    }

    /// Reads a device used from sector 0 for `sectors` (0: must only exist).
    pub fn whole_device(&mut self, name: &str, sectors: u64) -> Option<String> {
        let word = self.word(name)?;
        self.facts.uses.push(DeviceUse {
            device: word.text.to_string(),
            position: word.position(),
            name: name.to_string(),
            offset: 0,
            sectors,
        });
        Some(word.text.to_string())
    }

    /// For targets without rules: every word is accepted as it is.
    pub fn finish_unchecked(self, args: TargetArgs) -> Outcome {
        Outcome {
            args: Ok(args),
            facts: self.facts,
        }
    }

    pub fn finish(mut self, value: Option<TargetArgs>) -> Outcome {
        self.reject_rest();
        let args = match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => {
                if self.errors.is_empty() {
                    // A decoder gave up without saying why; never leave the
                    // user with a silent failure.
                    self.row_error(format!("arguments not understood; {}", self.usage()));
                }
                Err(self.errors)
            }
        };
        Outcome {
            args,
            facts: self.facts,
        }
    }
}
