// SPDX-License-Identifier: GPL-2.0

//! stripe_target: striping over two devices, as RAID 0 does.
//!
//! ```text
//! Table:   <chunk_sectors> <dev_a> <dev_b>
//! Status:  <chunk_sectors> <major:minor> <major:minor>     (TABLE)
//! ```
//!
//! The mapped device is cut into chunks of `chunk_sectors`; chunk 0 goes to
//! `dev_a`, chunk 1 to `dev_b`, chunk 2 to `dev_a` again, and so on, each
//! device holding its chunks one after the other from sector 0: the layout
//! of the stock `striped` target with two devices.

use core::num::NonZeroU64;
use kernel::fmt::Write;
use kernel::prelude::*;

mod dm;

use dm::{Args, Bio, Callout, CtrError, Device, MapResult, StatusType, StatusWriter, Target};

dm::module_dm_target! {
    type: StripeTarget,
    name: "stripe_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "stripe_target: striping over two devices",
    license: "GPL",
}

struct StripeTarget {
    // Never 0: dividing by it cannot panic.
    chunk: NonZeroU64,
    legs: [Device; 2],
}

#[vtable]
impl dm::TargetOps for StripeTarget {
    /// `<chunk_sectors> <dev_a> <dev_b>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(chunk), Some(a), Some(b), 3) =
            (args.get(0), args.get(1), args.get(2), args.len())
        else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let chunk = dm::parse_u64(chunk)
            .and_then(NonZeroU64::new)
            .ok_or(CtrError::new(EINVAL, c"invalid chunk size"))?;
        // Both devices hold the same number of whole chunks.
        let stripe = chunk
            .get()
            .checked_mul(2)
            .and_then(NonZeroU64::new)
            .ok_or(CtrError::new(EINVAL, c"invalid chunk size"))?;
        if ti.len() % stripe != 0 {
            return Err(CtrError::new(
                EINVAL,
                c"length is not a multiple of two chunks",
            ));
        }
        let a = ti
            .get_device(a)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        let b = ti
            .get_device(b)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        // No bio may cross a chunk boundary: DM core splits them there.
        ti.set_max_io_len(chunk.get())
            .map_err(|code| CtrError::new(code, c"cannot set the chunk size"))?;
        // One flush per device; `target_bio_nr()` says which one this is.
        ti.set_num_bios(2, 0, 0, 0);
        Ok(StripeTarget {
            chunk,
            legs: [a, b],
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.size() == 0 {
            let Some(leg) = self.legs.get(bio.target_bio_nr() as usize) else {
                return MapResult::Kill;
            };
            bio.set_dev(leg);
            return MapResult::Remapped;
        }
        let Some(offset) = ti.offset(bio.sector()) else {
            return MapResult::Kill;
        };
        let chunk = offset / self.chunk;
        let within = offset % self.chunk;
        // Even chunks on a, odd ones on b, each device's chunks in a row.
        let leg = &self.legs[(chunk % 2) as usize];
        match (chunk / 2)
            .checked_mul(self.chunk.get())
            .and_then(|start| start.checked_add(within))
        {
            Some(sector) => {
                bio.remap(leg, sector);
                MapResult::Remapped
            }
            None => MapResult::Kill,
        }
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        if kind == StatusType::Table {
            let _ = out.write_fmt(fmt!(
                "{} {} {}",
                self.chunk.get(),
                self.legs[0].name(),
                self.legs[1].name()
            ));
        }
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        // Each device holds half of the target.
        for leg in &self.legs {
            let r = callout.call(ti, leg, 0, ti.len() / 2);
            if r != 0 {
                return r;
            }
        }
        0
    }
}
