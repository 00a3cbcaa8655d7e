//! An exact sum of f32 values at memory speed, with AVX-512 masked adds: the exact path of the
//! f32 mean and the f32 adds of the accumulator.
//!
//! ```text
//! window(x) := top 4 bits of x's biased exponent      # 16 windows of 16 binades
//! for each block of 8192 values (32 KiB, in L1 after the first pass):
//!     the first pass takes up to 4 windows: the first value's, then those the previous block
//!     had (data rarely changes from block to block), and collects the set of windows present
//!     (one OR of one-hot bits per vector); further passes take the rest, 4 at a time
//!     per window w of a pass:
//!         f64 lanes += the block's values in window w (masked adds)
//!         every partial sum is exact: the values are multiples of 2^(16w - 150) below
//!         2^(16w - 111), and 8192 of them need at most 52 bits
//!         add the lanes up (still exact) and hand the one f64 to the exact accumulator
//! ```
//! Ordinary data spans two or three windows: one pass. Infinities and NaN sit in the top
//! window; a window sum they make infinite or NaN is replaced by that window's values one by
//! one, so that the accumulator records each kind of special value.

use core::arch::x86_64::*;

use crate::exact::ExactSum;

/// Values per block: 8192 values below 2^39 units each sum below 2^52 units, exactly.
const BLOCK: usize = 8192;
/// Windows one pass adds (each with two pairs of accumulators: 16 of the 32 vector registers).
const WINDOWS_PER_PASS: u32 = 4;
/// A window number no value has (windows are 0..=15): pads a pass of three windows to four.
const NO_WINDOW: u32 = 16;

/// Adds every value of `xs` to `sum`, exactly.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn add_f32s(sum: &mut ExactSum, xs: &[f32]) {
    sum.count_values(xs.len() as u64);
    let mut previous_windows = 0u32;
    for block in xs.chunks(BLOCK) {
        let (body, rest) = block.split_at(block.len() / 16 * 16);
        for &x in rest {
            sum.add_partial(f64::from(x));
        }
        let Some(&first) = body.first() else {
            continue;
        };
        let mut todo = previous_windows | 1 << window_bits(first);
        // The first pass: the first value's window, then the previous block's lowest ones.
        let mut pass_windows = 1 << window_bits(first);
        todo &= !pass_windows;
        while pass_windows.count_ones() < WINDOWS_PER_PASS && todo != 0 {
            pass_windows |= todo & todo.wrapping_neg();
            todo &= todo - 1;
        }
        // SAFETY: AVX-512F is enabled here.
        let present = unsafe { add_pass(sum, body, pass_windows, true) };
        let mut todo = present & !pass_windows;
        while todo != 0 {
            let mut pass_windows = 0u32;
            while pass_windows.count_ones() < WINDOWS_PER_PASS && todo != 0 {
                pass_windows |= todo & todo.wrapping_neg();
                todo &= todo - 1;
            }
            // SAFETY: AVX-512F is enabled here.
            unsafe { add_pass(sum, body, pass_windows, false) };
        }
        previous_windows = present;
    }
}

/// Adds the values of `body` (a multiple of 16 long) in each of `windows` (a set of at most
/// four) to `sum`; returns the set of windows present in `body` if `first_pass` (else 0).
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn add_pass(sum: &mut ExactSum, body: &[f32], windows: u32, first_pass: bool) -> u32 {
    let mut targets = [NO_WINDOW; WINDOWS_PER_PASS as usize];
    let mut rest = windows;
    for target in &mut targets {
        if rest != 0 {
            *target = rest.trailing_zeros();
            rest &= rest - 1;
        }
    }
    // SAFETY (each arm): AVX-512F is enabled here; body is a multiple of 16 long.
    unsafe {
        match windows.count_ones() {
            1 => add_window_sums::<1>(sum, body, [targets[0]], first_pass),
            2 => add_window_sums::<2>(sum, body, [targets[0], targets[1]], first_pass),
            _ => add_window_sums::<4>(sum, body, targets, first_pass),
        }
    }
}

/// [`window_pass`], its sums handed to `sum`.
///
/// # Safety
/// The CPU must support AVX-512F; `body` must be a multiple of 16 long.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn add_window_sums<const K: usize>(sum: &mut ExactSum, body: &[f32], targets: [u32; K], first_pass: bool) -> u32 {
    // SAFETY: as this function's contract.
    let (sums, seen) = unsafe { window_pass::<K>(body, targets, first_pass) };
    for (s, target) in sums.into_iter().zip(targets) {
        if s.is_finite() {
            sum.add_partial(s);
        } else {
            // Infinities or NaN (top window only): added one by one, so that the accumulator
            // records each kind, as the scalar adds do (+inf and -inf would have met as NaN).
            for &x in body.iter().filter(|x| window_bits(**x) == target) {
                sum.add_partial(f64::from(x));
            }
        }
    }
    seen
}

