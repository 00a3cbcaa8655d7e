//! The C ABI of `libmean.so`: every raw pointer of the crate is in this module.
//!
//! Contract, for every function here:
//! - NULL, a length of 0 or below, or a pointer not aligned for its element type gives NaN, and
//!   the pointer is not read;
//! - otherwise the result is what the safe function of the same name in the crate root returns;
//! - nothing panics or unwinds; every function is reentrant and thread-safe;
//! - nothing allocates, except that a `*_threads` call which starts threads allocates their
//!   handles (and the threads themselves) for the length of the call.
//!
//! Thread counts: 0 means the default (`NPMEAN_NUM_THREADS`, else every CPU); a number caps
//! the threads; arrays under 6 MiB per thread use fewer, down to one. The level of SIMD is the
//! best the CPU has, unless `NPMEAN_SIMD` names a lower one.

use std::ffi::c_char;

use libc::{c_double, c_float, c_int, size_t};

use crate::kernels::Level;

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
/// its accuracy fixed. NaN when `a` is NULL or misaligned or `n <= 0`.
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
        Some(xs) => crate::mean_f32(xs),
        None => f32::NAN,
    }
}

/// `float mean_f32(const float *a, size_t n)`: the mean of `n` floats, summed in f64 and better.
///
/// # Safety
/// `a` must be NULL or point to `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f32(a: *const c_float, n: size_t) -> c_float {
    // SAFETY: the caller promises `a` points to `n` floats when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => crate::mean_f32(xs),
        None => f32::NAN,
    }
}

/// `double mean_f64(const double *a, size_t n)`: the mean of `n` doubles, summed in
/// double-double.
///
/// # Safety
/// `a` must be NULL or point to `n` readable doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_f64(a: *const c_double, n: size_t) -> c_double {
    // SAFETY: the caller promises `a` points to `n` doubles when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => crate::mean_f64(xs),
        None => f64::NAN,
    }
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
        Some(xs) => crate::mean_f32_threads(xs, threads),
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
        Some(xs) => crate::mean_f64_threads(xs, threads),
        None => f64::NAN,
    }
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

/// `size_t mean_min_bytes_per_thread(void)`: the `*_threads` functions give each thread at
/// least this many bytes of input, so smaller arrays run on fewer threads (or one).
#[unsafe(no_mangle)]
pub extern "C" fn mean_min_bytes_per_thread() -> size_t {
    crate::parallel::MIN_BYTES_PER_THREAD
}

/// `double mean_bench_read_f32(const float *a, size_t n, size_t threads)`: for the benchmark
/// only, not a mean: converts and adds the floats in plain f64 lanes (no accuracy work) on up to
/// `threads` threads, to measure what the machine can read. NaN for bad arguments.
///
/// # Safety
/// `a` must be NULL or point to `n` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mean_bench_read_f32(a: *const c_float, n: size_t, threads: size_t) -> c_double {
    // SAFETY: the caller promises `a` points to `n` floats when it is not NULL.
    match unsafe { as_slice(a, n) } {
        Some(xs) => crate::parallel::map_merge(xs, threads, crate::kernels::plain_sum_f32, |a, b| a + b),
        None => f64::NAN,
    }
}
