//! Rounding a mean once, correctly, from an approximate sum with an error bound (Ziv's
//! strategy): if every value the exact sum can take rounds to the same float, that float is the
//! correctly rounded mean; otherwise the caller computes the sum exactly.
//!
//! ```text
//! S~ = hi + lo, |S - S~| <= E            (from the kernels)
//! r  = the float nearest to S~/n          (FMA-corrected division, then one rounding)
//! d  ~ S~ - r n                            (one FMA and one add; their rounding bounded)
//! certain iff  d + E < (gap above r)/2 * n  and  -d + E < (gap below r)/2 * n
//! ```
//!
//! The gaps are powers of two, so the right-hand sides are exact. Strict inequalities leave
//! exact ties (and anything within E of one) undecided. When the kernels certified their sum
//! exact (E = 0, as they do for most ordinary data), `hi + lo` is the sum itself and is rounded
//! exactly here, ties to even (for float64, its exact remainder against the midpoints; else two
//! adds into an [`ExactSum`] and its integer division); else the exact path must sum the values
//! again.

use crate::exact::ExactSum;
use crate::kernels::{DoubleDouble, Partial, UNIT_ROUNDOFF, two_sum};
use crate::reduce::element::{f16_to_f64, f64_to_f16_bits};

/// The format of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Binary16,
    Binary32,
    Binary64,
}

/// What the bound allows us to say about the mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rounded {
    /// The correctly rounded mean (a value of the format, held in an f64).
    Certain(f64),
    /// The sum is exactly zero: the mean is a zero, whose sign the caller decides.
    ExactZero,
    /// The bound straddles a rounding boundary (or the sum is too small to reason about in
    /// f64, or not finite): the exact path must decide.
    Unsure,
}

/// Sums smaller than this are scaled up by [`TINY_SCALE`] before the test (float64 means) or
/// left to the exact path: below it, the bound's own arithmetic could underflow.
const SMALLEST_CERTIFIED_SUM: f64 = 1e-270;
/// 2^600: a sum below [`SMALLEST_CERTIFIED_SUM`] times this is exact and far above it (the
/// smallest subnormal becomes ~2e-143), and a float64 mean of the scaled sum scales back
/// exactly while it stays normal; correct rounding commutes with the scaling there.
const TINY_SCALE: f64 = f64::from_bits((1023 + 600) << 52);
/// 2^-600, the way back.
const TINY_UNSCALE: f64 = f64::from_bits((1023 - 600) << 52);
/// The smallest scaled mean taken back: 2^-421, twice the smallest normal float64 once scaled
/// down (smaller ones might be subnormal, whose rounding differs).
const SMALLEST_SCALED_MEAN: f64 = f64::from_bits((1023 - 421) << 52);
/// Relative allowance for the rounding of the error bound's own accumulation.
const BOUND_MARGIN: f64 = 1.0 + 1.0 / (1u64 << 20) as f64;

/// The mean `partial / n` rounded to `format`, if the error bound makes it certain.
#[inline]
pub fn round_mean(partial: Partial, n: usize, format: Format) -> Rounded {
    if partial.error == 0.0
        && partial.sum.lo == 0.0
        && let Some(mean) = divide_exact_sum(partial.sum.hi, n, format)
    {
        return mean;
    }
    match round_with_bound(partial, n, format) {
        Rounded::Unsure if partial.error == 0.0 && partial.sum.is_finite() => round_exact_sum(partial.sum, n, format),
        rounded => rounded,
    }
}

/// The mean of `n` values whose sum is exactly `sum` (an f64), by one division: `sum / n`
/// rounds once to f64 (both exact), and rounding that again to a narrower format gives the same
/// result as rounding the exact quotient unless the f64 quotient is exactly one of the narrower
/// format's midpoints. Such midpoints are common, not rare: a float32 mean of three values is
/// one whenever the sum is 3 times an odd 25-bit integer (one row in six of uniform data). There
/// the remainder `sum - quotient * n` (one FMA, exact: the remainder of a correctly rounded
/// division is a float) tells whether the division was exact: then the quotient is the exact
/// mean, a tie, and rounds to even; if not, `None` leaves it to the general test, as it does
/// results outside the narrower format's normal range. Costs a division instead of the test's
/// two and its FMA: what a reduction into many small cells whose sums are exact (integers,
/// certified float32 sums) pays per cell.
#[inline]
pub fn divide_exact_sum(sum: f64, n: usize, format: Format) -> Option<Rounded> {
    if sum == 0.0 {
        return Some(Rounded::ExactZero);
    }
    if !sum.is_finite() || n as u64 > 1 << 53 {
        return None;
    }
    let divisor = n as f64;
    let quotient = sum / divisor;
    let (low_bits, smallest_normal, largest) = match format {
        Format::Binary64 => return Some(Rounded::Certain(quotient)),
        Format::Binary32 => (29, f64::from(f32::MIN_POSITIVE), f64::from(f32::MAX)),
        Format::Binary16 => (42, 2f64.powi(-14), 65504.0),
    };
    let on_midpoint = quotient.to_bits() & ((1u64 << low_bits) - 1) == 1 << (low_bits - 1);
    if !(smallest_normal..=largest).contains(&quotient.abs())
        || (on_midpoint && (-quotient).mul_add(divisor, sum) != 0.0)
    {
        return None;
    }
    Some(Rounded::Certain(match format {
        Format::Binary32 => f64::from(quotient as f32),
        _ => f16_to_f64(f64_to_f16_bits(quotient)),
    }))
}

