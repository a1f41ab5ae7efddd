//! Reading the kernel log from `/dev/kmsg`.
//!
//! Each read(2) returns exactly one record, `PRI,SEQ,TS_USEC,FLAGS[,...];TEXT`
//! then optional ` KEY=VALUE` continuation lines (Documentation/ABI/testing/
//! dev-kmsg). A buffer too small for a record fails with EINVAL, hence 8 KiB.
//! EPIPE means the ring buffer overwrote records we had not read yet; the
//! next read resumes at the oldest record still there.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{Whence, lseek};

use crate::exec::EventSink;
use crate::exec::protocol::{ErrorKind, Event, ExecError, KmsgRecord};

const RECORD_BUF: usize = 8192;
/// How long the follower sleeps in poll before looking at its stop flag.
const POLL_MS: u16 = 100;
/// Log levels up to and including warning count as reasons.
const REASON_LEVEL: u8 = 4;

/// Parses one record as read from /dev/kmsg. Continuation lines are
/// ignored; escapes such as `\x0a` in the text are decoded.
pub fn parse_record(raw: &[u8]) -> Option<KmsgRecord> {
    let semi = raw.iter().position(|&b| b == b';')?;
    let prefix = std::str::from_utf8(&raw[..semi]).ok()?;
    let mut fields = prefix.split(',');
    let pri: u64 = fields.next()?.trim().parse().ok()?;
    let seq: u64 = fields.next()?.parse().ok()?;
    let ts_us: u64 = fields.next()?.parse().ok()?;
    let body = &raw[semi + 1..];
    let line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    Some(KmsgRecord {
        seq,
        level: (pri & 7) as u8,
        ts_us,
        text: String::from_utf8_lossy(&unescape(&body[..line_end])).into_owned(),
    })
}

/// The kernel writes bytes outside printable ASCII (and `\` itself) as
/// `\xNN`.
fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\'
            && text.get(i + 1) == Some(&b'x')
            && let Some(byte) = text
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 4;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// A non-blocking reader of /dev/kmsg.
pub struct KmsgReader {
    file: File,
    buf: Vec<u8>,
    last_seq: Option<u64>,
    /// EPIPE seen and not yet accounted for by a sequence gap.
    overrun: bool,
}

impl KmsgReader {
    /// Opens /dev/kmsg at the oldest record still in the ring buffer.
    pub fn open() -> Result<KmsgReader, ExecError> {
        KmsgReader::open_path(Path::new("/dev/kmsg"))
    }

