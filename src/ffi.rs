//! The C ABI of `libmean.so`: every raw pointer of the crate is in this module.
//!
//! Contract, for every function here:
//! - NULL, a length of 0 or below, or a pointer not aligned for its element type gives NaN, and
//!   the pointer is not read;
//! - otherwise the result is what the safe function of the same name in the crate root returns:
//!   the exact mean rounded once to the result type (ties to even);
//! - nothing panics or unwinds; every function is reentrant and thread-safe;
//! - results do not depend on the caller's floating-point environment: every function that
//!   computes runs with the default one (round to nearest, no flush-to-zero or
//!   denormals-are-zero) and gives the caller's back (see `kernels/mxcsr.rs`);
//! - nothing allocates, except that a `*_threads` call which starts threads allocates their
//!   handles (and the threads themselves) for the length of the call, that `mean_acc_new`
//!   and `mean_acc_deserialize` allocate the accumulator they return, and that the first call
//!   in a process reads its environment variables once (`std::env::var` copies them);
//! - the accumulator holds at most 2^64 - 1 values: adds and merges past that are refused
//!   (-1), never saturated or wrapped; its bytes are versioned and checksummed (`exact/mod.rs`).
//!
//! Thread counts: 0 means the default (`NPMEAN_NUM_THREADS`, else every CPU); a number caps
//! the threads; arrays under 6 MiB per thread use fewer, down to one. The level of SIMD is the
//! best the CPU has, unless `NPMEAN_SIMD` names a lower one. `NPMEAN_CERTIFICATE=off` and
//! `NPMEAN_PREFETCH=on|off` override the certificate's self-test and the per-host prefetch
//! choice ([`mean_certificate_trusted`], [`mean_software_prefetch`] report them).

use std::ffi::{c_char, c_void};

use libc::{c_double, c_float, c_int, size_t};

use crate::exact::ExactSum;
use crate::kernels::Level;
use crate::kernels::mxcsr::in_default_environment;
use crate::reduce::element::ElementType;
use crate::reduce::layout::{Layout, MAX_DIMS, Status};
use crate::reduce::{self, ArrayMut, ArrayRef, Operation};

/// The slice `ptr[0..len]`, or `None` when the arguments cannot describe a non-empty array.
///
/// # Safety
/// If `ptr` is non-null, aligned for `T` and `len > 0`, then `ptr` must point to `len`
/// initialized values of `T` in one allocation, not written to while the slice is alive.
unsafe fn as_slice<'a, T>(ptr: *const T, len: usize) -> Option<&'a [T]> {
    let too_long = len > isize::MAX as usize / size_of::<T>();
    if ptr.is_null() || len == 0 || !ptr.is_aligned() || too_long {
        return None;
    }
    // SAFETY: non-null, aligned, non-empty and at most isize::MAX bytes were checked above; that
    // it points to `len` live values is the caller's promise.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `float compute_mean(const float *a, int n)`: the classic ctypes tutorial's function, with
/// its accuracy fixed (correctly rounded). NaN when `a` is NULL or misaligned or `n <= 0`.
///
/// # Safety
/// `a` must be NULL or point to `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn compute_mean(a: *const c_float, n: c_int) -> c_float {
    let Ok(len) = usize::try_from(n) else {
        return f32::NAN;
    };
    // SAFETY: the caller promises `a` points to `n` floats when it is not NULL.
    match unsafe { as_slice(a, len) } {
        Some(xs) => in_default_environment(|| crate::mean_f32(xs)),
        None => f32::NAN,
    }
}

/// `float mean_f32(const float *a, size_t n)`: the mean of `n` floats, correctly rounded.
///
/// # Safety
/// `a` must be NULL or point to `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f32(a: *const c_float, n: size_t) -> c_float {
    // SAFETY: the caller promises `a` points to `n` floats when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => in_default_environment(|| crate::mean_f32(xs)),
        None => f32::NAN,
    }
}

/// `double mean_f64(const double *a, size_t n)`: the mean of `n` doubles, correctly rounded.
///
/// # Safety
/// `a` must be NULL or point to `n` readable doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f64(a: *const c_double, n: size_t) -> c_double {
    // SAFETY: the caller promises `a` points to `n` doubles when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => in_default_environment(|| crate::mean_f64(xs)),
        None => f64::NAN,
    }
}

