//! Decimal numbers as the kernel's constructors read them (`%llu`,
//! `kstrtouint`), but strict: plain ASCII digits only, so that a typo such as
//! `10s` or `-1` is caught here instead of surprising someone later.

/// Why a word is not the number wanted. Messages read after the word
/// itself, e.g. `'abc' is not a number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    NotANumber,
    TooLarge,
}

impl NumberError {
    pub fn describe(self, word: &str, what: &str) -> String {
        match self {
            NumberError::NotANumber => format!("'{word}' is not {what}"),
            NumberError::TooLarge => format!("{word} is too large for {what}"),
        }
    }
}

pub fn parse_u64(word: &str) -> Result<u64, NumberError> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    word.parse().map_err(|_| NumberError::TooLarge)
}

pub fn parse_u32(word: &str) -> Result<u32, NumberError> {
    let wide = parse_u64(word)?;
    u32::try_from(wide).map_err(|_| NumberError::TooLarge)
}

/// `007` -> `7`, as the kernel prints numbers back with `%llu`/`%u`. Words
/// that are not numbers, or too large, come back unchanged.
pub fn canonical_number(word: &str) -> String {
    match parse_u64(word) {
        Ok(n) => n.to_string(),
        Err(_) => word.to_string(),
    }
}
