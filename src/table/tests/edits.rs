//! Split, resize, delete and insert.

use super::*;

fn table(text: &str) -> Table {
    parse(text).expect("parses")
}

#[test]
fn splitting_linear_moves_the_second_offset() {
    let t = table("0 1000 linear /dev/loop0 100\n1000 10 zero");
    let split = split_segment(&t, 0, 400).expect("splits");
    assert_eq!(
        format(&split),
        "0 400 linear /dev/loop0 100\n400 600 linear /dev/loop0 500\n1000 10 zero"
    );
    assert_eq!(
        split.segments.iter().map(|s| s.line).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(validate(&split, &devices()).is_ok());
}

#[test]
fn splitting_offset_targets_and_trivial_ones() {
    let t = table("0 100 delay /dev/loop0 0 1 /dev/loop1 50 2");
    assert_eq!(
        format(&split_segment(&t, 0, 10).expect("splits")),
        "0 10 delay /dev/loop0 0 1 /dev/loop1 50 2\n10 90 delay /dev/loop0 10 1 /dev/loop1 60 2"
    );
    let t = table("0 100 zero");
    assert_eq!(
        format(&split_segment(&t, 0, 1).expect("splits")),
        "0 1 zero\n1 99 zero"
    );
    let t = table("0 100 crypt aes-xts-plain64 - 5 /dev/loop0 7");
    assert_eq!(
        format(&split_segment(&t, 0, 30).expect("splits")),
        "0 30 crypt aes-xts-plain64 - 5 /dev/loop0 7\n30 70 crypt aes-xts-plain64 - 35 /dev/loop0 37"
    );
}

#[test]
fn splitting_striped_needs_whole_chunk_rows() {
    let t = table("0 64 striped 2 8 /dev/loop0 0 /dev/loop1 100");
    assert_eq!(
        format(&split_segment(&t, 0, 32).expect("splits")),
        "0 32 striped 2 8 /dev/loop0 0 /dev/loop1 100\n32 32 striped 2 8 /dev/loop0 16 /dev/loop1 116"
    );
    let err = split_segment(&t, 0, 8).expect_err("misaligned");
    assert!(
        err.to_string().contains("a multiple of 16 sectors"),
        "{err}"
    );
}

#[test]
fn splitting_refuses_with_reasons() {
    let mirror = table("0 2048 mirror core 1 1024 2 /dev/loop0 0 /dev/loop1 0");
    assert!(
        split_segment(&mirror, 0, 1024)
            .expect_err("mirror")
            .to_string()
            .contains("a mirror segment cannot be split")
    );
    let custom = table("0 100 custom a 0");
    assert!(
        split_segment(&custom, 0, 50)
            .expect_err("unknown")
            .to_string()
            .contains("does not know which arguments")
    );
    let dust = table("0 16 dust /dev/loop0 0 4096");
    assert!(
        split_segment(&dust, 0, 4)
            .expect_err("dust")
            .to_string()
            .contains("invalid half")
    );
    let zero = table("0 16 zero");
    assert!(split_segment(&zero, 0, 16).is_err());
    assert!(split_segment(&zero, 0, 0).is_err());
    assert!(split_segment(&zero, 3, 5).is_err());
    let broken = table("0 16 linear /dev/loop0");
    assert!(
        split_segment(&broken, 0, 8)
            .expect_err("broken")
            .to_string()
            .contains("fix the segment before splitting")
    );
}

#[test]
fn resize_and_delete_shift_what_follows() {
    let t = table("0 10 zero\n10 20 error\n30 5 zero");
    assert_eq!(
        format(&resize_segment(&t, 0, 15).expect("grows")),
        "0 15 zero\n15 20 error\n35 5 zero"
    );
    assert_eq!(
        format(&resize_segment(&t, 1, 1).expect("shrinks")),
        "0 10 zero\n10 1 error\n11 5 zero"
    );
    assert!(resize_segment(&t, 1, 0).is_err());
    let deleted = delete_segment(&t, 0).expect("deletes");
    assert_eq!(format(&deleted), "0 20 error\n20 5 zero");
    assert_eq!(deleted.segments[0].line, 1);
    assert!(delete_segment(&t, 3).is_err());
}

#[test]
fn insert_places_and_shifts() {
    let t = table("0 10 zero\n10 20 error");
    let new = Segment::new(999, 5, "linear", vec!["/dev/loop0".into(), "0".into()]);
    assert_eq!(
        format(&insert_segment(&t, 1, new.clone()).expect("inserts")),
        "0 10 zero\n10 5 linear /dev/loop0 0\n15 20 error"
    );
    assert_eq!(
        format(&insert_segment(&t, 2, new.clone()).expect("appends")),
        "0 10 zero\n10 20 error\n30 5 linear /dev/loop0 0"
    );
    assert!(insert_segment(&t, 3, new).is_err());
}
