//! Summation kernels: each turns a slice into an unevaluated double-double sum and a bound on
//! its error (a [`Partial`]); a bound of exactly 0 certifies the sum exact.
//!
//! - `portable`: scalar code that compiles everywhere; the naive twin the vector kernels are
//!   tested against.
//! - `generic`: the vector algorithms, written once over a vector-of-f64 trait.
//! - `mxcsr`: the certificate (x86's sticky inexact flag, read around a block of adds), and
//!   the default floating-point environment for callers from C.
//! - `certificate`: whether that flag may be trusted at each level (a self-test on first use).
//! - `host`: tuning decided per CPU (software prefetch).
//! - `gather`: strided or byte-swapped runs copied into native order for the run kernels.
//! - `rows`: many tiny rows at once, one lane per row (a reduction along a short last axis).
//! - `x86_64`: that algorithm instantiated for SSE2, AVX2 and AVX-512, and the AVX-512 exact
//!   kernels (exponent windows) of the exact path.
//!
//! The level is chosen once, on first use, and cached: the best the CPU has, or the one the
//! environment variable `NPMEAN_SIMD` names (`scalar`, `sse2`, `avx2`, `avx512`). A level the
//! CPU lacks falls back to the best level below it; an unknown name is ignored.

pub mod certificate;
pub mod gather;
mod generic;
pub mod host;
mod integer;
pub(crate) mod mxcsr;
pub mod portable;
pub mod rows;
#[cfg(target_arch = "x86_64")]
mod x86_64;

pub(crate) use generic::{prefetch, prefetch_ahead};
pub use integer::{Bytes, sum_bytes, sum_dwords, sum_qwords, sum_words};
// The per-level entry point, for the tests that run it at every level.
#[cfg(feature = "internals")]
pub use integer::sum_qwords_at;
use std::sync::atomic::{AtomicU8, Ordering};

/// An unevaluated sum `hi + lo`: about 106 bits of a partial sum.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DoubleDouble {
    pub hi: f64,
    pub lo: f64,
}

impl DoubleDouble {
    /// The empty sum. (The sign of a zero mean is decided in the crate root, not here.)
    pub const ZERO: DoubleDouble = DoubleDouble { hi: 0.0, lo: 0.0 };

    /// Whether both parts are finite.
    pub fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }
}

/// The order a kernel visits its blocks in (64 KiB each with AVX-512: one way of the L2 cache).
///
/// Either order sums the same values in the same blocks; only the rounding of the double-double
/// may differ, within the same error bound, so means (correctly rounded) are identical. What
/// differs is the cache: an array close to the L2 size leaves some cache sets with more of its
/// lines than the set has ways (physical pages fall where they fall), and a pass in the same
/// order as the last one evicts each of those lines just before reading it, so every line of
/// such a set comes from L3 again. A pass in the opposite order meets the most recently used
/// lines first, and they are still there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Forward,
    Backward,
}

/// Passes over at most this many bytes alternate their order (see [`Order::for_pass`]).
pub const ALTERNATE_UP_TO_BYTES: usize = 4 << 20;

impl Order {
    /// The order for a pass over `bytes` bytes: alternating (see [`Order::alternating`]) up to
    /// [`ALTERNATE_UP_TO_BYTES`], forward beyond. Measured on the dev machine (1 MiB of L2 per
    /// core; float64, a dozen arrays or more each, repeated means): alternating is 9-10% faster at
    /// 0.8 MB (median; the slowest array 15%), 11% at 2 MB, 4% at 3 MB, 2% at 4 MB, 1% slower at
    /// 8 MB, and 10-20% slower from DRAM, where a block visited backward starts ahead of the
    /// software prefetch of the block before it.
    pub fn for_pass(bytes: usize) -> Order {
        if bytes <= ALTERNATE_UP_TO_BYTES { Order::alternating() } else { Order::Forward }
    }

    /// Forward and backward on alternate calls from the same thread (a thread-local flag: no
    /// cache line is shared between threads that call concurrently).
    pub fn alternating() -> Order {
        thread_local! {
            static LAST_BACKWARD: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
        }
        let backward = LAST_BACKWARD.with(|last| {
            let backward = !last.get();
            last.set(backward);
            backward
        });
        if backward { Order::Backward } else { Order::Forward }
    }
}

