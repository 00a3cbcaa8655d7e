//! An exact sum of f64 values with AVX-512: each value is split into two halves of at most 27
//! significant bits, and the halves are grouped by exponent window (16 binades) with masked
//! adds, which keeps f64 lane sums exact; the lanes then go to the exact accumulator.
//!
//! ```text
//! high(x) := x with the low 26 fraction bits cleared;  low(x) := x - high(x)   (both exact)
//! window(h) := (biased exponent of h) / 16                                    # 128 windows
//! for each block of 2048 values (16 KiB):
//!     first pass: the set of windows the nonzero halves fall in (two 64-bit masks), and
//!                 whether any value is infinite or NaN (then: the block one value at a time)
//!     for each window w > 0 present (two per pass):
//!         f64 lanes += the halves in window w      # multiples of 2^(16w - 1049) below
//!                                                  # 2^(16w - 1007), 256 of them: 50 bits
//!                                                  # (window 127: scaled by 2^-64, or the
//!                                                  # lanes could overflow)
//!     window 0 (halves below 2^-1007, subnormals among them): one half at a time
//! ```

use core::arch::x86_64::*;

use crate::exact::ExactSum;

/// Values per block: 256 vectors of 8, so that a lane of each of the high and low sums adds at
/// most 256 halves per window, well below the 2^11 that stay exact.
const BLOCK: usize = 2048;
/// Clears the low 26 bits of the fraction.
const HIGH_MASK: i64 = !((1 << 26) - 1);
/// The window of the largest exponents, whose lane sums are kept scaled down.
const TOP_WINDOW: i64 = 127;

