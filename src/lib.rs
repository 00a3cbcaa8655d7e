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

use exact::ExactSum;
use kernels::DoubleDouble;

/// The mean of `xs`, accumulated in f64 (and better): within one ulp of the exact mean.
/// NaN for an empty slice.
pub fn mean_f32(xs: &[f32]) -> f32 {
    if xs.is_empty() {
        return f32::NAN;
    }
    let sum = kernels::sum_f32(xs);
    if !sum.hi.is_finite() {
        // f32 values cannot overflow an f64 sum, so this is an infinity or NaN from the input,
        // and f64 arithmetic has already combined them by IEEE rules (inf + -inf = NaN).
        return sum.hi as f32;
    }
    divide(sum, xs.len()) as f32
}

/// The mean of `xs`, accumulated in double-double: within one ulp of the exact mean.
/// NaN for an empty slice.
pub fn mean_f64(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let sum = kernels::sum_f64(xs);
    if !sum.is_finite() {
        // Either special values in the input, or finite values whose sum overflowed: the exact
        // accumulator tells them apart and never overflows.
        return exact_mean_f64(xs);
    }
    divide(sum, xs.len())
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

/// (hi + lo) / n, with the remainder of the first division folded back in.
fn divide(sum: DoubleDouble, n: usize) -> f64 {
    let n = n as f64;
    let quotient = sum.hi / n;
    // Exact remainder of hi / quotient (an FMA computes hi - quotient * n with one rounding).
    let remainder = (-quotient).mul_add(n, sum.hi) + sum.lo;
    quotient + remainder / n
}
