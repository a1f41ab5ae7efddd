//! Table layout: contiguous from sector 0, no empty rows.

use super::*;

#[test]
fn first_segment_starts_at_zero() {
    assert_errors(
        "8 100 zero",
        &["line 1, start: the first segment must start at sector 0, not 8"],
    );
}

#[test]
fn gaps_and_overlaps_name_both_lines() {
    assert_errors(
        "0 100 zero\n\n150 10 zero",
        &["line 3, start: starts at sector 150, but line 1 ends at sector 100: a gap of 50"],
    );
    assert_errors(
        "0 100 zero\n90 10 zero",
        &["line 2, start: starts at sector 90, inside line 1 which ends at sector 100: 10"],
    );
}

#[test]
fn empty_tables_and_huge_segments() {
    let validation = validate(&Table::default(), &devices());
    assert_eq!(
        validation.errors[0].to_string(),
        "table: the table has no segments"
    );
    assert_errors(
        &format!("0 {} zero", MAX_SECTORS + 1),
        &["line 1, length: the segment would end past sector"],
    );
}

#[test]
fn layout_and_arguments_can_be_checked_without_devices() {
    let table = parse("0 100 linear {disk1} 0\n100 8 striped 2 8 a 0").expect("parses");
    assert!(check_layout(&table).is_empty());
    let errors = check_arguments(&table);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .starts_with("line 2, argument 2 (chunk_size)")
    );
    assert!(
        errors[1]
            .to_string()
            .starts_with("line 2, argument 1 (stripes)")
    );
}