/// Float32 means of `n` values each whose sums are exactly `sums[k]`, by [`divide_exact_sum`]'s
/// argument without its branches, so that the loop vectorizes (a reduction into many tiny cells
/// pays this per cell): `means[k]` is the correctly rounded mean (+0.0 for a zero sum) unless
/// `undecided[k]`, set where one division cannot say — a quotient outside float32's normal range
/// (or a sum that is not finite), or on a float32 midpoint without being exact (rounding it
/// again would round twice). Whether the division was exact is tested without an FMA (which
/// is a libm call in a baseline x86-64 build): `q` split into two 26-bit halves (Veltkamp),
/// each times `n` (at most 2^26) is exact, and `sum - n q_hi` is exact by Sterbenz's lemma.
/// (When the sum is one f64, an inexact quotient cannot land on a midpoint `m`: `sum - n m` is
/// a nonzero multiple of ulp(sum) >= 2^floor(log2 n) ulp(m) > (n/2) ulp(m), so the quotient is
/// more than half an ulp from `m`. The test is kept: cheap here, and it does not rest on that.)
pub fn exact_sums_to_f32_means(sums: &[f64], n: usize, means: &mut [f32], undecided: &mut [bool]) {
    exact_sums_to_f32_means_inline(sums, n, means, undecided);
}

/// [`exact_sums_to_f32_means`], inlined into callers compiled for a SIMD level (`kernels::rows`).
#[inline(always)]
pub(crate) fn exact_sums_to_f32_means_inline(sums: &[f64], n: usize, means: &mut [f32], undecided: &mut [bool]) {
    assert!((1..=1 << 26).contains(&n), "n must fit the exactness test's split");
    let divisor = n as f64;
    const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
    const LOW_BITS: u64 = (1 << 29) - 1; // the f64 bits below float32's last
    const MIDPOINT: u64 = 1 << 28;
    let smallest = f64::from(f32::MIN_POSITIVE);
    let largest = f64::from(f32::MAX);
    let (means, undecided) = (&mut means[..sums.len()], &mut undecided[..sums.len()]);
    for ((&sum, mean), undecided) in sums.iter().zip(means).zip(undecided) {
        let quotient = sum / divisor;
        let scaled = SPLIT * quotient;
        let high = scaled - (scaled - quotient);
        let low = quotient - high;
        let exact = sum - divisor * high == divisor * low;
        let on_midpoint = quotient.to_bits() & LOW_BITS == MIDPOINT;
        let magnitude = quotient.abs();
        let in_range = magnitude >= smallest && magnitude <= largest;
        let zero = sum == 0.0;
        *mean = if zero { 0.0 } else { quotient as f32 };
        *undecided = !zero & (!in_range | (on_midpoint & !exact));
    }
}

/// Float64 means of `n` values each (`n <= 2^26`) whose sums are `partials[k]`: Ziv's test of
/// [`round_with_bound`] without branches and without an FMA (a libm call in a baseline x86-64
/// build), so that the loop vectorizes (a reduction into many short rows pays this per cell).
/// `means[k]` is the correctly rounded mean (+0.0 for an exactly zero sum) unless
/// `undecided[k]`, set where the test cannot decide or its arithmetic might not hold (sums
/// above 10^299, bounds that are not finite, means that might be subnormal); sums below
/// 10^-270 are scaled by 2^600 first.
///
/// The quotient `q` (the FMA-free [`quotient`]) times `n` is computed exactly in two pieces:
/// `q` split into 26-bit halves (Veltkamp), each times `n` exact; `hi - n q_high` is exact by
/// Sterbenz's lemma. The one gap used is the smaller of the two around `q` (half the binade's
/// ulp at a power of two), which can only refuse more.
#[inline(always)] // (compiled at each SIMD level by `kernels::rows::partial_sums_to_f64_means_at`)
pub fn partial_sums_to_f64_means(partials: &[Partial], n: usize, means: &mut [f64], undecided: &mut [bool]) {
    assert!((1..=1 << 26).contains(&n), "n must fit the test's split");
    let divisor = n as f64;
    let (means, undecided) = (&mut means[..partials.len()], &mut undecided[..partials.len()]);
    for ((partial, mean), undecided) in partials.iter().zip(means).zip(undecided) {
        (*mean, *undecided) = f64_mean_of_bounded_sum(partial.sum.hi, partial.sum.lo, partial.error, divisor);
    }
}

