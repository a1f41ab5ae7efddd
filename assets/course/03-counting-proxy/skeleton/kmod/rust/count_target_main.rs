// SPDX-License-Identifier: GPL-2.0

//! count_target: a pass-through that counts what goes through it.
//!
//! ```text
//! Table:   <dev_path>
//! Status:  reads=<n> writes=<n> read_bytes=<n> write_bytes=<n> in_flight=<n>
//! Message: stats   replies with the status line
//!          reset   sets the read and write counters to zero
//! ```
//!
//! Reads and writes are counted when they carry data; `in_flight` is the
//! number of bios mapped and not yet completed (`map` adds one, `end_io`
//! takes it off again), 0 when the device is idle.

use kernel::fmt::Write;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

mod dm;

use dm::{
    Args, Bio, Callout, CtrError, Device, EndIo, MapResult, ReqOp, StatusType, StatusWriter, Target,
};

dm::module_dm_target! {
    type: CountTarget,
    name: "count_target",
    version: [1, 0, 0],
    authors: ["dmbench course"],
    description: "count_target: a counting pass-through",
    license: "GPL",
}

struct CountTarget {
    dev: Device,
    // `map` and `end_io` run on many CPUs at once: every counter is atomic.
    reads: Atomic<u64>,
    writes: Atomic<u64>,
    read_bytes: Atomic<u64>,
    write_bytes: Atomic<u64>,
    in_flight: Atomic<u64>,
}

impl CountTarget {
    fn write_counters(&self, out: &mut StatusWriter) {
        let _ = out.write_fmt(fmt!(
            "reads={} writes={} read_bytes={} write_bytes={} in_flight={}",
            self.reads.load(Relaxed),
            self.writes.load(Relaxed),
            self.read_bytes.load(Relaxed),
            self.write_bytes.load(Relaxed),
            self.in_flight.load(Relaxed),
        ));
    }
}

#[vtable]
impl dm::TargetOps for CountTarget {
    /// `<dev_path>`
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError> {
        let (Some(path), 1) = (args.get(0), args.len()) else {
            return Err(CtrError::new(EINVAL, c"invalid argument count"));
        };
        let dev = ti
            .get_device(path)
            .map_err(|code| CtrError::new(code, c"device lookup failed"))?;
        ti.set_num_bios(1, 1, 1, 1);
        Ok(CountTarget {
            dev,
            reads: Atomic::new(0),
            writes: Atomic::new(0),
            read_bytes: Atomic::new(0),
            write_bytes: Atomic::new(0),
            in_flight: Atomic::new(0),
        })
    }

    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult {
        let size = u64::from(bio.size());
        if size != 0 {
            match bio.op() {
                ReqOp::Read => {
                    // TODO: one more read, `size` more bytes read.
                }
                ReqOp::Write => {
                    // TODO: one more write, `size` more bytes written.
                }
                // Flushes, discards and the like do not count.
                _ => {}
            }
        }
        bio.set_dev(&self.dev);
        if size != 0 {
            match ti.offset(bio.sector()) {
                Some(sector) => bio.set_sector(sector),
                None => return MapResult::Kill,
            }
        }
        // TODO: one more bio in flight; `end_io` takes it off again.
        MapResult::Remapped
    }

    fn end_io(&self, _ti: &Target, _bio: &Bio, _status: &mut Result) -> EndIo {
        // TODO: this bio has completed: one fewer in flight.
        EndIo::Done
    }

    fn status(&self, _ti: &Target, kind: StatusType, out: &mut StatusWriter) {
        match kind {
            StatusType::Info => self.write_counters(out),
            StatusType::Table => {
                let _ = out.write_fmt(fmt!("{}", self.dev.name()));
            }
            StatusType::Ima => {}
        }
    }

    /// `stats` | `reset`
    fn message(&self, _ti: &Target, args: &Args<'_>, _reply: &mut StatusWriter) -> Result {
        // TODO: `stats` (one argument) writes the status line into `reply`
        // (see `write_counters`); `reset` sets the four read and write
        // counters to zero. `args.bytes(0)` is the first word as bytes.
        dm::warn_args(c"unrecognised message: ", args);
        Err(EINVAL)
    }

    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int {
        callout.call(ti, &self.dev, 0, ti.len())
    }
}