/// The pointer stored at `field`, or NULL when `field` is NULL or misaligned.
///
/// # Safety
/// `field` must be NULL or point to a readable pointer.
unsafe fn read_pointer_field<T>(field: *const *const T) -> *const T {
    if field.is_null() || !field.is_aligned() {
        return std::ptr::null();
    }
    // SAFETY: non-null and aligned, checked above; readable, the caller's promise.
    unsafe { field.read() }
}

/// `float mean_f32_indirect(const float *const *data, size_t n)`: [`mean_f32`] of the `n`
/// floats whose address is stored at `data`: for a caller that holds the array's data pointer
/// in a struct field and would rather not read it itself. npmean passes the address of a numpy
/// array's data field: reading the pointer in Python costs ~0.1-0.2 µs a call (measured).
/// NaN when `data` or `*data` is NULL or misaligned, or `n` is 0.
///
/// # Safety
/// `data` must be NULL or point to a readable pointer, which must be NULL or point to `n`
/// readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f32_indirect(data: *const *const c_float, n: size_t) -> c_float {
    // SAFETY: the caller promises `data` is NULL or readable, and what it holds NULL or `n`
    // readable floats.
    unsafe { mean_f32(read_pointer_field(data), n) }
}

/// `double mean_f64_indirect(const double *const *data, size_t n)`: [`mean_f64`] of the `n`
/// doubles whose address is stored at `data` (see [`mean_f32_indirect`]).
///
/// # Safety
/// `data` must be NULL or point to a readable pointer, which must be NULL or point to `n`
/// readable doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f64_indirect(data: *const *const c_double, n: size_t) -> c_double {
    // SAFETY: the caller promises `data` is NULL or readable, and what it holds NULL or `n`
    // readable doubles.
    unsafe { mean_f64(read_pointer_field(data), n) }
}

/// `float mean_f32_threads(const float *a, size_t n, size_t threads)`: [`mean_f32`] on up to
/// `threads` threads (0: the default).
///
/// # Safety
/// `a` must be NULL or point to `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f32_threads(a: *const c_float, n: size_t, threads: size_t) -> c_float {
    // SAFETY: the caller promises `a` points to `n` floats when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => in_default_environment(|| crate::mean_f32_threads(xs, threads)),
        None => f32::NAN,
    }
}

/// `double mean_f64_threads(const double *a, size_t n, size_t threads)`: [`mean_f64`] on up to
/// `threads` threads (0: the default).
///
/// # Safety
/// `a` must be NULL or point to `n` readable doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f64_threads(a: *const c_double, n: size_t, threads: size_t) -> c_double {
    // SAFETY: the caller promises `a` points to `n` doubles when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => in_default_environment(|| crate::mean_f64_threads(xs, threads)),
        None => f64::NAN,
    }
}

/// The version of this C ABI: raised whenever a function's signature or meaning, or the
/// accumulator's serialized form, changes. A caller built against another version must not
/// use this library (npmean checks it when it loads the library).
pub const ABI_VERSION: u32 = 6;

/// `uint32_t mean_abi_version(void)`: [`ABI_VERSION`], the version of the C ABI this library
/// implements (`MEAN_ABI_VERSION` in `mean.h`).
#[unsafe(no_mangle)]
pub extern "C" fn mean_abi_version() -> u32 {
    ABI_VERSION
}

/// `const char *mean_simd_level(void)`: the SIMD level in use, as a static NUL-terminated name
/// (`"scalar"`, `"sse2"`, `"avx2"` or `"avx512"`). The caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn mean_simd_level() -> *const c_char {
    Level::selected().c_name().as_ptr()
}

/// `const char *mean_simd_best(void)`: the best SIMD level this CPU has (every lower level is
/// available too), as a static NUL-terminated name.
#[unsafe(no_mangle)]
pub extern "C" fn mean_simd_best() -> *const c_char {
    Level::best().c_name().as_ptr()
}

/// `int mean_certificate_trusted(void)`: 1 if the kernels of the SIMD level in use certify sums
/// exact by the CPU's inexact flag (its self-test passed on this machine), 0 if they run without
/// it (bound-based paths: the same correctly rounded means, slower on exact ties).
#[unsafe(no_mangle)]
pub extern "C" fn mean_certificate_trusted() -> c_int {
    c_int::from(crate::kernels::certificate::trusted(Level::selected()))
}