/// One cell of [`partial_sums_to_f64_means`]: the mean of `divisor` (`1..=2^26`) values whose
/// sum is `hi + lo` within `error`, and whether it is undecided. Branch-free, for loops that
/// vectorize (also `kernels::rows`, compiled at each SIMD level).
#[inline(always)]
pub(crate) fn f64_mean_of_bounded_sum(hi: f64, lo: f64, error: f64, divisor: f64) -> (f64, bool) {
    const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
    let split = |x: f64| {
        let scaled = SPLIT * x;
        let high = scaled - (scaled - x);
        (high, x - high)
    };
    // Tiny sums scaled up (exact), their means down again (see TINY_SCALE).
    let tiny = hi.abs() < SMALLEST_CERTIFIED_SUM;
    let (up, down) = if tiny { (TINY_SCALE, TINY_UNSCALE) } else { (1.0, 1.0) };
    let (hi, lo, error) = (hi * up, lo * up, error * up);
    let (hi, lo) = two_sum(hi, lo);
    let first = hi / divisor;
    let (high, low) = split(first);
    let quotient = first + (((hi - divisor * high) - divisor * low) + lo) / divisor;
    let (high, low) = split(quotient);
    let remainder = (hi - divisor * high) - divisor * low; // one rounding, in the slack
    let d = remainder + lo;
    let slack = 2.0 * UNIT_ROUNDOFF * (remainder.abs() + d.abs());
    let allowance = error * BOUND_MARGIN + slack;
    // The ulp of q's binade from its exponent field (q is normal and far from the ends here);
    // the gap toward zero is half that at a power of two.
    let bits = quotient.to_bits();
    let ulp = f64::from_bits((bits & 0x7ff0_0000_0000_0000).wrapping_sub(52 << 52));
    let toward_zero = if bits & 0x000f_ffff_ffff_ffff == 0 { 0.5 * ulp } else { ulp };
    let in_range = hi.abs() >= SMALLEST_CERTIFIED_SUM && hi.abs() <= 1e299 && error <= 1e299;
    let bounded = d.abs() + allowance < 0.5 * toward_zero * divisor;
    // An exact sum (error 0, as tiny rows' sums nearly always are) is decided exactly, ties
    // included, against the midpoints n g/2 above and -n g/2 below (g the gap on that side):
    // - `remainder` = hi - n q is exact: n q_high and n q_low are exact (26-bit halves,
    //   n <= 2^26), and each subtraction's true result is a multiple of the finer of its
    //   operands' ulps and small beside them (q is within an ulp or so of S/n), so a float;
    // - `midpoint - remainder` is exact for the same reason, so d = remainder + lo against a
    //   midpoint has the sign of the exact comparison of lo with (midpoint - remainder).
    let (gap_above, gap_below) = if quotient < 0.0 { (toward_zero, ulp) } else { (ulp, toward_zero) };
    let above = 0.5 * gap_above * divisor - remainder;
    let below = -0.5 * gap_below * divisor - remainder;
    let (tie_above, tie_below) = (lo == above, lo == below);
    let exact = error == 0.0 && (tie_above || tie_below || (lo < above && lo > below));
    let odd = bits & 1 == 1;
    let rounded = if tie_above & odd {
        quotient + gap_above
    } else if tie_below & odd {
        quotient - gap_below
    } else {
        quotient
    };
    let zero = hi == 0.0 && error == 0.0;
    let mean = if zero { 0.0 } else { rounded * down };
    let normal = !tiny | (rounded.abs() >= SMALLEST_SCALED_MEAN);
    (mean, !zero & !(in_range & normal & (bounded | exact)))
}