/// The sum of the values of `body` (a multiple of 16 long) in each of the windows `targets`,
/// exactly, and (if `track_seen`) the set of windows present.
///
/// # Safety
/// The CPU must support AVX-512F; `body` must be a multiple of 16 long.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn window_pass<const K: usize>(body: &[f32], targets: [u32; K], track_seen: bool) -> ([f64; K], u32) {
    let mut target_vectors = [_mm512_setzero_si512(); K];
    for k in 0..K {
        target_vectors[k] = _mm512_set1_epi32(targets[k] as i32);
    }
    // Two pairs of accumulators per window (even and odd vectors): one chain of masked adds
    // would wait on each add's latency.
    let zero = _mm512_setzero_pd();
    let mut even = [[zero; 2]; K];
    let mut odd = [[zero; 2]; K];
    let mut seen = _mm512_setzero_si512();
    let prefetch = track_seen && crate::kernels::host::exact_path_prefetch();
    let mut pairs = body.chunks_exact(32);
    for pair in &mut pairs {
        if prefetch {
            // The first pass reads from memory: fetch ahead, as the fast kernels do (on hosts
            // where that helps, `host::software_prefetch`).
            _mm_prefetch::<_MM_HINT_T0>(pair.as_ptr().cast::<i8>().wrapping_add(8192));
            _mm_prefetch::<_MM_HINT_T0>(pair.as_ptr().cast::<i8>().wrapping_add(8192 + 64));
        }
        // SAFETY: `pair` holds 32 floats, 16 from each offset; AVX-512F is enabled here.
        unsafe {
            accumulate(&mut even, pair, &target_vectors, &mut seen, track_seen);
            accumulate(&mut odd, &pair[16..], &target_vectors, &mut seen, track_seen);
        }
    }
    if !pairs.remainder().is_empty() {
        // SAFETY: the remainder of a multiple of 16 by 32 holds 16 floats.
        unsafe { accumulate(&mut even, pairs.remainder(), &target_vectors, &mut seen, track_seen) };
    }
    let mut sums = [0.0; K];
    for k in 0..K {
        // All of the block's values in window k, added in any order, stay below 2^52 units of
        // the window's smallest bit: the whole reduction is exact.
        let total = _mm512_add_pd(_mm512_add_pd(even[k][0], even[k][1]), _mm512_add_pd(odd[k][0], odd[k][1]));
        sums[k] = _mm512_reduce_add_pd(total);
    }
    let seen = if track_seen { _mm512_reduce_or_epi32(seen) as u32 } else { 0 };
    (sums, seen)
}

/// Adds the 16 floats of `v` to `acc[k]` (low 8, high 8 widened to f64) where their window is
/// `targets[k]`; records their windows in `seen` if `track_seen`.
///
/// # Safety
/// `v` must hold at least 16 floats; the CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn accumulate<const K: usize>(
    acc: &mut [[__m512d; 2]; K],
    v: &[f32],
    targets: &[__m512i; K],
    seen: &mut __m512i,
    track_seen: bool,
) {
    debug_assert!(v.len() >= 16);
    // SAFETY: 16 floats are readable from `v` (caller); unaligned load.
    let values = unsafe { _mm512_loadu_ps(v.as_ptr()) };
    let windows = _mm512_and_si512(_mm512_srli_epi32::<27>(_mm512_castps_si512(values)), _mm512_set1_epi32(0xF));
    if track_seen {
        *seen = _mm512_or_si512(*seen, _mm512_sllv_epi32(_mm512_set1_epi32(1), windows));
    }
    let low_values = _mm512_cvtps_pd(_mm512_castps512_ps256(values));
    let high_values = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(values))));
    for k in 0..K {
        let mask = _mm512_cmpeq_epi32_mask(windows, targets[k]);
        acc[k][0] = _mm512_mask_add_pd(acc[k][0], mask as u8, acc[k][0], low_values);
        acc[k][1] = _mm512_mask_add_pd(acc[k][1], (mask >> 8) as u8, acc[k][1], high_values);
    }
}

/// The window (top 4 bits of the biased exponent) of `x`.
fn window_bits(x: f32) -> u32 {
    (x.to_bits() >> 27) & 0xF
}
