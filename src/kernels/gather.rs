//! Strided or byte-swapped runs copied, a chunk at a time, into a small buffer in native order
//! for the run kernels (`reduce::cells`, `FloatCell::gather`): with AVX2, steps up to
//! [`PERMUTED_STEPS`] as whole-vector loads whose values `vpermd` moves into place, then byte
//! shuffles; longer steps, and the baseline build (SSE2 has no such permute nor a byte
//! shuffle), one value at a time. The scalar loop is the naive twin and does the tails; the
//! tests compare the two at every step, length and alignment (`tests/kernels.rs`).

use super::generic::prefetch_lines;
use super::{Level, host};

/// `dst[i] = src[i * step]`, byte-swapped if `swap`, for every `i < dst.len()`.
///
/// # Panics
/// If `step` is zero or `src` is too short.
pub fn gather_u32_at(level: Level, src: &[u32], step: usize, swap: bool, dst: &mut [u32]) {
    check(src.len(), dst.len(), step);
    let native = |raw: u32| if swap { raw.swap_bytes() } else { raw };
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && level.is_available() && step <= PERMUTED_STEPS {
        // SAFETY: AVX2 was detected on this CPU; `check` holds.
        return unsafe { permuted_avx2(src, step, swap, dst, native) };
    }
    let _ = level;
    gather_scalar(src, step, dst, 0, native);
}

/// [`gather_u32_at`] for 64-bit values.
pub fn gather_u64_at(level: Level, src: &[u64], step: usize, swap: bool, dst: &mut [u64]) {
    check(src.len(), dst.len(), step);
    let native = |raw: u64| if swap { raw.swap_bytes() } else { raw };
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && level.is_available() && step <= PERMUTED_STEPS {
        // SAFETY: AVX2 was detected on this CPU; `check` holds.
        return unsafe { permuted_avx2(src, step, swap, dst, native) };
    }
    let _ = level;
    gather_scalar(src, step, dst, 0, native);
}

/// How far ahead of its loads the permuted copy asks for memory, where the host prefetches
/// (`host::software_prefetch`): twice the streaming kernels' distance, since no load is in
/// flight while the run kernels sum a chunk of the buffer. Measured on an AMD EPYC of family
/// 26, model 2, 4·10^6 values, one thread, ms without hints / 8 KiB / 16 KiB / 32 KiB ahead:
/// float32 `a[::2]` 1.0-1.1 / 0.71-0.87 / 0.64-0.71 / 0.77-0.82 (numpy.mean 0.93-1.16),
/// float64 `a[::2]` 2.1-2.5 / 1.8-2.0 / 1.6-1.8 / 1.7-1.8 (1.9-2.1); no difference at step 8.
const PREFETCH_BYTES: usize = 16384;

/// Steps up to this are read as whole vectors and permuted; longer ones a value at a time.
/// Not with the gather instructions: their speed depends on the host and its microcode, and
/// measured on an AMD EPYC of family 26, model 2 (Zen 5), AVX2 gathers into the buffer took
/// float32 `a[::2]` (10^7 values) 14 ms where the one-by-one copy took 4.7 and numpy.mean 2.7;
/// Intel's fix for "Downfall" slows them as much.
const PERMUTED_STEPS: usize = 8;

fn check(src_len: usize, dst_len: usize, step: usize) {
    assert!(step >= 1, "step 0");
    assert!(dst_len == 0 || (dst_len - 1).checked_mul(step).is_some_and(|last| last < src_len), "src too short");
}

/// The naive twin, from `first` on (`native` swaps the bytes or not).
#[inline(always)]
fn gather_scalar<R: Copy>(src: &[R], step: usize, dst: &mut [R], first: usize, native: impl Fn(R) -> R) {
    for (i, slot) in dst.iter_mut().enumerate().skip(first) {
        *slot = native(src[i * step]);
    }
}