/// `int mean_software_prefetch(void)`: 1 if the kernels issue software prefetches on this host,
/// 0 if they leave it to the hardware (decided once from the CPU, or `NPMEAN_PREFETCH=on|off`).
#[unsafe(no_mangle)]
pub extern "C" fn mean_software_prefetch() -> c_int {
    c_int::from(crate::kernels::host::software_prefetch())
}

/// `size_t mean_min_bytes_per_thread(void)`: the `*_threads` functions give each thread at
/// least this many bytes of input, so smaller arrays run on fewer threads (or one).
#[unsafe(no_mangle)]
pub extern "C" fn mean_min_bytes_per_thread() -> size_t {
    crate::parallel::MIN_BYTES_PER_THREAD
}

// --- The exact, mergeable accumulator ------------------------------------------------------
//
// `mean_acc` is opaque to C: an `ExactSum` on the heap. A handle is owned by its creator
// (`mean_acc_new` or `mean_acc_deserialize`) until `mean_acc_free`. One handle must not be used
// by two threads at once; different handles are independent. Functions that take a handle
// accept NULL and answer with an error value; `int` results are 0 for success and -1 for bad
// arguments.

/// The opaque accumulator type of the C ABI.
pub type MeanAcc = ExactSum;

/// `mean_acc *mean_acc_new(void)`: an empty accumulator (allocates; aborts if memory runs out,
/// as every Rust allocation does).
#[unsafe(no_mangle)]
pub extern "C" fn mean_acc_new() -> *mut MeanAcc {
    Box::into_raw(Box::new(ExactSum::new()))
}

/// `void mean_acc_free(mean_acc *acc)`: releases `acc`; NULL is ignored.
///
/// # Safety
/// `acc` must be NULL or a handle from this library not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_free(acc: *mut MeanAcc) {
    if !acc.is_null() {
        // SAFETY: a non-NULL handle came from Box::into_raw and is freed once (caller).
        drop(unsafe { Box::from_raw(acc) });
    }
}

/// Turns (handle, pointer, length) into references, or `None` for bad arguments.
///
/// # Safety
/// As for [`as_slice`], and `acc` must be NULL or a live handle used by no other thread.
unsafe fn acc_and_slice<'a, T>(acc: *mut MeanAcc, ptr: *const T, len: usize) -> Option<(&'a mut MeanAcc, &'a [T])> {
    // SAFETY: the caller promises a NULL or live, unshared handle.
    let acc = unsafe { acc.as_mut() }?;
    if len == 0 {
        return Some((acc, &[]));
    }
    // SAFETY: the caller promises `ptr` points to `len` values when it is not NULL.
    Some((acc, unsafe { as_slice(ptr, len) }?))
}

/// `int mean_acc_add_f32(mean_acc *acc, const float *a, size_t n)`: adds `n` floats exactly
/// (`n == 0` adds nothing). -1, adding nothing, for a NULL handle, NULL or misaligned `a` with
/// `n > 0`, or a count that would pass 2^64 - 1.
///
/// # Safety
/// `acc` must be NULL or a live handle used by no other thread; `a` must be NULL or point to
/// `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_add_f32(acc: *mut MeanAcc, a: *const c_float, n: size_t) -> c_int {
    // SAFETY: forwarded from the caller.
    match unsafe { acc_and_slice(acc, a, n) } {
        Some((acc, xs)) if acc.has_room_for(n as u64) => {
            in_default_environment(|| crate::kernels::add_exact_f32(acc, xs));
            0
        }
        _ => -1,
    }
}

/// `int mean_acc_add_f64(mean_acc *acc, const double *a, size_t n)`: as `mean_acc_add_f32`,
/// for doubles.
///
/// # Safety
/// `acc` must be NULL or a live handle used by no other thread; `a` must be NULL or point to
/// `n` readable doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_add_f64(acc: *mut MeanAcc, a: *const c_double, n: size_t) -> c_int {
    // SAFETY: forwarded from the caller.
    match unsafe { acc_and_slice(acc, a, n) } {
        Some((acc, xs)) if acc.has_room_for(n as u64) => {
            in_default_environment(|| crate::kernels::add_exact_f64(acc, xs));
            0
        }
        _ => -1,
    }
}