/// 2^-53, the unit roundoff of f64: an add or FMA result is off by at most this times its
/// magnitude.
pub const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 53) as f64;

/// A partial sum and a bound on its error: `|exact sum - (sum.hi + sum.lo)| <= error`, as long
/// as both are finite. The bound is itself accumulated in f64; consumers allow for that rounding
/// with a relative margin (see `rounding.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Partial {
    pub sum: DoubleDouble,
    pub error: f64,
}

impl Partial {
    pub const ZERO: Partial = Partial { sum: DoubleDouble::ZERO, error: 0.0 };
    /// A sum that went infinite or NaN: only the exact path can say more.
    pub const NAN: Partial = Partial { sum: DoubleDouble { hi: f64::NAN, lo: f64::NAN }, error: f64::NAN };

    /// The value `x`, exactly.
    pub const fn exact(x: f64) -> Partial {
        Partial { sum: DoubleDouble { hi: x, lo: 0.0 }, error: 0.0 }
    }

    /// Adds `x`: TwoSum keeps the high part's error exactly; the low part's add may round, and
    /// the magnitude of that rounding error (computed exactly, with TwoSum) joins the bound.
    #[inline(always)]
    pub fn add_f64(self, x: f64) -> Partial {
        let (hi, err) = two_sum(self.sum.hi, x);
        Partial { sum: DoubleDouble { hi, lo: self.sum.lo }, error: self.error }.add_to_lo(err)
    }

    /// Adds `x` (small next to the sum) to the low part alone.
    #[inline(always)]
    pub fn add_to_lo(self, x: f64) -> Partial {
        let (lo, err) = two_sum(self.sum.lo, x);
        Partial { sum: DoubleDouble { hi: self.sum.hi, lo }, error: self.error + err.abs() }
    }

    /// Adds a partial sum computed elsewhere (another thread, another block).
    pub fn merge(self, other: Partial) -> Partial {
        let mut merged = self.add_f64(other.sum.hi).add_to_lo(other.sum.lo);
        merged.error += other.error;
        merged
    }

    pub fn is_finite(self) -> bool {
        self.sum.is_finite() && self.error.is_finite()
    }
}

/// `a + b` and its rounding error, exactly: `s + err == a + b` (no overflow).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// An instruction-set level, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Portable scalar code (every target).
    Scalar = 1,
    /// SSE2: two f64 lanes (every x86_64).
    Sse2 = 2,
    /// AVX2 with FMA: four f64 lanes.
    Avx2 = 3,
    /// AVX-512 F and DQ: eight f64 lanes, and the exact exponent-window kernels.
    Avx512 = 4,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Scalar, Level::Sse2, Level::Avx2, Level::Avx512];

    /// The name `NPMEAN_SIMD` takes and `mean_simd_level` reports.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Sse2 => "sse2",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    /// The same name, NUL-terminated for C.
    pub(crate) const fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            Level::Scalar => c"scalar",
            Level::Sse2 => c"sse2",
            Level::Avx2 => c"avx2",
            Level::Avx512 => c"avx512",
        }
    }

    /// The level a name (as `NPMEAN_SIMD` takes it, any case) names.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the level.
    pub fn is_available(self) -> bool {
        match self {
            Level::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Level::Sse2 => true, // part of x86_64
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512dq")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every level this CPU can run, lowest first.
    pub fn available() -> impl Iterator<Item = Level> {
        Level::ALL.into_iter().filter(|level| level.is_available())
    }

    /// The best level this CPU can run.
    pub fn best() -> Level {
        Level::available().last().unwrap_or(Level::Scalar)
    }

    /// The level in use: chosen on first call, then cached.
    pub fn selected() -> Level {
        match SELECTED.load(Ordering::Relaxed) {
            1 => Level::Scalar,
            2 => Level::Sse2,
            3 => Level::Avx2,
            4 => Level::Avx512,
            _ => select(),
        }
    }
}

/// 0 until the first call; then the selected level's discriminant. Racing first calls compute
/// the same value, so a plain store is enough.
static SELECTED: AtomicU8 = AtomicU8::new(0);

#[cold]
fn select() -> Level {
    let requested = std::env::var("NPMEAN_SIMD").ok().and_then(|name| Level::from_name(&name));
    let level = match requested {
        Some(wanted) => Level::available().filter(|&l| l <= wanted).last().unwrap_or(Level::Scalar),
        None => Level::best(),
    };
    SELECTED.store(level as u8, Ordering::Relaxed);
    level
}

/// Sum of f32 values, each converted to f64 exactly, at a given level, blocks in a given order;
/// a level this CPU lacks runs the portable kernel (which has no blocks, and reads in order).
pub fn sum_f32_at(level: Level, xs: &[f32], order: Order) -> Partial {
    with_prefetch_trial(xs, |xs| sum_f32_kernel_at(level, xs, order), Partial::merge)
}

/// [`sum_f32_at`] without the prefetch trial.
fn sum_f32_kernel_at(level: Level, xs: &[f32], order: Order) -> Partial {
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::sum_f32_avx512(xs, order, None),
                Level::Avx2 => return x86_64::sum_f32_avx2(xs, order, None),
                Level::Sse2 => return x86_64::sum_f32_sse2(xs, order, None),
                Level::Scalar => {}
            }
        }
    }
    portable::sum_f32(xs)
}

