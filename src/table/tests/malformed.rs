//! Malformed tables: each error names the line and the argument at fault.

use super::*;

#[test]
fn syntax_errors_name_line_and_field() {
    let errors = parse("0 100 zero\n0 abc linear /dev/loop0 0\n# fine\n100\nx -5 zero")
        .expect_err("malformed");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 2, length: 'abc' is not a number of sectors",
            "line 4: expected '<start> <length> <target> [<arguments>...]', got 1 word",
            "line 5, start: 'x' is not a sector number",
            "line 5, length: '-5' is not a number of sectors",
        ]
    );
}

#[test]
fn huge_numbers_are_too_large_not_garbage() {
    let errors = parse("0 99999999999999999999999 zero").expect_err("overflow");
    assert!(
        errors
            .to_string()
            .contains("line 1, length: 99999999999999999999999 is too large")
    );
}

#[test]
fn linear_missing_and_bad_offset() {
    assert_errors(
        "0 1000 linear /dev/loop0",
        &["line 1, argument 2 (offset): missing; linear takes <device> <offset>"],
    );
    assert_errors(
        "0 1000 linear /dev/loop0 1k",
        &["line 1, argument 2 (offset): '1k' is not a sector number"],
    );
    assert_errors(
        "0 1000 linear /dev/loop0 0 extra words",
        &["line 1, argument 3: unexpected 'extra' and 1 more word; linear takes"],
    );
}

#[test]
fn striped_geometry_errors() {
    assert_errors(
        "0 1001 striped 2 8 /dev/loop0 0 /dev/loop1 0",
        &["line 1, length: 1001 sectors is not divisible by 2 stripes"],
    );
    assert_errors(
        "0 1000 striped 2 8 /dev/loop0 0 /dev/loop1 0",
        &["line 1, argument 2 (chunk_size): the stripe width of 500 sectors"],
    );
    assert_errors(
        "0 1000 striped 0 8",
        &["line 1, argument 1 (stripes): must be at least 1"],
    );
    assert_errors(
        "0 3072 striped 3 8 /dev/loop0 0 /dev/loop1 0",
        &["line 1, argument 1 (stripes): 3 stripes need 6 words (<device> <offset> each), got 4"],
    );
    assert_errors(
        "0 2048 striped 2 8 /dev/loop0 0 /dev/loop2 0",
        &[
            "line 1, argument 5 (device of stripe 2): '/dev/loop2' has 1000 sectors, but this \
           segment needs 1024 sectors from sector 0",
        ],
    );
}

#[test]
fn mirror_errors() {
    assert_errors(
        "0 2048 mirror core 1 1000 2 /dev/loop0 0 /dev/loop1 0",
        &["line 1, argument 3 (region_size): 1000 is not a power of two"],
    );
    assert_errors(
        "0 2048 mirror core 1 1024 1 /dev/loop0 0",
        &["line 1, argument 4 (mirrors): 1 mirrors: the kernel takes 2 to 9"],
    );
    assert_errors(
        "0 2048 mirror core 2 1024 fastsync 2 /dev/loop0 0 /dev/loop1 0 1 keep_log",
        &[
            "line 1, argument 4 (sync): 'fastsync' is not sync or nosync",
            "line 1, argument 11 (features): keep_log requires handle_errors",
        ],
    );
    assert_errors(
        "0 2048 mirror redo 1 1024 2 /dev/loop0 0 /dev/loop1 0",
        &["line 1, argument 1 (log_type): 'redo' is not a log type dmbench knows"],
    );
}

#[test]
fn crypt_errors() {
    assert_errors(
        "0 1000 crypt aes-xts-plain64 abc 0 /dev/loop0 0",
        &["line 1, argument 2 (key): has 3 hex digits, an odd number"],
    );
    assert_errors(
        "0 1000 crypt aes-xts-plain64 - 0 /dev/loop0 0 2 allow_discards turbo",
        &["line 1, argument 8 (options): 'turbo' is not a crypt option"],
    );
    assert_errors(
        "0 1004 crypt aes-xts-plain64 - 4 /dev/loop0 0 1 sector_size:4096",
        &[
            "line 1, argument 7 (options): the length of 1004 sectors is not a multiple of \
             sector_size 4096",
        ],
    );
    assert_errors(
        "0 1000 crypt aes-xts-plain64 - 4 /dev/loop0 0 1 sector_size:4096",
        &["line 1, argument 3 (iv_offset): 4 is not a multiple of the sector_size option"],
    );
}

