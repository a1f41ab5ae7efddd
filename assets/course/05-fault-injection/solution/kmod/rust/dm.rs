// SPDX-License-Identifier: GPL-2.0

//! Writing a device-mapper target in Rust, on top of the C glue.
//!
//! The kernel's Rust bindings do not include `<linux/device-mapper.h>`, so
//! `struct dm_target`, `struct dm_dev`, `struct target_type` and the
//! `bio_*()`/`DMEMIT()` helpers are out of reach. `dm_glue.c` owns the
//! `struct target_type` and exports one small C function per field or
//! helper (see `dm_glue.h`); this file declares them and wraps the raw
//! pointers in types whose methods are safe to call:
//!
//! - [`Target`]: the `struct dm_target` a callback runs for,
//! - [`Device`]: an underlying device from `dm_get_device()`, put on drop,
//! - [`Bio`]: the bio handed to `map` or `end_io`,
//! - [`BioSet`]: a pool to clone bios from (to write a bio twice),
//! - [`Args`]: a constructor's or message's `argc`/`argv`,
//! - [`StatusWriter`]: a status or message-reply buffer, `write_fmt(fmt!(..))`,
//! - [`Callout`]: the function `iterate_devices` reports devices to.
//!
//! A target is a type that implements [`TargetOps`] (`#[vtable]`: only
//! `ctr` and `map` are required) and names itself once, with
//! [`module_dm_target!`], which is `module!` plus the registration:
//!
//! ```ignore
//! module_dm_target! {
//!     type: MyTarget,
//!     name: "my_target",        // the module name and the DM target name
//!     version: [1, 0, 0],
//!     authors: ["me"],
//!     description: "my first target",
//!     license: "GPL",
//! }
//! ```
//!
//! This file and the glue are the same for every target: keep them
//! unchanged and put the target in its own file.

// A library: not every target uses every item.
#![allow(dead_code)]

use core::marker::{PhantomData, PhantomPinned};
use kernel::bindings;
use kernel::error::{to_result, VTABLE_DEFAULT_ERROR};
use kernel::fmt;
use kernel::prelude::*;

