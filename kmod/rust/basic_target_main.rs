// SPDX-License-Identifier: GPL-2.0

//! basic_target: a pass-through device-mapper target written in Rust.
//!
//! It maps a range of one underlying device, exactly like dm-linear, and on
//! the way counts the reads and writes that carry data and logs every bio
//! (rate-limited) until told `log off`.
//!
//! ```text
//! Table:   <dev_path> <start_sector>
//! Status:  reads=<n> writes=<n> read_bytes=<n> write_bytes=<n>   (INFO)
//!          <major:minor> <start_sector>                          (TABLE)
//! Message: log on | log off
//! ```
//!
//! Every decision is made here. `dm.rs` wraps the C glue
//! (`basic_target_glue.c`) that owns `struct target_type` and reaches the
//! parts of device-mapper that Rust has no bindings for. `kmod/c` holds the
//! same target in C; both must behave identically.

use kernel::bindings;
use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{Args, Bio, Callout, CtrError, Device, MapResult, StatusType, StatusWriter, Target};

module! {
    type: BasicTargetModule,
    name: "basic_target",
    authors: ["dmbench"],
    description: "dmbench basic_target: counting, logging pass-through DM target (Rust)",
    license: "GPL",
}

struct BasicTargetModule;

impl kernel::Module for BasicTargetModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        dm::register()?;
        Ok(Self)
    }
}

impl Drop for BasicTargetModule {
    fn drop(&mut self) {
        dm::unregister();
    }
}

/// What a bio asks for, as far as logging and counting are concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    Flush,
    Discard,
    Other,
}

impl Op {
    fn of(bio: &Bio) -> Self {
        // DM core hands flushes to targets as empty REQ_PREFLUSH writes.
        if bio.is_preflush() && bio.size() == 0 {
            return Op::Flush;
        }
        // Compare the operation, never test it as a bit mask: REQ_OP_* are
        // numbers (REQ_OP_WRITE is 1, REQ_OP_DISCARD is 3, ...).
        match bio.op() {
            bindings::req_op_REQ_OP_READ => Op::Read,
            bindings::req_op_REQ_OP_WRITE => Op::Write,
            bindings::req_op_REQ_OP_FLUSH => Op::Flush,
            bindings::req_op_REQ_OP_DISCARD => Op::Discard,
            _ => Op::Other,
        }
    }

    fn name(self) -> &'static CStr {
        match self {
            Op::Read => c"read",
            Op::Write => c"write",
            Op::Flush => c"flush",
            Op::Discard => c"discard",
            Op::Other => c"other",
        }
    }
}

/// Strict unsigned decimal: digits only, no sign, no trailing junk (`12x`
/// is refused), no overflow.
fn parse_sector(arg: &CStr) -> Option<u64> {
    let digits = arg.to_bytes();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        let digit = c.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// One table line's state, owned by DM core through `ti->private`.
struct BasicTarget {
    dev: Device,
    start: u64,
    // `map` runs concurrently on many CPUs: all counters are atomic.
    reads: Atomic<u64>,
    writes: Atomic<u64>,
    read_bytes: Atomic<u64>,
    write_bytes: Atomic<u64>,
    log: Atomic<bool>,
}

impl dm::TargetOps for BasicTarget {
    /// `<dev_path> <start_sector>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<KBox<Self>, CtrError> {
        let (Some(path), Some(start), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError {
                code: EINVAL,
                reason: c"invalid argument count",
            });
        };
        let start = parse_sector(start).ok_or(CtrError {
            code: EINVAL,
            reason: c"invalid start sector",
        })?;
        let dev = ti.get_device(path).map_err(|code| CtrError {
            code,
            reason: c"device lookup failed",
        })?;
        let this = KBox::new(
            BasicTarget {
                dev,
                start,
                reads: Atomic::new(0),
                writes: Atomic::new(0),
                read_bytes: Atomic::new(0),
                write_bytes: Atomic::new(0),
                log: Atomic::new(true),
            },
            GFP_KERNEL,
        )
        .map_err(|_| CtrError {
            code: ENOMEM,
            reason: c"cannot allocate context",
        })?;
        // One bio of each of these kinds passes straight through to the
        // device. Empty flushes are not allowed to bypass `map`, so that
        // they show up in the log.
        ti.set_num_bios(1, 1, 1, 1);
        Ok(this)
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        let op = Op::of(bio);
        let sector = bio.sector();
        let size = bio.size();

        if self.log.load(Relaxed) {
            dm::log_bio(op.name(), sector, size);
        }

        if size != 0 {
            match op {
                Op::Read => {
                    self.reads.add(1, Relaxed);
                    self.read_bytes.add(u64::from(size), Relaxed);
                }
                Op::Write => {
                    self.writes.add(1, Relaxed);
                    self.write_bytes.add(u64::from(size), Relaxed);
                }
                _ => {}
            }
        }

        bio.set_dev(&self.dev);
        // An empty bio (a flush) has no meaningful sector to move. DM core
        // only sends bios inside [begin, begin + len), and checked the device
        // is large enough at table load, so neither step can fail; if one
        // did, fail the bio rather than write to the wrong place.
        if size != 0 {
            // start + dm_target_offset(ti, sector)
            match sector
                .checked_sub(ti.begin())
                .and_then(|offset| self.start.checked_add(offset))
            {
                Some(mapped) => bio.set_sector(mapped),
                None => return MapResult::Kill,
            }
        }
        MapResult::Remapped
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        // `StatusWriter` never fails: it truncates like DMEMIT().
        let _ = match kind {
            StatusType::Info => out.write_fmt(fmt!(
                "reads={} writes={} read_bytes={} write_bytes={}",
                self.reads.load(Relaxed),
                self.writes.load(Relaxed),
                self.read_bytes.load(Relaxed),
                self.write_bytes.load(Relaxed),
            )),
            // Like dm-linear: "%s %llu" with the device's major:minor name.
            StatusType::Table => out.write_fmt(fmt!("{} {}", self.dev.name(), self.start)),
            StatusType::Ima => Ok(()),
        };
    }

    /// `log on` | `log off`
    fn message(&self, _ti: &Target, args: &Args<'_>) -> Result {
        let log = if args.len() == 2 && args.get(0) == Some(c"log") {
            match args.get(1).map(CStr::to_bytes) {
                Some(b"on") => Some(true),
                Some(b"off") => Some(false),
                _ => None,
            }
        } else {
            None
        };
        match log {
            Some(on) => {
                self.log.store(on, Relaxed);
                Ok(())
            }
            None => {
                pr_warn!("unrecognised message: {}\n", args);
                Err(EINVAL)
            }
        }
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, self.start, ti.len())
    }
}
