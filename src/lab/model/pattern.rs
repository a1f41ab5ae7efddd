//! Data patterns of write and read steps: `stamp | zero | random | 0xNN`.

use crate::exec::protocol::Pattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternSpec {
    /// Each block names its own offset and carries a checksum.
    Stamp,
    Zero,
    /// Pseudo-random bytes; writes only (nothing to verify against).
    Random,
    /// Every byte the same.
    Byte(u8),
}

impl PatternSpec {
    pub fn parse(text: &str) -> Result<PatternSpec, String> {
        match text {
            "stamp" => Ok(PatternSpec::Stamp),
            "zero" => Ok(PatternSpec::Zero),
            "random" => Ok(PatternSpec::Random),
            _ => {
                let hex = text
                    .strip_prefix("0x")
                    .or_else(|| text.strip_prefix("0X"))
                    .filter(|h| (1..=2).contains(&h.len()));
                hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map(PatternSpec::Byte)
                    .ok_or_else(|| {
                        format!(
                            "'{text}' is not a pattern: use stamp, zero, random or a byte \
                             such as 0xA5"
                        )
                    })
            }
        }
    }

    /// The probe's pattern; `seed` feeds `random`.
    pub fn to_protocol(self, seed: u64) -> Pattern {
        match self {
            PatternSpec::Stamp => Pattern::Stamp,
            PatternSpec::Zero => Pattern::Zero,
            PatternSpec::Random => Pattern::Random { seed },
            PatternSpec::Byte(value) => Pattern::Byte { value },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        assert_eq!(PatternSpec::parse("stamp"), Ok(PatternSpec::Stamp));
        assert_eq!(PatternSpec::parse("zero"), Ok(PatternSpec::Zero));
        assert_eq!(PatternSpec::parse("random"), Ok(PatternSpec::Random));
        assert_eq!(PatternSpec::parse("0xa5"), Ok(PatternSpec::Byte(0xA5)));
        assert_eq!(PatternSpec::parse("0X7"), Ok(PatternSpec::Byte(7)));
        for bad in ["0x", "0x100", "ones", "0xZZ", "Stamp"] {
            assert!(PatternSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
