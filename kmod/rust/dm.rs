// SPDX-License-Identifier: GPL-2.0

//! A small, safe device-mapper target interface on top of the C glue.
//!
//! The kernel's Rust bindings do not include `<linux/device-mapper.h>`, so
//! `struct dm_target`, `struct dm_dev` and the `bio_*()`/`DMEMIT()` helpers
//! are out of reach. `basic_target_glue.c` owns the `struct target_type`
//! and exports one tiny C function per field or helper (see
//! `basic_target_glue.h`); this file declares those functions and wraps the
//! raw pointers in types whose methods are safe to call:
//!
//! - [`Target`]: the `struct dm_target` a callback is running for,
//! - [`Device`]: an underlying device from `dm_get_device()`, put on drop,
//! - [`Bio`]: the bio handed to `map`,
//! - [`Args`]: a constructor's or message's `argc`/`argv`,
//! - [`StatusWriter`]: the status buffer, written with `write!()`,
//! - [`Callout`]: the function `iterate_devices` reports devices to.
//!
//! A target implements [`TargetOps`]; the `basic_target_rs_*` functions at
//! the end of this file are what the glue's callbacks call, and turn raw
//! pointers back into these types for the implementation ([`Impl`]).

use core::marker::{PhantomData, PhantomPinned};
use kernel::error::to_result;
use kernel::fmt;
use kernel::prelude::*;

/// The type whose [`TargetOps`] implementation the glue's callbacks drive.
type Impl = crate::BasicTarget;

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
}

/// `basic_target_callout_fn` (the shape of `iterate_devices_callout_fn`).
type RawCallout =
    Option<unsafe extern "C" fn(*mut RawTarget, *mut RawDev, u64, u64, *mut c_void) -> c_int>;

// Implemented in basic_target_glue.c; keep in step with basic_target_glue.h.
unsafe extern "C" {
    fn basic_target_glue_register() -> c_int;
    fn basic_target_glue_unregister();

    fn basic_target_glue_ti_begin(ti: *mut RawTarget) -> u64;
    fn basic_target_glue_ti_len(ti: *mut RawTarget) -> u64;
    fn basic_target_glue_ti_private(ti: *mut RawTarget) -> *mut c_void;
    fn basic_target_glue_ti_set_private(ti: *mut RawTarget, private: *mut c_void);
    fn basic_target_glue_ti_set_error(ti: *mut RawTarget, error: *const c_char);
    fn basic_target_glue_ti_set_num_bios(
        ti: *mut RawTarget,
        flush: c_uint,
        discard: c_uint,
        secure_erase: c_uint,
        write_zeroes: c_uint,
    );

    fn basic_target_glue_get_device(
        ti: *mut RawTarget,
        path: *const c_char,
        result: *mut *mut RawDev,
    ) -> c_int;
    fn basic_target_glue_put_device(ti: *mut RawTarget, dev: *mut RawDev);
    fn basic_target_glue_dev_name(dev: *mut RawDev) -> *const c_char;

    fn basic_target_glue_bio_op(bio: *mut RawBio) -> c_uint;
    fn basic_target_glue_bio_is_preflush(bio: *mut RawBio) -> bool;
    fn basic_target_glue_bio_sector(bio: *mut RawBio) -> u64;
    fn basic_target_glue_bio_size(bio: *mut RawBio) -> c_uint;
    fn basic_target_glue_bio_set_dev(bio: *mut RawBio, dev: *mut RawDev);
    fn basic_target_glue_bio_set_sector(bio: *mut RawBio, sector: u64);

    fn basic_target_glue_emit(
        result: *mut c_char,
        maxlen: c_uint,
        offset: *mut c_uint,
        text: *const c_char,
        len: c_uint,
    );
    fn basic_target_glue_log_bio(op: *const c_char, sector: u64, size: c_uint);
    fn basic_target_glue_call_callout(
        callout: RawCallout,
        ti: *mut RawTarget,
        dev: *mut RawDev,
        start: u64,
        len: u64,
        data: *mut c_void,
    ) -> c_int;
}

