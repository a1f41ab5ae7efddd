// SPDX-License-Identifier: GPL-2.0

//! drop_target: a fault injector that loses every Nth write.
//!
//! ```text
//! Table:   <dev_path> <n>
//! Status:  writes=<n> dropped=<n>        (INFO)
//!          <major:minor> <n>             (TABLE)
//! ```
//!
//! Every write that carries data is counted; the Nth, 2Nth, ... one is
//! reported done without being written, the way a disk with a lying write
//! cache loses data. Everything else passes through, like dm-linear.

use core::num::NonZeroU64;
use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{
    Args, Bio, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter, Target,
};

dm::module_dm_target! {
    type: DropTarget,
    name: "drop_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "drop_target: loses every Nth write",
    license: "GPL",
}

struct DropTarget {
    dev: Device,
    // Never 0: `nth % every` cannot divide by zero, no panic path.
    every: NonZeroU64,
    writes: Atomic<u64>,
    dropped: Atomic<u64>,
}

#[vtable]
impl dm::TargetOps for DropTarget {
    /// `<dev_path> <n>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), Some(every), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let every = dm::parse_u64(every)
            .and_then(NonZeroU64::new)
            .ok_or(CtrError::new(EINVAL, c"invalid write interval"))?;
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        ti.set_num_bios(1, 1, 1, 1);
        Ok(DropTarget {
            dev,
            every,
            writes: Atomic::new(0),
            dropped: Atomic::new(0),
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.op() == ReqOp::Write && bio.size() != 0 {
            // fetch_add: each write gets its own number, even when several
            // CPUs map writes at the same time.
            let nth = self.writes.fetch_add(1, Relaxed) + 1;
            // TODO: when `nth` is a multiple of `every`, count the write in
            // `dropped` and end the bio at once, reporting success without
            // writing anything: `MapResult::Complete(Ok(()))`.
            let _ = nth;
        }
        bio.set_dev(&self.dev);
        if bio.size() != 0 {
            match ti.offset(bio.sector()) {
                Some(sector) => bio.set_sector(sector),
                None => return MapResult::Kill,
            }
        }
        MapResult::Remapped
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        let _ = match kind {
            StatusType::Info => out.write_fmt(fmt!(
                "writes={} dropped={}",
                self.writes.load(Relaxed),
                self.dropped.load(Relaxed)
            )),
            StatusType::Table => out.write_fmt(fmt!("{} {}", self.dev.name(), self.every.get())),
            StatusType::Ima => Ok(()),
        };
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, 0, ti.len())
    }
}
