//! dd-style probes: write or read `count` blocks of `bs` bytes at block
//! `offset_blocks` of a device, timing every block, verifying what comes
//! back, and sampling block-layer counters to see where the I/O went.
//!
//! The loop does no allocation and, for stamps, O(bs/512) work per block,
//! so the figures measure the device rather than the probe.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::blockstat;
use super::stamp::{self, Stamper};
use crate::exec::protocol::{
    BlockStatDelta, ErrorKind, ExecError, IoCounters, IoFailure, Latency, Mismatch, Pattern,
    ProbeOp, ProbeResult, ProbeSpec,
};

/// O_DIRECT needs buffers aligned to the logical block size; 4096 covers
/// every device this is meant for.
const BUF_ALIGN: usize = 4096;
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Fixed so that a shuffled probe visits blocks in the same order each run.
const SHUFFLE_SEED: u64 = 0x0D15_EA5E_5EED_F00D;

nix::ioctl_read!(blkgetsize64, 0x12, 114, u64);

/// Runs one probe. I/O errors do not make this fail: the result carries the
/// first one in `io_error` with the figures up to it, because a probe of an
/// error-injecting target expects them. `Err` means the probe could not
/// start (bad spec, missing device, range beyond the device). An error
/// reported by the final fdatasync of a buffered write cannot be tied to a
/// block and is given the offset of the first block.
pub fn run_probe(
    spec: &ProbeSpec,
    cancel: &AtomicBool,
    progress: &dyn Fn(u64, u64),
) -> Result<ProbeResult, ExecError> {
    let mut content = Content::for_spec(spec)?;
    let file = open_device(spec)?;
    let size = device_size(&file, &spec.device)?;
    let total_bytes = check_range(spec, size)?;
    let before = sample(&spec.attribute)?;

    let bs = spec.bs as usize;
    let first_byte = spec.offset_blocks * u64::from(spec.bs);
    if spec.op == ProbeOp::Read && !spec.direct && total_bytes > 0 {
        // Drop cached pages of the range so a buffered read reaches the
        // device (and the target under test) instead of the page cache.
        // Only advice: a failure just means a warmer cache.
        let _ = nix::fcntl::posix_fadvise(
            &file,
            first_byte as libc::off_t,
            total_bytes as libc::off_t,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        );
    }

    let mut buf = AlignedBuf::new(bs);
    content.prepare(buf.as_mut_slice());
    let order = Order::new(spec.count, spec.random_order);
    let mut latencies: Vec<u64> = Vec::with_capacity(spec.count.min(1 << 20) as usize);
    let mut verdict = Verdict::default();
    let mut io_error = None;
    let mut cancelled = false;
    let mut done_bytes = 0u64;

    let start = Instant::now();
    let mut last_progress = start;
    for i in 0..spec.count {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        let offset = first_byte + order.at(i) * u64::from(spec.bs);
        let block = buf.as_mut_slice();
        if spec.op == ProbeOp::Write {
            content.fill(block, offset, i);
        }
        let t0 = Instant::now();
        let outcome = match spec.op {
            ProbeOp::Write => write_block(&file, block, offset),
            ProbeOp::Read => read_block(&file, block, offset),
        };
        let t1 = Instant::now();
        if let Err(failure) = outcome {
            io_error = Some(failure);
            break;
        }
        latencies.push(duration_ns(t1 - t0));
        done_bytes += bs as u64;
        if spec.op == ProbeOp::Read {
            // The stamp names the offset it was written at, which differs
            // from where we read it when a target shifted it.
            let stamped_at = offset.wrapping_sub(spec.stamp_shift);
            verdict.record(offset, content.check(block, stamped_at));
        }
        if t1 - last_progress >= PROGRESS_EVERY {
            last_progress = t1;
            progress(done_bytes, total_bytes);
        }
    }
    if spec.op == ProbeOp::Write && !spec.direct && done_bytes > 0 {
        // Buffered writes have only reached the page cache; the probe is
        // about the device, and writeback errors surface only here.
        if let Err(e) = file.sync_data() {
            io_error.get_or_insert(failure(first_byte, e.raw_os_error().unwrap_or(0)));
        }
    }
    let elapsed_ns = duration_ns(start.elapsed());
    progress(done_bytes, total_bytes);

    Ok(ProbeResult {
        op: spec.op,
        bytes: done_bytes,
        blocks: latencies.len() as u64,
        elapsed_ns,
        mib_per_s: mib_per_s(done_bytes, elapsed_ns),
        latency: latency_summary(&mut latencies),
        mismatch: verdict.into_mismatch(),
        io_error,
        attribution: deltas(before),
        cancelled,
        dm_stats: Vec::new(),
        trace: Vec::new(),
        notes: Vec::new(),
    })
}