/// Adds every value of `xs` to `sum`, exactly.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn add_f64s(sum: &mut ExactSum, xs: &[f64]) {
    sum.count_values(xs.len() as u64);
    for block in xs.chunks(BLOCK) {
        let vectors = block.chunks_exact(8);
        for &x in vectors.remainder() {
            sum.add_partial(x);
        }
        let body = &block[..block.len() - vectors.remainder().len()];

        // First pass: which windows, and any special value?
        let (mut seen_low, mut seen_high) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        let mut specials: u8 = 0;
        let one = _mm512_set1_epi64(1);
        let sixty_four = _mm512_set1_epi64(64);
        let exponent_all_ones = _mm512_set1_epi64(0x7ff);
        for v in vectors.clone() {
            // SAFETY: `v` holds 8 doubles (unaligned loads); AVX-512F is enabled here.
            let (high, low) = unsafe { split(v) };
            _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast::<i8>().wrapping_add(8192));
            // SAFETY: as above.
            let bits = unsafe { _mm512_loadu_si512(v.as_ptr().cast()) };
            let exponent = _mm512_and_si512(_mm512_srli_epi64::<52>(bits), exponent_all_ones);
            specials |= _mm512_cmpeq_epi64_mask(exponent, exponent_all_ones);
            // vpsllvq gives 0 for counts of 64 and more: each nonzero half marks one bit of the
            // two (zero halves, common for values with few bits, belong to no window).
            for half in [high, low] {
                let w = window_of(half);
                let nonzero = _mm512_cmpneq_pd_mask(half, _mm512_setzero_pd());
                seen_low = _mm512_mask_or_epi64(seen_low, nonzero, seen_low, _mm512_sllv_epi64(one, w));
                let above = _mm512_sllv_epi64(one, _mm512_sub_epi64(w, sixty_four));
                seen_high = _mm512_mask_or_epi64(seen_high, nonzero, seen_high, above);
            }
        }
        if specials != 0 {
            // Infinities and NaN do not split; the accumulator records them as they are.
            for &x in body {
                sum.add_partial(x);
            }
            continue;
        }
        let present = [_mm512_reduce_or_epi64(seen_low) as u64, _mm512_reduce_or_epi64(seen_high) as u64];

        if present[0] & 1 != 0 {
            // Window 0: halves below 2^-1007 span too many bits for an f64 lane.
            for &x in body {
                let high = f64::from_bits(x.to_bits() & HIGH_MASK as u64);
                for half in [high, x - high] {
                    if half != 0.0 && half.to_bits() >> 56 & 0x7f == 0 {
                        sum.add_partial(half);
                    }
                }
            }
        }
        if present[1] >> 63 != 0 {
            // Window 127 (halves from 2^1009): 256 of them could overflow an f64 lane, so they
            // are summed scaled by 2^-64 (exact: they are far from the subnormal range) and
            // handed over scaled back.
            let target = _mm512_set1_epi64(TOP_WINDOW);
            let scale = _mm512_set1_pd(f64::from_bits((1023 - 64) << 52));
            let mut sums = [_mm512_setzero_pd(); 2];
            for v in vectors.clone() {
                // SAFETY: as above.
                let (high, low) = unsafe { split(v) };
                let high_mask = _mm512_cmpeq_epi64_mask(window_of(high), target);
                let low_mask = _mm512_cmpeq_epi64_mask(window_of(low), target);
                sums[0] = _mm512_mask_add_pd(sums[0], high_mask, sums[0], _mm512_mul_pd(high, scale));
                sums[1] = _mm512_mask_add_pd(sums[1], low_mask, sums[1], _mm512_mul_pd(low, scale));
            }
            for v in sums {
                let mut lanes = [0.0f64; 8];
                // SAFETY: `lanes` has room for 8 doubles; unaligned store.
                unsafe { _mm512_storeu_pd(lanes.as_mut_ptr(), v) };
                for lane in lanes {
                    sum.add_partial_times_2_64(lane);
                }
            }
        }
        // The other windows present but 0, two per pass over the block (a lone last one pairs
        // with none).
        let mut windows = present_windows(present);
        while let Some(first) = windows.next() {
            let second = windows.next();
            let targets = [_mm512_set1_epi64(first), _mm512_set1_epi64(second.unwrap_or(-1))];
            let mut sums = [_mm512_setzero_pd(); 4];
            for v in vectors.clone() {
                // SAFETY: as above.
                let (high, low) = unsafe { split(v) };
                let (high_window, low_window) = (window_of(high), window_of(low));
                for (t, target) in targets.iter().enumerate() {
                    let high_mask = _mm512_cmpeq_epi64_mask(high_window, *target);
                    let low_mask = _mm512_cmpeq_epi64_mask(low_window, *target);
                    sums[2 * t] = _mm512_mask_add_pd(sums[2 * t], high_mask, sums[2 * t], high);
                    sums[2 * t + 1] = _mm512_mask_add_pd(sums[2 * t + 1], low_mask, sums[2 * t + 1], low);
                }
            }
            for v in sums {
                let mut lanes = [0.0f64; 8];
                // SAFETY: `lanes` has room for 8 doubles; unaligned store.
                unsafe { _mm512_storeu_pd(lanes.as_mut_ptr(), v) };
                for lane in lanes {
                    sum.add_partial(lane);
                }
            }
        }
    }
}

/// The windows (but 0 and the top one) set in the two 64-bit masks, lowest first.
fn present_windows(present: [u64; 2]) -> impl Iterator<Item = i64> {
    present.into_iter().enumerate().flat_map(|(word, mut bits)| {
        if word == 0 {
            bits &= !1;
        } else {
            bits &= !(1 << 63);
        }
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let window = 64 * word as i64 + i64::from(bits.trailing_zeros());
                bits &= bits - 1;
                window
            })
        })
    })
}

/// The high and low halves of the 8 doubles at the start of `v`.
///
/// # Safety
/// `v` must hold at least 8 doubles; the CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn split(v: &[f64]) -> (__m512d, __m512d) {
    debug_assert!(v.len() >= 8);
    // SAFETY: 8 doubles are readable from `v` (caller); unaligned load.
    let x = unsafe { _mm512_loadu_pd(v.as_ptr()) };
    let high = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(HIGH_MASK)));
    (high, _mm512_sub_pd(x, high))
}

/// The window (biased exponent / 16) of each lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn window_of(v: __m512d) -> __m512i {
    _mm512_and_si512(_mm512_srli_epi64::<56>(_mm512_castpd_si512(v)), _mm512_set1_epi64(0x7f))
}
