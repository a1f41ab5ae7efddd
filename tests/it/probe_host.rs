//! Probes against real loop devices and the real kernel log of this host.
//!
//! Needs root and /dev/loop-control. Without them the tests print why and
//! pass, except when CI is set: there a skipped test would hide a broken
//! setup, so they fail instead.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dmbench::exec::local::blockstat::{kernel_name, read_stat};
use dmbench::exec::local::kmsg::{KmsgReader, parse_record};
use dmbench::exec::local::probe::run_probe;
use dmbench::exec::protocol::{
    ErrorKind, Event, ExecError, Pattern, ProbeOp, ProbeResult, ProbeSpec,
};
use loopdev::{LoopControl, LoopDevice};

const BS: u32 = 4096;
const FILE_SIZE: u64 = 8 << 20;
/// Rounds of the dd comparison.
const ROUNDS: usize = 7;

/// True when the host can run these tests; otherwise says why and, under
/// CI, fails.
fn can_run(test: &str, needs: &[&str]) -> bool {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root".to_string());
    }
    for path in needs {
        if !Path::new(path).exists() {
            missing.push((*path).to_string());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let reason = format!("{test}: needs {}", missing.join(" and "));
    assert!(std::env::var_os("CI").is_none(), "{reason} (CI is set)");
    eprintln!("skipping {reason}");
    false
}

/// A loop device attached for one test and detached however it ends.
struct Loop {
    device: LoopDevice,
    path: PathBuf,
}

impl Loop {
    fn attach(backing: &Path, offset: u64) -> Loop {
        let control = LoopControl::open().expect("open /dev/loop-control");
        // Another process may take the free device between the two calls.
        for _ in 0..10 {
            let device = control.next_free().expect("free loop device");
            // Autoclear as a backstop: if this process dies, the kernel
            // detaches the device when its last opener goes away.
            match device.with().offset(offset).autoclear(true).attach(backing) {
                Ok(()) => {
                    let path = device.path().expect("loop device path");
                    return Loop { device, path };
                }
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => continue,
                Err(e) => panic!("attaching {}: {e}", backing.display()),
            }
        }
        panic!("no free loop device after 10 tries");
    }

    /// Kernel name for /sys/block, e.g. "loop3".
    fn name(&self) -> String {
        kernel_name(&self.path).expect("kernel name")
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Err(e) = self.device.detach() {
            eprintln!("detaching {}: {e}", self.path.display());
        }
    }
}

fn backing_file(dir: &tempfile::TempDir, size: u64) -> PathBuf {
    let path = dir.path().join("backing.img");
    let f = File::create(&path).expect("create backing file");
    f.set_len(size).expect("size backing file");
    path
}

fn spec(device: &Path, op: ProbeOp, offset_blocks: u64, count: u64, direct: bool) -> ProbeSpec {
    ProbeSpec {
        device: device.to_path_buf(),
        op,
        bs: BS,
        count,
        offset_blocks,
        pattern: Some(Pattern::Stamp),
        direct,
        random_order: false,
        attribute: Vec::new(),
        stamp_shift: 0,
        stats: None,
        trace: false,
    }
}

fn probe(spec: &ProbeSpec) -> Result<ProbeResult, ExecError> {
    run_probe(spec, &AtomicBool::new(false), &|_, _| {})
}

fn clean(result: ProbeResult) -> ProbeResult {
    assert_eq!(result.io_error, None, "{result:?}");
    assert_eq!(result.mismatch, None, "{result:?}");
    assert!(!result.cancelled);
    result
}

#[test]
fn stamps_written_through_a_loop_device_read_back() {
    if !can_run("stamps round trip", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lo = Loop::attach(&backing_file(&dir, FILE_SIZE), 0);
    for (direct, seek) in [(true, 10), (false, 200)] {
        let w = clean(probe(&spec(&lo.path, ProbeOp::Write, seek, 64, direct)).expect("write"));
        assert_eq!((w.bytes, w.blocks), (64 * u64::from(BS), 64));
        assert!(w.mib_per_s > 0.0 && w.latency.is_some());
        let r = clean(probe(&spec(&lo.path, ProbeOp::Read, seek, 64, direct)).expect("read"));
        assert_eq!(r.bytes, w.bytes);
    }
    // The smallest block size a stamp must support, shuffled.
    let mut small = spec(&lo.path, ProbeOp::Write, 1000, 300, true);
    small.bs = 512;
    small.random_order = true;
    clean(probe(&small).expect("write 512"));
    small.op = ProbeOp::Read;
    small.random_order = false;
    clean(probe(&small).expect("read 512"));
}

#[test]
fn data_found_at_the_wrong_place_is_a_misdirected_write() {
    if !can_run("misdirected write", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let backing = backing_file(&dir, FILE_SIZE);
    let whole = Loop::attach(&backing, 0);
    // A second view of the file starting 16 blocks in, as a linear target
    // with a wrong start sector would map it.
    let shifted = Loop::attach(&backing, 16 * u64::from(BS));
    clean(probe(&spec(&whole.path, ProbeOp::Write, 40, 8, true)).expect("write"));

    // Block 24 of the shifted view is block 40 of the file.
    let r = probe(&spec(&shifted.path, ProbeOp::Read, 24, 8, true)).expect("read");
    let m = r.mismatch.expect("mismatch");
    assert_eq!(m.offset, 24 * u64::from(BS));
    assert_eq!(m.expected, format!("stamp@{}", 24 * BS));
    assert_eq!(m.found, format!("stamp@{} (misdirected write)", 40 * BS));
    assert_eq!(m.total_bad_blocks, 8);
    assert_eq!(r.io_error, None);

    // Where the shifted view expected its blocks 40.. nothing was written.
    let r = probe(&spec(&shifted.path, ProbeOp::Read, 40, 8, true)).expect("read");
    let m = r.mismatch.expect("mismatch");
    assert_eq!(m.found, "zeros (never written)");
}

#[test]
fn a_corrupted_byte_is_a_bad_checksum_at_its_block() {
    if !can_run("corrupted byte", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let backing = backing_file(&dir, FILE_SIZE);
    let lo = Loop::attach(&backing, 0);
    clean(probe(&spec(&lo.path, ProbeOp::Write, 100, 16, true)).expect("write"));

    let block = 103 * u64::from(BS);
    let at = block + 1000;
    let file = File::options()
        .read(true)
        .write(true)
        .open(&backing)
        .expect("open backing");
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at).expect("read byte");
    let original = byte[0];
    byte[0] ^= 0x5a;
    file.write_all_at(&byte, at).expect("corrupt byte");
    file.sync_data().expect("sync backing");

    for direct in [true, false] {
        let r = probe(&spec(&lo.path, ProbeOp::Read, 100, 16, direct)).expect("read");
        let m = r.mismatch.expect("mismatch");
        assert_eq!(m.offset, block, "direct={direct}");
        assert_eq!(m.expected, format!("stamp@{block}"));
        assert_eq!(
            m.found,
            format!(
                "bad checksum: byte {at} is 0x{:02x}, expected 0x{original:02x}",
                original ^ 0x5a
            )
        );
        assert_eq!(m.total_bad_blocks, 1);
    }
}

#[test]
fn never_written_region_verifies_as_zeros() {
    if !can_run("zero verify", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lo = Loop::attach(&backing_file(&dir, FILE_SIZE), 0);
    clean(probe(&spec(&lo.path, ProbeOp::Write, 0, 32, true)).expect("write"));
    let mut r = spec(&lo.path, ProbeOp::Read, 512, 1536, true);
    r.pattern = Some(Pattern::Zero);
    clean(probe(&r).expect("read zeros"));
    // The stamped blocks are not zeros, and say what they are.
    r.offset_blocks = 0;
    let m = probe(&r).expect("read").mismatch.expect("mismatch");
    assert_eq!(m.expected, "zeros");
    assert!(m.found.ends_with("(stamp@0)"), "{}", m.found);
    assert_eq!(m.total_bad_blocks, 32);
}

#[test]
fn attribution_counts_the_writes_on_the_loop_device() {
    if !can_run("attribution", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lo = Loop::attach(&backing_file(&dir, FILE_SIZE), 0);
    let name = lo.name();
    assert!(name.starts_with("loop"), "{name}");
    for direct in [true, false] {
        let mut w = spec(&lo.path, ProbeOp::Write, 0, 256, direct);
        w.attribute = vec![name.clone()];
        let res = clean(probe(&w).expect("write"));
        assert_eq!(res.attribution.len(), 1);
        let d = &res.attribution[0];
        assert_eq!(d.device, name);
        assert!(
            d.delta.write_sectors * 512 >= res.bytes,
            "direct={direct}: {} sectors for {} bytes",
            d.delta.write_sectors,
            res.bytes
        );
        assert!(d.delta.write_ios > 0);

        let mut r = spec(&lo.path, ProbeOp::Read, 0, 256, direct);
        r.attribute = vec![name.clone()];
        let res = clean(probe(&r).expect("read"));
        let d = &res.attribution[0].delta;
        assert!(d.read_sectors * 512 >= res.bytes, "direct={direct}: {d:?}");
    }
}

#[test]
fn out_of_range_is_refused_before_any_io() {
    if !can_run("out of range", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lo = Loop::attach(&backing_file(&dir, FILE_SIZE), 0);
    let name = lo.name();
    let blocks = FILE_SIZE / u64::from(BS);
    let before = read_stat(&name).expect("stat");
    let mut w = spec(&lo.path, ProbeOp::Write, blocks - 4, 8, true);
    w.attribute = vec![name.clone()];
    let err = probe(&w).expect_err("beyond the end");
    assert_eq!(err.kind, ErrorKind::Invalid);
    let text = err.to_string();
    assert!(text.contains(&lo.path.display().to_string()), "{text}");
    assert!(text.contains(&format!("is {FILE_SIZE} bytes")), "{text}");
    assert!(
        text.contains(&format!("end at byte {}", (blocks + 4) * u64::from(BS))),
        "{text}"
    );
    let after = read_stat(&name).expect("stat");
    assert_eq!(before.write_ios, after.write_ios, "no I/O was issued");
    assert_eq!(before.read_ios, after.read_ios, "no I/O was issued");
}

nix::ioctl_write_int_bad!(loop_set_block_size, 0x4C09);

#[test]
fn an_io_error_ends_the_probe_with_a_result() {
    if !can_run("io error", &["/dev/loop-control"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lo = Loop::attach(&backing_file(&dir, FILE_SIZE), 0);
    // With 4 KiB logical blocks the device refuses 512-byte direct I/O.
    // SAFETY: LOOP_SET_BLOCK_SIZE takes its argument by value.
    unsafe { loop_set_block_size(std::os::fd::AsRawFd::as_raw_fd(&lo.device), 4096) }
        .expect("LOOP_SET_BLOCK_SIZE");
    let mut w = spec(&lo.path, ProbeOp::Write, 3, 4, true);
    w.bs = 512;
    let res = probe(&w).expect("an I/O error is a result, not a failure");
    let failure = res.io_error.expect("io error");
    assert_eq!(failure.offset, 3 * 512);
    assert_eq!(
        (failure.errno, failure.name.as_str()),
        (libc::EINVAL, "EINVAL")
    );
    assert_eq!((res.blocks, res.bytes), (0, 0));
    assert_eq!(res.latency, None);
}

#[test]
fn real_kernel_log_records_parse() {
    if !can_run("kmsg", &["/dev/kmsg"]) {
        return;
    }
    // Every record from boot must parse, read raw one per read(2).
    let mut raw = File::open("/dev/kmsg").expect("open /dev/kmsg");
    let mut reader = KmsgReader::open().expect("reader");
    let (records, _lost) = reader.read_available().expect("read");
    assert!(!records.is_empty(), "a booted kernel has logged something");
    assert!(records.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(records.iter().all(|r| r.level <= 7));
    use std::io::Read;
    let mut buf = vec![0u8; 8192];
    let mut checked = 0;
    while checked < records.len() {
        match raw.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                assert!(parse_record(&buf[..n]).is_some(), "unparsed: {text:?}");
                checked += 1;
            }
            // Overwritten while we read: the next read resumes.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
            Err(e) => panic!("reading /dev/kmsg: {e}"),
        }
    }
    assert!(checked > 0);
}

#[test]
fn follower_sees_a_new_record() {
    if !can_run("kmsg follow", &["/dev/kmsg"]) {
        return;
    }
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink_seen = Arc::clone(&seen);
    let stop = Arc::new(AtomicBool::new(false));
    let mut reader = KmsgReader::open().expect("reader");
    reader.seek_to_end().expect("seek");
    let handle = reader
        .follow(
            Arc::new(move |e| sink_seen.lock().expect("lock").push(e)),
            Arc::clone(&stop),
        )
        .expect("follow");

    let marker = format!("dmbench probe_host marker {}", std::process::id());
    // Root may append to the kernel log; level 6 (info).
    std::fs::write("/dev/kmsg", format!("<6>{marker}\n")).expect("write /dev/kmsg");
    let deadline = Instant::now() + Duration::from_secs(5);
    let found = loop {
        let hit = seen
            .lock()
            .expect("lock")
            .iter()
            .any(|e| matches!(e, Event::Kmsg(r) if r.text == marker && r.level == 6));
        if hit || Instant::now() > deadline {
            break hit;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::Relaxed);
    let ended = handle.join().expect("thread did not panic");
    assert!(found, "marker not seen: {:?}", seen.lock().expect("lock"));
    ended.expect("follower ended cleanly");
}

/// Probe against `dd` on a loop device over /dev/shm. Run with
/// `cargo test --release --test probe_host -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_against_dd() {
    if !can_run("bench", &["/dev/loop-control", "/dev/shm"]) {
        return;
    }
    let dir = tempfile::tempdir_in("/dev/shm").expect("temp dir");
    let size = 256u64 << 20;
    let lo = Loop::attach(&backing_file(&dir, size), 0);
    let device = lo.path.display().to_string();
    for (bs, label) in [(1u32 << 20, "1M"), (4096, "4k")] {
        let count = size / u64::from(bs);
        // Touch every page once so neither side pays for tmpfs allocation.
        dd(&device, label, count);
        let mut dd_runs = Vec::new();
        let mut zero_runs = Vec::new();
        let mut stamp_runs = Vec::new();
        // Loop device throughput on a shared VM swings by 3x from run to
        // run: interleave many rounds and compare medians.
        for _ in 0..ROUNDS {
            dd_runs.push(dd(&device, label, count));
            for (pattern, runs) in [
                (Pattern::Zero, &mut zero_runs),
                (Pattern::Stamp, &mut stamp_runs),
            ] {
                let mut w = spec(&lo.path, ProbeOp::Write, 0, count, true);
                w.bs = bs;
                w.pattern = Some(pattern);
                let res = clean(probe(&w).expect("probe"));
                runs.push(res.mib_per_s);
            }
        }
        let mut read = spec(&lo.path, ProbeOp::Read, 0, count, true);
        read.bs = bs;
        let verify = clean(probe(&read).expect("verify"));
        eprintln!(
            "bs={label} count={count} oflag=direct MiB/s ({ROUNDS} rounds)\n  dd:           {}\n  probe zero:   {}\n  probe stamp:  {}\n  stamp verify read: {:.0}",
            fmt_runs(&dd_runs),
            fmt_runs(&zero_runs),
            fmt_runs(&stamp_runs),
            verify.mib_per_s
        );
    }
}

fn fmt_runs(runs: &[f64]) -> String {
    let list: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let best = sorted.last().copied().unwrap_or_default();
    format!("median {median:.0}, best {best:.0}  [{}]", list.join(" "))
}

/// Runs dd and returns its throughput in MiB/s from its own byte count and
/// time ("268435456 bytes (268 MB, 256 MiB) copied, 0.1 s, 2.7 GB/s").
fn dd(device: &str, bs: &str, count: u64) -> f64 {
    let out = std::process::Command::new("dd")
        .args([
            "if=/dev/zero".to_string(),
            format!("of={device}"),
            format!("bs={bs}"),
            format!("count={count}"),
            "oflag=direct".to_string(),
        ])
        .output()
        .expect("run dd");
    assert!(out.status.success(), "dd failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().last().unwrap_or_default();
    let bytes: f64 = line
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .expect("dd byte count");
    let secs: f64 = line
        .split(", ")
        .find(|p| p.ends_with(" s"))
        .and_then(|p| p.trim_end_matches(" s").parse().ok())
        .expect("dd seconds");
    bytes / f64::from(1u32 << 20) / secs
}