/// What goes into a block on write, or is expected from it on read.
enum Content {
    /// Zeros or one byte value everywhere; the buffer is filled once.
    Fill { value: u8, verify: bool },
    /// A stream from the seed, with each sector's first word made unique
    /// per device offset so no two sectors of a probe are alike.
    Random { seed: u64 },
    Stamp {
        stamper: Stamper,
        /// Read side: a prepared buffer to build the expected block in.
        expected: Vec<u8>,
    },
    /// A read without verification.
    Unchecked,
}

impl Content {
    fn for_spec(spec: &ProbeSpec) -> Result<Content, ExecError> {
        if spec.bs == 0 {
            return Err(invalid("bs must be at least 1"));
        }
        if spec.direct && !spec.bs.is_multiple_of(512) {
            return Err(invalid(format!(
                "bs {} is not a multiple of 512, which O_DIRECT requires",
                spec.bs
            )));
        }
        let read = spec.op == ProbeOp::Read;
        Ok(match spec.pattern {
            None if read => Content::Unchecked,
            // Like dd from /dev/zero.
            None | Some(Pattern::Zero) => Content::Fill {
                value: 0,
                verify: read,
            },
            Some(Pattern::Byte { value }) => Content::Fill {
                value,
                verify: read,
            },
            Some(Pattern::Random { .. }) if read => {
                return Err(invalid(
                    "pattern random cannot be verified on read (use stamp, zero or byte)",
                ));
            }
            Some(Pattern::Random { seed }) => Content::Random { seed },
            Some(Pattern::Stamp) => {
                let stamper = Stamper::new(spec.bs as usize)?;
                let mut expected = Vec::new();
                if read {
                    expected = vec![0u8; spec.bs as usize];
                    stamper.prepare(&mut expected);
                }
                Content::Stamp { stamper, expected }
            }
        })
    }

    /// Once per probe, before the first block.
    fn prepare(&mut self, buf: &mut [u8]) {
        match self {
            Content::Fill { value, .. } => buf.fill(*value),
            Content::Random { seed } => stamp::fill_stream(buf, *seed),
            Content::Stamp { stamper, .. } => stamper.prepare(buf),
            Content::Unchecked => {}
        }
    }

    /// Per block, before writing it.
    fn fill(&mut self, buf: &mut [u8], offset: u64, seq: u64) {
        match self {
            Content::Random { seed } => {
                for (i, sector) in buf.chunks_mut(512).enumerate() {
                    if let Some(word) = sector.get_mut(..8) {
                        let at = offset + (i as u64) * 512;
                        word.copy_from_slice(&stamp::mix64(*seed ^ at).to_le_bytes());
                    }
                }
            }
            Content::Stamp { stamper, .. } => stamper.stamp(buf, offset, seq),
            Content::Fill { .. } | Content::Unchecked => {}
        }
    }

    /// Per block after reading it: `Err((expected, found))` on a mismatch.
    fn check(&mut self, block: &[u8], offset: u64) -> Result<(), (String, String)> {
        match self {
            Content::Fill {
                value,
                verify: true,
            } => check_fill(block, offset, *value),
            Content::Stamp { stamper, expected } if !expected.is_empty() => stamper
                .verify(block, offset, expected)
                .map_err(|found| (stamp::label(offset), found)),
            _ => Ok(()),
        }
    }
}

fn check_fill(block: &[u8], offset: u64, value: u8) -> Result<(), (String, String)> {
    // Compare 4 KiB at a time against a reference (memcmp speed) and only
    // look for the exact byte once a chunk differs.
    let reference = [value; 4096];
    let mut base = 0;
    for chunk in block.chunks(reference.len()) {
        if chunk != &reference[..chunk.len()] {
            let pos = base + chunk.iter().position(|&b| b != value).unwrap_or(0);
            let expected = if value == 0 {
                "zeros".to_string()
            } else {
                format!("0x{value:02x} bytes")
            };
            let mut found = format!("0x{:02x} at byte {}", block[pos], offset + pos as u64);
            if block.starts_with(&stamp::MAGIC) {
                let mut word = [0u8; 8];
                word.copy_from_slice(&block[8..16]);
                found.push_str(&format!(" (stamp@{})", u64::from_le_bytes(word)));
            }
            return Err((expected, found));
        }
        base += chunk.len();
    }
    Ok(())
}

