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
//! Every decision is made here. `dm.rs` wraps the generic C glue
//! (`dm_glue.c`) that owns `struct target_type` and reaches the parts of
//! device-mapper that Rust has no bindings for; the target names itself once,
//! in `module_dm_target!`. `kmod/c` holds the same target in C; both must
//! behave identically.

use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{
    Args, Bio, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter, Target,
};

dm::module_dm_target! {
    type: BasicTarget,
    name: "basic_target",
    version: [1, 0, 0],
    authors: ["dmbench"],
    description: "dmbench basic_target: counting, logging pass-through DM target (Rust)",
    license: "GPL",
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
        match bio.op() {
            ReqOp::Read => Op::Read,
            ReqOp::Write => Op::Write,
            ReqOp::Flush => Op::Flush,
            ReqOp::Discard => Op::Discard,
            _ => Op::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Flush => "flush",
            Op::Discard => "discard",
            Op::Other => "other",
        }
    }
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

#[vtable]
impl dm::TargetOps for BasicTarget {
    /// `<dev_path> <start_sector>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), Some(start), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let start = dm::parse_u64(start).ok_or(CtrError::new(EINVAL, c"invalid start sector"))?;
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        // One bio of each of these kinds passes straight through to the
        // device. Empty flushes are not allowed to bypass `map`, so that
        // they show up in the log.
        ti.set_num_bios(1, 1, 1, 1);
        // dm.rs boxes this, and fails with "cannot allocate context" (ENOMEM)
        // if it cannot: the same words and order as kmod/c.
        Ok(BasicTarget {
            dev,
            start,
            reads: Atomic::new(0),
            writes: Atomic::new(0),
            read_bytes: Atomic::new(0),
            write_bytes: Atomic::new(0),
            log: Atomic::new(true),
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        let op = Op::of(bio);
        let sector = bio.sector();
        let size = bio.size();

        if self.log.load(Relaxed) && dm::ratelimit() {
            pr_info!("{} request: sector {} size {}\n", op.name(), sector, size);
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
            match ti
                .offset(sector)
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
    fn message(&self, _ti: &Target, args: &Args<'_>, _reply: &mut StatusWriter) -> Result {
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
                dm::warn_args(c"unrecognised message: ", args);
                Err(EINVAL)
            }
        }
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, self.start, ti.len())
    }
}
