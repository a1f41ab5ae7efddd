//! Lab model tests: the contract's example, and every kind of mistake
//! reported at its file and line.

mod example;
mod malformed;
mod props;
mod sequence;

use super::*;

/// Parses, expecting success.
pub(super) fn lab(text: &str) -> Lab {
    match parse_lab("lab.toml", text) {
        Ok(lab) => lab,
        Err(errors) => panic!("lab should parse, got:\n{errors}"),
    }
}

/// Parses, expecting exactly these errors (each a prefix-or-fragment of
/// the rendered `FILE:LINE: message`), in order.
pub(super) fn assert_lab_errors(text: &str, expected: &[&str]) {
    let errors = match parse_lab("lab.toml", text) {
        Ok(_) => panic!("lab should be rejected:\n{text}"),
        Err(errors) => errors,
    };
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages.len(),
        expected.len(),
        "expected {} errors, got {messages:#?}",
        expected.len()
    );
    for (message, fragment) in messages.iter().zip(expected) {
        assert!(
            message.contains(fragment),
            "expected an error containing {fragment:?}, got {message:?}"
        );
    }
}

/// A valid prefix: title, a disk and a device, on lines 1-9.
pub(super) const PREAMBLE: &str = r#"title = "t"

[[steps]]
run = "disk"
name = "disk1"
size = "20000s"

[[steps]]
run = "create"
name = "dev"
table = "0 20000 linear {disk1} 0"
"#;
