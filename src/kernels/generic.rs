//! The summation algorithms, written once over a vector of f64 lanes ([`F64Lanes`]) and
//! instantiated per instruction set in `x86_64/` (memchr's layout).
//!
//! Both kernels keep `ACCUMULATORS` independent vectors so that adds from different iterations
//! overlap (an add's latency is several cycles; two or more issue per cycle). Heads need no
//! special case (loads are unaligned); the tail is copied into a zero-padded vector, so nothing
//! is read past the end of the slice.

use super::DoubleDouble;

/// A vector of `LANES` f64 values and the operations the kernels need.
///
/// # Safety
/// Every method may only be called on a CPU that has the implementation's instruction set;
/// the `x86_64` entry points guarantee this with `#[target_feature]` and runtime detection.
pub(super) trait F64Lanes: Copy {
    /// f64 lanes in one vector (also the number of f32 values one widening load takes).
    const LANES: usize;

    /// Every lane `x`.
    unsafe fn splat(x: f64) -> Self;
    /// All lanes -0.0: the identity of IEEE addition (-0 + x is x, even for x = -0).
    #[inline(always)]
    unsafe fn negative_zero() -> Self {
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { Self::splat(-0.0) }
    }
    /// Loads `LANES` f64 from the start of `xs`, which must hold at least that many.
    unsafe fn load(xs: &[f64]) -> Self;
    /// Loads `LANES` f32 from the start of `xs` (at least that many), converting each exactly.
    unsafe fn load_widened(xs: &[f32]) -> Self;
    unsafe fn add(self, other: Self) -> Self;
    unsafe fn sub(self, other: Self) -> Self;
    /// `self + other`, rounded the same way, but issued to the FMA units as
    /// `self * one + other` where the CPU has them (`one` holds 1.0 in every lane): a CPU with
    /// two add pipes and two FMA pipes then runs more of the double-double kernel's adds per
    /// cycle. `one` comes from outside so that the compiler cannot fold the FMA back into an add.
    #[inline(always)]
    unsafe fn add_on_fma(self, other: Self, one: Self) -> Self {
        let _ = one;
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { self.add(other) }
    }
    /// `self - other` on the FMA units where available (see `add_on_fma`).
    #[inline(always)]
    unsafe fn sub_on_fma(self, other: Self, one: Self) -> Self {
        let _ = one;
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { self.sub(other) }
    }
    /// Adds the lanes, each into a double-double.
    unsafe fn fold_into(self, total: DoubleDouble) -> DoubleDouble;
}

/// Independent accumulator vectors.
const ACCUMULATORS: usize = 8;
/// Iterations (one load per accumulator each) between folds of the f32 kernel's lane sums into
/// the double-double total: each lane adds at most `FOLD_EVERY` values in plain f64 (at most
/// `ACCUMULATORS` in the last block's extra accumulator), so the rounding error is at most
/// `FOLD_EVERY * 2^-53 * sum(|x|)` of the values in that stretch.
const FOLD_EVERY: usize = 256;

/// `a + b` and its rounding error, lane by lane (Knuth's TwoSum); `one` is 1.0 in every lane.
#[inline(always)]
unsafe fn two_sum<V: F64Lanes>(a: V, b: V, one: V) -> (V, V) {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe {
        let s = a.add(b);
        let b_virtual = s.sub_on_fma(a, one);
        let a_virtual = s.sub_on_fma(b_virtual, one);
        (s, a.sub(a_virtual).add(b.sub_on_fma(b_virtual, one)))
    }
}

/// 1.0 in every lane, opaque to the optimiser (see `F64Lanes::add_on_fma`).
#[inline(always)]
unsafe fn opaque_one<V: F64Lanes>() -> V {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe { V::splat(core::hint::black_box(1.0)) }
}

/// A double-double per lane.
#[derive(Clone, Copy)]
struct LaneSums<V> {
    hi: V,
    lo: V,
}

impl<V: F64Lanes> LaneSums<V> {
    #[inline(always)]
    unsafe fn new() -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe { LaneSums { hi: V::negative_zero(), lo: V::negative_zero() } }
    }

    #[inline(always)]
    unsafe fn add(self, x: V, one: V) -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe {
            let (hi, err) = two_sum(self.hi, x, one);
            LaneSums { hi, lo: self.lo.add_on_fma(err, one) }
        }
    }

    #[inline(always)]
    unsafe fn fold_into(self, total: DoubleDouble) -> DoubleDouble {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe {
            let with_hi = self.hi.fold_into(total);
            // The error terms go to the low part directly: they are tiny, and passing them
            // through the high part would turn a -0.0 sum into +0.0.
            let errors = self.lo.fold_into(DoubleDouble::NEGATIVE_ZERO);
            DoubleDouble { hi: with_hi.hi, lo: with_hi.lo + errors.hi + errors.lo }
        }
    }
}