/// Declares a type that C code only ever hands over by pointer.
macro_rules! opaque {
    ($(#[$doc:meta] $name:ident;)*) => {$(
        #[$doc]
        #[repr(C)]
        pub(crate) struct $name {
            _opaque: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `struct dm_target`.
    RawTarget;
    /// `struct dm_dev`.
    RawDev;
    /// `struct bio`.
    RawBio;
    /// `struct bio_set`.
    RawBioSet;
    /// `struct dm_glue_type`: a registered target type.
    RawType;
}

/// `dm_glue_callout_fn` (the shape of `iterate_devices_callout_fn`).
type RawCallout =
    Option<unsafe extern "C" fn(*mut RawTarget, *mut RawDev, u64, u64, *mut c_void) -> c_int>;

/// `struct dm_glue_ops`: the callbacks the glue's `struct target_type` calls.
#[repr(C)]
struct RawOps {
    ctr: Option<unsafe extern "C" fn(*mut RawTarget, c_uint, *mut *mut c_char) -> c_int>,
    dtr: Option<unsafe extern "C" fn(*mut RawTarget)>,
    map: Option<unsafe extern "C" fn(*mut RawTarget, *mut RawBio) -> c_int>,
    end_io: Option<unsafe extern "C" fn(*mut RawTarget, *mut RawBio, *mut c_int) -> c_int>,
    status: Option<unsafe extern "C" fn(*mut RawTarget, c_uint, *mut c_char, c_uint)>,
    message: Option<
        unsafe extern "C" fn(
            *mut RawTarget,
            c_uint,
            *mut *mut c_char,
            *mut c_char,
            c_uint,
        ) -> c_int,
    >,
    iterate_devices: Option<unsafe extern "C" fn(*mut RawTarget, RawCallout, *mut c_void) -> c_int>,
}

// dm_glue.c asserts the same size for its struct dm_glue_ops.
const _: () = assert!(size_of::<RawOps>() == 7 * size_of::<usize>());

// The values of dm_glue.h, which dm_glue.c checks against DM core's.
const MAPIO_SUBMITTED: c_int = 0;
const MAPIO_REMAPPED: c_int = 1;
const MAPIO_KILL: c_int = 4;
const ENDIO_DONE: c_int = 0;
const ENDIO_REQUEUE: c_int = 2;

// Implemented in dm_glue.c; keep in step with dm_glue.h.
unsafe extern "C" {
    fn dm_glue_register(
        name: *const c_char,
        version: *const c_uint,
        ops: *const RawOps,
        result: *mut *mut RawType,
    ) -> c_int;
    fn dm_glue_unregister(ty: *mut RawType);

    fn dm_glue_ti_begin(ti: *mut RawTarget) -> u64;
    fn dm_glue_ti_len(ti: *mut RawTarget) -> u64;
    fn dm_glue_ti_private(ti: *mut RawTarget) -> *mut c_void;
    fn dm_glue_ti_set_private(ti: *mut RawTarget, private: *mut c_void);
    fn dm_glue_ti_set_error(ti: *mut RawTarget, error: *const c_char);
    fn dm_glue_ti_set_num_bios(
        ti: *mut RawTarget,
        flush: c_uint,
        discard: c_uint,
        secure_erase: c_uint,
        write_zeroes: c_uint,
    );
    fn dm_glue_ti_set_max_io_len(ti: *mut RawTarget, len: u64) -> c_int;

    fn dm_glue_get_device(
        ti: *mut RawTarget,
        path: *const c_char,
        result: *mut *mut RawDev,
    ) -> c_int;
    fn dm_glue_put_device(ti: *mut RawTarget, dev: *mut RawDev);
    fn dm_glue_dev_name(dev: *mut RawDev) -> *const c_char;

    fn dm_glue_bio_op(bio: *mut RawBio) -> c_uint;
    fn dm_glue_bio_is_write(bio: *mut RawBio) -> bool;
    fn dm_glue_bio_is_preflush(bio: *mut RawBio) -> bool;
    fn dm_glue_bio_is_fua(bio: *mut RawBio) -> bool;
    fn dm_glue_bio_sector(bio: *mut RawBio) -> u64;
    fn dm_glue_bio_size(bio: *mut RawBio) -> c_uint;
    fn dm_glue_bio_target_bio_nr(bio: *mut RawBio) -> c_uint;

    fn dm_glue_bio_set_dev(bio: *mut RawBio, dev: *mut RawDev);
    fn dm_glue_bio_set_sector(bio: *mut RawBio, sector: u64);
    fn dm_glue_bio_accept_partial(bio: *mut RawBio, sectors: c_uint);
    fn dm_glue_bio_zero_fill(bio: *mut RawBio);
    fn dm_glue_bio_complete(bio: *mut RawBio, error: c_int);
    fn dm_glue_bio_clone_to(
        bio: *mut RawBio,
        bs: *mut RawBioSet,
        dev: *mut RawDev,
        sector: u64,
    ) -> c_int;

    fn dm_glue_bioset_create(pool_size: c_uint) -> *mut RawBioSet;
    fn dm_glue_bioset_destroy(bs: *mut RawBioSet);

    fn dm_glue_emit(
        result: *mut c_char,
        maxlen: c_uint,
        offset: c_uint,
        text: *const c_char,
        len: c_uint,
    ) -> c_uint;
    fn dm_glue_ratelimit() -> bool;
    fn dm_glue_warn_args(prefix: *const c_char, argc: c_uint, argv: *const *mut c_char);
    fn dm_glue_call_callout(
        callout: RawCallout,
        ti: *mut RawTarget,
        dev: *mut RawDev,
        start: u64,
        len: u64,
        data: *mut c_void,
    ) -> c_int;
}

/// Declares the module and registers one device-mapper target type with it.
///
/// The keys are those of `module!`, plus `version` (the target's version,
/// shown by `dmsetup targets`) right after `name`. `name` is both the
/// module name and the target name used in tables: it must be at most 15
/// bytes, DM's limit for target names.
macro_rules! module_dm_target {
    (
        type: $type:ty,
        name: $name:tt,
        version: [$major:expr, $minor:expr, $patch:expr],
        $($rest:tt)*
    ) => {
        /// The module: holds the target type's registration.
        struct DmTargetModule {
            _registration: $crate::dm::Registration,
        }

        impl ::kernel::Module for DmTargetModule {
            fn init(_module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                Ok(Self {
                    _registration: $crate::dm::Registration::new::<$type>(
                        <Self as ::kernel::ModuleMetadata>::NAME,
                        [$major, $minor, $patch],
                    )?,
                })
            }
        }

        ::kernel::prelude::module! {
            type: DmTargetModule,
            name: $name,
            $($rest)*
        }
    };
}
pub(crate) use module_dm_target;

/// A registered target type; unregistered on drop (module exit).
///
/// # Invariants
///
/// `ty` was returned by a successful `dm_glue_register()` and is not unregistered yet.
pub(crate) struct Registration {
    ty: *mut RawType,
}

// SAFETY: The registration is only created and dropped (module init and exit); the glue's
// type is not touched in between.
unsafe impl Send for Registration {}

// SAFETY: `&Registration` gives no access to anything.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers target type `name` (which lives as long as the module) with `T`'s callbacks.
    pub(crate) fn new<T: TargetOps>(name: &'static CStr, version: [u32; 3]) -> Result<Self> {
        let mut ty = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated and lives until unregistration, `version` holds three
        // numbers (copied by the glue), `OPS` is a constant with static lifetime and `ty` is a
        // valid place for the result.
        to_result(unsafe {
            dm_glue_register(
                name.as_char_ptr(),
                version.as_ptr(),
                Adapter::<T>::OPS_REF,
                &mut ty,
            )
        })?;
        // INVARIANT: `dm_glue_register()` succeeded.
        Ok(Self { ty })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `ty` is registered; it is not used again.
        unsafe { dm_glue_unregister(self.ty) }
    }
}

/// Whether a rate-limited log line may be printed now: one printk rate limit
/// (10 lines per 5 s, then "callbacks suppressed") shared by the whole module,
/// the C `pr_info_ratelimited()`'s.
///
/// ```ignore
/// if dm::ratelimit() {
///     pr_info!("write at sector {}\n", bio.sector());
/// }
/// ```
pub(crate) fn ratelimit() -> bool {
    // SAFETY: No arguments; the glue's rate-limit state is static.
    unsafe { dm_glue_ratelimit() }
}

/// Warns `<module>: <prefix><the arguments joined by spaces>`, the bytes as
/// they are (as C's `"%s"`) and cut at 127 bytes, so a long message cannot
/// flood the log.
pub(crate) fn warn_args(prefix: &'static CStr, args: &Args<'_>) {
    let argc = c_uint::try_from(args.argv.len()).unwrap_or(c_uint::MAX);
    // SAFETY: `prefix` is NUL-terminated; `args.argv` holds `argc` valid strings (`Args`).
    unsafe { dm_glue_warn_args(prefix.as_char_ptr(), argc, args.argv.as_ptr()) }
}

/// The `struct dm_target` a callback runs for.
///
/// # Invariants
///
/// `ptr` is the valid `struct dm_target` DM core passed to the running callback.
pub(crate) struct Target {
    ptr: *mut RawTarget,
}

impl Target {
    /// # Safety
    ///
    /// `ptr` must be the `struct dm_target` of the running DM callback, and the
    /// returned value must not outlive that callback.
    unsafe fn from_raw(ptr: *mut RawTarget) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { ptr }
    }

    /// First sector of the mapped device that this target covers (`ti->begin`).
    pub(crate) fn begin(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_ti_begin(self.ptr) }
    }

    /// Number of sectors this target covers (`ti->len`).
    pub(crate) fn len(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_ti_len(self.ptr) }
    }

    /// `sector` of the mapped device relative to this target's first sector
    /// (`dm_target_offset()`); `None` if it lies before it.
    pub(crate) fn offset(&self, sector: u64) -> Option<u64> {
        sector.checked_sub(self.begin())
    }

    /// Opens `path` (e.g. `/dev/loop0` or `7:0`) with the table's mode.
    pub(crate) fn get_device(&mut self, path: &CStr) -> Result<Device> {
        let mut dev = core::ptr::null_mut();
        // SAFETY: `self.ptr` is valid by the type invariant, `path` is NUL-terminated and `dev`
        // is a valid place for the result.
        to_result(unsafe { dm_glue_get_device(self.ptr, path.as_char_ptr(), &mut dev) })?;
        // INVARIANT: `dm_get_device()` succeeded, so `dev` is a device reference for `self.ptr`.
        Ok(Device { ti: self.ptr, dev })
    }

    /// How many flush, discard, secure-erase and write-zeroes bios DM core
    /// sends to this target for each such bio it receives (0: none, so such
    /// bios fail). With several, [`Bio::target_bio_nr`] tells them apart.
    pub(crate) fn set_num_bios(
        &mut self,
        flush: u32,
        discard: u32,
        secure_erase: u32,
        write_zeroes: u32,
    ) {
        // SAFETY: `self.ptr` is valid by the type invariant; only the constructor has a
        // `&mut Target`, and DM core does not read these fields concurrently with it.
        unsafe { dm_glue_ti_set_num_bios(self.ptr, flush, discard, secure_erase, write_zeroes) }
    }

    /// Splits bios so that none crosses a multiple of `sectors` of the
    /// target (`dm_set_target_max_io_len()`), e.g. a stripe's chunk size.
    pub(crate) fn set_max_io_len(&mut self, sectors: u64) -> Result {
        // SAFETY: `self.ptr` is valid by the type invariant; called from the constructor.
        to_result(unsafe { dm_glue_ti_set_max_io_len(self.ptr, sectors) })
    }

    fn set_error(&mut self, error: &'static CStr) {
        // SAFETY: `self.ptr` is valid by the type invariant; `error` lives forever, as DM core
        // reads `ti->error` after the constructor returned.
        unsafe { dm_glue_ti_set_error(self.ptr, error.as_char_ptr()) }
    }
}

