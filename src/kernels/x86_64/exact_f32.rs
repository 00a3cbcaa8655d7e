//! An exact sum of f32 values at memory speed, with AVX-512 masked adds: the exact path of the
//! f32 mean and the f32 adds of the accumulator.
//!
//! ```text
//! window(x) := top 4 bits of x's biased exponent      # 16 windows of 16 binades
//! for each block of 8192 values (32 KiB, in L1 after the first pass):
//!     w := window of the block's first value; the first pass also collects the set of the
//!     windows present (one OR of one-hot bits per vector)
//!     for w, then each other present window:
//!         f64 lanes += the block's values in window w (masked adds)
//!         each lane's sum is exact: its values are multiples of 2^(16w - 150) below
//!         2^(16w - 111), and 512 of them need at most 48 bits
//!         hand the lanes to the exact accumulator
//! ```
//! Ordinary data spans two or three windows, so a block is read three or four times from L1.
//! Infinities and NaN sit in the top window; the lanes they reach become infinite or NaN, and
//! the accumulator records them as special values, which decide the mean anyway.

use core::arch::x86_64::*;

use crate::exact::ExactSum;

/// Values per block: 512 per f64 lane (16 f32 lanes per vector, each split over two f64
/// vectors), far below the 2^13 that would still be exact.
const BLOCK: usize = 8192;

/// Adds every value of `xs` to `sum`, exactly.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn add_f32s(sum: &mut ExactSum, xs: &[f32]) {
    sum.count_values(xs.len() as u64);
    for block in xs.chunks(BLOCK) {
        let vectors = block.chunks_exact(16);
        for &x in vectors.remainder() {
            sum.add_partial(f64::from(x));
        }
        let Some(first) = vectors.clone().next() else {
            continue;
        };
        // The first pass takes the first value's window and finds the others present.
        let mut window = (first[0].to_bits() >> 27) & 0xF;
        let mut present = 0u32;
        let mut first_pass = true;
        loop {
            let target = _mm512_set1_epi32(window as i32);
            let (mut low, mut high) = (_mm512_setzero_pd(), _mm512_setzero_pd());
            let mut seen = _mm512_setzero_si512();
            for v in vectors.clone() {
                // SAFETY: `v` holds 16 floats; unaligned loads; AVX-512F enabled here.
                let (windows, values) = unsafe { (window_of(v), _mm512_loadu_ps(v.as_ptr())) };
                if first_pass {
                    // The first pass reads from memory: fetch ahead, as the fast kernels do.
                    _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast::<i8>().wrapping_add(8192));
                    seen = _mm512_or_si512(seen, _mm512_sllv_epi32(_mm512_set1_epi32(1), windows));
                }
                let mask = _mm512_cmpeq_epi32_mask(windows, target);
                let low_values = _mm512_cvtps_pd(_mm512_castps512_ps256(values));
                let high_values = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(values))));
                low = _mm512_mask_add_pd(low, mask as u8, low, low_values);
                high = _mm512_mask_add_pd(high, (mask >> 8) as u8, high, high_values);
            }
            let mut lanes = [0.0f64; 16];
            // SAFETY: `lanes` has room for 16 doubles; unaligned stores.
            unsafe {
                _mm512_storeu_pd(lanes.as_mut_ptr(), low);
                _mm512_storeu_pd(lanes.as_mut_ptr().add(8), high);
            }
            for lane in lanes {
                sum.add_partial(lane);
            }
            if first_pass {
                present = _mm512_reduce_or_epi32(seen) as u32 & !(1 << window);
                first_pass = false;
            }
            if present == 0 {
                break;
            }
            window = present.trailing_zeros();
            present &= present - 1;
        }
    }
}

/// The window (top 4 bits of the biased exponent) of each of the 16 floats of `v`.
///
/// # Safety
/// `v` must hold at least 16 floats; the CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn window_of(v: &[f32]) -> __m512i {
    debug_assert!(v.len() >= 16);
    // SAFETY: 16 floats are readable from `v` (caller); unaligned load.
    let bits = unsafe { _mm512_loadu_si512(v.as_ptr().cast()) };
    _mm512_and_si512(_mm512_srli_epi32::<27>(bits), _mm512_set1_epi32(0xF))
}
