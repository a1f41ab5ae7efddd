// SPDX-License-Identifier: GPL-2.0

//! mirror_target: every write goes to two devices (RAID 1 without resync).
//!
//! ```text
//! Table:   <dev_a> <dev_b>
//! Status:  <major:minor> <major:minor>     (TABLE)
//! ```
//!
//! A write is cloned: the clone goes to `dev_b`, the original to `dev_a`,
//! and the writer hears back once both are done (an error on either fails
//! the write). Reads are served by `dev_a`. Flushes, discards and
//! write-zeroes are sent once to each device by DM core itself.

use kernel::fmt::Write;
use kernel::prelude::*;

mod dm;

use dm::{
    Args, Bio, BioSet, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter,
    Target,
};

dm::module_dm_target! {
    type: MirrorTarget,
    name: "mirror_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "mirror_target: writes go to two devices",
    license: "GPL",
}

struct MirrorTarget {
    legs: [Device; 2],
    // Where the clones of writes come from.
    pool: BioSet,
}

#[vtable]
impl dm::TargetOps for MirrorTarget {
    /// `<dev_a> <dev_b>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(a), Some(b), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let a = ti
            .get_device(a)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        let b = ti
            .get_device(b)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        let pool =
            BioSet::new(16).map_err(|code| CtrError::new(code, c"cannot allocate bio pool"))?;
        // Two of each, one per device; `target_bio_nr()` says which.
        ti.set_num_bios(2, 2, 0, 2);
        Ok(MirrorTarget { legs: [a, b], pool })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.size() == 0 {
            // A flush: copy 0 for dev_a, copy 1 for dev_b.
            let Some(leg) = self.legs.get(bio.target_bio_nr() as usize) else {
                return MapResult::Kill;
            };
            bio.set_dev(leg);
            return MapResult::Remapped;
        }
        let Some(sector) = ti.offset(bio.sector()) else {
            return MapResult::Kill;
        };
        if bio.op() == ReqOp::Write {
            // The copy for dev_b is on its way before the original goes to
            // dev_a; the original completes when both have.
            if bio.clone_to(&self.pool, &self.legs[1], sector).is_err() {
                return MapResult::Kill;
            }
            bio.remap(&self.legs[0], sector);
            return MapResult::Remapped;
        }
        // Reads (always copy 0) and the per-device copies of discards and
        // write-zeroes.
        let Some(leg) = self.legs.get(bio.target_bio_nr() as usize) else {
            return MapResult::Kill;
        };
        bio.remap(leg, sector);
        MapResult::Remapped
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        if kind == StatusType::Table {
            let _ = out.write_fmt(fmt!("{} {}", self.legs[0].name(), self.legs[1].name()));
        }
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        for leg in &self.legs {
            let r = callout.call(ti, leg, 0, ti.len());
            if r != 0 {
                return r;
            }
        }
        0
    }
}
