//! Every known target in its accepted forms.

use super::*;
use crate::table::args::*;

#[test]
fn linear_and_basic_target_read_device_and_offset() {
    assert_valid("0 1000 linear /dev/loop0 0");
    assert_valid("0 1000 linear 7:0 99000");
    assert_eq!(
        decode_one("0 1000 basic_target /dev/loop0 16"),
        TargetArgs::BasicTarget(DeviceOffset {
            device: "/dev/loop0".into(),
            offset: 16
        })
    );
}

#[test]
fn striped_follows_the_kernel_geometry() {
    assert_valid("0 2048 striped 2 8 /dev/loop0 0 /dev/loop1 0");
    let TargetArgs::Striped(striped) = decode_one("0 3072 striped 3 128 7:0 0 7:1 8 7:0 4096")
    else {
        panic!("striped decodes as striped");
    };
    assert_eq!(striped.chunk_size, 128);
    assert_eq!(striped.stripes.len(), 3);
    assert_eq!(striped.stripes[1].offset, 8);
}

#[test]
fn striped_kernel_accepts_one_stripe_and_odd_chunks_with_warnings() {
    let validation = assert_valid("0 24 striped 1 12 /dev/loop0 0");
    let warnings: Vec<String> = validation
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("argument 1 (stripes)"));
    assert!(warnings[1].contains("argument 2 (chunk_size): 12 is accepted"));
}

#[test]
fn mirror_core_and_disk_logs() {
    assert_valid("0 2048 mirror core 1 1024 2 /dev/loop0 0 /dev/loop1 0");
    assert_valid("0 2048 mirror core 2 512 nosync 2 /dev/loop0 0 /dev/loop1 0 1 handle_errors");
    assert_valid(
        "0 2048 mirror disk 3 /dev/loop2 1024 sync 3 /dev/loop0 0 /dev/loop1 0 7:0 4096 \
         2 handle_errors keep_log",
    );
    let TargetArgs::Mirror(mirror) =
        decode_one("0 2048 mirror core 2 512 nosync 2 /dev/loop0 0 /dev/loop1 0")
    else {
        panic!("mirror decodes as mirror");
    };
    assert_eq!(mirror.sync, RegionSync::NoSync);
    assert_eq!(mirror.region_size, 512);
    assert_eq!(mirror.log, MirrorLog::Core);
}

#[test]
fn zero_and_error() {
    assert_valid("0 1000 zero");
    assert_valid("0 1000 error");
    assert_eq!(
        decode_one("0 1000 error /dev/loop0 5"),
        TargetArgs::Error(Some(DeviceOffset {
            device: "/dev/loop0".into(),
            offset: 5
        }))
    );
}

#[test]
fn crypt_keys_and_options() {
    let key = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    assert_valid(&format!(
        "0 1000 crypt aes-xts-plain64 {key} 0 /dev/loop0 0"
    ));
    assert_valid("0 1000 crypt aes-cbc-essiv:sha256 - 0 /dev/loop0 0 1 allow_discards");
    assert_valid("0 1000 crypt aes-xts-plain64 :64:logon:dmbench:k1 0 /dev/loop0 0");
    assert_valid(&format!(
        "0 1024 crypt aes-xts-plain64 {key} 8 /dev/loop0 0 3 sector_size:4096 \
         iv_large_sectors Allow_Discards"
    ));
}

#[test]
fn snapshot_and_origin() {
    assert_valid("0 1000 snapshot-origin /dev/loop0");
    assert_valid("0 1000 snapshot /dev/loop0 /dev/loop1 P 8");
    assert_valid("0 1000 snapshot /dev/loop0 /dev/loop1 po 16");
    assert_valid("0 1000 snapshot /dev/loop0 /dev/loop1 P 0");
    let TargetArgs::Snapshot(snapshot) = decode_one(
        "0 1000 snapshot /dev/loop0 /dev/loop1 N 32 2 discard_zeroes_cow discard_passdown_origin",
    ) else {
        panic!("snapshot decodes as snapshot");
    };
    assert_eq!(snapshot.persistence, Persistence::Transient);
    assert!(snapshot.discard_zeroes_cow && snapshot.discard_passdown_origin);
}

#[test]
fn delay_three_six_nine() {
    assert_valid("0 1000 delay /dev/loop0 0 500");
    assert_valid("0 1000 delay /dev/loop0 2048 0 /dev/loop1 4096 400");
    let TargetArgs::Delay(delay) =
        decode_one("0 1000 delay /dev/loop0 0 50 /dev/loop1 0 100 /dev/loop0 0 333")
    else {
        panic!("delay decodes as delay");
    };
    let delays: Vec<u32> = delay.classes.iter().map(|c| c.delay_ms).collect();
    assert_eq!(delays, [50, 100, 333]);
}

#[test]
fn flakey_with_and_without_features() {
    assert_valid("0 1000 flakey /dev/loop0 0 5 5");
    assert_valid("0 1000 flakey /dev/loop0 0 0 10 1 drop_writes");
    assert_valid("0 1000 flakey /dev/loop0 0 5 5 6 error_reads corrupt_bio_byte 32 w 1 0");
    let TargetArgs::Flakey(flakey) =
        decode_one("0 1000 flakey /dev/loop0 0 5 5 6 corrupt_bio_byte 224 W 0 32 ERROR_READS")
    else {
        panic!("flakey decodes as flakey");
    };
    let corrupt = flakey
        .features
        .corrupt_bio_byte
        .expect("corrupt_bio_byte set");
    assert!(corrupt.writes);
    assert_eq!(
        (corrupt.nth_byte, corrupt.value, corrupt.flags),
        (224, 0, 32)
    );
    assert!(flakey.features.error_reads);
}

#[test]
fn dust_block_sizes() {
    assert_valid("0 1000 dust /dev/loop0 0 512");
    assert_valid("0 1000 dust /dev/loop0 0 4096");
}

#[test]
fn unknown_targets_pass_through_with_a_warning() {
    let validation = assert_valid("0 1000 my_target whatever 1 2 {x}");
    assert_eq!(validation.warnings.len(), 1);
    assert!(
        validation.warnings[0]
            .to_string()
            .contains("line 1, target")
    );
    assert_eq!(decode_one("0 1 my_target a b"), TargetArgs::Other);
}

#[test]
fn multi_segment_tables_with_comments() {
    let text = "\n# a comment\n  0 1000 linear /dev/loop0 0  \n\t1000 24 zero\n\n1024 1000 error\n";
    let table = parse(text).expect("parses");
    assert_eq!(table.segments.len(), 3);
    assert_eq!(
        table.segments.iter().map(|s| s.line).collect::<Vec<_>>(),
        [3, 4, 6]
    );
    assert!(validate(&table, &devices()).is_ok());
    assert_eq!(
        format(&table),
        "0 1000 linear /dev/loop0 0\n1000 24 zero\n1024 1000 error"
    );
}

#[test]
fn table_lines_round_trip() {
    let table = parse("0 10 linear /dev/loop0 0\n10 5 zero").expect("parses");
    let lines = table.to_lines();
    assert_eq!(lines[0].params, "/dev/loop0 0");
    assert_eq!(lines[1].params, "");
    assert_eq!(Table::from_lines(&lines), table);
}