    pub fn open_path(path: &Path) -> Result<KmsgReader, ExecError> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| ExecError::from_io(format!("cannot open {}: {e}", path.display()), &e))?;
        Ok(KmsgReader {
            file,
            buf: vec![0u8; RECORD_BUF],
            last_seq: None,
            overrun: false,
        })
    }

    /// Skips everything logged so far: only new records will be read.
    pub fn seek_to_end(&mut self) -> Result<(), ExecError> {
        lseek(&self.file, 0, Whence::SeekEnd)
            .map_err(|e| ExecError::from_errno(ErrorKind::Io, "seeking /dev/kmsg", e))?;
        self.last_seq = None;
        self.overrun = false;
        Ok(())
    }

    /// Sequence number of the last record read.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Every record available now, and how many were lost to the ring
    /// buffer wrapping since the previous call.
    pub fn read_available(&mut self) -> Result<(Vec<KmsgRecord>, u64), ExecError> {
        let mut records = Vec::new();
        let mut lost = 0u64;
        loop {
            match self.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(record) = parse_record(&self.buf[..n]) {
                        lost += self.account(record.seq);
                        records.push(record);
                    }
                }
                Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
                Err(e) if e.kind() == IoErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => self.overrun = true,
                Err(e) => {
                    return Err(ExecError {
                        kind: ErrorKind::Io,
                        message: format!("reading /dev/kmsg: {e}"),
                        errno: e.raw_os_error(),
                        kernel_log: Vec::new(),
                    });
                }
            }
        }
        Ok((records, lost))
    }

    /// Records skipped before `seq`.
    fn account(&mut self, seq: u64) -> u64 {
        let gap = match self.last_seq {
            Some(last) if seq > last + 1 => seq - last - 1,
            // EPIPE with no earlier record to measure from: at least one.
            None if self.overrun => 1,
            _ => 0,
        };
        self.last_seq = Some(seq);
        self.overrun = false;
        gap
    }

    /// Streams records as events until `stop` is set. The thread ends with
    /// the error that stopped it, if any.
    pub fn follow(
        mut self,
        sink: EventSink,
        stop: Arc<AtomicBool>,
    ) -> Result<JoinHandle<Result<(), ExecError>>, ExecError> {
        std::thread::Builder::new()
            .name("kmsg".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if !self.wait_readable()? {
                        continue;
                    }
                    let (records, lost) = self.read_available()?;
                    if lost > 0 {
                        sink(Event::KmsgLost { count: lost });
                    }
                    for record in records {
                        sink(Event::Kmsg(record));
                    }
                }
                Ok(())
            })
            .map_err(|e| ExecError::new(ErrorKind::Io, format!("starting kmsg thread: {e}")))
    }

    /// Waits up to [`POLL_MS`]; true when there is something to read (an
    /// overrun shows as POLLERR and is read as EPIPE).
    fn wait_readable(&self) -> Result<bool, ExecError> {
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(POLL_MS)) {
            Ok(0) | Err(Errno::EINTR) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) => Err(ExecError::from_errno(ErrorKind::Io, "polling /dev/kmsg", e)),
        }
    }
}

