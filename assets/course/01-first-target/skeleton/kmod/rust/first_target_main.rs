// SPDX-License-Identifier: GPL-2.0

//! first_target: map a range of one device, starting at an offset.
//!
//! ```text
//! Table:   <dev_path> <offset>
//! Status:  <major:minor> <offset>      (TABLE)
//! ```
//!
//! Sector `s` of the mapped device is sector `offset + (s - ti->begin)` of
//! `<dev_path>`: what dm-linear does.

use kernel::fmt::Write;
use kernel::prelude::*;

mod dm;

use dm::{Args, Bio, Callout, CtrError, Device, MapResult, StatusType, StatusWriter, Target};

dm::module_dm_target! {
    type: FirstTarget,
    name: "first_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "first_target: one device from an offset",
    license: "GPL",
}

struct FirstTarget {
    dev: Device,
    offset: u64,
}

#[vtable]
impl dm::TargetOps for FirstTarget {
    /// `<dev_path> <offset>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), Some(offset), 2) = (args.get(0), args.get(1), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let offset = dm::parse_u64(offset).ok_or(CtrError::new(EINVAL, c"invalid offset"))?;
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        ti.set_num_bios(1, 1, 1, 1);
        Ok(FirstTarget { dev, offset })
    }

    fn map(&self, _ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.size() == 0 {
            // A flush: no sector to move, just the device.
            bio.set_dev(&self.dev);
            return MapResult::Remapped;
        }
        // TODO: the bio's sector is a sector of the mapped device. Send it
        // to sector `offset + (sector - ti.begin())` of the disk instead of
        // the same sector number (`ti.offset()` computes `sector - begin`).
        // If the arithmetic overflows, fail the bio: `MapResult::Kill`.
        let sector = bio.sector();
        bio.remap(&self.dev, sector);
        MapResult::Remapped
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        if kind == StatusType::Table {
            let _ = out.write_fmt(fmt!("{} {}", self.dev.name(), self.offset));
        }
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, self.offset, ti.len())
    }
}