#[test]
fn snapshot_errors() {
    assert_errors(
        "0 1000 snapshot /dev/loop0 /dev/loop1 X 8",
        &["line 1, argument 3 (persistence): 'X' is not P (persistent)"],
    );
    assert_errors(
        "0 1000 snapshot /dev/loop0 /dev/loop1 P 12",
        &["line 1, argument 4 (chunk_size): 12 is not a power of two"],
    );
    assert_errors(
        "0 1000 snapshot /dev/loop0 7:0 P 8",
        &["line 1, argument 2 (cow): the COW device cannot be the origin device"],
    );
    assert_errors(
        "0 1000 snapshot /dev/loop0 /dev/loop1 P 8 1 discard_passdown_origin",
        &["line 1, argument 6 (features): discard_passdown_origin requires discard_zeroes_cow"],
    );
}

#[test]
fn delay_flakey_dust_zero_errors() {
    assert_errors(
        "0 1000 delay /dev/loop0 0 500 /dev/loop1",
        &["line 1: delay takes 3, 6 or 9 arguments"],
    );
    assert_errors(
        "0 1000 delay /dev/loop0 0 soon",
        &["line 1, argument 3 (delay_ms): 'soon' is not a delay in milliseconds"],
    );
    assert_errors(
        "0 1000 flakey /dev/loop0 0 5 5 1 explode",
        &["line 1, argument 6 (features): 'explode' is not a flakey feature"],
    );
    assert_errors(
        "0 1000 flakey /dev/loop0 0 5 5 3 drop_writes",
        &["line 1, argument 5 (features): announces 3 feature words but only 1 follows"],
    );
    assert_errors(
        "0 1000 flakey /dev/loop0 0 5 5 2 drop_writes error_writes",
        &["line 1, argument 6 (features): drop_writes and error_writes exclude each other"],
    );
    assert_errors(
        "0 1000 flakey /dev/loop0 0 0 0",
        &["line 1, argument 3 (up_interval): up and down intervals are both zero"],
    );
    assert_errors(
        "0 1000 dust /dev/loop0 0 1000",
        &["line 1, argument 3 (block_size): 1000 is not a power of two"],
    );
    assert_errors(
        "0 4 dust /dev/loop0 0 4096",
        &["line 1, argument 3 (block_size): 4096 bytes (8 sectors) is larger than 4 sectors"],
    );
    assert_errors(
        "0 1000 zero 1",
        &["line 1, argument 1: unexpected '1'; zero takes no arguments"],
    );
    assert_errors(
        "0 1000 error /dev/loop0",
        &["line 1: error takes no arguments, or <device> <offset>; got 1 word"],
    );
}

#[test]
fn devices_must_be_known_and_large_enough() {
    assert_errors(
        "0 1000 linear /dev/sda 0",
        &["line 1, argument 1 (device): '/dev/sda' is not a device this session knows"],
    );
    assert_errors(
        "0 600 linear /dev/loop2 500",
        &[
            "line 1, argument 1 (device): '/dev/loop2' has 1000 sectors, but this segment needs \
           600 sectors (the segment length) from sector 500, up to sector 1100",
        ],
    );
    assert_errors(
        "0 10 delay /dev/loop0 0 1 /dev/loop2 1000 1",
        &["line 1, argument 4 (write_device): '/dev/loop2' has 1000 sectors"],
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let text = "0 1000 linear /dev/loop0 0\n\
                1000 1024 striped 2 8 /dev/loop0 0 /dev/loop1\n\
                2024 0 zero\n\
                2100 10 dust /dev/nothing 0 100\n\
                2105 10 a_very_long_target_name";
    let validation = check(text);
    let messages: Vec<String> = validation.errors.iter().map(ToString::to_string).collect();
    let expected = [
        "line 2, argument 1 (stripes): 2 stripes need 4 words",
        "line 3, length: must be at least 1 sector",
        "line 4, start: starts at sector 2100, but line 3 ends at sector 2024: a gap of 76",
        "line 4, argument 1 (device): '/dev/nothing' is not a device this session knows",
        "line 4, argument 3 (block_size): 100 is less than 512 bytes",
        "line 5, start: starts at sector 2105, inside line 4 which ends at sector 2110: 5 \
         sectors overlap",
        "line 5, target: 'a_very_long_target_name' is longer than the kernel's 15-character",
    ];
    assert_eq!(messages.len(), expected.len(), "{messages:#?}");
    for (message, fragment) in messages.iter().zip(expected) {
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }
}
