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
//! exact mean rounded once to the result type, ties to even (sums never overflow). An exactly
//! zero sum gives +0.0, as numpy's sums (which start from +0.0) do, even for -0.0s.

//!
//! The public Rust API is this module's functions, [`Level`], [`exact::ExactSum`] and the C ABI
//! in [`ffi`]. The layers below are the crate's own; the cargo feature `internals` makes them
//! public for the crate's integration tests, benches and fuzz targets only.
#![cfg_attr(not(feature = "internals"), deny(missing_docs))]

pub mod exact;
pub mod ffi;
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod kernels;
#[cfg(not(feature = "internals"))]
pub(crate) mod kernels;
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod parallel;
#[cfg(not(feature = "internals"))]
pub(crate) mod parallel;
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod reduce;
#[cfg(not(feature = "internals"))]
pub(crate) mod reduce;
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod rounding;
#[cfg(not(feature = "internals"))]
pub(crate) mod rounding;

use exact::ExactSum;
pub use kernels::Level;
use kernels::{Order, Partial};
use rounding::{Format, Rounded, round_mean};

/// The mean of `xs`, correctly rounded: the exact mean rounded once to the nearest f32, ties to
/// even. NaN for an empty slice. One thread.
pub fn mean_f32(xs: &[f32]) -> f32 {
    mean_f32_threads(xs, 1)
}

/// [`mean_f32`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one. The result does not depend on the count.
pub fn mean_f32_threads(xs: &[f32], threads: usize) -> f32 {
    mean_using(xs, threads, Level::selected())
}

/// [`mean_f32_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f32_using(xs: &[f32], threads: usize, level: Level) -> f32 {
    mean_using(xs, threads, level)
}

/// The mean of `xs`, correctly rounded: the exact mean rounded once to the nearest f64, ties to
/// even. NaN for an empty slice. One thread.
pub fn mean_f64(xs: &[f64]) -> f64 {
    mean_f64_threads(xs, 1)
}

/// [`mean_f64`] on up to `threads` threads (0: `NPMEAN_NUM_THREADS` or every CPU); arrays too
/// small to gain from threads use fewer, down to one. The result does not depend on the count.
pub fn mean_f64_threads(xs: &[f64], threads: usize) -> f64 {
    mean_using(xs, threads, Level::selected())
}

/// [`mean_f64_threads`] with the kernels of a given SIMD level (one the CPU lacks runs the
/// portable kernel): for tests and benchmarks.
pub fn mean_f64_using(xs: &[f64], threads: usize, level: Level) -> f64 {
    mean_using(xs, threads, level)
}

/// What the mean needs to know of an element type.
trait Element: Copy + Sync + Into<f64> + PartialEq {
    const FORMAT: Format;
    const ZERO: Self;
    const NAN: Self;
    fn sum_at(level: Level, xs: &[Self], order: Order) -> FastSum;
    fn add_exact(sum: &mut ExactSum, xs: &[Self]);
    fn exact_mean(sum: &ExactSum) -> Self;
    /// The value of the format held in `mean` (exact: it was rounded to the format already).
    fn from_f64(mean: f64) -> Self;
    /// The mean of values whose fast sum is not finite, if it can be had without the exact sum.
    fn special_mean(xs: &[Self]) -> Option<Self>;
}

impl Element for f32 {
    const FORMAT: Format = Format::Binary32;
    const ZERO: f32 = 0.0;
    const NAN: f32 = f32::NAN;
    fn sum_at(level: Level, xs: &[f32], order: Order) -> FastSum {
        let (partial, exact) = kernels::sum_f32_split_at(level, xs, order);
        FastSum { partial, exact }
    }
    fn add_exact(sum: &mut ExactSum, xs: &[f32]) {
        kernels::add_exact_f32(sum, xs);
    }
    fn exact_mean(sum: &ExactSum) -> f32 {
        sum.mean_f32()
    }
    fn from_f64(mean: f64) -> f32 {
        mean as f32
    }
    fn special_mean(xs: &[f32]) -> Option<f32> {
        // f32 values cannot overflow an f64 sum, so an infinity or NaN is in the input, and a
        // plain f64 sum combines them by IEEE rules (NaN wins; inf + -inf is NaN; else the
        // infinity) at full speed.
        Some(kernels::plain_sum_f32(xs) as f32)
    }
}

