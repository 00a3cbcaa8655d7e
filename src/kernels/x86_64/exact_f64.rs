//! An exact sum of f64 values with AVX-512: each value is split into two halves of at most 27
//! significant bits, and the halves are grouped by exponent window (16 binades) with masked
//! adds, which keeps f64 lane sums exact; the lanes then go to the exact accumulator.
//!
//! ```text
//! high(x) := x with the low 26 fraction bits cleared;  low(x) := x - high(x)   (both exact)
//! window(h) := (biased exponent of h) / 16                                    # 128 windows
//! for each block of 2048 values (16 KiB):
//!     first pass: the halves in up to eight windows the previous block had (data rarely
//!                 changes much), and the set of windows the nonzero halves fall in (two 64-bit
//!                 masks), and whether any value is infinite or NaN (then: the block one value
//!                 at a time)
//!     for the other windows w > 0 present (eight per pass):
//!         f64 lanes += the halves in window w      # multiples of 2^(16w - 1049) below
//!                                                  # 2^(16w - 1007): the block's 2048 high
//!                                                  # (or low) halves stay below 2^53 units,
//!                                                  # so every lane sum and their total is exact
//!     window 127: the same, scaled by 2^-64 (or the lanes could overflow)
//!     halves in window 0 (below 2^-1007, subnormals among them): the block, and the 64
//!     after it, to the large superaccumulator (integer adds; f64 arithmetic whose results are
//!     subnormal takes a microcode assist on Intel cores, ~50 ns a value measured)
//! a block whose windows take 3 passes or more, and the 64 blocks after it: the large
//! superaccumulator (`exact::large`) instead, one value at a time at a fixed cost; and 64
//! more whenever the next block's first 256 values alone span as many windows
//! ```

use core::arch::x86_64::*;

use crate::exact::ExactSum;
use crate::exact::large::LargeAccumulator;

/// Values per block: 256 vectors of 8; 2048 halves of one window sum exactly (see above).
const BLOCK: usize = 2048;
/// Clears the low 26 bits of the fraction.
const HIGH_MASK: i64 = !((1 << 26) - 1);
/// The window of the largest exponents, whose lane sums are kept scaled down.
const TOP_WINDOW: i64 = 127;

/// Windows one pass adds at most: each costs four operations per vector, the pass itself
/// about eighteen (split, windows, marking the windows present), so one pass over all of a
/// block's windows beats several (two accumulators a window: 16 of the 32 registers).
const MAX_WINDOWS_PER_PASS: usize = 8;
/// A window number no half has: pads a pass.
const NO_WINDOW: i64 = -1;
/// A block whose windows take this many passes or more is cheaper in the large
/// superaccumulator (`exact::large`: the same cost per value whatever the exponents).
const LARGE_FROM_PASSES: usize = 3;
/// After such a block, this many blocks go to the large superaccumulator before windows are
/// tried again (a retry costs a block's worth of passes: 64 keeps it to ~1/65 of the work).
const LARGE_RUN: usize = 64;

/// Adds every value of `xs` to `sum`, exactly.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512DQ.
#[target_feature(enable = "avx512f,avx512dq")]
pub(crate) unsafe fn add_f64s(sum: &mut ExactSum, xs: &[f64]) {
    let mut adder = ExactF64::new();
    // SAFETY: as this function's contract.
    unsafe { adder.add(sum, xs) };
    adder.finish(sum);
}

/// The state of an exact sum kept from one call of [`ExactF64::add`] to the next: the fast
/// pass hands it its blocks one at a time (see `generic::sum_f64`).
pub(crate) struct ExactF64 {
    /// The windows (but 0 and the top one) of the previous block, at most eight: the first pass
    /// over the next block adds them and checks that nothing lies elsewhere (data rarely
    /// changes much from block to block), so a block usually takes one pass.
    guess: [i64; MAX_WINDOWS_PER_PASS],
    /// Blocks with values over too many windows go to the large superaccumulator instead.
    large: Option<LargeAccumulator>,
    large_blocks_due: usize,
}

impl ExactF64 {
    pub(crate) fn new() -> Self {
        ExactF64 { guess: [NO_WINDOW; MAX_WINDOWS_PER_PASS], large: None, large_blocks_due: 0 }
    }