/// An underlying device obtained with `dm_get_device()`; `dm_put_device()` on drop.
///
/// # Invariants
///
/// `dev` is a reference obtained by `dm_get_device(ti, ...)` and not yet put; `ti` stays
/// valid for as long as this value exists (it is kept in the target's private data,
/// which the destructor drops while `ti` is still alive).
pub(crate) struct Device {
    ti: *mut RawTarget,
    dev: *mut RawDev,
}

// SAFETY: A `struct dm_dev` reference may be used and put from any thread; `Device` only
// reads immutable fields through it.
unsafe impl Send for Device {}

// SAFETY: All methods that take `&Device` only read fields that do not change while the
// reference is held, so sharing between threads is fine.
unsafe impl Sync for Device {}

impl Device {
    /// The device's `major:minor` name (`dm_dev->name`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `self.dev` is valid by the type invariant.
        let name = unsafe { dm_glue_dev_name(self.dev) };
        // SAFETY: `name` points at `dm_dev->name`, a NUL-terminated array that lives and stays
        // unchanged as long as the reference `self` holds.
        unsafe { CStr::from_char_ptr(name) }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `dev` was obtained from `ti`, which is still valid,
        // and has not been put yet; it is not used again after this.
        unsafe { dm_glue_put_device(self.ti, self.dev) }
    }
}