/// `int mean_acc_merge(mean_acc *into, const mean_acc *from)`: adds everything `from` holds to
/// `into` (`from` is unchanged; `into == from` doubles it). -1, changing nothing, if either is
/// NULL or the count would pass 2^64 - 1.
///
/// # Safety
/// Both must be NULL or live handles; `into` used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_merge(into: *mut MeanAcc, from: *const MeanAcc) -> c_int {
    if into.is_null() || from.is_null() {
        return -1;
    }
    // SAFETY: both are live handles (caller); the copy makes `into == from` sound.
    let from = unsafe { (*from).clone() };
    // SAFETY: `into` is live and unshared (caller).
    match unsafe { (*into).merge(&from) } {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// `uint64_t mean_acc_count(const mean_acc *acc)`: values added so far; 0 for NULL.
///
/// # Safety
/// `acc` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_count(acc: *const MeanAcc) -> u64 {
    // SAFETY: NULL or live (caller).
    unsafe { acc.as_ref() }.map_or(0, ExactSum::count)
}

/// `float mean_acc_mean_f32(const mean_acc *acc)`: the exact mean of everything added, rounded
/// once to float (ties to even). NaN for NULL or no values; special values as for `mean_f32`.
///
/// # Safety
/// `acc` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_mean_f32(acc: *const MeanAcc) -> c_float {
    // SAFETY: NULL or live (caller).
    unsafe { acc.as_ref() }.map_or(f32::NAN, |acc| in_default_environment(|| acc.mean_f32()))
}

/// `double mean_acc_mean_f64(const mean_acc *acc)`: as `mean_acc_mean_f32`, rounded to double.
///
/// # Safety
/// `acc` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_mean_f64(acc: *const MeanAcc) -> c_double {
    // SAFETY: NULL or live (caller).
    unsafe { acc.as_ref() }.map_or(f64::NAN, |acc| in_default_environment(|| acc.mean_f64()))
}

/// `float mean_acc_sum_f32(const mean_acc *acc)`: the exact sum of everything added, rounded
/// once to float (ties to even; ±inf beyond its range). 0 for no values; NaN for NULL.
///
/// # Safety
/// `acc` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_sum_f32(acc: *const MeanAcc) -> c_float {
    // SAFETY: NULL or live (caller).
    unsafe { acc.as_ref() }.map_or(f32::NAN, |acc| in_default_environment(|| acc.sum_f32()))
}

/// `double mean_acc_sum_f64(const mean_acc *acc)`: as `mean_acc_sum_f32`, rounded to double.
///
/// # Safety
/// `acc` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_sum_f64(acc: *const MeanAcc) -> c_double {
    // SAFETY: NULL or live (caller).
    unsafe { acc.as_ref() }.map_or(f64::NAN, |acc| in_default_environment(|| acc.sum_f64()))
}

/// `size_t mean_acc_serialized_size(void)`: the bytes `mean_acc_serialize` writes.
#[unsafe(no_mangle)]
pub extern "C" fn mean_acc_serialized_size() -> size_t {
    crate::exact::SERIALIZED_LEN
}

/// `int mean_acc_serialize(const mean_acc *acc, uint8_t *out, size_t len)`: writes the state
/// (`mean_acc_serialized_size()` bytes, portable across machines) to `out`. -1, writing
/// nothing, for NULL arguments or `len` too small.
///
/// # Safety
/// `acc` must be NULL or a live handle; `out` must be NULL or point to `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_serialize(acc: *const MeanAcc, out: *mut u8, len: size_t) -> c_int {
    let size = crate::exact::SERIALIZED_LEN;
    // SAFETY: NULL or live (caller).
    let Some(acc) = (unsafe { acc.as_ref() }) else {
        return -1;
    };
    if out.is_null() || len < size {
        return -1;
    }
    let bytes = acc.to_bytes();
    // SAFETY: `out` has room for `len >= size` bytes (caller, checked); the source is ours.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, size) };
    0
}

/// `mean_acc *mean_acc_deserialize(const uint8_t *bytes, size_t len)`: a new accumulator with
/// the state `mean_acc_serialize` wrote, or NULL if the bytes are not such a state.
///
/// # Safety
/// `bytes` must be NULL or point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_acc_deserialize(bytes: *const u8, len: size_t) -> *mut MeanAcc {
    // SAFETY: forwarded from the caller (bytes have no alignment requirement).
    match unsafe { as_slice(bytes, len) }.and_then(ExactSum::from_bytes) {
        Some(sum) => Box::into_raw(Box::new(sum)),
        None => std::ptr::null_mut(),
    }
}