/// Registers the glue's `struct target_type` with DM core.
pub(crate) fn register() -> Result {
    // SAFETY: Registers a static `struct target_type`; called once, from module init.
    to_result(unsafe { basic_target_glue_register() })
}

/// Unregisters what [`register`] registered.
pub(crate) fn unregister() {
    // SAFETY: Called once, from module exit, after a successful `register()`.
    unsafe { basic_target_glue_unregister() }
}

/// Prints the per-bio log line (`<op> request: sector <n> size <bytes>`),
/// subject to the kernel's printk rate limit.
pub(crate) fn log_bio(op: &'static CStr, sector: u64, size: u32) {
    // SAFETY: `op` is a NUL-terminated string; the glue only prints it.
    unsafe { basic_target_glue_log_bio(op.as_char_ptr(), sector, size) }
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
        unsafe { basic_target_glue_ti_begin(self.ptr) }
    }

    /// Number of sectors this target covers (`ti->len`).
    pub(crate) fn len(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { basic_target_glue_ti_len(self.ptr) }
    }

    /// Opens `path` (e.g. `/dev/loop0` or `7:0`) with the table's mode.
    pub(crate) fn get_device(&mut self, path: &CStr) -> Result<Device> {
        let mut dev = core::ptr::null_mut();
        // SAFETY: `self.ptr` is valid by the type invariant, `path` is NUL-terminated and `dev`
        // is a valid place for the result.
        to_result(unsafe { basic_target_glue_get_device(self.ptr, path.as_char_ptr(), &mut dev) })?;
        // INVARIANT: `dm_get_device()` succeeded, so `dev` is a device reference for `self.ptr`.
        Ok(Device { ti: self.ptr, dev })
    }

    /// How many flush, discard, secure-erase and write-zeroes bios DM core
    /// should send to this target for each such bio it receives (0: none).
    pub(crate) fn set_num_bios(
        &mut self,
        flush: u32,
        discard: u32,
        secure_erase: u32,
        write_zeroes: u32,
    ) {
        // SAFETY: `self.ptr` is valid by the type invariant; only the constructor has a
        // `&mut Target`, and DM core does not read these fields concurrently with it.
        unsafe {
            basic_target_glue_ti_set_num_bios(self.ptr, flush, discard, secure_erase, write_zeroes)
        }
    }

    fn set_error(&mut self, error: &'static CStr) {
        // SAFETY: `self.ptr` is valid by the type invariant; `error` lives forever, as DM core
        // reads `ti->error` after the constructor returned.
        unsafe { basic_target_glue_ti_set_error(self.ptr, error.as_char_ptr()) }
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
        let name = unsafe { basic_target_glue_dev_name(self.dev) };
        // SAFETY: `name` points at `dm_dev->name`, a NUL-terminated array that lives and stays
        // unchanged as long as the reference `self` holds.
        unsafe { CStr::from_char_ptr(name) }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `dev` was obtained from `ti`, which is still valid,
        // and has not been put yet; it is not used again after this.
        unsafe { basic_target_glue_put_device(self.ti, self.dev) }
    }
}

/// The bio handed to `map`.
///
/// # Invariants
///
/// `ptr` is the valid bio of the running `map` callback, owned by this target until
/// `map` returns.
pub(crate) struct Bio {
    ptr: *mut RawBio,
}

impl Bio {
    /// The operation, `bio_op(bio)`: one of `bindings::req_op_REQ_OP_*`.
    pub(crate) fn op(&self) -> u32 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { basic_target_glue_bio_op(self.ptr) }
    }

    /// Whether `REQ_PREFLUSH` is set (DM core sends flushes as empty preflush writes).
    pub(crate) fn is_preflush(&self) -> bool {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { basic_target_glue_bio_is_preflush(self.ptr) }
    }

    /// First sector (`bi_iter.bi_sector`), on the mapped device until remapped.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { basic_target_glue_bio_sector(self.ptr) }
    }

    /// Size in bytes (`bi_iter.bi_size`); 0 for an empty flush.
    pub(crate) fn size(&self) -> u32 {
        // SAFETY: `self.ptr` is valid by the type invariant.
        unsafe { basic_target_glue_bio_size(self.ptr) }
    }

    /// Points the bio at `dev` (`bio_set_dev()`).
    pub(crate) fn set_dev(&mut self, dev: &Device) {
        // SAFETY: `self.ptr` is valid and ours to change by the type invariant; `dev.dev` is a
        // valid device by `Device`'s invariant.
        unsafe { basic_target_glue_bio_set_dev(self.ptr, dev.dev) }
    }

    /// Sets the first sector (`bi_iter.bi_sector`).
    pub(crate) fn set_sector(&mut self, sector: u64) {
        // SAFETY: `self.ptr` is valid and ours to change by the type invariant.
        unsafe { basic_target_glue_bio_set_sector(self.ptr, sector) }
    }
}