/// A pool of bios to clone from (`struct bio_set`), for [`Bio::clone_to`].
///
/// # Invariants
///
/// `bs` was returned by `dm_glue_bioset_create()` and is not destroyed yet.
pub(crate) struct BioSet {
    bs: *mut RawBioSet,
}

// SAFETY: A bio_set is made for allocation from any CPU at once; it is only destroyed by
// drop, when nothing else holds it.
unsafe impl Send for BioSet {}

// SAFETY: See `Send`: allocating from a shared bio_set is what it is for.
unsafe impl Sync for BioSet {}

impl BioSet {
    /// A pool that always has `pool_size` bios in reserve (e.g. 16).
    pub(crate) fn new(pool_size: u32) -> Result<Self> {
        // SAFETY: Plain allocation, no pointers passed.
        let bs = unsafe { dm_glue_bioset_create(pool_size) };
        if bs.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: Created just now.
        Ok(Self { bs })
    }
}

impl Drop for BioSet {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `bs` is live; every clone from it has completed,
        // because each was chained to a bio of this target, and DM core destroys the
        // target only after all of its bios completed.
        unsafe { dm_glue_bioset_destroy(self.bs) }
    }
}

/// What a bio asks for (`bio_op()`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReqOp {
    /// `REQ_OP_READ`.
    Read,
    /// `REQ_OP_WRITE`; an empty one with [`Bio::is_preflush`] is a flush.
    Write,
    /// `REQ_OP_FLUSH`.
    Flush,
    /// `REQ_OP_DISCARD`.
    Discard,
    /// `REQ_OP_SECURE_ERASE`.
    SecureErase,
    /// `REQ_OP_WRITE_ZEROES`.
    WriteZeroes,
    /// Any other `REQ_OP_*` value (zone operations, driver private ones).
    Other(u32),
}

/// The bio handed to `map` or `end_io`.
///
/// # Invariants
///
/// `ptr` is the valid bio of the running callback, owned by this target until it returns.
pub(crate) struct Bio {
    ptr: *mut RawBio,
    /// Set once `set_dev` was called: a remapped bio must go somewhere else.
    dev_set: bool,
    /// Set once a clone is chained to this bio: it must not be killed any more.
    chained: bool,
}