/// `struct mean_array` of `mean.h`: a strided view into a described block of memory.
#[repr(C)]
pub struct MeanArray {
    /// The start of the memory the view may touch (NULL only when `len` is 0).
    pub memory: *mut c_void,
    /// Its length in bytes.
    pub len: size_t,
    /// Byte offset of element (0, ..., 0) from `memory`.
    pub offset: size_t,
    /// `enum mean_type`.
    pub type_code: i32,
    /// Nonzero: the elements are stored in the byte order opposite to this CPU's.
    pub swapped: i32,
    /// Dimensions, 0 to 32.
    pub ndim: i32,
    /// `ndim` lengths (NULL allowed when `ndim` is 0).
    pub shape: *const i64,
    /// `ndim` strides in bytes, negative and zero allowed (NULL allowed when `ndim` is 0).
    pub strides: *const i64,
}

/// The pieces of a descriptor, read and checked for what can be checked without its memory.
struct Described {
    memory: *mut u8,
    len: usize,
    ty: ElementType,
    layout: Layout,
}

/// Reads `*array` and checks its layout against its memory.
///
/// # Safety
/// `array` must be NULL or point to a readable `MeanArray` whose `shape` and `strides` point to
/// `ndim` readable values each.
unsafe fn describe(array: *const MeanArray) -> Result<Described, Status> {
    if array.is_null() || !array.is_aligned() {
        return Err(Status::Null);
    }
    // SAFETY: non-null and aligned; readable, the caller's promise.
    let array = unsafe { &*array };
    let ndim = usize::try_from(array.ndim).map_err(|_| Status::Ndim)?;
    if ndim > MAX_DIMS {
        return Err(Status::Ndim);
    }
    let ty = ElementType::from_code(array.type_code).ok_or(Status::Type)?;
    let (shape, strides) = if ndim == 0 {
        (&[][..], &[][..])
    } else {
        // SAFETY: the caller promises `ndim` readable values behind each pointer when they
        // are not NULL; NULL, misalignment and a length beyond isize are refused by `as_slice`.
        let shape = unsafe { as_slice(array.shape, ndim) }.ok_or(Status::Null)?;
        // SAFETY: as for `shape`.
        let strides = unsafe { as_slice(array.strides, ndim) }.ok_or(Status::Null)?;
        (shape, strides)
    };
    if (array.memory.is_null() && array.len > 0) || array.len > isize::MAX as usize {
        return Err(Status::Null);
    }
    let address = array.memory as usize;
    let layout = Layout::check(ty, array.swapped != 0, array.offset, shape, strides, address, array.len)?;
    Ok(Described { memory: array.memory.cast(), len: array.len, ty, layout })
}

/// Whether two blocks of memory share a byte.
fn overlaps(a: &Described, b: &Described) -> bool {
    let (a0, b0) = (a.memory as usize, b.memory as usize);
    a.len > 0 && b.len > 0 && a0 < b0 + b.len && b0 < a0 + a.len
}

/// `int mean_reduce(int operation, const struct mean_array *input, const struct mean_array *where, const struct mean_array *output, const int *axes, int naxes, const struct mean_array *initial, size_t threads)`:
/// writes into `output` the mean, NaN-skipping mean, sum or NaN-skipping sum (`operation`)
/// over `axes` of `input` (only the elements where `where`, a bool array of the input's
/// shape, is true, if `where` is not NULL), each output element correctly rounded to the
/// output's type (integer sums: exact); a sum starts from `initial` (one element of the
/// output's type) if not NULL. Returns `MEAN_OK` (0) or a negative `mean_status`, and then
/// writes nothing, except for `MEAN_E_OVERFLOW` (an integer sum too large for the output:
/// the cells before it may be written). `threads` is accepted for the ABI's sake; the engine
/// runs on the calling thread.
///
/// # Safety
/// Each non-NULL descriptor must be readable with `shape` and `strides` of `ndim` values;
/// `memory[0..len]` of the input and of `where` must be readable and of the output writable,
/// and not written by anyone else during the call; `axes` must be NULL or point to `naxes`
/// readable ints; `initial` NULL or a descriptor as the others, whose memory is readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_reduce(
    operation: c_int,
    input: *const MeanArray,
    where_: *const MeanArray,
    output: *const MeanArray,
    axes: *const c_int,
    naxes: c_int,
    initial: *const MeanArray,
    threads: size_t,
) -> c_int {
    let _ = threads;
    // SAFETY: the caller's promises, passed on (see the function's `# Safety`).
    status_code(unsafe { reduce_checked(operation, input, where_, output, axes, naxes, initial) })
}

