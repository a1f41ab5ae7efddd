// SPDX-License-Identifier: GPL-2.0

//! @NAME@: a pass-through device-mapper target, written in Rust.
//!
//! It maps a range of one underlying device, like dm-linear, and counts the
//! reads and writes that carry data.
//!
//! ```text
//! Table:   <dev_path> <start_sector>
//! Status:  reads=<n> writes=<n>                 (INFO)
//!          <major:minor> <start_sector>         (TABLE)
//! Message: stats   replies with the status line
//!          reset   sets the counters to zero
//! ```
//!
//! This file is the target. `dm.rs`, `dm_glue.c` and `dm_glue.h` are the
//! generic glue that lets Rust reach device-mapper: leave them as they are.

use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{
    Args, Bio, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter, Target,
};

// The one place the target is named: the module and the DM target type.
dm::module_dm_target! {
    type: @TYPE@,
    name: "@NAME@",
    version: [0, 1, 0],
    authors: ["dmbench new"],
    description: "@NAME@: a pass-through device-mapper target",
    license: "GPL",
}

/// One table line's state, owned by DM core through `ti->private`.
struct @TYPE@ {
    dev: Device,
    start: u64,
    // `map` runs concurrently on many CPUs: the counters are atomic.
    reads: Atomic<u64>,
    writes: Atomic<u64>,
}

impl @TYPE@ {
    fn write_counters(&self, out: &mut StatusWriter) {
        // `StatusWriter` never fails: it truncates like DMEMIT().
        let _ = out.write_fmt(fmt!(
            "reads={} writes={}",
            self.reads.load(Relaxed),
            self.writes.load(Relaxed)
        ));
    }
}

#[vtable]
impl dm::TargetOps for @TYPE@ {
    /// `<dev_path> <start_sector>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), Some(start), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let start = dm::parse_u64(start).ok_or(CtrError::new(EINVAL, c"invalid start sector"))?;
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        // Flushes, discards and write-zeroes pass through too, one each.
        ti.set_num_bios(1, 1, 1, 1);
        Ok(@TYPE@ {
            dev,
            start,
            reads: Atomic::new(0),
            writes: Atomic::new(0),
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.size() != 0 {
            match bio.op() {
                ReqOp::Read => self.reads.add(1, Relaxed),
                ReqOp::Write => self.writes.add(1, Relaxed),
                _ => {}
            }
        }
        bio.set_dev(&self.dev);
        // An empty bio (a flush) has no sector to move.
        if bio.size() != 0 {
            // start + dm_target_offset(): DM core only sends sectors inside
            // the target, so this cannot fail; if it did, fail the bio
            // rather than write to the wrong place.
            match ti
                .offset(bio.sector())
                .and_then(|offset| self.start.checked_add(offset))
            {
                Some(sector) => bio.set_sector(sector),
                None => return MapResult::Kill,
            }
        }
        MapResult::Remapped
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        match kind {
            StatusType::Info => self.write_counters(out),
            StatusType::Table => {
                let _ = out.write_fmt(fmt!("{} {}", self.dev.name(), self.start));
            }
            StatusType::Ima => {}
        }
    }

    /// `stats` | `reset`
    fn message(&self, _ti: &Target, args: &Args<'_>, reply: &mut StatusWriter) -> Result {
        match (args.len(), args.bytes(0)) {
            (1, Some(b"stats")) => self.write_counters(reply),
            (1, Some(b"reset")) => {
                self.reads.store(0, Relaxed);
                self.writes.store(0, Relaxed);
            }
            _ => {
                dm::warn_args(c"unrecognised message: ", args);
                return Err(EINVAL);
            }
        }
        Ok(())
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, self.start, ti.len())
    }
}
