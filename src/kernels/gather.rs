//! Strided or byte-swapped runs copied, a chunk at a time, into a small buffer in native order
//! for the run kernels (`reduce::cells`, `FloatCell::gather`): with AVX2, gathers of 8 (u32) or
//! 4 (u64) values and byte shuffles, where the baseline build copies one value at a time
//! (SSE2 has neither a gather nor a byte shuffle). The scalar loop is the naive twin and does
//! the tails; the tests compare the two at every step, length and alignment (`tests/kernels.rs`).

use super::Level;

/// `dst[i] = src[i * step]`, byte-swapped if `swap`, for every `i < dst.len()`.
///
/// # Panics
/// If `step` is zero or `src` is too short.
pub fn gather_u32_at(level: Level, src: &[u32], step: usize, swap: bool, dst: &mut [u32]) {
    check(src.len(), dst.len(), step);
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && level.is_available() && step < GATHER_STEPS {
        // SAFETY: AVX2 was detected on this CPU; `check` holds.
        return unsafe { gather_u32_avx2(src, step, swap, dst) };
    }
    let _ = level;
    gather_scalar(src, step, dst, 0, |raw| if swap { raw.swap_bytes() } else { raw });
}

/// [`gather_u32_at`] for 64-bit values.
pub fn gather_u64_at(level: Level, src: &[u64], step: usize, swap: bool, dst: &mut [u64]) {
    check(src.len(), dst.len(), step);
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && level.is_available() && step < GATHER_STEPS {
        // SAFETY: AVX2 was detected on this CPU; `check` holds.
        return unsafe { gather_u64_avx2(src, step, swap, dst) };
    }
    let _ = level;
    gather_scalar(src, step, dst, 0, |raw| if swap { raw.swap_bytes() } else { raw });
}

/// Steps whose lane offsets (up to 7 steps) the gathers' 32-bit indices hold.
const GATHER_STEPS: usize = 1 << 28;

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

/// # Safety
/// The CPU must support AVX2; `check(src.len(), dst.len(), step)` holds and `step < GATHER_STEPS`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_u32_avx2(src: &[u32], step: usize, swap: bool, dst: &mut [u32]) {
    use core::arch::x86_64::*;
    let whole = dst.len() / 8 * 8;
    // Each 32-bit lane's bytes reversed.
    let reverse = _mm256_setr_epi8(
        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
    );
    let offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(step as i32));
    for i in (0..whole).step_by(8) {
        // SAFETY: lane l reads src[(i + l) * step] with i + l < dst.len(), inside `src` by
        // `check`; the offsets (at most 7 * step < 2^31) fit the gather's i32 indices; the
        // store writes dst[i..i + 8], i + 8 <= whole.
        unsafe {
            let base = src.as_ptr().add(i * step);
            let v = if step == 1 {
                _mm256_loadu_si256(base.cast())
            } else {
                _mm256_i32gather_epi32::<4>(base.cast(), offsets)
            };
            let v = if swap { _mm256_shuffle_epi8(v, reverse) } else { v };
            _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast(), v);
        }
    }
    gather_scalar(src, step, dst, whole, |raw| if swap { raw.swap_bytes() } else { raw });
}

/// # Safety
/// As for [`gather_u32_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_u64_avx2(src: &[u64], step: usize, swap: bool, dst: &mut [u64]) {
    use core::arch::x86_64::*;
    let whole = dst.len() / 4 * 4;
    // Each 64-bit lane's bytes reversed.
    let reverse = _mm256_setr_epi8(
        7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8,
    );
    let offsets = _mm256_mul_epu32(_mm256_setr_epi64x(0, 1, 2, 3), _mm256_set1_epi64x(step as i64));
    for i in (0..whole).step_by(4) {
        // SAFETY: as in `gather_u32_avx2`, with 4 lanes of i64 offsets (at most 3 * step).
        unsafe {
            let base = src.as_ptr().add(i * step);
            let v = if step == 1 {
                _mm256_loadu_si256(base.cast())
            } else {
                _mm256_i64gather_epi64::<8>(base.cast(), offsets)
            };
            let v = if swap { _mm256_shuffle_epi8(v, reverse) } else { v };
            _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast(), v);
        }
    }
    gather_scalar(src, step, dst, whole, |raw| if swap { raw.swap_bytes() } else { raw });
}
