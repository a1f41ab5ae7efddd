// SPDX-License-Identifier: GPL-2.0

//! ro_target: a read-only view of one device.
//!
//! ```text
//! Table:   <dev_path>
//! Status:  rejected=<n>          (INFO: writes refused so far)
//!          <major:minor>         (TABLE)
//! ```
//!
//! Reads pass through; every bio that would change the device fails with
//! EIO; an empty flush succeeds at once, since there is nothing to flush.

use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{Args, Bio, Callout, CtrError, Device, MapResult, StatusType, StatusWriter, Target};

dm::module_dm_target! {
    type: RoTarget,
    name: "ro_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "ro_target: a read-only view of one device",
    license: "GPL",
}

struct RoTarget {
    dev: Device,
    rejected: Atomic<u64>,
}

#[vtable]
impl dm::TargetOps for RoTarget {
    /// `<dev_path>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), 1) = (args.get(0), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        // Flushes, discards, secure erases and write-zeroes all come to
        // `map`, so that it decides about them.
        ti.set_num_bios(1, 1, 1, 1);
        Ok(RoTarget {
            dev,
            rejected: Atomic::new(0),
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        if bio.is_write() {
            if bio.size() == 0 {
                // An empty flush: nothing was written, so nothing to flush.
                return MapResult::Complete(Ok(()));
            }
            self.rejected.add(1, Relaxed);
            return MapResult::Kill;
        }
        match ti.offset(bio.sector()) {
            Some(sector) => {
                bio.remap(&self.dev, sector);
                MapResult::Remapped
            }
            None => MapResult::Kill,
        }
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        let _ = match kind {
            StatusType::Info => out.write_fmt(fmt!("rejected={}", self.rejected.load(Relaxed))),
            StatusType::Table => out.write_fmt(fmt!("{}", self.dev.name())),
            StatusType::Ima => Ok(()),
        };
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, 0, ti.len())
    }
}