/// The mismatch at the lowest offset, and how many blocks were bad.
#[derive(Default)]
struct Verdict {
    first: Option<(u64, String, String)>,
    bad_blocks: u64,
}

impl Verdict {
    fn record(&mut self, offset: u64, outcome: Result<(), (String, String)>) {
        if let Err((expected, found)) = outcome {
            self.bad_blocks += 1;
            if self.first.as_ref().is_none_or(|(at, _, _)| offset < *at) {
                self.first = Some((offset, expected, found));
            }
        }
    }

    fn into_mismatch(self) -> Option<Mismatch> {
        let bad = self.bad_blocks;
        self.first.map(|(offset, expected, found)| Mismatch {
            offset,
            expected,
            found,
            total_bad_blocks: bad,
        })
    }
}

fn open_device(spec: &ProbeSpec) -> Result<File, ExecError> {
    let mut options = OpenOptions::new();
    // Never create or truncate: a probe of a mistyped path must fail, not
    // leave a file behind.
    match spec.op {
        ProbeOp::Write => options.write(true),
        ProbeOp::Read => options.read(true),
    };
    if spec.direct {
        options.custom_flags(libc::O_DIRECT);
    }
    options.open(&spec.device).map_err(|e| {
        let errno = e.raw_os_error();
        let kind = match errno {
            Some(libc::ENOENT) | Some(libc::ENXIO) => ErrorKind::NotFound,
            Some(libc::EBUSY) => ErrorKind::Busy,
            Some(libc::EINVAL) if spec.direct => ErrorKind::Unsupported,
            _ => ErrorKind::Io,
        };
        let hint = if kind == ErrorKind::Unsupported {
            " (O_DIRECT not supported here?)"
        } else {
            ""
        };
        ExecError {
            kind,
            message: format!("cannot open {}: {e}{hint}", spec.device.display()),
            errno,
            kernel_log: Vec::new(),
        }
    })
}

/// Size in bytes: BLKGETSIZE64 for block devices, the length for files.
fn device_size(file: &File, path: &Path) -> Result<u64, ExecError> {
    let meta = file
        .metadata()
        .map_err(|e| ExecError::new(ErrorKind::Io, format!("{}: {e}", path.display())))?;
    let kind = meta.file_type();
    if kind.is_block_device() {
        let mut size = 0u64;
        // SAFETY: BLKGETSIZE64 writes one u64 to the pointer, which lives
        // for the whole call.
        unsafe { blkgetsize64(file.as_raw_fd(), &mut size) }.map_err(|e| {
            ExecError::from_errno(
                ErrorKind::Io,
                format!("BLKGETSIZE64 on {}", path.display()),
                e,
            )
        })?;
        Ok(size)
    } else if kind.is_file() {
        Ok(meta.len())
    } else {
        Err(invalid(format!(
            "{} is neither a block device nor a regular file",
            path.display()
        )))
    }
}

/// Refuses a range beyond the device before any I/O; returns its length.
fn check_range(spec: &ProbeSpec, size: u64) -> Result<u64, ExecError> {
    let bs = u64::from(spec.bs);
    let end = spec
        .offset_blocks
        .checked_add(spec.count)
        .and_then(|blocks| blocks.checked_mul(bs));
    match end {
        Some(end) if end <= size => Ok(spec.count * bs),
        Some(end) => Err(invalid(format!(
            "{} is {size} bytes but the probe would end at byte {end} \
             ({} blocks of {bs} from block {})",
            spec.device.display(),
            spec.count,
            spec.offset_blocks
        ))),
        None => Err(invalid(format!(
            "probe range of {} blocks of {bs} from block {} overflows",
            spec.count, spec.offset_blocks
        ))),
    }
}

fn write_block(file: &File, mut buf: &[u8], mut offset: u64) -> Result<(), IoFailure> {
    let block_offset = offset;
    while !buf.is_empty() {
        match file.write_at(buf, offset) {
            // A device that accepts nothing is full.
            Ok(0) => return Err(failure(block_offset, libc::ENOSPC)),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(failure(block_offset, e.raw_os_error().unwrap_or(0))),
        }
    }
    Ok(())
}