impl Bio {
    /// # Safety
    ///
    /// `ptr` must be the bio of the running `map` or `end_io` callback.
    unsafe fn from_raw(ptr: *mut RawBio) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ptr,
            dev_set: false,
            chained: false,
        }
    }

    /// The operation (`bio_op(bio)`). `REQ_OP_*` are numbers, not bits.
    pub(crate) fn op(&self) -> ReqOp {
        // SAFETY: `self.ptr` is valid by the type invariant.
        match unsafe { dm_glue_bio_op(self.ptr) } {
            bindings::req_op_REQ_OP_READ => ReqOp::Read,
            bindings::req_op_REQ_OP_WRITE => ReqOp::Write,
            bindings::req_op_REQ_OP_FLUSH => ReqOp::Flush,
            bindings::req_op_REQ_OP_DISCARD => ReqOp::Discard,
            bindings::req_op_REQ_OP_SECURE_ERASE => ReqOp::SecureErase,
            bindings::req_op_REQ_OP_WRITE_ZEROES => ReqOp::WriteZeroes,
            other => ReqOp::Other(other),
        }
    }

    /// Whether the bio changes the device (`op_is_write()`): writes, flushes,
    /// discards, write-zeroes and the like.
    pub(crate) fn is_write(&self) -> bool {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_is_write(self.ptr) }
    }

    /// Whether `REQ_PREFLUSH` is set (DM core sends flushes as empty preflush writes).
    pub(crate) fn is_preflush(&self) -> bool {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_is_preflush(self.ptr) }
    }

    /// Whether `REQ_FUA` is set (the write must be on stable storage when it completes).
    pub(crate) fn is_fua(&self) -> bool {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_is_fua(self.ptr) }
    }

    /// First sector (`bi_iter.bi_sector`), on the mapped device until remapped.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_sector(self.ptr) }
    }

    /// Size in bytes (`bi_iter.bi_size`); 0 for an empty flush.
    pub(crate) fn size(&self) -> u32 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_size(self.ptr) }
    }

    /// Size in 512-byte sectors (`bio_sectors()`).
    pub(crate) fn sectors(&self) -> u32 {
        self.size() >> 9
    }

    /// Which of the copies DM core made of a flush, discard, ... this is, from
    /// 0 to the number set with [`Target::set_num_bios`] less one; 0 for others.
    pub(crate) fn target_bio_nr(&self) -> u32 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { dm_glue_bio_target_bio_nr(self.ptr) }
    }

    /// Points the bio at `dev` (`bio_set_dev()`).
    pub(crate) fn set_dev(&mut self, dev: &Device) {
        // SAFETY: `self.ptr` is valid and ours to change by the type invariant; `dev.dev` is a
        // valid device by `Device`'s invariant.
        unsafe { dm_glue_bio_set_dev(self.ptr, dev.dev) };
        self.dev_set = true;
    }

    /// Sets the first sector (`bi_iter.bi_sector`).
    pub(crate) fn set_sector(&mut self, sector: u64) {
        // SAFETY: `self.ptr` is valid and ours to change by the type invariant.
        unsafe { dm_glue_bio_set_sector(self.ptr, sector) }
    }

    /// Sends the bio to `sector` of `dev`: [`Bio::set_dev`] and [`Bio::set_sector`].
    pub(crate) fn remap(&mut self, dev: &Device, sector: u64) {
        self.set_dev(dev);
        self.set_sector(sector);
    }

    /// Takes only the first `sectors` sectors of the bio; DM core sends the
    /// rest to `map` again as another bio (`dm_accept_partial_bio()`).
    /// Only for reads and writes, and `sectors` must be less than the bio's.
    pub(crate) fn accept_partial(&mut self, sectors: u32) {
        if sectors == 0 || sectors >= self.sectors() {
            return;
        }
        // SAFETY: `self.ptr` is the bio of the running `map` call, and `sectors` is within it.
        unsafe { dm_glue_bio_accept_partial(self.ptr, sectors) }
    }

    /// Fills the bio's pages with zeros (`zero_fill_bio()`), e.g. to answer a
    /// read with [`MapResult::Complete`] as `dm-zero` does.
    pub(crate) fn zero_fill(&mut self) {
        // SAFETY: `self.ptr` is valid and ours to change by the type invariant.
        unsafe { dm_glue_bio_zero_fill(self.ptr) }
    }

    /// Sends a copy of the bio to `sector` of `dev` now, e.g. the second leg
    /// of a mirror. The copy is chained to this bio: this bio completes only
    /// after the copy did, and fails if the copy failed. `map` must still
    /// remap or complete this bio afterwards ([`MapResult::Kill`] is turned
    /// into an I/O error completion, since the copy is already on its way).
    pub(crate) fn clone_to(&mut self, pool: &BioSet, dev: &Device, sector: u64) -> Result {
        // SAFETY: `self.ptr` is the bio of the running `map` call, `pool.bs` and `dev.dev` are
        // valid by their type invariants; the chained clone keeps `self.ptr` alive until done.
        to_result(unsafe { dm_glue_bio_clone_to(self.ptr, pool.bs, dev.dev, sector) })?;
        self.chained = true;
        Ok(())
    }
}