/// `struct mean_call` of `mean.h`: [`mean_reduce`]'s arguments in one struct.
#[repr(C)]
pub struct MeanCall {
    /// `enum mean_operation`.
    pub operation: i32,
    /// Axes in `axes`.
    pub naxes: i32,
    /// The view reduced.
    pub input: *const MeanArray,
    /// The bool mask of the elements that count (NULL: all).
    pub where_: *const MeanArray,
    /// The view written.
    pub output: *const MeanArray,
    /// The reduced axes.
    pub axes: *const c_int,
    /// A sum's initial value (NULL: zero).
    pub initial: *const MeanArray,
    /// Reserved, as `mean_reduce`'s.
    pub threads: size_t,
}

/// `int mean_reduce_call(const struct mean_call *call)`: [`mean_reduce`] with the arguments in
/// `*call`: the same writes and status; `MEAN_E_NULL` for a NULL or misaligned `call`. For
/// callers that pay per argument (ctypes: ~80 ns each, more than the engine's work on a small
/// array), who can keep one struct and change its pointers between calls.
///
/// # Safety
/// `call` must be NULL or point to a readable `struct mean_call` whose fields meet
/// [`mean_reduce`]'s requirements for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_reduce_call(call: *const MeanCall) -> c_int {
    if call.is_null() || !call.is_aligned() {
        return Status::Null as c_int;
    }
    // SAFETY: non-null and aligned; readable, the caller's promise.
    let c = unsafe { &*call };
    // SAFETY: the fields are mean_reduce's arguments, with its promises (see `# Safety`).
    status_code(unsafe { reduce_checked(c.operation, c.input, c.where_, c.output, c.axes, c.naxes, c.initial) })
}

/// [`mean_reduce`] with `?`.
///
/// # Safety
/// As [`mean_reduce`].
unsafe fn reduce_checked(
    operation: c_int,
    input: *const MeanArray,
    where_: *const MeanArray,
    output: *const MeanArray,
    axes: *const c_int,
    naxes: c_int,
    initial: *const MeanArray,
) -> Result<(), Status> {
    let operation = Operation::from_code(operation).ok_or(Status::Operation)?;
    // SAFETY: the caller promises readable descriptors (or NULL).
    let input = unsafe { describe(input) }?;
    // SAFETY: as above.
    let output = unsafe { describe(output) }?;
    // SAFETY (both): as above.
    let mask = if where_.is_null() { None } else { Some(unsafe { describe(where_) }?) };
    let initial = if initial.is_null() { None } else { Some(unsafe { describe(initial) }?) };
    // SAFETY: the caller promises `naxes` readable ints behind a non-NULL `axes`.
    let axes = unsafe { axes_slice(axes, naxes) }?;
    let read_by_output = |view: &Option<Described>| view.as_ref().is_some_and(|v| overlaps(&output, v));
    if overlaps(&output, &input) || read_by_output(&mask) || read_by_output(&initial) {
        return Err(Status::Overlap);
    }
    if mask.as_ref().is_some_and(|m| m.ty != ElementType::Bool) {
        return Err(Status::Mask);
    }
    // SAFETY (all three): each block is `len` bytes the caller promises readable (writable for
    // the output) and unchanged by others during the call; the output shares no byte with the
    // others (checked above), so the one mutable slice aliases nothing.
    let input_bytes = unsafe { bytes(input.memory, input.len) };
    let mask_bytes = mask.as_ref().map(|m| unsafe { bytes(m.memory, m.len) });
    let initial_bytes = initial.as_ref().map(|v| unsafe { bytes(v.memory, v.len) });
    let output_bytes = if output.len == 0 {
        &mut [][..]
    } else {
        unsafe { std::slice::from_raw_parts_mut(output.memory, output.len) }
    };
    let input = ArrayRef { bytes: input_bytes, layout: input.layout };
    let mask = mask.zip(mask_bytes).map(|(m, bytes)| ArrayRef { bytes, layout: m.layout });
    let initial = initial.zip(initial_bytes).map(|(v, bytes)| ArrayRef { bytes, layout: v.layout });
    let mut output = ArrayMut { bytes: output_bytes, layout: output.layout };
    in_default_environment(|| reduce::reduce(operation, &input, mask.as_ref(), &mut output, axes, initial.as_ref()))
}