/// The mean of `n` values whose sum is exactly `sum.hi + sum.lo`, rounded once.
fn round_exact_sum(sum: DoubleDouble, n: usize, format: Format) -> Rounded {
    // float64: the branch-free test decides an exact sum exactly, ties included (see
    // `f64_mean_of_bounded_sum`), without an ExactSum.
    if format == Format::Binary64 && (1..=1 << 26).contains(&n) {
        let (mean, undecided) = f64_mean_of_bounded_sum(sum.hi, sum.lo, 0.0, n as f64);
        if !undecided {
            return Rounded::Certain(mean);
        }
    }
    let mut exact = ExactSum::new();
    exact.count_values(n as u64);
    exact.add_partial(sum.hi);
    exact.add_partial(sum.lo);
    Rounded::Certain(exact_mean(&exact, format))
}

/// The exact mean held in `sum`, rounded once to `format` (as an f64 holding that value).
pub fn exact_mean(sum: &ExactSum, format: Format) -> f64 {
    match format {
        Format::Binary16 => sum.mean_f16_as_f64(),
        Format::Binary32 => f64::from(sum.mean_f32()),
        Format::Binary64 => sum.mean_f64(),
    }
}

/// The exact sum held in `sum`, rounded once to `format` (±inf beyond its range).
pub fn exact_sum(sum: &ExactSum, format: Format) -> f64 {
    match format {
        Format::Binary16 => sum.sum_f16_as_f64(),
        Format::Binary32 => f64::from(sum.sum_f32()),
        Format::Binary64 => sum.sum_f64(),
    }
}

/// Ziv's test: the rounded mean if every value within the bound rounds to it.
fn round_with_bound(partial: Partial, n: usize, format: Format) -> Rounded {
    let (hi, lo) = two_sum(partial.sum.hi, partial.sum.lo);
    if hi == 0.0 && partial.error == 0.0 {
        return Rounded::ExactZero;
    }
    // Written negated so that a NaN sum is refused too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    let too_small = !(hi.abs() >= SMALLEST_CERTIFIED_SUM);
    if too_small && format == Format::Binary64 && hi != 0.0 && partial.is_finite() {
        // Scaled up and back (see TINY_SCALE): the scaled sum is not too small.
        let scaled = Partial {
            sum: DoubleDouble { hi: partial.sum.hi * TINY_SCALE, lo: partial.sum.lo * TINY_SCALE },
            error: partial.error * TINY_SCALE,
        };
        return match round_with_bound(scaled, n, format) {
            Rounded::Certain(mean) if mean.abs() >= SMALLEST_SCALED_MEAN => Rounded::Certain(mean * TINY_UNSCALE),
            _ => Rounded::Unsure,
        };
    }
    if too_small || n as u64 > (1u64 << 53) || !partial.is_finite() {
        return Rounded::Unsure;
    }
    let n = n as f64;
    let quotient = quotient(hi, lo, n);
    let (r, gap_below, gap_above) = match format {
        Format::Binary64 => (quotient, quotient - quotient.next_down(), quotient.next_up() - quotient),
        Format::Binary32 => {
            let r = quotient as f32;
            let below = f64::from(r) - f64::from(r.next_down());
            let above = f64::from(r.next_up()) - f64::from(r);
            (f64::from(r), below, above)
        }
        Format::Binary16 => {
            let bits = f64_to_f16_bits(quotient);
            let r = f16_to_f64(bits);
            // Neighbours by the bit pattern: one step away from zero is +1, toward zero -1
            // (from a zero, toward zero means the other zero's smallest subnormal).
            let away = f16_to_f64(bits.wrapping_add(1));
            let toward = if bits & 0x7fff == 0 { f16_to_f64((bits ^ 0x8000) | 1) } else { f16_to_f64(bits - 1) };
            let (above, below) = if bits & 0x8000 == 0 { (away, toward) } else { (toward, away) };
            (r, r - below, above - r)
        }
    };
    if !r.is_finite() || !gap_below.is_finite() || !gap_above.is_finite() {
        return Rounded::Unsure;
    }
    // d ~ (hi + lo) - r n: the FMA and the add each round by at most u times their result.
    let fma = (-r).mul_add(n, hi);
    let d = fma + lo;
    let slack = 2.0 * UNIT_ROUNDOFF * (fma.abs() + d.abs());
    let allowance = partial.error * BOUND_MARGIN + slack;
    if d + allowance < 0.5 * gap_above * n && -d + allowance < 0.5 * gap_below * n {
        Rounded::Certain(r)
    } else {
        Rounded::Unsure
    }
}

/// (hi + lo) / n in f64, for hi + lo normalised (|lo| <= ulp(hi)/2): the first quotient's
/// remainder, computed with one FMA, is divided again and added back.
pub fn quotient(hi: f64, lo: f64, n: f64) -> f64 {
    let first = hi / n;
    first + ((-first).mul_add(n, hi) + lo) / n
}