/// What `map` did with a bio.
pub(crate) enum MapResult {
    /// The bio was pointed at a device ([`Bio::remap`] or [`Bio::set_dev`]);
    /// DM core submits it (`DM_MAPIO_REMAPPED`).
    Remapped,
    /// Fail the bio with an I/O error (`DM_MAPIO_KILL`).
    Kill,
    /// End the bio now, without any I/O: `Ok(())` reports success (a write's
    /// data is dropped, a read returns what is in its pages), `Err(e)` fails
    /// it with `e` (`bio_endio()`, then `DM_MAPIO_SUBMITTED`).
    Complete(Result),
}

/// What `end_io` decided (`DM_ENDIO_*`).
pub(crate) enum EndIo {
    /// The bio is finished; its status goes up to the submitter.
    Done,
    /// Ask DM core to send the original bio to `map` again.
    Requeue,
}

/// Which status `dmsetup` asked for (`status_type_t`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusType {
    /// `dmsetup status`.
    Info,
    /// `dmsetup table`: the constructor arguments.
    Table,
    /// IMA measurement.
    Ima,
}

/// A status buffer or a message's reply buffer. Writes append like `DMEMIT()`
/// and never fail: text past the end is cut off, which tells DM core to retry
/// with a larger buffer. Write to it with `out.write_fmt(fmt!(...))`.
pub(crate) struct StatusWriter {
    result: *mut c_char,
    maxlen: c_uint,
    offset: c_uint,
}

impl StatusWriter {
    /// Whether nothing was written yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.offset == 0
    }
}

impl fmt::Write for StatusWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = c_uint::try_from(s.len()).map_err(|_| fmt::Error)?;
        // SAFETY: `result`/`maxlen` are the buffer DM core passed to the running status or
        // message callback; `s` is valid for `len` bytes.
        self.offset =
            unsafe { dm_glue_emit(self.result, self.maxlen, self.offset, s.as_ptr(), len) };
        Ok(())
    }
}

/// Arguments of a table line or a message, already split on white space by DM core.
pub(crate) struct Args<'a> {
    argv: &'a [*mut c_char],
}

impl<'a> Args<'a> {
    /// # Safety
    ///
    /// `argv` must point to `argc` NUL-terminated strings (or `argc` be 0) that stay valid
    /// and unchanged for `'a`.
    unsafe fn from_raw(argc: c_uint, argv: *mut *mut c_char) -> Self {
        let argv = if argc == 0 || argv.is_null() {
            &[]
        } else {
            // SAFETY: The caller guarantees `argv` holds `argc` valid pointers for `'a`.
            unsafe { core::slice::from_raw_parts(argv, argc as usize) }
        };
        Self { argv }
    }

    /// Number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i`, if there is one.
    pub(crate) fn get(&self, i: usize) -> Option<&'a CStr> {
        let arg = *self.argv.get(i)?;
        // SAFETY: By the safety requirement of `from_raw`, each entry is a valid string for 'a.
        Some(unsafe { CStr::from_char_ptr(arg) })
    }

    /// Argument `i` as bytes, if there is one: handy for `match`.
    pub(crate) fn bytes(&self, i: usize) -> Option<&'a [u8]> {
        self.get(i).map(CStr::to_bytes)
    }
}

