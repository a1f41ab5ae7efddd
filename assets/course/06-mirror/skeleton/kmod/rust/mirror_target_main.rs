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
    Args, Bio, Callout, CtrError, Device, MapResult, ReqOp, StatusType, StatusWriter, Target,
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
    // TODO: clones of bios come from a pool: a `dm::BioSet` kept here.
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
        // TODO: make the pool, `BioSet::new(16)`; if that fails, refuse the
        // table with its error code and a reason of your choice.
        // Two of each, one per device; `target_bio_nr()` says which.
        ti.set_num_bios(2, 2, 0, 2);
        Ok(MirrorTarget { legs: [a, b] })
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
            // TODO: send a copy of the write to `sector` of dev_b first:
            // `bio.clone_to(&pool, &self.legs[1], sector)` (if it fails, fail
            // the bio). The copy is chained to the original, which then
            // completes only when both writes have. As it is, writes reach
            // dev_a only.
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