    /// Adds (and counts) every value of `xs` to `sum`, exactly; [`ExactF64::finish`] after the
    /// last call.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and AVX-512DQ.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(crate) unsafe fn add(&mut self, sum: &mut ExactSum, xs: &[f64]) {
        sum.count_values(xs.len() as u64);
        let ExactF64 { guess, large, large_blocks_due } = self;
        for block in xs.chunks(BLOCK) {
            if *large_blocks_due == 0 && large.is_some() && sample_takes_large(block) {
                // A retry of the windows would only find too many again.
                *large_blocks_due = LARGE_RUN;
            }
            if *large_blocks_due > 0 {
                *large_blocks_due -= 1;
                large.get_or_insert_with(LargeAccumulator::new).add_f64s(block, sum);
                continue;
            }
            let vectors = block.chunks_exact(8);
            for &x in vectors.remainder() {
                sum.add_partial(x);
            }
            let body = &block[..block.len() - vectors.remainder().len()];
            if body.is_empty() {
                continue;
            }
            // With no guess (the first block, or after special values) the pass adds nothing and
            // only finds the windows present.
            // SAFETY: AVX-512F and DQ are enabled here; body is a multiple of 8 long.
            let present = match unsafe { add_pass(sum, body, guess, true) } {
                Elsewhere::Nothing => continue,
                Elsewhere::Special => {
                    add_one_by_one(sum, body);
                    *guess = [NO_WINDOW; MAX_WINDOWS_PER_PASS];
                    continue;
                }
                Elsewhere::Tiny => {
                    large.get_or_insert_with(LargeAccumulator::new).add_f64s(body, sum);
                    *large_blocks_due = LARGE_RUN;
                    *guess = [NO_WINDOW; MAX_WINDOWS_PER_PASS];
                    continue;
                }
                Elsewhere::Halves(present) => present,
            };
            if present[1] >> 63 != 0 {
                // SAFETY: AVX-512F and DQ are enabled here; body is a multiple of 8 long.
                unsafe { add_top_window(sum, body) };
            }
            let left = present_windows(present).filter(|w| !guess.contains(w)).count();
            if 1 + left.div_ceil(MAX_WINDOWS_PER_PASS) >= LARGE_FROM_PASSES {
                // Too many windows (this block still takes them; the next ones will not).
                *large_blocks_due = LARGE_RUN;
            }
            let mut rest = present_windows(present).filter(|w| !guess.contains(w)).peekable();
            while rest.peek().is_some() {
                let mut targets = [NO_WINDOW; MAX_WINDOWS_PER_PASS];
                for (slot, w) in targets.iter_mut().zip(&mut rest) {
                    *slot = w;
                }
                // SAFETY: AVX-512F and DQ are enabled here; body is a multiple of 8 long.
                unsafe { add_pass(sum, body, &targets, false) };
            }
            *guess = [NO_WINDOW; MAX_WINDOWS_PER_PASS];
            if *large_blocks_due == 0 {
                for (slot, w) in guess.iter_mut().zip(present_windows(present)) {
                    *slot = w;
                }
            }
        }
    }

    /// Carries what the large superaccumulator holds into `sum`.
    pub(crate) fn finish(self, sum: &mut ExactSum) {
        if let Some(mut large) = self.large {
            large.finish(sum);
        }
    }
}

/// Values of a block sampled before windows are tried again after a run of large blocks.
const SAMPLE: usize = 256;

/// Whether the first [`SAMPLE`] values of `block` alone have halves in window 0 or in so many
/// windows that the block would take the large superaccumulator: then the windows need not be
/// retried (a retry costs a block's worth of passes; the sample, a few integer operations per
/// sampled value: no f64 arithmetic, which is slow on subnormals).
fn sample_takes_large(block: &[f64]) -> bool {
    let mut present = [0u64; 2];
    let mut mark = |biased_exponent: u64| {
        let window = (biased_exponent >> 4) as usize;
        present[window / 64] |= 1 << (window % 64);
    };
    for &x in block.iter().take(SAMPLE) {
        let bits = x.to_bits() & !(1 << 63);
        let exponent = bits >> 52;
        if bits & HIGH_MASK as u64 != 0 {
            mark(exponent);
        }
        // The low half: the low 26 fraction bits, at the exponent of their leading one.
        let low = bits & !(HIGH_MASK as u64);
        if low != 0 {
            let leading = u64::from(low.ilog2());
            mark((exponent.max(1) + leading).saturating_sub(52));
        }
    }
    present[0] & 1 != 0 || 1 + present_windows(present).count().div_ceil(MAX_WINDOWS_PER_PASS) >= LARGE_FROM_PASSES
}