/// Strict unsigned decimal: digits only, no sign, no trailing junk (`12x`
/// is refused), no overflow.
pub(crate) fn parse_u64(arg: &CStr) -> Option<u64> {
    let digits = arg.to_bytes();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        let digit = c.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The function and cookie `iterate_devices` must report each underlying device to.
pub(crate) struct Callout {
    callout: RawCallout,
    data: *mut c_void,
}

impl Callout {
    /// Reports that `len` sectors of `dev` from `start` on are used by `ti`.
    pub(crate) fn call(&mut self, ti: &Target, dev: &Device, start: u64, len: u64) -> c_int {
        // SAFETY: `callout` and `data` come unchanged from DM core for the running
        // `iterate_devices` callback of `ti`, and `dev` is one of `ti`'s devices.
        unsafe { dm_glue_call_callout(self.callout, ti.ptr, dev.dev, start, len, self.data) }
    }
}

/// A constructor failure: the error code, and the text DM core prints (`ti->error`).
pub(crate) struct CtrError {
    /// Returned to DM core, e.g. `EINVAL`.
    pub(crate) code: Error,
    /// Stored in `ti->error`.
    pub(crate) reason: &'static CStr,
}

impl CtrError {
    /// A failure with `code` that DM core reports as `reason`.
    pub(crate) fn new(code: Error, reason: &'static CStr) -> Self {
        Self { code, reason }
    }
}

/// The operations of a device-mapper target, one per `struct target_type` callback.
///
/// `ctr` and `map` are required; a target that leaves out one of the others
/// has no such callback at all (DM core then refuses messages, prints no
/// status, ...). The value `ctr` returns is the target's state for one table
/// line; dropping it is the destructor.
///
/// DM core may call `map`, `end_io`, `status`, `message` and `iterate_devices`
/// concurrently from several CPUs, hence `&self` and the `Sync` bound: shared
/// state must be atomic or locked.
#[vtable]
pub(crate) trait TargetOps: Sized + Send + Sync {
    /// Builds the target from a table line's arguments; may set up `ti`.
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<Self, CtrError>;

    /// Handles one bio; must not sleep.
    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult;

    /// Sees every bio `map` remapped or completed, when it completes, with its
    /// status (`Ok(())` or the error), which it may change.
    fn end_io(&self, _ti: &Target, _bio: &Bio, _status: &mut Result) -> EndIo {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes the status line of the requested kind.
    fn status(&self, _ti: &Target, _kind: StatusType, _out: &mut StatusWriter) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles `dmsetup message`; text written to `reply` is what the caller
    /// gets back (dmsetup prints it).
    fn message(&self, _ti: &Target, _args: &Args<'_>, _reply: &mut StatusWriter) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Reports every underlying device to `callout`; returns the first non-zero result.
    fn iterate_devices(&self, _ti: &Target, _callout: &mut Callout) -> c_int {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// Turns the glue's raw callbacks into calls of `T`'s [`TargetOps`].
struct Adapter<T>(PhantomData<T>);

impl<T: TargetOps> Adapter<T> {
    const OPS: RawOps = RawOps {
        ctr: Some(Self::ctr),
        dtr: Some(Self::dtr),
        map: Some(Self::map),
        end_io: if T::HAS_END_IO {
            Some(Self::end_io)
        } else {
            None
        },
        status: if T::HAS_STATUS {
            Some(Self::status)
        } else {
            None
        },
        message: if T::HAS_MESSAGE {
            Some(Self::message)
        } else {
            None
        },
        iterate_devices: if T::HAS_ITERATE_DEVICES {
            Some(Self::iterate_devices)
        } else {
            None
        },
    };
    const OPS_REF: &'static RawOps = &Self::OPS;

    /// The target object stored in `ti->private` by a successful constructor.
    ///
    /// # Safety
    ///
    /// `ti` must be valid and its constructor must have succeeded; the result must not be
    /// used after the destructor started.
    unsafe fn private<'a>(ti: &Target) -> &'a T {
        // SAFETY: `ti.ptr` is valid by `Target`'s invariant.
        let private = unsafe { dm_glue_ti_private(ti.ptr) };
        // SAFETY: The constructor stored a `KBox<T>` there (see `ctr`) and, per this
        // function's safety requirement, the destructor has not freed it yet.
        unsafe { &*private.cast::<T>() }
    }

    unsafe extern "C" fn ctr(ti: *mut RawTarget, argc: c_uint, argv: *mut *mut c_char) -> c_int {
        // SAFETY: `ti` is the target being constructed; this value lives only for this call.
        let mut target = unsafe { Target::from_raw(ti) };
        // SAFETY: DM core passes `argc` argument strings that live for the constructor call.
        let args = unsafe { Args::from_raw(argc, argv) };
        let this = T::ctr(&mut target, &args).and_then(|this| {
            KBox::new(this, GFP_KERNEL)
                .map_err(|_| CtrError::new(ENOMEM, c"cannot allocate context"))
        });
        match this {
            Ok(this) => {
                let private = KBox::into_raw(this).cast::<c_void>();
                // SAFETY: `ti` is valid; `private` is handed back to `KBox::from_raw` in
                // `dtr`, the only other place that takes ownership of it.
                unsafe { dm_glue_ti_set_private(ti, private) };
                0
            }
            Err(e) => {
                target.set_error(e.reason);
                e.code.to_errno()
            }
        }
    }

    unsafe extern "C" fn dtr(ti: *mut RawTarget) {
        // SAFETY: The destructor is only called after a successful constructor, which stored a
        // `KBox<T>` in `ti->private`.
        let private = unsafe { dm_glue_ti_private(ti) };
        // SAFETY: `private` came from `KBox::into_raw` in `ctr`, and DM core calls the
        // destructor once, when no other callback runs for `ti` any more.
        drop(unsafe { KBox::from_raw(private.cast::<T>()) });
    }

    unsafe extern "C" fn map(ti: *mut RawTarget, bio: *mut RawBio) -> c_int {
        // SAFETY: `ti` is the constructed target this map call is for.
        let target = unsafe { Target::from_raw(ti) };
        // SAFETY: DM core hands `bio` to this target for the duration of the map call.
        let mut bio = unsafe { Bio::from_raw(bio) };
        // SAFETY: The constructor succeeded and the destructor cannot run during `map`.
        let this = unsafe { Self::private(&target) };
        let result = match this.map(&target, &mut bio) {
            // A bio still pointing at the mapped device would come straight back here.
            MapResult::Remapped if !bio.dev_set => {
                if ratelimit() {
                    pr_err!("map returned Remapped without pointing the bio at a device\n");
                }
                Err(EIO)
            }
            MapResult::Remapped => return MAPIO_REMAPPED,
            // Killing frees the bio at once, under the chained clone's feet.
            MapResult::Kill if bio.chained => Err(EIO),
            MapResult::Kill => return MAPIO_KILL,
            MapResult::Complete(result) => result,
        };
        let error = match result {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        // SAFETY: The bio is ours until `map` returns, and is not used after it is ended.
        unsafe { dm_glue_bio_complete(bio.ptr, error) };
        MAPIO_SUBMITTED
    }

    unsafe extern "C" fn end_io(ti: *mut RawTarget, bio: *mut RawBio, error: *mut c_int) -> c_int {
        // SAFETY: `ti` is the constructed target this completion is for.
        let target = unsafe { Target::from_raw(ti) };
        // SAFETY: DM core hands `bio` to this target for the duration of the end_io call.
        let bio = unsafe { Bio::from_raw(bio) };
        // SAFETY: The constructor succeeded and the destructor cannot run during `end_io`.
        let this = unsafe { Self::private(&target) };
        // SAFETY: `error` points at the glue's errno for this call.
        let errno = unsafe { *error };
        let mut status = if errno == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(errno))
        };
        let decision = this.end_io(&target, &bio, &mut status);
        let errno = match status {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        // SAFETY: As above.
        unsafe { *error = errno };
        match decision {
            EndIo::Done => ENDIO_DONE,
            EndIo::Requeue => ENDIO_REQUEUE,
        }
    }

    unsafe extern "C" fn status(
        ti: *mut RawTarget,
        kind: c_uint,
        result: *mut c_char,
        maxlen: c_uint,
    ) {
        let kind = match kind {
            0 => StatusType::Info,
            1 => StatusType::Table,
            2 => StatusType::Ima,
            _ => return,
        };
        // SAFETY: `ti` is the constructed target this status call is for.
        let target = unsafe { Target::from_raw(ti) };
        // SAFETY: The constructor succeeded and the destructor cannot run during `status`.
        let this = unsafe { Self::private(&target) };
        let mut out = StatusWriter {
            result,
            maxlen,
            offset: 0,
        };
        this.status(&target, kind, &mut out);
    }

    unsafe extern "C" fn message(
        ti: *mut RawTarget,
        argc: c_uint,
        argv: *mut *mut c_char,
        result: *mut c_char,
        maxlen: c_uint,
    ) -> c_int {
        // SAFETY: `ti` is the constructed target this message is for.
        let target = unsafe { Target::from_raw(ti) };
        // SAFETY: DM core passes `argc` argument strings that live for the message call.
        let args = unsafe { Args::from_raw(argc, argv) };
        // SAFETY: The constructor succeeded and the destructor cannot run during `message`.
        let this = unsafe { Self::private(&target) };
        let mut reply = StatusWriter {
            result,
            maxlen,
            offset: 0,
        };
        match this.message(&target, &args, &mut reply) {
            // DM core passes the reply on only when told there is one.
            Ok(()) if !reply.is_empty() => 1,
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    unsafe extern "C" fn iterate_devices(
        ti: *mut RawTarget,
        callout: RawCallout,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: `ti` is the constructed target being asked for its devices.
        let target = unsafe { Target::from_raw(ti) };
        // SAFETY: The constructor succeeded and the destructor cannot run meanwhile.
        let this = unsafe { Self::private(&target) };
        let mut callout = Callout { callout, data };
        this.iterate_devices(&target, &mut callout)
    }
}