fn read_block(file: &File, mut buf: &mut [u8], mut offset: u64) -> Result<(), IoFailure> {
    let block_offset = offset;
    while !buf.is_empty() {
        match file.read_at(buf, offset) {
            // The range was checked, so the device shrank under us.
            Ok(0) => {
                return Err(IoFailure {
                    offset: block_offset,
                    errno: 0,
                    name: "EOF".into(),
                });
            }
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(failure(block_offset, e.raw_os_error().unwrap_or(0))),
        }
    }
    Ok(())
}

fn failure(offset: u64, errno: i32) -> IoFailure {
    IoFailure {
        offset,
        errno,
        name: format!("{:?}", Errno::from_raw(errno)),
    }
}

fn sample(devices: &[String]) -> Result<Vec<(String, IoCounters)>, ExecError> {
    devices
        .iter()
        .map(|d| blockstat::read_stat(d).map(|c| (d.clone(), c)))
        .collect()
}

/// A device that vanished during the probe is left out rather than failing
/// a probe whose I/O is already done.
fn deltas(before: Vec<(String, IoCounters)>) -> Vec<BlockStatDelta> {
    before
        .into_iter()
        .filter_map(|(device, b)| {
            let after = blockstat::read_stat(&device).ok()?;
            Some(BlockStatDelta {
                delta: after.delta_since(&b),
                device,
            })
        })
        .collect()
}

fn latency_summary(ns: &mut [u64]) -> Option<Latency> {
    if ns.is_empty() {
        return None;
    }
    ns.sort_unstable();
    Some(Latency {
        min_ns: ns[0],
        median_ns: nearest_rank(ns, 50),
        p99_ns: nearest_rank(ns, 99),
        max_ns: ns[ns.len() - 1],
    })
}

