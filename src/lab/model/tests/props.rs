//! Whatever the input, loading a lab answers with a lab or errors.

use proptest::prelude::*;

use super::*;

proptest! {
    #[test]
    fn parse_lab_never_panics(text in any::<String>()) {
        let _ = parse_lab("lab.toml", &text);
    }

    #[test]
    fn parse_lab_never_panics_on_lab_like_text(
        lines in prop::collection::vec(
            prop_oneof![
                Just("[[steps]]".to_string()),
                Just("[steps.expect]".to_string()),
                "(run|name|device|disk|table|size|bs|seek|count|pattern|error|kmsg|ok) = \
                 (\"[a-z0-9{}: ]{0,12}\"|[0-9-]{1,4}|true|false)",
            ],
            0..14,
        )
    ) {
        let text = format!("title = \"t\"\n{}", lines.join("\n"));
        if let Err(errors) = parse_lab("lab.toml", &text) {
            // Every error points into the file.
            let line_count = text.lines().count().max(1);
            for error in errors.iter() {
                prop_assert!(error.line <= line_count, "{error}");
            }
        }
    }
}