/// What `map` did with a bio (a `DM_MAPIO_*` value).
#[derive(Clone, Copy)]
#[repr(i32)]
pub(crate) enum MapResult {
    /// The bio was changed; DM core submits it (`DM_MAPIO_REMAPPED`).
    Remapped = 1,
    /// Fail the bio with an I/O error (`DM_MAPIO_KILL`).
    Kill = 4,
}

/// Which status `dmsetup` asked for (`status_type_t`).
#[derive(Clone, Copy)]
pub(crate) enum StatusType {
    /// `dmsetup status`.
    Info,
    /// `dmsetup table`: the constructor arguments.
    Table,
    /// IMA measurement.
    Ima,
}

/// The status result buffer. Writes append like `DMEMIT()` and never fail: text past the
/// end is cut off, which tells DM core to retry with a larger buffer. Write to it with
/// `write_fmt(fmt!(...))`.
pub(crate) struct StatusWriter {
    result: *mut c_char,
    maxlen: c_uint,
    offset: c_uint,
}

impl fmt::Write for StatusWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = c_uint::try_from(s.len()).map_err(|_| fmt::Error)?;
        // SAFETY: `result`/`maxlen` are the buffer DM core passed to the running status
        // callback; `offset` is ours; `s` is valid for `len` bytes.
        unsafe {
            basic_target_glue_emit(self.result, self.maxlen, &mut self.offset, s.as_ptr(), len)
        };
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
}

/// Shows the arguments joined by single spaces, escaping unprintable bytes.
impl fmt::Display for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.len() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Some(arg) = self.get(i) {
                fmt::Display::fmt(arg, f)?;
            }
        }
        Ok(())
    }
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
        unsafe {
            basic_target_glue_call_callout(self.callout, ti.ptr, dev.dev, start, len, self.data)
        }
    }
}

/// A constructor failure: the error code, and the text DM core prints (`ti->error`).
pub(crate) struct CtrError {
    /// Returned to DM core, e.g. `EINVAL`.
    pub(crate) code: Error,
    /// Stored in `ti->error`.
    pub(crate) reason: &'static CStr,
}