/// [`sum_f32_at`], except that where the level has an exact kernel at memory speed (AVX-512's
/// exponent windows), the blocks whose plain sums the kernel cannot certify exact are added to
/// an exact accumulator instead of the double-double: the sum is then `partial` plus the
/// accumulator (if any), and is known exactly whenever `partial.error` is zero.
pub fn sum_f32_split_at(level: Level, xs: &[f32], order: Order) -> (Partial, Option<crate::exact::ExactSum>) {
    with_prefetch_trial(xs, |xs| sum_f32_split_kernel_at(level, xs, order), merge_split)
}

/// Two parts' [`sum_f32_split_at`] as one.
pub fn merge_split(
    (partial, exact): (Partial, Option<crate::exact::ExactSum>),
    (other_partial, other_exact): (Partial, Option<crate::exact::ExactSum>),
) -> (Partial, Option<crate::exact::ExactSum>) {
    let exact = match (exact, other_exact) {
        (Some(mut mine), Some(theirs)) => {
            let merged = mine.merge(&theirs);
            debug_assert!(merged.is_ok(), "the parts of one slice count fewer than 2^64 values");
            Some(mine)
        }
        (mine, theirs) => mine.or(theirs),
    };
    (partial.merge(other_partial), exact)
}

/// [`sum_f32_split_at`] without the prefetch trial.
fn sum_f32_split_kernel_at(level: Level, xs: &[f32], order: Order) -> (Partial, Option<crate::exact::ExactSum>) {
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx512 && level.is_available() {
        let mut exact: Option<crate::exact::ExactSum> = None;
        let mut add_exactly = |block: &[f32]| {
            let sum = exact.get_or_insert_with(crate::exact::ExactSum::new);
            // SAFETY: AVX-512F was just detected on this CPU.
            unsafe { x86_64::exact_f32::add_f32s(sum, block) };
        };
        // SAFETY: AVX-512F and AVX-512DQ were just detected on this CPU.
        let partial = unsafe { x86_64::sum_f32_avx512(xs, order, Some(&mut add_exactly)) };
        return (partial, exact);
    }
    (sum_f32_kernel_at(level, xs, order), None)
}

/// [`sum_f64_at`], except that with AVX-512 (exact kernels at memory speed) the blocks whose
/// error terms rounded are added to an exact accumulator instead, as in [`sum_f32_split_at`].
pub fn sum_f64_split_at(level: Level, xs: &[f64], order: Order) -> (Partial, Option<crate::exact::ExactSum>) {
    with_prefetch_trial(xs, |xs| sum_f64_split_kernel_at(level, xs, order), merge_split)
}