/// `int mean_reduce_states(int operation, const struct mean_array *input, const struct mean_array *where, const int *axes, int naxes, uint8_t *states, size_t len, size_t threads)`:
/// writes the exact state of every output element of `mean_reduce` (same arguments, no
/// output): `mean_acc_serialized_size()` bytes per element and component, elements in C order
/// of the kept axes, components innermost; `len` must be exactly that many bytes
/// (`MEAN_E_OUTPUT_SHAPE` otherwise). States of parts merge into the states of the whole
/// (`mean_states_merge`); `mean_states_finish` rounds them.
///
/// # Safety
/// As [`mean_reduce`]'s input, `where` and axes; `states` must be NULL or point to `len`
/// writable bytes that nothing else reads or writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_reduce_states(
    operation: c_int,
    input: *const MeanArray,
    where_: *const MeanArray,
    axes: *const c_int,
    naxes: c_int,
    states: *mut u8,
    len: size_t,
    threads: size_t,
) -> c_int {
    let _ = threads;
    // SAFETY: the caller's promises, passed on (see the function's `# Safety`).
    status_code(unsafe { reduce_states_checked(operation, input, where_, axes, naxes, states, len) })
}

/// [`mean_reduce_states`] with `?`.
///
/// # Safety
/// As [`mean_reduce_states`].
unsafe fn reduce_states_checked(
    operation: c_int,
    input: *const MeanArray,
    where_: *const MeanArray,
    axes: *const c_int,
    naxes: c_int,
    states: *mut u8,
    len: size_t,
) -> Result<(), Status> {
    let operation = Operation::from_code(operation).ok_or(Status::Operation)?;
    // SAFETY: the caller promises readable descriptors (or NULL).
    let input = unsafe { describe(input) }?;
    // SAFETY: as above.
    let mask = if where_.is_null() { None } else { Some(unsafe { describe(where_) }?) };
    // SAFETY: the caller promises `naxes` readable ints behind a non-NULL `axes`.
    let axes = unsafe { axes_slice(axes, naxes) }?;
    if (states.is_null() && len > 0) || len > isize::MAX as usize {
        return Err(Status::Null);
    }
    let states_block = Described { memory: states, len, ty: ElementType::UInt8, layout: input.layout };
    if overlaps(&states_block, &input) || mask.as_ref().is_some_and(|m| overlaps(&states_block, m)) {
        return Err(Status::Overlap);
    }
    if mask.as_ref().is_some_and(|m| m.ty != ElementType::Bool) {
        return Err(Status::Mask);
    }
    // SAFETY: the input's and mask's blocks are readable and unchanged during the call, the
    // states' block writable and shared with nothing else (the caller; overlap checked above).
    let input_bytes = unsafe { bytes(input.memory, input.len) };
    let mask_bytes = mask.as_ref().map(|m| unsafe { bytes(m.memory, m.len) });
    let states = if len == 0 { &mut [][..] } else { unsafe { std::slice::from_raw_parts_mut(states, len) } };
    let input = ArrayRef { bytes: input_bytes, layout: input.layout };
    let mask = mask.zip(mask_bytes).map(|(m, bytes)| ArrayRef { bytes, layout: m.layout });
    in_default_environment(|| reduce::reduce_states(operation, &input, mask.as_ref(), states, axes))
}

/// `int mean_states_merge(uint8_t *into, const uint8_t *from, size_t count)`: merges each of
/// the `count` states at `from` into the state at the same place of `into`. `MEAN_E_STATE` if a
/// state is not one this library wrote, `MEAN_E_OVERFLOW` if a count would pass 2^64 - 1 (the
/// states before it are merged).
///
/// # Safety
/// `into` and `from` must be NULL or point to `count` states each (`into` writable, `from`
/// readable); the two blocks are the same or do not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_states_merge(into: *mut u8, from: *const u8, count: size_t) -> c_int {
    let Some(len) = count.checked_mul(crate::exact::SERIALIZED_LEN).filter(|&len| len <= isize::MAX as usize) else {
        return Status::Shape as c_int;
    };
    if len > 0 && (into.is_null() || from.is_null()) {
        return Status::Null as c_int;
    }
    if len == 0 {
        return Status::Ok as c_int;
    }
    let (start, end, other) = (into as usize, into as usize + len, from as usize);
    if from != into.cast_const() && other < end && start < other + len {
        return Status::Overlap as c_int;
    }
    if from == into.cast_const() {
        // SAFETY: `len` writable bytes (caller), the only view of them here.
        let into = unsafe { std::slice::from_raw_parts_mut(into, len) };
        return status_code(reduce::merge_states(into, None));
    }
    // SAFETY: `from` points to `len` readable bytes and `into` to `len` writable ones (caller),
    // not overlapping (checked above), so the mutable slice aliases nothing.
    let (from, into) = unsafe { (bytes(from, len), std::slice::from_raw_parts_mut(into, len)) };
    status_code(reduce::merge_states(into, Some(from)))
}

