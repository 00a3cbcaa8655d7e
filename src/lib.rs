//! `mean`: the correctly rounded mean of a float array, fast, for Rust, C and Python.
//!
//! Layers, from the bottom:
//! - [`kernels`]: summation kernels over slices, returning a double-double sum and a rigorous
//!   bound on its error (a [`kernels::Partial`]), per SIMD level;
//! - [`parallel`]: the same over threads;
//! - [`rounding`]: Ziv's rounding test: is every value within the bound rounded the same way?
//! - [`exact`]: an exact accumulator with a correctly rounded mean, for whatever the test cannot
//!   decide, and the reference of the tests;
//! - this module: the safe Rust API ([`mean_f32`], [`mean_f64`]), which runs that chain and
//!   decides what special values give;
//! - [`ffi`]: the C ABI of `libmean.so`, the only place that touches raw pointers.
//!
//! Semantics shared by every entry point: an empty slice gives NaN; any NaN, or +inf together
//! with -inf, gives NaN; otherwise an infinity gives that infinity; a finite input gives the
//! exact mean rounded once to the result type, ties to even (sums never overflow).

pub mod exact;
pub mod ffi;
pub mod kernels;
pub mod parallel;
pub mod rounding;

use exact::ExactSum;
use kernels::{Level, Partial};
use rounding::{Format, Rounded, round_mean};

/// The mean of `xs`, correctly rounded: the exact mean rounded once to the nearest f32, ties to
/// even. NaN for an empty slice. One thread.
pub fn mean_f32(xs: &[f32]) -> f32 {
    mean_f32_threads(xs, 1)
}

/// [`mean_f32`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one. The result does not depend on the count.
pub fn mean_f32_threads(xs: &[f32], threads: usize) -> f32 {
    mean_f32_using(xs, threads, Level::selected())
}

/// [`mean_f32_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f32_using(xs: &[f32], threads: usize, level: Level) -> f32 {
    match xs {
        [] => return f32::NAN,
        [x] => return *x, // the exact mean of one value is that value
        _ => {}
    }
    let partial = parallel::map_merge(xs, threads, |part| kernels::sum_f32_at(level, part), Partial::merge);
    if !partial.sum.is_finite() {
        // An infinity or NaN in the input: f32 values cannot overflow an f64 sum. The error
        // terms are NaN by now, but a plain f64 sum combines the special values by IEEE rules
        // (NaN wins; inf + -inf is NaN; else the infinity).
        return kernels::plain_sum_f32(xs) as f32;
    }
    let mean = match round_mean(partial, xs.len(), Format::Binary32) {
        Rounded::Certain(mean) => mean as f32,
        Rounded::ExactZero => 0.0,
        Rounded::Unsure => exact_sum(xs, threads, ExactSum::add_f32s).mean_f32(),
    };
    signed_zero(mean.into(), xs) as f32
}

/// The mean of `xs`, correctly rounded: the exact mean rounded once to the nearest f64, ties to
/// even. NaN for an empty slice. One thread.
pub fn mean_f64(xs: &[f64]) -> f64 {
    mean_f64_threads(xs, 1)
}

/// [`mean_f64`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one. The result does not depend on the count.
pub fn mean_f64_threads(xs: &[f64], threads: usize) -> f64 {
    mean_f64_using(xs, threads, Level::selected())
}

/// [`mean_f64_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f64_using(xs: &[f64], threads: usize, level: Level) -> f64 {
    match xs {
        [] => return f64::NAN,
        [x] => return *x,
        _ => {}
    }
    let partial = parallel::map_merge(xs, threads, |part| kernels::sum_f64_at(level, part), Partial::merge);
    let mean = match round_mean(partial, xs.len(), Format::Binary64) {
        Rounded::Certain(mean) => mean,
        Rounded::ExactZero => 0.0,
        // Also special values, and finite values whose float sum overflowed: the exact
        // accumulator tells them apart and never overflows.
        Rounded::Unsure => exact_sum(xs, threads, ExactSum::add_f64s).mean_f64(),
    };
    signed_zero(mean, xs)
}

/// The exact sum of `xs`, on up to `threads` threads.
fn exact_sum<T: Sync>(xs: &[T], threads: usize, add: fn(&mut ExactSum, &[T])) -> ExactSum {
    parallel::map_merge(
        xs,
        threads,
        |part| {
            let mut sum = ExactSum::new();
            add(&mut sum, part);
            sum
        },
        |mut total, part| {
            total.merge(&part);
            total
        },
    )
}

/// A zero mean takes the sign IEEE addition gives an exactly zero sum: -0.0 when every value is
/// -0.0 (as numpy's mean of `[-0.0]` is), else +0.0. Other means pass through. `xs` is read only
/// for a zero mean, and only up to its first value that is not -0.0.
fn signed_zero<T: Into<f64> + Copy>(mean: f64, xs: &[T]) -> f64 {
    if mean != 0.0 || mean.is_sign_negative() {
        return mean; // a negative zero here is a negative mean that underflowed
    }
    let all_negative_zero = xs.iter().all(|&x| {
        let x: f64 = x.into();
        x == 0.0 && x.is_sign_negative()
    });
    if all_negative_zero { -0.0 } else { 0.0 }
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

