//! What a new target may be called. The name becomes the module name, the
//! DM target type name used in tables, and a C identifier prefix in the
//! generated code, so it must be all three.

use std::fmt;

/// DM's limit for a target type name, NUL included: `DM_MAX_TYPE_NAME` in
/// `include/uapi/linux/dm-ioctl.h` (the `target_type` field of
/// `struct dm_target_spec`, through which every table line names its
/// target). A longer name could be registered but never used in a table.
pub const DM_MAX_TYPE_NAME: usize = 16;

/// The longest usable name, in bytes.
pub const MAX_NAME_LEN: usize = DM_MAX_TYPE_NAME - 1;

/// Target types of upstream Linux: a module registering one of these names
/// fails with EEXIST where that target is present (the lab kernel has
/// several built in), and tables would be ambiguous to a reader anyway.
const STOCK_TARGETS: &[&str] = &[
    "cache",
    "clone",
    "crypt",
    "delay",
    "dust",
    "ebs",
    "era",
    "error",
    "flakey",
    "integrity",
    "linear",
    "mirror",
    "multipath",
    "raid",
    "snapshot",
    "striped",
    "switch",
    "thin",
    "unstriped",
    "vdo",
    "verity",
    "writecache",
    "zero",
    "zoned",
];

/// C keywords (C11 and the GNU ones kernel code uses): not identifiers.
const C_KEYWORDS: &[&str] = &[
    "asm", "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "typeof", "union", "unsigned", "void", "volatile", "while",
];

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong { len: usize },
    BadStart { first: char },
    BadChar { ch: char, at: usize },
    CKeyword,
    StockTarget,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "the name is empty"),
            NameError::TooLong { len } => write!(
                f,
                "the name is {len} bytes long; device-mapper target names are at most \
                 {MAX_NAME_LEN} (DM_MAX_TYPE_NAME is {DM_MAX_TYPE_NAME} with the NUL)"
            ),
            NameError::BadStart { first } => write!(
                f,
                "the name starts with {first:?}; it must be a C identifier, which starts \
                 with a letter or '_'"
            ),
            NameError::BadChar { ch, at } => write!(
                f,
                "character {} is {ch:?}; a C identifier has only ASCII letters, digits \
                 and '_'",
                at + 1
            ),
            NameError::CKeyword => write!(f, "the name is a C keyword, not an identifier"),
            NameError::StockTarget => write!(
                f,
                "the name is a stock device-mapper target's: registering it would fail \
                 (EEXIST) where that target is built in"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks that `name` can name a module, a DM target type and C identifiers.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(NameError::Empty);
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(NameError::BadStart { first });
    }
    if let Some((at, ch)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(NameError::BadChar { ch, at });
    }
    // All ASCII from here on: bytes and characters agree.
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    if C_KEYWORDS.contains(&name) {
        return Err(NameError::CKeyword);
    }
    if STOCK_TARGETS.contains(&name) {
        return Err(NameError::StockTarget);
    }
    Ok(())
}

/// Advice for a valid but unusual name: kernel modules and DM targets are
/// lowercase by convention.
pub fn advice(name: &str) -> Option<String> {
    name.chars().any(|c| c.is_ascii_uppercase()).then(|| {
        format!(
            "note: '{name}' has capitals; module and target names are lowercase by \
             convention ('{}')",
            name.to_ascii_lowercase()
        )
    })
}

/// Names the generated Rust file already uses (its imports, the kernel
/// prelude, core's prelude): a target type called one of these would not
/// compile.
const RUST_TAKEN: &[&str] = &[
    "Args",
    "Atomic",
    "Bio",
    "Box",
    "CStr",
    "Callout",
    "Clone",
    "Copy",
    "CtrError",
    "Default",
    "Device",
    "DmTargetModule",
    "Drop",
    "Eq",
    "Err",
    "Error",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromBytes",
    "Init",
    "InPlaceInit",
    "InPlaceWrite",
    "Into",
    "IntoBytes",
    "IntoIterator",
    "Iterator",
    "KBox",
    "KVBox",
    "KVVec",
    "KVec",
    "LocalModule",
    "MapResult",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Pin",
    "PinInit",
    "Relaxed",
    "ReqOp",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "StatusType",
    "StatusWriter",
    "Sync",
    "Target",
    "ThisModule",
    "Unpin",
    "UserPtr",
    "VBox",
    "VVec",
    "Vec",
    "Write",
    "Zeroable",
];

/// The Rust type for target `name`: `my_target` -> `MyTarget`; `Dm` in
/// front when that would not be a usable, unused type name.
pub fn rust_type_name(name: &str) -> String {
    let camel: String = name
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let usable = camel.starts_with(|c: char| c.is_ascii_alphabetic())
        && !RUST_TAKEN.contains(&camel.as_str());
    if usable { camel } else { format!("Dm{camel}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for ok in ["my_target", "a", "_x", "t2", "abcdefghijklmno", "Upper"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn the_limit_is_dm_max_type_name_less_the_nul() {
        assert_eq!(check_name(&"a".repeat(15)), Ok(()));
        assert_eq!(
            check_name(&"a".repeat(16)),
            Err(NameError::TooLong { len: 16 })
        );
        let text = NameError::TooLong { len: 16 }.to_string();
        assert!(text.contains("at most 15"), "{text}");
        assert!(text.contains("DM_MAX_TYPE_NAME"), "{text}");
    }

    #[test]
    fn non_identifiers_say_which_character() {
        assert_eq!(check_name(""), Err(NameError::Empty));
        assert_eq!(check_name("2fast"), Err(NameError::BadStart { first: '2' }));
        assert_eq!(
            check_name("my-target"),
            Err(NameError::BadChar { ch: '-', at: 2 })
        );
        assert_eq!(
            check_name("tür"),
            Err(NameError::BadChar { ch: 'ü', at: 1 })
        );
        assert_eq!(
            check_name("a/b"),
            Err(NameError::BadChar { ch: '/', at: 1 })
        );
        assert_eq!(check_name("../x"), Err(NameError::BadStart { first: '.' }));
        assert!(
            NameError::BadChar { ch: '-', at: 2 }
                .to_string()
                .contains("character 3 is '-'")
        );
    }

    #[test]
    fn keywords_and_stock_targets_are_refused() {
        assert_eq!(check_name("struct"), Err(NameError::CKeyword));
        assert_eq!(check_name("linear"), Err(NameError::StockTarget));
        assert_eq!(check_name("striped"), Err(NameError::StockTarget));
        assert_eq!(check_name("linear2"), Ok(()));
    }

    #[test]
    fn capitals_get_advice_not_refusal() {
        assert!(advice("MyTarget").is_some_and(|a| a.contains("'mytarget'")));
        assert!(advice("my_target").is_none());
    }

    #[test]
    fn rust_type_names_are_camel_case_and_never_clash() {
        assert_eq!(rust_type_name("my_target"), "MyTarget");
        assert_eq!(rust_type_name("x"), "X");
        assert_eq!(rust_type_name("a__b_"), "AB");
        assert_eq!(rust_type_name("target"), "DmTarget");
        assert_eq!(rust_type_name("result"), "DmResult");
        assert_eq!(rust_type_name("_1x"), "Dm1x");
        assert_eq!(rust_type_name("___"), "Dm");
        assert_eq!(rust_type_name("self"), "DmSelf");
    }
}