/// [`gather_u32_at`] and [`gather_u64_at`] with AVX2, a step of at most [`PERMUTED_STEPS`]
/// (`native`: the scalar copy's byte order, for the tail).
///
/// # Safety
/// The CPU must support AVX2; `R` is 4 or 8 bytes; `check(src.len(), dst.len(), step)` holds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn permuted_avx2<R: Copy>(src: &[R], step: usize, swap: bool, dst: &mut [R], native: impl Fn(R) -> R) {
    // (One instance per step, so that each loop over a block's vectors is unrolled.)
    // SAFETY: the caller's contract, and each instance's step is `step`.
    unsafe {
        match step {
            1 => permuted_blocks_avx2::<R, 1>(src, swap, dst, native),
            2 => permuted_blocks_avx2::<R, 2>(src, swap, dst, native),
            3 => permuted_blocks_avx2::<R, 3>(src, swap, dst, native),
            4 => permuted_blocks_avx2::<R, 4>(src, swap, dst, native),
            5 => permuted_blocks_avx2::<R, 5>(src, swap, dst, native),
            6 => permuted_blocks_avx2::<R, 6>(src, swap, dst, native),
            7 => permuted_blocks_avx2::<R, 7>(src, swap, dst, native),
            _ => permuted_blocks_avx2::<R, 8>(src, swap, dst, native),
        }
    }
}

/// Each block of one vector of output (8 / `per` values, `per` the value's 32-bit words) is
/// `S` whole vectors of input: output word `t` is word `(t / per) * S * per + t % per` of
/// them, which `vpermd` moves into place from its vector and a mask keeps. Blocks while those
/// vectors lie inside `src`; the rest value by value.
///
/// # Safety
/// As for [`permuted_avx2`], with `S == step`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn permuted_blocks_avx2<R: Copy, const S: usize>(src: &[R], swap: bool, dst: &mut [R], native: impl Fn(R) -> R) {
    use core::arch::x86_64::*;
    let per = size_of::<R>() / 4;
    let values = 8 / per;
    let (mut index, mut keep) = ([[0i32; 8]; S], [[0i32; 8]; S]);
    for t in 0..8 {
        let word = (t / per) * S * per + t % per;
        index[word / 8][t] = (word % 8) as i32;
        keep[word / 8][t] = -1;
    }
    // SAFETY (each load): an array of eight i32 is the size of a vector.
    let index = index.map(|words| unsafe { _mm256_loadu_si256(words.as_ptr().cast()) });
    let keep = keep.map(|words| unsafe { _mm256_loadu_si256(words.as_ptr().cast()) });
    // Each value's bytes reversed, in 32-bit or 64-bit lanes.
    let reverse = if per == 1 {
        _mm256_setr_epi8(
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
        )
    } else {
        _mm256_setr_epi8(
            7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8,
        )
    };
    let blocks = (src.len() / (values * S)).min(dst.len() / values);
    let prefetch = host::software_prefetch();
    for b in 0..blocks {
        if prefetch {
            let block = src.as_ptr().wrapping_add(b * values * S).cast::<u8>();
            prefetch_lines(block.wrapping_add(PREFETCH_BYTES), 32 * S);
        }
        // SAFETY: block b reads src[b * values * S..][..values * S] (S vectors), inside `src`
        // as b < src.len() / (values * S), and writes dst[b * values..][..values], inside
        // `dst` as b < dst.len() / values.
        unsafe {
            let input = src.as_ptr().add(b * values * S).cast::<__m256i>();
            let mut v = _mm256_setzero_si256();
            for k in 0..S {
                let words = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(input.add(k)), index[k]);
                v = _mm256_or_si256(v, _mm256_and_si256(words, keep[k]));
            }
            let v = if swap { _mm256_shuffle_epi8(v, reverse) } else { v };
            _mm256_storeu_si256(dst.as_mut_ptr().add(b * values).cast(), v);
        }
    }
    gather_scalar(src, S, dst, blocks * values, native);
}
