//! Comparing a loaded table with the kernel's report of it.

use super::*;
use crate::exec::protocol::TableLine;

fn kernel(rows: &[(u64, u64, &str, &str)]) -> Vec<TableLine> {
    rows.iter()
        .map(|&(start, length, target, params)| TableLine {
            start,
            length,
            target: target.into(),
            params: params.into(),
        })
        .collect()
}

fn same(ours: &str, theirs: &[(u64, u64, &str, &str)]) -> Result<(), Vec<KernelMismatch>> {
    let table = parse(ours).expect("parses");
    compare_with_kernel(&table, &kernel(theirs), &dev_numbers())
}

#[test]
fn linear_devices_become_major_minor_and_numbers_lose_zeros() {
    assert_eq!(
        same(
            "0 100 linear /dev/loop0 007",
            &[(0, 100, "linear", "7:0 7")]
        ),
        Ok(())
    );
    assert_eq!(
        same("0 100 linear 7:01 0", &[(0, 100, "linear", "7:1 0")]),
        Ok(())
    );
    let err = same("0 100 linear /dev/loop0 0", &[(0, 100, "linear", "7:1 0")])
        .expect_err("different device");
    assert_eq!(
        err[0].to_string(),
        "line 1: expected the kernel to report '7:0 0', it reports '7:1 0'"
    );
}

#[test]
fn striped_zero_error_dust_delay() {
    assert_eq!(
        same(
            "0 2048 striped 2 8 /dev/loop0 0 /dev/loop1 16\n2048 8 zero\n2056 8 error /dev/loop0 0",
            &[
                (0, 2048, "striped", "2 8 7:0 0 7:1 16"),
                (2048, 8, "zero", ""),
                (2056, 8, "error", ""),
            ]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 dust /dev/loop0 0 4096",
            &[(0, 8, "dust", "7:0 0 4096")]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 delay /dev/loop0 0 50 /dev/loop1 8 100",
            &[(0, 8, "delay", "7:0 0 50 7:1 8 100")]
        ),
        Ok(())
    );
}

#[test]
fn flakey_prints_its_effective_features() {
    assert_eq!(
        same(
            "0 8 flakey /dev/loop0 0 5 5",
            &[(0, 8, "flakey", "7:0 0 5 5 2 error_reads error_writes")]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 flakey /dev/loop0 0 5 5 2 random_read_corrupt 0",
            &[(0, 8, "flakey", "7:0 0 5 5 2 error_reads error_writes")]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 flakey /dev/loop0 0 5 5 6 corrupt_bio_byte 32 R 1 0 DROP_WRITES",
            &[(
                0,
                8,
                "flakey",
                "7:0 0 5 5 6 drop_writes corrupt_bio_byte 32 r 1 0"
            )]
        ),
        Ok(())
    );
    assert!(
        same(
            "0 8 flakey /dev/loop0 0 5 5 1 drop_writes",
            &[(0, 8, "flakey", "7:0 0 5 5 1 error_writes")]
        )
        .is_err()
    );
}

#[test]
fn basic_target_with_or_without_a_status_function() {
    let ours = "0 20000 basic_target /dev/loop0 0";
    assert_eq!(same(ours, &[(0, 20000, "basic_target", "7:0 0")]), Ok(()));
    assert_eq!(same(ours, &[(0, 20000, "basic_target", "")]), Ok(()));
    assert!(same(ours, &[(0, 20000, "basic_target", "7:0 8")]).is_err());
}

#[test]
fn best_effort_targets() {
    assert_eq!(
        same(
            "0 2048 mirror core 1 1024 2 /dev/loop0 0 /dev/loop1 0 0",
            &[(0, 2048, "mirror", "core 1 1024 2 7:0 0 7:1 0")]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 2048 mirror core 2 1024 nosync 2 /dev/loop0 0 /dev/loop1 0 1 handle_errors",
            &[(
                0,
                2048,
                "mirror",
                "core 2 1024 nosync 2 7:0 0 7:1 0 1 handle_errors"
            )]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 crypt aes-xts-plain64 00FF 0 /dev/loop0 0 3 same_cpu_crypt allow_discards sector_size:512",
            &[(
                0,
                8,
                "crypt",
                "aes-xts-plain64 00ff 0 7:0 0 2 allow_discards same_cpu_crypt"
            )]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 snapshot /dev/loop0 /dev/loop1 p 0",
            &[(0, 8, "snapshot", "7:0 7:1 P 16")]
        ),
        Ok(())
    );
    assert_eq!(
        same(
            "0 8 snapshot-origin /dev/loop0",
            &[(0, 8, "snapshot-origin", "7:0")]
        ),
        Ok(())
    );
}

#[test]
fn unknown_targets_map_devices_and_accept_silence() {
    let ours = "0 8 custom /dev/loop1 0010 mode=fast";
    assert_eq!(same(ours, &[(0, 8, "custom", "7:1 10 mode=fast")]), Ok(()));
    assert_eq!(same(ours, &[(0, 8, "custom", "")]), Ok(()));
    assert!(same(ours, &[(0, 8, "custom", "7:1 10 mode=slow")]).is_err());
}

#[test]
fn row_counts_positions_and_unknown_devices_are_reported() {
    let err = same(
        "0 8 zero\n8 8 zero",
        &[(0, 8, "zero", ""), (8, 16, "error", "")],
    )
    .expect_err("differs");
    let messages: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 2: loaded sectors 8+8, the kernel reports 8+16",
            "line 2: loaded target 'zero', the kernel reports 'error'",
        ]
    );
    let err = same("0 8 zero", &[]).expect_err("differs");
    assert_eq!(
        err[0].to_string(),
        "table: 1 segment loaded, but the kernel reports 0"
    );
    let err = same("0 8 linear /dev/sdz 0", &[(0, 8, "linear", "8:0 0")]).expect_err("unknown");
    assert!(
        err[0]
            .to_string()
            .contains("no major:minor is known for '/dev/sdz'")
    );
}
