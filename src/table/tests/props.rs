//! Property tests: round trips, idempotent formatting, no panics.

use proptest::prelude::*;

use super::*;

/// Words that survive tokenisation: no table whitespace, no NUL.
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_:/.{}#=+-]{1,12}"
}

fn segment_shape() -> impl Strategy<Value = (u64, String, Vec<String>)> {
    (
        1u64..1_000_000,
        "[a-z][a-z_-]{0,14}",
        prop::collection::vec(word(), 0..6),
    )
}

/// Any syntactically valid table, contiguous, lines numbered 1..n.
fn any_table() -> impl Strategy<Value = Table> {
    prop::collection::vec(segment_shape(), 0..8).prop_map(|shapes| {
        let mut start = 0;
        let segments = shapes
            .into_iter()
            .map(|(length, target, args)| {
                let segment = Segment::new(start, length, target, args);
                start += length;
                segment
            })
            .collect();
        Table::new(segments)
    })
}

/// A table of linear and striped rows over two large devices that the
/// kernel would accept.
fn valid_device_table() -> impl Strategy<Value = Table> {
    let row = prop_oneof![
        (1u64..5000, 0u64..1000, 0u32..2).prop_map(|(length, offset, dev)| {
            (
                length,
                "linear".to_string(),
                vec![format!("/dev/loop{dev}"), offset.to_string()],
            )
        }),
        (1u64..40, 0u32..4, 0u64..100).prop_map(|(rows, chunk_shift, offset)| {
            let chunk = 8u64 << chunk_shift;
            (
                rows * 2 * chunk,
                "striped".to_string(),
                vec![
                    "2".into(),
                    chunk.to_string(),
                    "/dev/loop0".into(),
                    offset.to_string(),
                    "/dev/loop1".into(),
                    offset.to_string(),
                ],
            )
        }),
        (1u64..5000).prop_map(|length| (length, "zero".to_string(), Vec::new())),
    ];
    prop::collection::vec(row, 1..6).prop_map(|rows| {
        let mut start = 0;
        Table::new(
            rows.into_iter()
                .map(|(length, target, args)| {
                    let segment = Segment::new(start, length, target, args);
                    start += length;
                    segment
                })
                .collect(),
        )
    })
}

fn contiguous(table: &Table) -> bool {
    let mut expected = 0;
    table.segments.iter().all(|s| {
        let ok = s.start == expected && s.length > 0;
        expected = s.end();
        ok
    })
}

proptest! {
    #[test]
    fn parse_of_format_is_identity(table in any_table()) {
        let text = format(&table);
        prop_assert_eq!(parse(&text), Ok(table));
    }

    #[test]
    fn format_is_idempotent(table in any_table()) {
        let once = format(&table);
        let twice = format(&parse(&once).expect("canonical text parses"));
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn wire_lines_round_trip(table in any_table()) {
        prop_assert_eq!(Table::from_lines(&table.to_lines()), table);
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        if let Ok(table) = parse(&text) {
            let _ = validate(&table, &devices());
            let _ = compare_with_kernel(&table, &table.to_lines(), &dev_numbers());
            // Whatever parsed formats to text that parses to the same rows.
            let again = parse(&format(&table)).expect("formatted text parses");
            prop_assert_eq!(format(&again), format(&table));
        }
    }

    #[test]
    fn parse_never_panics_on_table_like_text(
        lines in prop::collection::vec("[0-9a-z :#/\t-]{0,40}", 0..6)
    ) {
        let text = lines.join("\n");
        if let Ok(table) = parse(&text) {
            let _ = validate(&table, &devices());
            for index in 0..table.segments.len() {
                let _ = split_segment(&table, index, table.segments[index].start + 1);
                let _ = resize_segment(&table, index, 3);
                let _ = delete_segment(&table, index);
            }
        }
    }

    #[test]
    fn generated_device_tables_validate(table in valid_device_table()) {
        let validation = validate(&table, &devices());
        prop_assert!(validation.is_ok(), "{:?}", validation.errors);
        let mut kernel_view = HashMap::new();
        kernel_view.insert("/dev/loop0".to_string(), DevT::new(7, 0));
        kernel_view.insert("/dev/loop1".to_string(), DevT::new(7, 1));
        // A kernel that echoes the table (with numbers for devices) matches.
        let echoed: Vec<_> = table
            .to_lines()
            .into_iter()
            .map(|mut line| {
                line.params = line.params.replace("/dev/loop0", "7:0").replace("/dev/loop1", "7:1");
                line
            })
            .collect();
        prop_assert_eq!(compare_with_kernel(&table, &echoed, &kernel_view), Ok(()));
    }

    #[test]
    fn edits_keep_tables_contiguous_and_valid(
        table in valid_device_table(),
        pick in any::<prop::sample::Index>(),
        fraction in 0.0f64..1.0,
        new_length in 1u64..4000,
    ) {
        let index = pick.index(table.segments.len());
        let segment = &table.segments[index];
        let at = segment.start + ((segment.length as f64 * fraction) as u64);
        if let Ok(split) = split_segment(&table, index, at) {
            prop_assert!(contiguous(&split));
            prop_assert_eq!(split.segments.len(), table.segments.len() + 1);
            prop_assert!(validate(&split, &devices()).is_ok());
        }
        if let Ok(deleted) = delete_segment(&table, index) {
            prop_assert!(contiguous(&deleted));
            prop_assert_eq!(
                deleted.total_sectors(),
                table.total_sectors() - segment.length
            );
        }
        let resized = resize_segment(&table, index, new_length).expect("positive length");
        prop_assert!(contiguous(&resized));
        prop_assert_eq!(
            resized.total_sectors(),
            table.total_sectors() - segment.length + new_length
        );
    }
}
