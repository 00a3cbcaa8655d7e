//! The C ABI of `libmean.so`: every raw pointer of the crate is in this module.
//!
//! Contract, for every function here:
//! - NULL, a length of 0 or below, or a pointer not aligned for its element type gives NaN, and
//!   the pointer is not read;
//! - otherwise the result is what the safe function of the same name in the crate root returns;
//! - nothing panics, unwinds or allocates; every function is reentrant and thread-safe.

use libc::{c_double, c_float, c_int, size_t};

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