/// `int mean_states_finish(int operation, const uint8_t *states, size_t count, const struct mean_array *output)`:
/// writes the `operation`'s result of each of the `count` states into `output` (one dimension of
/// `count` elements, a float type; an integer type for sums, which must then be integers that
/// fit, or `MEAN_E_TYPE` / `MEAN_E_OVERFLOW`). A complex result is two real ones: pass its
/// components as a real array of twice the elements.
///
/// # Safety
/// `states` must be NULL or point to `count` readable states; `output` as [`mean_reduce`]'s, not
/// overlapping them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_states_finish(
    operation: c_int,
    states: *const u8,
    count: size_t,
    output: *const MeanArray,
) -> c_int {
    // SAFETY: the caller's promises, passed on.
    status_code(unsafe { finish_states_checked(operation, states, count, output) })
}

/// [`mean_states_finish`] with `?`.
///
/// # Safety
/// As [`mean_states_finish`].
unsafe fn finish_states_checked(
    operation: c_int,
    states: *const u8,
    count: size_t,
    output: *const MeanArray,
) -> Result<(), Status> {
    let operation = Operation::from_code(operation).ok_or(Status::Operation)?;
    let len = count.checked_mul(crate::exact::SERIALIZED_LEN).filter(|&len| len <= isize::MAX as usize);
    let len = len.ok_or(Status::Shape)?;
    if states.is_null() && len > 0 {
        return Err(Status::Null);
    }
    // SAFETY: the caller promises a readable descriptor (or NULL).
    let output = unsafe { describe(output) }?;
    let states_block = Described { memory: states.cast_mut(), len, ty: ElementType::UInt8, layout: output.layout };
    if overlaps(&states_block, &output) {
        return Err(Status::Overlap);
    }
    // SAFETY: `len` readable bytes (caller), unchanged during the call; the output's block is
    // writable and shares no byte with them (checked above).
    let states = unsafe { bytes(states, len) };
    let output_bytes = if output.len == 0 {
        &mut [][..]
    } else {
        unsafe { std::slice::from_raw_parts_mut(output.memory, output.len) }
    };
    let mut output = ArrayMut { bytes: output_bytes, layout: output.layout };
    in_default_environment(|| reduce::finish_states(operation, states, &mut output))
}

/// A status as the C ABI returns it.
fn status_code(status: Result<(), Status>) -> c_int {
    match status {
        Ok(()) => Status::Ok as c_int,
        Err(status) => status as c_int,
    }
}

/// `axes[0..naxes]` as a slice (empty for 0).
///
/// # Safety
/// `axes` must point to `naxes` readable ints when `naxes > 0`.
unsafe fn axes_slice<'a>(axes: *const c_int, naxes: c_int) -> Result<&'a [c_int], Status> {
    let naxes = usize::try_from(naxes).map_err(|_| Status::Axes)?;
    match naxes {
        0 => Ok(&[][..]),
        // SAFETY: the caller promises `naxes` readable ints behind a non-NULL `axes`.
        n if n <= MAX_DIMS => unsafe { as_slice(axes, n) }.ok_or(Status::Null),
        _ => Err(Status::Axes),
    }
}

/// `memory[0..len]` as bytes (empty for a length of 0, whatever the pointer).
///
/// # Safety
/// If `len > 0`, `memory` must point to `len` readable bytes, unchanged while the slice lives.
unsafe fn bytes<'a>(memory: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's promise; `describe` refused NULL with len > 0 and len > isize::MAX.
    unsafe { std::slice::from_raw_parts(memory, len) }
}