/// [`sum_f64_split_at`] without the prefetch trial.
fn sum_f64_split_kernel_at(level: Level, xs: &[f64], order: Order) -> (Partial, Option<crate::exact::ExactSum>) {
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx512 && level.is_available() {
        let mut exact: Option<(crate::exact::ExactSum, x86_64::exact_f64::ExactF64)> = None;
        let mut add_exactly = |block: &[f64]| {
            let (sum, adder) =
                exact.get_or_insert_with(|| (crate::exact::ExactSum::new(), x86_64::exact_f64::ExactF64::new()));
            // SAFETY: AVX-512F and AVX-512DQ were just detected on this CPU.
            unsafe { adder.add(sum, block) };
        };
        // SAFETY: AVX-512F and AVX-512DQ were just detected on this CPU.
        let partial = unsafe { x86_64::sum_f64_avx512(xs, order, Some(&mut add_exactly)) };
        let exact = exact.map(|(mut sum, adder)| {
            adder.finish(&mut sum);
            sum
        });
        return (partial, exact);
    }
    (sum_f64_kernel_at(level, xs, order), None)
}

/// Sum of f64 values in double-double at a given level, blocks in a given order; a level this
/// CPU lacks runs the portable kernel (which has no blocks, and reads in order).
pub fn sum_f64_at(level: Level, xs: &[f64], order: Order) -> Partial {
    with_prefetch_trial(xs, |xs| sum_f64_kernel_at(level, xs, order), Partial::merge)
}

/// [`sum_f64_at`] without the prefetch trial.
fn sum_f64_kernel_at(level: Level, xs: &[f64], order: Order) -> Partial {
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::sum_f64_avx512(xs, order, None),
                Level::Avx2 => return x86_64::sum_f64_avx2(xs, order, None),
                Level::Sse2 => return x86_64::sum_f64_sse2(xs, order, None),
                Level::Scalar => {}
            }
        }
    }
    portable::sum_f64(xs)
}

/// `sum(xs)`; but the first long input of a process (per [`host::PrefetchTrial`]) first sums
/// its first blocks alternately without and with software prefetch, timed, then the rest with
/// the choice made, the parts merged. The same values either way: only the speed depends on it.
fn with_prefetch_trial<T, R>(xs: &[T], sum: impl Fn(&[T]) -> R, merge: impl Fn(R, R) -> R) -> R {
    if size_of_val(xs) < host::TRIAL_FROM_BYTES {
        return sum(xs);
    }
    let Some(mut trial) = host::PrefetchTrial::start() else {
        return sum(xs);
    };
    let block = host::TRIAL_BLOCK_BYTES / size_of::<T>();
    let (head, rest) = xs.split_at(2 * host::TRIAL_BLOCKS * block);
    // Without, with, without, ...: both choices meet the same state of memory.
    let head_sum =
        head.chunks_exact(block).enumerate().map(|(k, part)| trial.time(k % 2 == 1, || sum(part))).reduce(&merge);
    drop(trial); // (keeps the faster choice if it won clearly)
    match head_sum {
        Some(head_sum) => merge(head_sum, sum(rest)),
        None => sum(rest),
    }
}

/// Runs shorter than this are summed one value at a time (the vector lanes' final fold costs
/// more than they save).
const RUN_VECTORS_FROM: usize = 32;

/// The sum of a short run of f64 values (a cell of an axis reduction, or a buffer of decoded
/// values) with an error bound, at a given level: no blocks and no certificate, so nothing to
/// set up (see `generic::run_sum`); the portable twin is [`portable::sum_f64`].
pub fn run_sum_f64_at(level: Level, xs: &[f64]) -> Partial {
    if xs.len() < RUN_VECTORS_FROM {
        // A few values: one double-double, no lanes to fold at the end.
        return xs.iter().fold(Partial::ZERO, |total, &x| total.add_f64(x));
    }
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::run_sum_avx512(xs),
                Level::Avx2 => return x86_64::run_sum_avx2(xs),
                Level::Sse2 => return x86_64::run_sum_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    portable::sum_f64(xs)
}