impl Element for f64 {
    const FORMAT: Format = Format::Binary64;
    const ZERO: f64 = 0.0;
    const NAN: f64 = f64::NAN;
    fn sum_at(level: Level, xs: &[f64], order: Order) -> FastSum {
        let (partial, exact) = kernels::sum_f64_split_at(level, xs, order);
        FastSum { partial, exact }
    }
    fn add_exact(sum: &mut ExactSum, xs: &[f64]) {
        kernels::add_exact_f64(sum, xs);
    }
    fn exact_mean(sum: &ExactSum) -> f64 {
        sum.mean_f64()
    }
    fn from_f64(mean: f64) -> f64 {
        mean
    }
    fn special_mean(_: &[f64]) -> Option<f64> {
        // Special values, or finite values whose f64 sum overflowed: only the exact
        // accumulator tells them apart.
        None
    }
}

/// The chain every mean runs: the fast sum with its error bound, the rounding test, and the
/// exact sum only when the test cannot decide.
fn mean_using<T: Element>(xs: &[T], threads: usize, level: Level) -> T {
    match xs {
        [] => return T::NAN,
        [x] if *x != T::ZERO => return *x, // the exact mean of one value is that value
        _ => {}
    }
    let mean = match first_pass(xs, threads, level) {
        FirstPass::Special(mean) => return mean,
        FirstPass::Rounded(Rounded::Certain(mean)) => mean,
        FirstPass::Rounded(Rounded::ExactZero) => return T::from_f64(0.0),
        FirstPass::Rounded(Rounded::Unsure) => T::exact_mean(&exact_sum(xs, threads, T::add_exact)).into(),
    };
    T::from_f64(mean)
}

/// What the first pass over the values settles.
enum FirstPass<T> {
    /// The mean of values with an infinity or NaN among them.
    Special(T),
    /// The rounding test's verdict on the fast sum.
    Rounded(Rounded),
}

/// The fast sum over `xs` (two values or more) and the rounding test on it.
fn first_pass<T: Element>(xs: &[T], threads: usize, level: Level) -> FirstPass<T> {
    // Blocks alternate direction from call to call on arrays up to a few MiB: repeated means of
    // an array about the size of the L2 cache then find more of it there (see `Order`); the
    // mean is the same.
    let order = Order::for_pass(size_of_val(xs));
    let FastSum { partial, exact } =
        parallel::map_merge(xs, threads, |part| T::sum_at(level, part, order), FastSum::merge);
    if !partial.sum.is_finite()
        && let Some(mean) = T::special_mean(xs)
    {
        return FirstPass::Special(mean);
    }
    FirstPass::Rounded(match exact {
        None => round_mean(partial, xs.len(), T::FORMAT),
        Some(exact) => round_split_mean::<T>(partial, exact, xs.len()),
    })
}

/// Whether the mean of `xs` at `level` (one thread) needs the exact path, a second pass over
/// the values: for tests, the benchmark and `examples/fallback_rate.rs`.
pub fn takes_exact_path_f32(xs: &[f32], level: Level) -> bool {
    xs.len() > 1 && matches!(first_pass(xs, 1, level), FirstPass::Rounded(Rounded::Unsure))
}

/// [`takes_exact_path_f32`] for f64 values.
pub fn takes_exact_path_f64(xs: &[f64], level: Level) -> bool {
    xs.len() > 1 && matches!(first_pass(xs, 1, level), FirstPass::Rounded(Rounded::Unsure))
}

/// The fast pass over (part of) an array: a double-double with an error bound, and the blocks
/// summed exactly instead (f32 with AVX-512: those whose plain sums could not be certified).
struct FastSum {
    partial: Partial,
    exact: Option<ExactSum>,
}

impl FastSum {
    fn merge(self, other: FastSum) -> FastSum {
        let (partial, exact) = kernels::merge_split((self.partial, self.exact), (other.partial, other.exact));
        FastSum { partial, exact }
    }
}

/// The mean of `n` values whose sum is `partial` plus `exact`. With no doubt about `partial`
/// (error bound 0) the whole sum is exact: rounded exactly, no second pass. Otherwise `exact`'s
/// sum, rounded once, joins `partial` with half an ulp more of error, for the rounding test.
fn round_split_mean<T: Element>(partial: Partial, mut exact: ExactSum, n: usize) -> Rounded {
    if partial.error == 0.0 {
        exact.count_values((n as u64).saturating_sub(exact.count()));
        exact.add_partial(partial.sum.hi);
        exact.add_partial(partial.sum.lo);
        return Rounded::Certain(T::exact_mean(&exact).into());
    }
    let rounded = exact.sum_f64();
    if !rounded.is_finite() {
        return Rounded::Unsure;
    }
    let mut combined = partial.add_f64(rounded);
    combined.error += (rounded.abs() * kernels::UNIT_ROUNDOFF).max(f64::from_bits(1));
    round_mean(combined, n, T::FORMAT)
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
            let merged = total.merge(&part);
            debug_assert!(merged.is_ok(), "the parts of one slice count fewer than 2^64 values");
            total
        },
    )
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
