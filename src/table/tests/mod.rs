//! Tests of the table model. Shared fixtures live here.

mod catalog;
mod edits;
mod good_forms;
mod kernel_compare;
mod layout;
mod malformed;
mod props;

use std::collections::HashMap;

use super::*;

/// Three loop devices: two large, one small (1000 sectors).
pub(super) fn devices() -> HashMap<String, DeviceInfo> {
    let mut map = HashMap::new();
    for (minor, sectors) in [(0, 100_000), (1, 100_000), (2, 1000)] {
        let info = DeviceInfo::new(sectors, DevT::new(7, minor));
        map.insert(format!("/dev/loop{minor}"), info);
        map.insert(format!("7:{minor}"), info);
    }
    map
}

pub(super) fn dev_numbers() -> HashMap<String, DevT> {
    (0..3)
        .map(|minor| (format!("/dev/loop{minor}"), DevT::new(7, minor)))
        .collect()
}

/// Parses (which must succeed) and validates against [`devices`].
pub(super) fn check(text: &str) -> Validation {
    let table = parse(text).expect("test tables parse");
    validate(&table, &devices())
}

/// Validates and expects exactly the errors whose texts contain the given
/// fragments, in order.
pub(super) fn assert_errors(text: &str, fragments: &[&str]) {
    let validation = check(text);
    let messages: Vec<String> = validation.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages.len(),
        fragments.len(),
        "for table {text:?} expected {} errors, got: {messages:#?}",
        fragments.len()
    );
    for (message, fragment) in messages.iter().zip(fragments) {
        assert!(
            message.contains(fragment),
            "for table {text:?} expected an error containing {fragment:?}, got {message:?}"
        );
    }
}

pub(super) fn assert_valid(text: &str) -> Validation {
    let validation = check(text);
    assert!(
        validation.is_ok(),
        "table {text:?} should be valid, got: {:#?}",
        validation
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    validation
}

pub(super) fn decode_one(text: &str) -> TargetArgs {
    let table = parse(text).expect("test tables parse");
    table.segments[0].decode().expect("decodes").args
}
