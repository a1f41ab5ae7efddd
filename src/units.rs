//! Sizes as users write them: `20000s` (512-byte sectors), `4096B`, `8KiB`,
//! `10MiB`, `1GiB`. A bare number is bytes.

pub const SECTOR: u64 = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("empty size")]
    Empty,
    #[error("'{0}' is not a size: expected a number with a unit s, B, KiB, MiB or GiB")]
    Malformed(String),
    #[error("'{0}' has unknown unit '{1}': use s, B, KiB, MiB or GiB")]
    UnknownUnit(String, String),
    #[error("'{0}' is too large")]
    Overflow(String),
    #[error("'{0}' is zero")]
    Zero(String),
}

/// Parses a size into bytes. Zero is refused: nothing has size zero here.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(SizeError::Empty);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(SizeError::Malformed(t.to_string()));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| SizeError::Overflow(t.to_string()))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "s" => SECTOR,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        other => return Err(SizeError::UnknownUnit(t.to_string(), other.to_string())),
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| SizeError::Overflow(t.to_string()))?;
    if bytes == 0 {
        return Err(SizeError::Zero(t.to_string()));
    }
    Ok(bytes)
}

/// Human form of a byte count: whole GiB or MiB when exact, else sectors
/// (the unit device-mapper tables speak), else bytes.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 2] = [("GiB", 1 << 30), ("MiB", 1 << 20)];
    for (name, mult) in UNITS {
        if bytes >= mult && bytes.is_multiple_of(mult) {
            return format!("{}{}", bytes / mult, name);
        }
    }
    if bytes.is_multiple_of(SECTOR) && bytes > 0 {
        return format!("{}s", bytes / SECTOR);
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_size("20000s"), Ok(20000 * 512));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("8KiB"), Ok(8192));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        assert!(matches!(parse_size("ten"), Err(SizeError::Malformed(_))));
        assert!(matches!(parse_size("10MB"), Err(SizeError::UnknownUnit(_, u)) if u == "MB"));
        assert!(matches!(parse_size("0s"), Err(SizeError::Zero(_))));
        assert!(matches!(
            parse_size("99999999999999999999GiB"),
            Err(SizeError::Overflow(_))
        ));
        assert_eq!(parse_size(""), Err(SizeError::Empty));
    }

    #[test]
    fn formats_round_numbers_compactly() {
        assert_eq!(format_size(10 << 20), "10MiB");
        assert_eq!(format_size(20000 * 512), "20000s");
        assert_eq!(format_size(100), "100B");
    }
}