/// Infinities and NaN do not split; the accumulator records them as they are.
fn add_one_by_one(sum: &mut ExactSum, body: &[f64]) {
    for &x in body {
        sum.add_partial(x);
    }
}

/// What a first pass over guessed windows found outside them.
enum Elsewhere {
    Nothing,
    /// Nonzero halves in windows not guessed: the windows present.
    Halves([u64; 2]),
    /// An infinity or NaN: the pass added nothing.
    Special,
    /// Halves in window 0 (below 2^-1007): the pass added nothing.
    Tiny,
}

/// Adds the halves of `body` in the windows `targets` (the first ones, none or more; `NO_WINDOW`
/// pads; neither 0 nor the top one) to `sum`; with `check`, also reports what lies outside them
/// (and adds nothing if a value is special).
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512DQ; `body` must be a multiple of 8 long.
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn add_pass(sum: &mut ExactSum, body: &[f64], targets: &[i64; MAX_WINDOWS_PER_PASS], check: bool) -> Elsewhere {
    /// `window_pass` with exactly as many windows as there are targets (a padded window would
    /// cost its four operations per vector for nothing).
    macro_rules! pass {
        ($k:literal) => {{
            let mut first = [NO_WINDOW; $k];
            first.copy_from_slice(&targets[..$k]);
            // SAFETY: AVX-512F and DQ are enabled here; body is a multiple of 8 long.
            unsafe { window_pass::<$k>(sum, body, first, check) }
        }};
    }
    match targets.iter().filter(|&&w| w != NO_WINDOW).count() {
        0 => pass!(0),
        1 => pass!(1),
        2 => pass!(2),
        3 => pass!(3),
        4 => pass!(4),
        5 => pass!(5),
        6 => pass!(6),
        7 => pass!(7),
        _ => pass!(8),
    }
}

/// Adds the sums of the high and of the low halves in each of the `K` windows `targets` to
/// `sum`, and (with `check`) reports what lies outside them (adding nothing if a value is
/// special).
///
/// Exact: a block's halves in one window are multiples of 2^(16w - 1049) below
/// 2^(16w - 1007); 2048 of them stay below 2^53 units, in any order of addition.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512DQ; `body` must be a multiple of 8 long.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn window_pass<const K: usize>(sum: &mut ExactSum, body: &[f64], targets: [i64; K], check: bool) -> Elsewhere {
    let mut target = [_mm512_setzero_si512(); K];
    for k in 0..K {
        target[k] = _mm512_set1_epi64(targets[k]);
    }
    // Per window: the high and the low halves. One accumulator each is enough: a vector costs
    // more cycles than an add's latency, so the chains do not wait on each other.
    let mut acc = [[_mm512_setzero_pd(); 2]; K];
    let mut seen = [_mm512_setzero_si512(); 2];
    let mut specials: u8 = 0;
    // The checking pass reads from memory: fetch ahead (`host::exact_path_prefetch`).
    let prefetch = check && crate::kernels::host::exact_path_prefetch();
    for v in body.chunks_exact(8) {
        // SAFETY: `v` holds 8 doubles; AVX-512F and DQ are enabled here.
        unsafe { add_vector::<K>(&mut acc, v, &target, check, prefetch, &mut seen, &mut specials) };
    }
    if specials != 0 {
        return Elsewhere::Special;
    }
    let present = [_mm512_reduce_or_epi64(seen[0]) as u64, _mm512_reduce_or_epi64(seen[1]) as u64];
    if check && present[0] & 1 != 0 {
        return Elsewhere::Tiny;
    }
    for [high, low] in acc {
        for half_sum in [_mm512_reduce_add_pd(high), _mm512_reduce_add_pd(low)] {
            if half_sum != 0.0 {
                sum.add_partial(half_sum);
            }
        }
    }
    if !check {
        return Elsewhere::Nothing;
    }
    let mut covered = [0u64; 2];
    for &w in &targets {
        if w >= 0 {
            covered[w as usize / 64] |= 1 << (w % 64);
        }
    }
    if present[0] & !covered[0] != 0 || present[1] & !covered[1] != 0 {
        Elsewhere::Halves(present)
    } else {
        Elsewhere::Nothing
    }
}