/// Nearest-rank percentile of sorted, non-empty samples.
fn nearest_rank(sorted: &[u64], percent: u64) -> u64 {
    let n = sorted.len() as u64;
    let rank = (percent * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

fn mib_per_s(bytes: u64, ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    bytes as f64 / (1u64 << 20) as f64 / (ns as f64 / 1e9)
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::new(ErrorKind::Invalid, message)
}

/// The order blocks are visited in: sequential, or a fixed shuffle. The
/// shuffle is a Feistel permutation with cycle walking, so it needs no
/// memory however many blocks there are.
struct Order {
    count: u64,
    shuffle: Option<Feistel>,
}

impl Order {
    fn new(count: u64, random: bool) -> Order {
        Order {
            count,
            shuffle: (random && count > 1).then(|| Feistel::new(count)),
        }
    }

    /// The block (relative to the first) visited `i`-th.
    fn at(&self, i: u64) -> u64 {
        let Some(f) = &self.shuffle else { return i };
        // The permutation covers a power-of-four domain at most 4x larger
        // than `count`; stepping until we land inside keeps a bijection.
        let mut x = f.permute(i);
        while x >= self.count {
            x = f.permute(x);
        }
        x
    }
}

struct Feistel {
    half_bits: u32,
    mask: u64,
    keys: [u64; 4],
}

impl Feistel {
    fn new(count: u64) -> Feistel {
        let bits = 64 - (count - 1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [1u64, 2, 3, 4].map(|k| stamp::mix64(SHUFFLE_SEED ^ k));
        Feistel {
            half_bits,
            mask: (1u64 << half_bits) - 1,
            keys,
        }
    }

    fn permute(&self, x: u64) -> u64 {
        let mut left = x >> self.half_bits;
        let mut right = x & self.mask;
        for key in self.keys {
            let next = left ^ (stamp::mix64(right ^ key) & self.mask);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }
}

/// A zeroed buffer whose start is aligned for O_DIRECT, without unsafe
/// allocation: over-allocate and start at the first aligned byte.
struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> AlignedBuf {
        let storage = vec![0u8; len + BUF_ALIGN];
        let start = storage.as_ptr().align_offset(BUF_ALIGN).min(BUF_ALIGN);
        AlignedBuf {
            storage,
            start,
            len,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::{Seek, SeekFrom, Write};
    use std::path::PathBuf;

    fn sparse_file(len: u64) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        f.as_file().set_len(len).expect("set_len");
        f
    }

    fn spec(path: &Path, op: ProbeOp, pattern: Option<Pattern>) -> ProbeSpec {
        ProbeSpec {
            device: path.to_path_buf(),
            op,
            bs: 4096,
            count: 8,
            offset_blocks: 2,
            pattern,
            direct: false,
            random_order: false,
            attribute: Vec::new(),
            stamp_shift: 0,
            stats: None,
            trace: false,
        }
    }

    fn run(spec: &ProbeSpec) -> Result<ProbeResult, ExecError> {
        run_probe(spec, &AtomicBool::new(false), &|_, _| {})
    }

    #[test]
    fn stamps_round_trip_through_a_file() {
        let f = sparse_file(1 << 20);
        let w = spec(f.path(), ProbeOp::Write, Some(Pattern::Stamp));
        let res = run(&w).expect("write");
        assert_eq!((res.bytes, res.blocks), (8 * 4096, 8));
        assert!(res.io_error.is_none() && res.mismatch.is_none());
        let lat = res.latency.expect("latency");
        assert!(lat.min_ns <= lat.median_ns && lat.median_ns <= lat.p99_ns);
        assert!(lat.p99_ns <= lat.max_ns);

        let r = spec(f.path(), ProbeOp::Read, Some(Pattern::Stamp));
        let res = run(&r).expect("read");
        assert_eq!(res.mismatch, None);
        assert_eq!(res.bytes, 8 * 4096);
    }

    #[test]
    fn shuffled_stamps_verify_sequentially() {
        let f = sparse_file(1 << 20);
        let mut w = spec(f.path(), ProbeOp::Write, Some(Pattern::Stamp));
        w.random_order = true;
        w.count = 37;
        run(&w).expect("write");
        let mut r = spec(f.path(), ProbeOp::Read, Some(Pattern::Stamp));
        r.count = 37;
        assert_eq!(run(&r).expect("read").mismatch, None);
    }

    #[test]
    fn never_written_blocks_read_as_zeros() {
        let f = sparse_file(1 << 20);
        run(&spec(f.path(), ProbeOp::Write, Some(Pattern::Stamp))).expect("write");
        let mut r = spec(f.path(), ProbeOp::Read, Some(Pattern::Stamp));
        r.offset_blocks = 6; // 4 stamped blocks, then 4 never written
        let m = run(&r).expect("read").mismatch.expect("mismatch");
        assert_eq!(m.offset, 10 * 4096);
        assert_eq!(m.expected, "stamp@40960");
        assert_eq!(m.found, "zeros (never written)");
        assert_eq!(m.total_bad_blocks, 4);
    }

    #[test]
    fn a_block_copied_elsewhere_is_misdirected() {
        let f = sparse_file(1 << 20);
        run(&spec(f.path(), ProbeOp::Write, Some(Pattern::Stamp))).expect("write");
        // Put the stamp of block 2 where block 5 belongs.
        let mut data = vec![0u8; 4096];
        f.as_file().read_at(&mut data, 2 * 4096).expect("read");
        f.as_file().write_at(&data, 5 * 4096).expect("write");
        let m = run(&spec(f.path(), ProbeOp::Read, Some(Pattern::Stamp)))
            .expect("read")
            .mismatch
            .expect("mismatch");
        assert_eq!(m.offset, 5 * 4096);
        assert_eq!(m.found, "stamp@8192 (misdirected write)");
        assert_eq!(m.total_bad_blocks, 1);
    }

    #[test]
    fn byte_pattern_mismatch_names_byte_and_value() {
        let f = sparse_file(1 << 20);
        let p = Some(Pattern::Byte { value: 0xab });
        run(&spec(f.path(), ProbeOp::Write, p)).expect("write");
        let mut file = f.as_file();
        file.seek(SeekFrom::Start(3 * 4096 + 17)).expect("seek");
        file.write_all(&[0x3f]).expect("corrupt");
        let m = run(&spec(f.path(), ProbeOp::Read, p))
            .expect("read")
            .mismatch
            .expect("mismatch");
        assert_eq!(m.offset, 3 * 4096);
        assert_eq!(m.expected, "0xab bytes");
        assert_eq!(m.found, format!("0x3f at byte {}", 3 * 4096 + 17));
    }

    #[test]
    fn zeros_verify_on_a_sparse_file() {
        let f = sparse_file(1 << 20);
        let res = run(&spec(f.path(), ProbeOp::Read, Some(Pattern::Zero))).expect("read");
        assert_eq!(res.mismatch, None);
    }

    #[test]
    fn random_writes_are_not_zero_and_cannot_be_verified() {
        let f = sparse_file(1 << 20);
        run(&spec(
            f.path(),
            ProbeOp::Write,
            Some(Pattern::Random { seed: 9 }),
        ))
        .expect("write");
        let m = run(&spec(f.path(), ProbeOp::Read, Some(Pattern::Zero)))
            .expect("read")
            .mismatch
            .expect("random data is not zeros");
        assert_eq!(m.total_bad_blocks, 8);
        let err = run(&spec(
            f.path(),
            ProbeOp::Read,
            Some(Pattern::Random { seed: 9 }),
        ))
        .expect_err("unverifiable");
        assert_eq!(err.kind, ErrorKind::Invalid);
    }

    #[test]
    fn out_of_range_is_refused_before_any_io() {
        let f = sparse_file(40960);
        let mut w = spec(f.path(), ProbeOp::Write, Some(Pattern::Byte { value: 1 }));
        w.offset_blocks = 5; // blocks 5..13 of a 10-block file
        let err = run(&w).expect_err("beyond the end");
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("40960 bytes"), "{}", err.message);
        assert!(err.message.contains("end at byte 53248"), "{}", err.message);
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f.reopen().expect("reopen"), &mut data).expect("read");
        assert!(data.iter().all(|&b| b == 0), "nothing was written");
    }

    #[test]
    fn a_probe_never_creates_files() {
        let dir = tempfile::tempdir().expect("dir");
        let path: PathBuf = dir.path().join("absent");
        let err = run(&spec(&path, ProbeOp::Write, None)).expect_err("absent");
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(!path.exists());
    }

    #[test]
    fn direct_io_needs_whole_sectors() {
        let f = sparse_file(1 << 20);
        let mut w = spec(f.path(), ProbeOp::Write, None);
        w.direct = true;
        w.bs = 1000;
        let err = run(&w).expect_err("bs");
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("bs 1000"), "{}", err.message);
    }

    #[test]
    fn direct_stamps_with_512_byte_blocks() {
        let f = sparse_file(1 << 20);
        let mut w = spec(f.path(), ProbeOp::Write, Some(Pattern::Stamp));
        w.direct = true;
        w.bs = 512;
        w.count = 100;
        match run(&w) {
            Ok(res) => assert!(res.io_error.is_none(), "{:?}", res.io_error),
            // Some file systems refuse O_DIRECT outright.
            Err(e) if e.kind == ErrorKind::Unsupported => return,
            Err(e) => panic!("{e}"),
        }
        let mut r = w.clone();
        r.op = ProbeOp::Read;
        assert_eq!(run(&r).expect("read").mismatch, None);
    }

    #[test]
    fn cancel_stops_between_blocks() {
        let f = sparse_file(1 << 20);
        let res = run_probe(
            &spec(f.path(), ProbeOp::Write, None),
            &AtomicBool::new(true),
            &|_, _| {},
        )
        .expect("runs");
        assert!(res.cancelled);
        assert_eq!(res.blocks, 0);
        assert_eq!(res.latency, None);
    }

    #[test]
    fn progress_ends_at_the_total() {
        let f = sparse_file(1 << 20);
        let calls = Cell::new(0u32);
        let last = Cell::new((0u64, 0u64));
        run_probe(
            &spec(f.path(), ProbeOp::Write, None),
            &AtomicBool::new(false),
            &|done, total| {
                calls.set(calls.get() + 1);
                last.set((done, total));
            },
        )
        .expect("runs");
        assert!(calls.get() >= 1 && calls.get() <= 2, "throttled");
        assert_eq!(last.get(), (8 * 4096, 8 * 4096));
    }

    #[test]
    fn shuffle_is_a_permutation() {
        for count in [1u64, 2, 3, 7, 64, 1000, 4097] {
            let order = Order::new(count, true);
            let mut seen = vec![false; count as usize];
            for i in 0..count {
                let b = order.at(i);
                assert!(!seen[b as usize], "count {count}: {b} twice");
                seen[b as usize] = true;
            }
            if count >= 64 {
                let moved = (0..count).filter(|&i| order.at(i) != i).count();
                assert!(moved as u64 > count / 2, "count {count}: barely shuffled");
            }
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 50), 50);
        assert_eq!(nearest_rank(&v, 99), 99);
        assert_eq!(nearest_rank(&[7], 99), 7);
        assert_eq!(nearest_rank(&[1, 2, 3], 50), 2);
    }

    #[test]
    fn errno_names() {
        assert_eq!(failure(0, libc::EIO).name, "EIO");
        assert_eq!(failure(0, libc::ENOSPC).name, "ENOSPC");
    }

    #[test]
    fn buffers_are_aligned() {
        let mut b = AlignedBuf::new(512);
        let s = b.as_mut_slice();
        assert_eq!(s.len(), 512);
        assert_eq!(s.as_ptr() as usize % BUF_ALIGN, 0);
    }
}
