//! The catalog describes every target the decoder knows.

use super::*;
use crate::table::catalog::{CATALOG, colour_for, lookup};

#[test]
fn every_catalog_example_is_valid_with_placeholder_disks() {
    let resolver = |reference: &str| {
        (reference.starts_with('{') && reference.ends_with('}'))
            .then(|| DeviceInfo::new(1 << 20, DevT::new(7, u32::from(reference.as_bytes()[1]))))
    };
    for spec in CATALOG {
        let example = spec
            .example
            .replace("{disk1}", "{a}")
            .replace("{disk2}", "{b}")
            .replace("{origin}", "{o}")
            .replace("{cow}", "{c}");
        let text = format!("0 2048 {} {example}", spec.name);
        let table = parse(&text).expect("examples parse");
        let validation = validate(&table, &resolver);
        assert!(validation.is_ok(), "{text}: {:?}", validation.errors);
        assert!(!spec.description.is_empty());
    }
}

#[test]
fn colours_are_stable_and_distinct_for_known_targets() {
    let mut colours: Vec<&str> = CATALOG.iter().map(|s| s.colour).collect();
    colours.sort_unstable();
    colours.dedup();
    assert_eq!(colours.len(), CATALOG.len());
    assert_eq!(colour_for("linear"), "blue");
    assert_eq!(colour_for("my_target"), colour_for("my_target"));
    assert!(lookup("basic_target").is_some_and(|s| !s.stock));
}