/// Converts `raws` (binary16 bits) into `out` as f32, exactly, eight at a time with F16C, and
/// says so; false, with nothing written, at levels below AVX2 or on a CPU without F16C (the
/// caller decodes another way). `out` must be as long as `raws`.
pub fn f16_to_f32_at(level: Level, raws: &[u16], out: &mut [f32]) -> bool {
    assert_eq!(raws.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && level.is_available() && std::arch::is_x86_feature_detected!("f16c") {
        // SAFETY: AVX2 (hence AVX) and F16C were just detected on this CPU.
        unsafe { x86_64::f16_to_f32_f16c(raws, out) };
        return true;
    }
    let _ = (level, raws, out);
    false
}

/// [`run_sum_f64_at`] for f32 values (each converted exactly).
pub fn run_sum_f32_at(level: Level, xs: &[f32]) -> Partial {
    if xs.len() < RUN_VECTORS_FROM {
        return xs.iter().fold(Partial::ZERO, |total, &x| total.add_f64(f64::from(x)));
    }
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::run_sum_f32_avx512(xs),
                Level::Avx2 => return x86_64::run_sum_f32_avx2(xs),
                Level::Sse2 => return x86_64::run_sum_f32_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    portable::sum_f32(xs)
}

/// What the NaN-skipping kernels read: f32 or f64 values, with their entry points per level
/// and the scalar twin the tests compare them with.
pub trait SkipNan: Copy + Into<f64> {
    /// The vector kernel `generic::run_sum_skipping_nan` at `level` (not Scalar, available).
    fn run_at(level: Level, xs: &[Self]) -> Option<(Partial, u64)>;
    /// The vector kernel `generic::add_row_skipping_nan` at `level`; false if none ran.
    fn row_at(
        level: Level,
        hi: &mut [f64],
        lo: &mut [f64],
        bound: &mut [f64],
        counted: &mut [f64],
        row: &[Self],
    ) -> bool;
}

macro_rules! skip_nan_dispatch {
    ($t:ty, $run512:ident, $run2:ident, $run1:ident, $row512:ident, $row2:ident, $row1:ident) => {
        impl SkipNan for $t {
            fn run_at(level: Level, xs: &[$t]) -> Option<(Partial, u64)> {
                #[cfg(target_arch = "x86_64")]
                if level.is_available() {
                    // SAFETY: each arm's feature was just detected on this CPU.
                    unsafe {
                        match level {
                            Level::Avx512 => return Some(x86_64::$run512(xs)),
                            Level::Avx2 => return Some(x86_64::$run2(xs)),
                            Level::Sse2 => return Some(x86_64::$run1(xs)),
                            Level::Scalar => {}
                        }
                    }
                }
                let _ = (level, xs);
                None
            }

            fn row_at(
                level: Level,
                hi: &mut [f64],
                lo: &mut [f64],
                bound: &mut [f64],
                counted: &mut [f64],
                row: &[$t],
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                if level.is_available() {
                    // SAFETY: each arm's feature was just detected on this CPU.
                    unsafe {
                        match level {
                            Level::Avx512 => x86_64::$row512(hi, lo, bound, counted, row),
                            Level::Avx2 => x86_64::$row2(hi, lo, bound, counted, row),
                            Level::Sse2 => x86_64::$row1(hi, lo, bound, counted, row),
                            Level::Scalar => return false,
                        }
                    }
                    return true;
                }
                let _ = (level, hi, lo, bound, counted, row);
                false
            }
        }
    };
}

skip_nan_dispatch!(
    f32,
    run_sum_skipping_nan_f32_avx512,
    run_sum_skipping_nan_f32_avx2,
    run_sum_skipping_nan_f32_sse2,
    add_row_skipping_nan_f32_avx512,
    add_row_skipping_nan_f32_avx2,
    add_row_skipping_nan_f32_sse2
);
skip_nan_dispatch!(
    f64,
    run_sum_skipping_nan_f64_avx512,
    run_sum_skipping_nan_f64_avx2,
    run_sum_skipping_nan_f64_sse2,
    add_row_skipping_nan_f64_avx512,
    add_row_skipping_nan_f64_avx2,
    add_row_skipping_nan_f64_sse2
);

/// The sum of the values of `xs` that are not NaN, with an error bound, and their count, at a
/// given level (see `generic::run_sum_skipping_nan`); the scalar twin is one double-double.
pub fn run_sum_skipping_nan_at<T: SkipNan>(level: Level, xs: &[T]) -> (Partial, u64) {
    if xs.len() >= RUN_VECTORS_FROM
        && let Some(result) = T::run_at(level, xs)
    {
        return result;
    }
    xs.iter()
        .map(|&x| x.into())
        .filter(|x: &f64| !x.is_nan())
        .fold((Partial::ZERO, 0), |(total, n), x| (total.add_f64(x), n + 1))
}

/// [`add_row_f64_at`] leaving NaNs out: a NaN adds +0.0, and `counted[j]` grows by one for each
/// `row[j]` that is not NaN (see `generic::add_row_skipping_nan`); the scalar twin is the same
/// arithmetic in a loop.
pub fn add_row_skipping_nan_at<T: SkipNan>(
    level: Level,
    hi: &mut [f64],
    lo: &mut [f64],
    bound: &mut [f64],
    counted: &mut [f64],
    row: &[T],
) {
    if T::row_at(level, hi, lo, bound, counted, row) {
        return;
    }
    for (j, &x) in row.iter().enumerate() {
        let x: f64 = x.into();
        let (x, count) = if x.is_nan() { (0.0, 0.0) } else { (x, 1.0) };
        let (sum, err) = two_sum(hi[j], x);
        hi[j] = sum;
        lo[j] += err;
        bound[j] += lo[j].abs();
        counted[j] += count;
    }
}

/// [`certified_run_f32_at`] leaving NaNs out: the exact sum of the values that are not NaN and
/// their count, if plain f64 adds give it exactly (see `generic::certified_run_skipping_nan`).
pub fn certified_run_skipping_nan_f32_at(level: Level, xs: &[f32]) -> Option<(f64, u64)> {
    #[cfg(target_arch = "x86_64")]
    if xs.len() >= CERTIFY_FROM && level.is_available() && certificate::trusted(level) {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::certified_run_skipping_nan_f32_avx512(xs),
                Level::Avx2 => return x86_64::certified_run_skipping_nan_f32_avx2(xs),
                Level::Sse2 => return x86_64::certified_run_skipping_nan_f32_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    let _ = (level, xs);
    None
}

/// Runs shorter than this are not certified: reading and writing MXCSR around the adds costs
/// more than TwoSums of a few values (measured: 3-value cells took 40% longer).
const CERTIFY_FROM: usize = 64;

/// The exact sum of `xs` if plain f64 adds give it exactly, certified by the inexact flag (see
/// `generic::certified_run`); `None` if an add rounded, where the flag is not trusted at this
/// level (`certificate`), for fewer than [`CERTIFY_FROM`] values, or without x86_64. For runs
/// of values with few significant bits.
pub fn certified_run_f64_at(level: Level, xs: &[f64]) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if xs.len() >= CERTIFY_FROM && level.is_available() && certificate::trusted(level) {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::certified_run_f64_avx512(xs),
                Level::Avx2 => return x86_64::certified_run_f64_avx2(xs),
                Level::Sse2 => return x86_64::certified_run_f64_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    let _ = (level, xs);
    None
}

/// [`certified_run_f64_at`] for f32 values (each converted exactly).
pub fn certified_run_f32_at(level: Level, xs: &[f32]) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if xs.len() >= CERTIFY_FROM && level.is_available() && certificate::trusted(level) {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::certified_run_f32_avx512(xs),
                Level::Avx2 => return x86_64::certified_run_f32_avx2(xs),
                Level::Sse2 => return x86_64::certified_run_f32_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    let _ = (level, xs);
    None
}

/// Column sums in plain f64 certified exact by the inexact flag, for a tile of a reduction down
/// columns of float32 values (whose sums rarely round): [`CertifiedColumns::begin`] clears the
/// flag, [`CertifiedColumns::add_rows_f32`] adds rows, [`CertifiedColumns::exact`] says whether
/// every add since was exact. Only these may run between begin and exact (any other inexact
/// operation would only make the answer a spurious "no": the safe side).
pub struct CertifiedColumns {
    level: Level,
}

impl CertifiedColumns {
    /// Starts a certified tile whose sums are `hi` (all zero), if the level has the flag and it
    /// is trusted (`certificate`); `None` otherwise.
    pub fn begin(level: Level, hi: &mut [f64]) -> Option<CertifiedColumns> {
        #[cfg(target_arch = "x86_64")]
        if level != Level::Scalar && level.is_available() && certificate::trusted(level) {
            mxcsr::clear_inexact(hi);
            return Some(CertifiedColumns { level });
        }
        let _ = hi;
        None
    }

    /// `hi[j] += row[j]` for every j and each of `rows` in turn, plainly, asking for the memory
    /// `ahead` bytes past each row's values as it goes (none if 0).
    pub fn add_rows_f32<const R: usize>(&self, hi: &mut [f64], rows: [&[f32]; R], ahead: isize) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `begin` checked that this level is available on this CPU.
        unsafe {
            match self.level {
                Level::Avx512 => x86_64::add_rows_plain_f32_avx512(hi, rows, ahead),
                Level::Avx2 => x86_64::add_rows_plain_f32_avx2(hi, rows, ahead),
                _ => x86_64::add_rows_plain_f32_sse2(hi, rows, ahead),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (hi, rows, ahead);
    }

    /// `hi[j] += row[j]` for every j, plainly, a NaN adding +0.0; `counted[j]` grows by one for
    /// each `row[j]` that is not NaN (integer adds in f64: exact, never raising the flag).
    pub fn add_row_skipping_nan_f32(&self, hi: &mut [f64], counted: &mut [f64], row: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `begin` checked that this level is available on this CPU.
        unsafe {
            match self.level {
                Level::Avx512 => x86_64::add_row_plain_skipping_nan_f32_avx512(hi, counted, row),
                Level::Avx2 => x86_64::add_row_plain_skipping_nan_f32_avx2(hi, counted, row),
                _ => x86_64::add_row_plain_skipping_nan_f32_sse2(hi, counted, row),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (hi, counted, row);
    }

    /// The plain f64 sum of `row` (a short run of a reduction along rows, whose sum is kept in
    /// the certified `hi`), and with `skip_nan` only of the values that are not NaN, with
    /// their count (see `generic::plain_run`).
    #[allow(clippy::needless_return)] // (the return is needed where the cfg below keeps code)
    pub fn row_sum_f32(&self, row: &[f32], skip_nan: bool) -> (f64, u64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `begin` checked that this level is available on this CPU.
        unsafe {
            return match (self.level, skip_nan) {
                (Level::Avx512, false) => (x86_64::plain_run_f32_avx512(row), row.len() as u64),
                (Level::Avx2, false) => (x86_64::plain_run_f32_avx2(row), row.len() as u64),
                (_, false) => (x86_64::plain_run_f32_sse2(row), row.len() as u64),
                (Level::Avx512, true) => x86_64::plain_run_skipping_nan_f32_avx512(row),
                (Level::Avx2, true) => x86_64::plain_run_skipping_nan_f32_avx2(row),
                (_, true) => x86_64::plain_run_skipping_nan_f32_sse2(row),
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        (f64::NAN, 0)
    }

    /// `sums[k] +=` each value of row `k` of a block of tiny rows, plainly (see
    /// `rows::tiny_row_sums_f32_at`).
    pub fn add_tiny_rows_f32(&self, sums: &mut [f64], data: &[f32], len: usize, stride: usize) {
        rows::tiny_row_sums_f32_at(self.level, data, len, stride, sums);
    }

    /// Whether no add rounded since `begin`: then `hi` holds the exact column sums.
    pub fn exact(self, hi: &[f64]) -> bool {
        !mxcsr::rounded_since_clear(hi)
    }
}

/// Per-column double-double sums for a reduction down columns: each `row[j]` added into
/// `hi[j], lo[j]` (TwoSum), with `bound[j]` the sum of `|lo[j]|` after each add, so that the
/// error of column j is at most `bound[j] * UNIT_ROUNDOFF`. The arrays hold at least
/// `row.len()` values. At a given level; the portable twin is the same arithmetic in a loop.
pub fn add_row_f64_at(level: Level, hi: &mut [f64], lo: &mut [f64], bound: &mut [f64], row: &[f64]) {
    add_rows_f64_at(level, (hi, lo, bound), [row], 0);
}

/// [`add_row_f64_at`] for `R` rows of the same length, added one after the other: the same
/// arithmetic in one pass over the lanes (`generic::add_rows`), asking for the memory `ahead`
/// bytes past each row's values as it goes (none if 0; a hint, never a read).
pub fn add_rows_f64_at<const R: usize>(level: Level, (hi, lo, bound): ColumnLanes, rows: [&[f64]; R], ahead: isize) {
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::add_rows_f64_avx512(hi, lo, bound, rows, ahead),
                Level::Avx2 => return x86_64::add_rows_f64_avx2(hi, lo, bound, rows, ahead),
                Level::Sse2 => return x86_64::add_rows_f64_sse2(hi, lo, bound, rows, ahead),
                Level::Scalar => {}
            }
        }
    }
    let _ = ahead;
    for row in rows {
        portable::add_row(hi, lo, bound, row.iter().copied());
    }
}

/// [`add_rows_f64_at`] for f32 values (each converted exactly).
pub fn add_rows_f32_at<const R: usize>(level: Level, (hi, lo, bound): ColumnLanes, rows: [&[f32]; R], ahead: isize) {
    #[cfg(target_arch = "x86_64")]
    if level.is_available() {
        // SAFETY: each arm's feature was just detected on this CPU.
        unsafe {
            match level {
                Level::Avx512 => return x86_64::add_rows_f32_avx512(hi, lo, bound, rows, ahead),
                Level::Avx2 => return x86_64::add_rows_f32_avx2(hi, lo, bound, rows, ahead),
                Level::Sse2 => return x86_64::add_rows_f32_sse2(hi, lo, bound, rows, ahead),
                Level::Scalar => {}
            }
        }
    }
    let _ = ahead;
    for row in rows {
        portable::add_row(hi, lo, bound, row.iter().map(|&x| f64::from(x)));
    }
}

/// The per-column lanes of a reduction down columns: `(hi, lo, bound)` (see [`add_row_f64_at`]).
pub type ColumnLanes<'a> = (&'a mut [f64], &'a mut [f64], &'a mut [f64]);

/// The benchmark's read probe: f32 values converted and added in plain f64 lanes at the
/// selected level, with none of the accuracy work. Not a mean; a measure of the memory limit.
pub fn plain_sum_f32(xs: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let level = Level::selected();
        // SAFETY: the selected level is available on this CPU (see `select`).
        unsafe {
            match level {
                Level::Avx512 => return x86_64::plain_sum_f32_avx512(xs),
                Level::Avx2 => return x86_64::plain_sum_f32_avx2(xs),
                Level::Sse2 => return x86_64::plain_sum_f32_sse2(xs),
                Level::Scalar => {}
            }
        }
    }
    xs.iter().map(|&x| f64::from(x)).sum()
}

/// Adds every value of `xs` to `sum`, exactly: with AVX-512 by exponent windows (see
/// `x86_64/exact_f32.rs`) when the selected level has it, else one value at a time.
pub fn add_exact_f32(sum: &mut crate::exact::ExactSum, xs: &[f32]) {
    add_exact_f32_at(Level::selected(), sum, xs);
}

/// [`add_exact_f32`] at a given level.
pub fn add_exact_f32_at(level: Level, sum: &mut crate::exact::ExactSum, xs: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx512 && level.is_available() {
        // SAFETY: AVX-512F was just detected on this CPU.
        unsafe { x86_64::exact_f32::add_f32s(sum, xs) };
        return;
    }
    sum.add_f32s(xs);
}

/// Adds every value of `xs` to `sum`, exactly: with AVX-512 by split halves and exponent windows
/// (see `x86_64/exact_f64.rs`) when the selected level has it, else one value at a time.
pub fn add_exact_f64(sum: &mut crate::exact::ExactSum, xs: &[f64]) {
    add_exact_f64_at(Level::selected(), sum, xs);
}

/// [`add_exact_f64`] at a given level.
pub fn add_exact_f64_at(level: Level, sum: &mut crate::exact::ExactSum, xs: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx512 && level.is_available() {
        // SAFETY: AVX-512F and AVX-512DQ (the Avx512 level) were just detected on this CPU.
        unsafe { x86_64::exact_f64::add_f64s(sum, xs) };
        return;
    }
    if xs.len() < LARGE_ACCUMULATOR_FROM {
        sum.add_f64s(xs);
        return;
    }
    sum.count_values(xs.len() as u64);
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx2 && level.is_available() {
        // SAFETY: AVX2 (part of the Avx2 level) was just detected on this CPU.
        unsafe { x86_64::add_f64s_large_avx2(sum, xs) };
        return;
    }
    crate::exact::large::LargeAccumulator::add_to(sum, xs);
}

/// Values from which the large superaccumulator (`exact::large`) beats adding each value to
/// the exact sum's digits: below, its table's setup and final sweep (4096 chunks) cost more.
const LARGE_ACCUMULATOR_FROM: usize = 4096;