/// Adds the halves of the 8 doubles of `v` in each target window to `acc[k]` ([high, low]);
/// with `check`, records the windows of the nonzero halves in `seen` and the lanes holding an
/// infinity or NaN in `specials`.
///
/// # Safety
/// `v` must hold at least 8 doubles; the CPU must support AVX-512F and AVX-512DQ.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn add_vector<const K: usize>(
    acc: &mut [[__m512d; 2]; K],
    v: &[f64],
    target: &[__m512i; K],
    check: bool,
    prefetch: bool,
    seen: &mut [__m512i; 2],
    specials: &mut u8,
) {
    // SAFETY: `v` holds 8 doubles (caller); unaligned loads.
    let (high, low) = unsafe { split(v) };
    let (high_window, low_window) = (window_of(high), window_of(low));
    for k in 0..K {
        let high_mask = _mm512_cmpeq_epi64_mask(high_window, target[k]);
        let low_mask = _mm512_cmpeq_epi64_mask(low_window, target[k]);
        acc[k][0] = _mm512_mask_add_pd(acc[k][0], high_mask, acc[k][0], high);
        acc[k][1] = _mm512_mask_add_pd(acc[k][1], low_mask, acc[k][1], low);
    }
    if prefetch {
        _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast::<i8>().wrapping_add(8192));
    }
    if check {
        *specials |= special_lanes(high);
        mark_windows(seen, high, high_window);
        mark_windows(seen, low, low_window);
    }
}

/// The lanes of `v` whose high half is infinite or NaN: exactly those whose value is (the high
/// half of an infinity is that infinity; of a NaN, a NaN or, if the payload is all in the low
/// bits, an infinity).
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn special_lanes(high: __m512d) -> u8 {
    // vfpclasspd categories: QNaN 0x01, +inf 0x08, -inf 0x10, SNaN 0x80.
    _mm512_fpclass_pd_mask::<0x99>(high)
}

/// Sets the bit of each nonzero half's window in `seen` (two 64-bit masks per lane). vpsllvq
/// gives 0 for counts of 64 and more, so each half marks one bit of the two; zero halves,
/// common for values with few bits, belong to no window.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn mark_windows(seen: &mut [__m512i; 2], half: __m512d, window: __m512i) {
    let one = _mm512_set1_epi64(1);
    let nonzero = _mm512_cmpneq_pd_mask(half, _mm512_setzero_pd());
    seen[0] = _mm512_mask_or_epi64(seen[0], nonzero, seen[0], _mm512_sllv_epi64(one, window));
    let above = _mm512_sllv_epi64(one, _mm512_sub_epi64(window, _mm512_set1_epi64(64)));
    seen[1] = _mm512_mask_or_epi64(seen[1], nonzero, seen[1], above);
}

/// Window 127 (halves from 2^1009): 256 of them could overflow an f64 lane, so they are summed
/// scaled by 2^-64 (exact: they are far from the subnormal range) and handed over scaled back.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512DQ; `body` must be a multiple of 8 long.
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn add_top_window(sum: &mut ExactSum, body: &[f64]) {
    let target = _mm512_set1_epi64(TOP_WINDOW);
    let scale = _mm512_set1_pd(f64::from_bits((1023 - 64) << 52));
    let mut sums = [_mm512_setzero_pd(); 2];
    for v in body.chunks_exact(8) {
        // SAFETY: `v` holds 8 doubles; AVX-512F and DQ are enabled here.
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
/// `v` must hold at least 8 doubles; the CPU must support AVX-512F and AVX-512DQ.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn split(v: &[f64]) -> (__m512d, __m512d) {
    debug_assert!(v.len() >= 8);
    // SAFETY: 8 doubles are readable from `v` (caller); unaligned load.
    let x = unsafe { _mm512_loadu_pd(v.as_ptr()) };
    let high = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(HIGH_MASK)));
    (high, _mm512_sub_pd(x, high))
}

/// The window (biased exponent / 16) of each lane.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn window_of(v: __m512d) -> __m512i {
    _mm512_and_si512(_mm512_srli_epi64::<56>(_mm512_castpd_si512(v)), _mm512_set1_epi64(0x7f))
}