/// Sum of f32 values: exact conversions, plain f64 lane adds, folded into double-double lanes
/// every `FOLD_EVERY` iterations.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn sum_f32<V: F64Lanes>(xs: &[f32]) -> DoubleDouble {
    let step = V::LANES * ACCUMULATORS;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements, as its comment says.
    unsafe {
        let one = opaque_one::<V>();
        let mut folded = LaneSums::<V>::new();
        for block in xs.chunks(step * FOLD_EVERY) {
            let mut acc = [V::negative_zero(); ACCUMULATORS];
            let mut chunks = block.chunks_exact(step);
            for chunk in &mut chunks {
                for (k, a) in acc.iter_mut().enumerate() {
                    // chunk has `step` = ACCUMULATORS * LANES elements.
                    // On the FMA units: the conversions keep the add pipes busy (measured:
                    // 123 -> 155 GB/s from L2 with AVX-512 on the dev machine).
                    *a = a.add_on_fma(V::load_widened(&chunk[k * V::LANES..]), one);
                }
            }
            // Only the last block has a remainder: fewer than ACCUMULATORS whole vectors, then
            // one zero-padded vector, into one more accumulator.
            let mut extra = V::negative_zero();
            let mut vectors = chunks.remainder().chunks_exact(V::LANES);
            for vector in &mut vectors {
                // vector has exactly LANES elements.
                extra = extra.add(V::load_widened(vector));
            }
            let tail = vectors.remainder();
            if !tail.is_empty() {
                let mut padded = [-0.0f32; 16];
                padded[..tail.len()].copy_from_slice(tail);
                // padded holds 16 >= LANES elements.
                extra = extra.add(V::load_widened(&padded));
            }
            for a in acc.into_iter().chain([extra]) {
                folded = folded.add(a, one);
            }
        }
        folded.fold_into(DoubleDouble::NEGATIVE_ZERO)
    }
}

/// Independent double-double accumulators of the f64 kernel (each add is a 6-operation TwoSum
/// whose critical path is one add, so fewer are needed than for the f32 kernel).
const DD_ACCUMULATORS: usize = 8;

/// Sum of f64 values, every add a TwoSum into double-double lanes.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn sum_f64<V: F64Lanes>(xs: &[f64]) -> DoubleDouble {
    let step = V::LANES * DD_ACCUMULATORS;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements, as its comment says.
    unsafe {
        let one = opaque_one::<V>();
        let mut acc = [LaneSums::<V>::new(); DD_ACCUMULATORS];
        let mut chunks = xs.chunks_exact(step);
        for chunk in &mut chunks {
            for (k, a) in acc.iter_mut().enumerate() {
                // chunk has `step` = DD_ACCUMULATORS * LANES elements.
                *a = a.add(V::load(&chunk[k * V::LANES..]), one);
            }
        }
        // Fewer than DD_ACCUMULATORS whole vectors, then one zero-padded vector.
        let mut vectors = chunks.remainder().chunks_exact(V::LANES);
        for vector in &mut vectors {
            // vector has exactly LANES elements.
            acc[0] = acc[0].add(V::load(vector), one);
        }
        let tail = vectors.remainder();
        if !tail.is_empty() {
            let mut padded = [-0.0f64; 8];
            padded[..tail.len()].copy_from_slice(tail);
            // padded holds 8 >= LANES elements.
            acc[0] = acc[0].add(V::load(&padded), one);
        }
        acc.iter().fold(DoubleDouble::NEGATIVE_ZERO, |total, a| a.fold_into(total))
    }
}

/// The read-bandwidth probe of the benchmark: converts and adds f32 values in plain f64 lanes,
/// nothing more (no folds, no error terms). Not used for means.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn plain_sum_f32<V: F64Lanes>(xs: &[f32]) -> f64 {
    let step = V::LANES * ACCUMULATORS;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements.
    unsafe {
        let one = opaque_one::<V>();
        let mut acc = [V::negative_zero(); ACCUMULATORS];
        let mut chunks = xs.chunks_exact(step);
        for chunk in &mut chunks {
            for (k, a) in acc.iter_mut().enumerate() {
                *a = a.add_on_fma(V::load_widened(&chunk[k * V::LANES..]), one);
            }
        }
        let total = acc.iter().fold(DoubleDouble::NEGATIVE_ZERO, |t, a| a.fold_into(t));
        chunks.remainder().iter().fold(total.hi, |s, &x| s + f64::from(x))
    }
}