/// The operations of a device-mapper target, one per `struct target_type` callback.
///
/// DM core may call `map`, `status`, `message` and `iterate_devices` concurrently from
/// several CPUs, hence `&self` and the `Sync` bound: shared state must be atomic or locked.
pub(crate) trait TargetOps: Sized + Send + Sync {
    /// Builds the target from a table line's arguments; may set up `ti`.
    fn ctr(ti: &mut Target, args: &Args<'_>) -> Result<KBox<Self>, CtrError>;
    /// Handles one bio; must not sleep.
    fn map(&self, ti: &Target, bio: &mut Bio) -> MapResult;
    /// Writes the status line of the requested kind.
    fn status(&self, ti: &Target, kind: StatusType, out: &mut StatusWriter);
    /// Handles `dmsetup message`.
    fn message(&self, ti: &Target, args: &Args<'_>) -> Result;
    /// Reports every underlying device to `callout`; returns the first non-zero result.
    fn iterate_devices(&self, ti: &Target, callout: &mut Callout) -> c_int;
}

/// The target object stored in `ti->private` by a successful constructor.
///
/// # Safety
///
/// `ti` must be valid and its constructor must have succeeded; the result must not be used
/// after the destructor started.
unsafe fn private<'a>(ti: &Target) -> &'a Impl {
    // SAFETY: `ti.ptr` is valid by `Target`'s invariant.
    let private = unsafe { basic_target_glue_ti_private(ti.ptr) };
    // SAFETY: The constructor stored a `KBox<Impl>` there (see `basic_target_rs_ctr`) and,
    // per this function's safety requirement, the destructor has not freed it yet.
    unsafe { &*private.cast::<Impl>() }
}

// The functions below are called by basic_target_glue.c's `struct target_type` callbacks,
// with the arguments DM core gave those callbacks.

#[no_mangle]
unsafe extern "C" fn basic_target_rs_ctr(
    ti: *mut RawTarget,
    argc: c_uint,
    argv: *mut *mut c_char,
) -> c_int {
    // SAFETY: `ti` is the target being constructed; this value lives only for this call.
    let mut target = unsafe { Target::from_raw(ti) };
    // SAFETY: DM core passes `argc` argument strings that live for the constructor call.
    let args = unsafe { Args::from_raw(argc, argv) };
    match Impl::ctr(&mut target, &args) {
        Ok(this) => {
            let private = KBox::into_raw(this).cast::<c_void>();
            // SAFETY: `ti` is valid; `private` is handed back to `KBox::from_raw` in
            // `basic_target_rs_dtr`, the only other place that takes ownership of it.
            unsafe { basic_target_glue_ti_set_private(ti, private) };
            0
        }
        Err(e) => {
            target.set_error(e.reason);
            e.code.to_errno()
        }
    }
}

#[no_mangle]
unsafe extern "C" fn basic_target_rs_dtr(ti: *mut RawTarget) {
    // SAFETY: `ti` is the target being destroyed; this value lives only for this call.
    let target = unsafe { Target::from_raw(ti) };
    // SAFETY: The destructor is only called after a successful constructor, which stored a
    // `KBox<Impl>` in `ti->private`.
    let private = unsafe { basic_target_glue_ti_private(target.ptr) };
    // SAFETY: `private` came from `KBox::into_raw` in `basic_target_rs_ctr`, and DM core calls
    // the destructor once, when no other callback runs for `ti` any more.
    drop(unsafe { KBox::from_raw(private.cast::<Impl>()) });
}

#[no_mangle]
unsafe extern "C" fn basic_target_rs_map(ti: *mut RawTarget, bio: *mut RawBio) -> c_int {
    // SAFETY: `ti` is the constructed target this map call is for.
    let target = unsafe { Target::from_raw(ti) };
    // INVARIANT: DM core hands `bio` to this target for the duration of the map call.
    let mut bio = Bio { ptr: bio };
    // SAFETY: The constructor succeeded and the destructor cannot run during `map`.
    let this = unsafe { private(&target) };
    this.map(&target, &mut bio) as c_int
}

#[no_mangle]
unsafe extern "C" fn basic_target_rs_status(
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
    let this = unsafe { private(&target) };
    let mut out = StatusWriter {
        result,
        maxlen,
        offset: 0,
    };
    this.status(&target, kind, &mut out);
}

#[no_mangle]
unsafe extern "C" fn basic_target_rs_message(
    ti: *mut RawTarget,
    argc: c_uint,
    argv: *mut *mut c_char,
) -> c_int {
    // SAFETY: `ti` is the constructed target this message is for.
    let target = unsafe { Target::from_raw(ti) };
    // SAFETY: DM core passes `argc` argument strings that live for the message call.
    let args = unsafe { Args::from_raw(argc, argv) };
    // SAFETY: The constructor succeeded and the destructor cannot run during `message`.
    let this = unsafe { private(&target) };
    match this.message(&target, &args) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

#[no_mangle]
unsafe extern "C" fn basic_target_rs_iterate_devices(
    ti: *mut RawTarget,
    callout: RawCallout,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `ti` is the constructed target being asked for its devices.
    let target = unsafe { Target::from_raw(ti) };
    // SAFETY: The constructor succeeded and the destructor cannot run meanwhile.
    let this = unsafe { private(&target) };
    let mut callout = Callout { callout, data };
    this.iterate_devices(&target, &mut callout)
}
