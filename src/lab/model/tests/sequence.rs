//! Cross-step behaviour of labs that are valid.

use super::*;

#[test]
fn names_can_be_reused_after_removal_and_devices_stack() {
    let lab = lab(&format!(
        "{PREAMBLE}{}",
        r#"
[[steps]]
run = "create"
name = "upper"
table = "0 20000 linear /dev/mapper/dev 0"

[[steps]]
run = "remove"
device = "upper"

[[steps]]
run = "create"
name = "upper"
table = "0 8 zero"
"#
    ));
    assert_eq!(lab.steps.len(), 5);
}

#[test]
fn steps_expected_to_fail_create_nothing_and_skip_table_rules() {
    // The kernel refusing a bad striped table is the lesson here, so only
    // syntax and placeholders are checked; and "bad" never exists after.
    let text = format!(
        "{PREAMBLE}{}",
        r#"
[[steps]]
run = "create"
name = "bad"
table = "0 20001 striped 2 8 {disk1} 0 {disk1} 0"
[steps.expect]
error = "EINVAL"

[[steps]]
run = "status"
device = "bad"
"#
    );
    assert_lab_errors(
        &text,
        &["lab.toml:22: device 'bad' is not created by an earlier step"],
    );
}

#[test]
fn stacked_device_sizes_are_checked() {
    assert_lab_errors(
        &format!(
            "{PREAMBLE}{}",
            "[[steps]]\nrun = \"create\"\nname = \"upper\"\n\
             table = \"0 30000 linear /dev/mapper/dev 0\"\n"
        ),
        &["lab.toml:15: table line 1, argument 1 (device): '/dev/mapper/dev' has 20000 sectors"],
    );
}

#[test]
fn load_errors_render_as_file_line_message() {
    let errors = parse_lab("labs/x.toml", "title = 1\n").expect_err("bad");
    assert_eq!(
        errors.to_string(),
        "labs/x.toml:1: 'title' must be a string, not an integer\n\
         labs/x.toml:1: the lab has no 'steps' key ([[steps]] tables)"
    );
    let missing = load_lab(Path::new("/nonexistent/lab.toml")).expect_err("missing");
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/lab.toml: cannot read the lab file")
    );
}