/// Opens /dev/kmsg, skips the backlog and streams new records as
/// [`Event::Kmsg`] / [`Event::KmsgLost`] until `stop` is set.
pub fn follow(
    sink: EventSink,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<(), ExecError>>, ExecError> {
    let mut reader = KmsgReader::open()?;
    reader.seek_to_end()?;
    reader.follow(sink, stop)
}

/// The kernel's own explanation of a failed DM operation: warnings and
/// errors logged by device-mapper (`device-mapper: table: 253:0: linear:
/// Device lookup failed (-ENODEV)`), among records after `after_seq`.
pub fn dm_reasons_since(records: &[KmsgRecord], after_seq: Option<u64>) -> Vec<String> {
    reasons(records, after_seq, |text| {
        text.starts_with("device-mapper:")
    })
}

/// What the kernel said about `module` (e.g. `dm_basic: Unknown symbol
/// dm_register_target (err -2)`) among records after `after_seq`. Dashes
/// and underscores match each other, as the kernel treats them alike in
/// module names. Taint notices are not reasons and are left out.
pub fn module_reasons_since(
    records: &[KmsgRecord],
    after_seq: Option<u64>,
    module: &str,
) -> Vec<String> {
    let name = module.replace('-', "_");
    if name.is_empty() {
        return Vec::new();
    }
    reasons(records, after_seq, |text| {
        !text.contains("taints kernel")
            && !text.contains("tainting kernel")
            && mentions_word(&text.replace('-', "_"), &name)
    })
}

fn reasons(
    records: &[KmsgRecord],
    after_seq: Option<u64>,
    pick: impl Fn(&str) -> bool,
) -> Vec<String> {
    records
        .iter()
        .filter(|r| after_seq.is_none_or(|s| r.seq > s))
        .filter(|r| r.level <= REASON_LEVEL && pick(&r.text))
        .map(|r| r.text.clone())
        .collect()
}

/// `word` occurs in `text` delimited by characters that cannot be part of
/// a module name.
fn mentions_word(text: &str, word: &str) -> bool {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, level: u8, text: &str) -> KmsgRecord {
        KmsgRecord {
            seq,
            level,
            ts_us: 0,
            text: text.into(),
        }
    }

    #[test]
    fn parses_a_plain_record() {
        let r =
            parse_record(b"6,339,5140900,-;NET: Registered protocol family 10\n").expect("parses");
        let expected = KmsgRecord {
            ts_us: 5140900,
            ..rec(339, 6, "NET: Registered protocol family 10")
        };
        assert_eq!(r, expected);
    }

    #[test]
    fn level_ignores_facility_and_extra_prefix_fields() {
        // Facility 1 (user) << 3 | level 4, with a caller id field.
        let r = parse_record(b"12,7,99,c,caller=T42;hello").expect("parses");
        assert_eq!((r.level, r.seq, r.ts_us), (4, 7, 99));
        assert_eq!(r.text, "hello");
    }

    #[test]
    fn continuation_lines_are_not_text() {
        let raw = b"3,1,2,-;device-mapper: table: 253:0: linear: Device lookup failed (-ENODEV)\n SUBSYSTEM=block\n DEVICE=b253:0\n";
        let r = parse_record(raw).expect("parses");
        assert_eq!(
            r.text,
            "device-mapper: table: 253:0: linear: Device lookup failed (-ENODEV)"
        );
        assert_eq!(r.level, 3);
    }

    #[test]
    fn escapes_are_decoded() {
        let r = parse_record(b"6,1,2,-;a\\x5cb\\x0ac \\xe2\\x9c\\x93 \\xZZ\n").expect("parses");
        assert_eq!(r.text, "a\\b\nc \u{2713} \\xZZ");
    }

    #[test]
    fn malformed_records_are_rejected() {
        for raw in [
            &b""[..],
            b"no semicolon",
            b"x,1,2,-;text",
            b"6,1;text",
            b"6,-1,2,-;t",
        ] {
            assert_eq!(
                parse_record(raw),
                None,
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn dm_reasons_pick_device_mapper_errors_after_a_point() {
        let records = vec![
            rec(1, 3, "device-mapper: ioctl: old failure"),
            rec(
                2,
                6,
                "device-mapper: ioctl: 4.48.0-ioctl (2023-03-01) initialised",
            ),
            rec(
                3,
                3,
                "device-mapper: table: 253:0: linear: Device lookup failed (-ENODEV)",
            ),
            rec(4, 3, "loop0: detected capacity change"),
            rec(5, 3, "device-mapper: ioctl: error adding target to table"),
        ];
        assert_eq!(
            dm_reasons_since(&records, Some(1)),
            vec![
                "device-mapper: table: 253:0: linear: Device lookup failed (-ENODEV)",
                "device-mapper: ioctl: error adding target to table",
            ]
        );
        assert_eq!(dm_reasons_since(&records, None).len(), 3);
    }

    #[test]
    fn module_reasons_match_whole_names() {
        let records = vec![
            rec(1, 4, "dm_basic: loading out-of-tree module taints kernel."),
            rec(2, 4, "dm_basic: Unknown symbol dm_register_target (err -2)"),
            rec(3, 4, "dm_basic_extra: Unknown symbol foo (err -2)"),
            rec(
                4,
                3,
                "module dm_basic: .gnu.linkonce.this_module section size must match",
            ),
            rec(5, 6, "dm_basic: hello"),
        ];
        assert_eq!(
            module_reasons_since(&records, None, "dm-basic"),
            vec![
                "dm_basic: Unknown symbol dm_register_target (err -2)",
                "module dm_basic: .gnu.linkonce.this_module section size must match",
            ]
        );
        assert!(module_reasons_since(&records, None, "").is_empty());
    }

    #[test]
    fn sequence_gaps_count_as_lost() {
        let mut reader = KmsgReader {
            file: match File::open("/dev/null") {
                Ok(f) => f,
                Err(e) => panic!("/dev/null: {e}"),
            },
            buf: Vec::new(),
            last_seq: None,
            overrun: false,
        };
        assert_eq!(reader.account(10), 0);
        assert_eq!(reader.account(11), 0);
        assert_eq!(reader.account(15), 3);
        reader.last_seq = None;
        reader.overrun = true;
        assert_eq!(reader.account(40), 1);
        assert_eq!(reader.account(41), 0);
    }
}
