//! `mean`: the mean of a float array, accurate at any size and fast, for Rust, C and Python.
//!
//! Layers, from the bottom:
//! - [`kernels`]: summation kernels over slices, returning a double-double partial sum;
//! - [`exact`]: an exact accumulator with a correctly rounded mean, the reference and the
//!   fallback for sums that overflow;
//! - this module: the safe Rust API ([`mean_f32`], [`mean_f64`]), which turns a partial sum into
//!   a mean and decides what special values give;
//! - [`ffi`]: the C ABI of `libmean.so`, the only place that touches raw pointers.
//!
//! Semantics shared by every entry point: an empty slice gives NaN; any NaN, or +inf together
//! with -inf, gives NaN; otherwise an infinity gives that infinity; a finite input gives a finite
//! mean (sums never overflow: f32 input is summed in f64, and an f64 sum that overflows is redone
//! exactly).

pub mod exact;
pub mod ffi;
pub mod kernels;
pub mod parallel;

use exact::ExactSum;
use kernels::{DoubleDouble, Level};

/// The mean of `xs`, accumulated in f64 (and better): within one ulp of the exact mean.
/// NaN for an empty slice. One thread.
pub fn mean_f32(xs: &[f32]) -> f32 {
    mean_f32_threads(xs, 1)
}

/// [`mean_f32`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one.
pub fn mean_f32_threads(xs: &[f32], threads: usize) -> f32 {
    mean_f32_using(xs, threads, Level::selected())
}

/// [`mean_f32_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f32_using(xs: &[f32], threads: usize, level: Level) -> f32 {
    if xs.is_empty() {
        return f32::NAN;
    }
    let sum = parallel::sum(xs, threads, |part| kernels::sum_f32_at(level, part));
    if !sum.is_finite() {
        // An infinity or NaN in the input: f32 values cannot overflow an f64 sum. The error
        // terms of the double-double are NaN by now, but a plain f64 sum combines the special
        // values by IEEE rules (NaN wins; inf + -inf is NaN; else the infinity).
        return kernels::plain_sum_f32(xs) as f32;
    }
    divide(sum, xs) as f32
}

/// The mean of `xs`, accumulated in double-double: within one ulp of the exact mean.
/// NaN for an empty slice. One thread.
pub fn mean_f64(xs: &[f64]) -> f64 {
    mean_f64_threads(xs, 1)
}

/// [`mean_f64`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one.
pub fn mean_f64_threads(xs: &[f64], threads: usize) -> f64 {
    mean_f64_using(xs, threads, Level::selected())
}

/// [`mean_f64_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f64_using(xs: &[f64], threads: usize, level: Level) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let sum = parallel::sum(xs, threads, |part| kernels::sum_f64_at(level, part));
    if !sum.is_finite() {
        // Either special values in the input, or finite values whose sum overflowed: the exact
        // accumulator tells them apart and never overflows.
        return exact_mean_f64(xs);
    }
    divide(sum, xs)
}

/// The exact mean of `xs` rounded once to nearest (ties to even). Slow: a reference.
pub fn exact_mean_f64(xs: &[f64]) -> f64 {
    let mut sum = ExactSum::new();
    sum.add_f64s(xs);
    sum.mean_f64()
}

/// The exact mean of `xs` rounded once to nearest (ties to even). Slow: a reference.
pub fn exact_mean_f32(xs: &[f32]) -> f32 {
    let mut sum = ExactSum::new();
    sum.add_f32s(xs);
    sum.mean_f32()
}

/// (hi + lo) / n, with the remainder of the first division folded back in. `xs` is only read
/// when the sum is exactly zero, to give it the sign IEEE addition would: -0.0 when every value
/// is -0.0 (as numpy's mean of `[-0.0]` is), else +0.0.
fn divide<T: Into<f64> + Copy>(sum: DoubleDouble, xs: &[T]) -> f64 {
    let n = xs.len() as f64;
    // Kernels fold with TwoSum but leave lo unnormalised: |lo| may exceed ulp(hi).
    let (hi, lo) = kernels::two_sum(sum.hi, sum.lo);
    if hi == 0.0 {
        let all_negative_zero = xs.iter().all(|&x| {
            let x: f64 = x.into();
            x == 0.0 && x.is_sign_negative()
        });
        return if all_negative_zero { -0.0 } else { 0.0 };
    }
    let quotient = hi / n;
    // Exact remainder of hi / quotient (an FMA computes hi - quotient * n with one rounding).
    let remainder = (-quotient).mul_add(n, hi) + lo;
    quotient + remainder / n
}
