//! Exact sums of integers, for the engine's integer cells (means and sums of bool and int8 …
//! uint64): contiguous native values summed in SIMD lanes narrow enough to take many per
//! instruction, moved into wider sums before a lane could overflow. SSE2 only, which every
//! x86_64 CPU has (no dispatch: these run at memory speed from DRAM already; the float
//! kernels' levels are for their arithmetic); each has a scalar twin, used elsewhere and for
//! the tail, which the tests compare it with (`tests/kernels.rs`).

#[cfg(target_arch = "x86_64")]
use super::{generic, host};

/// How [`sum_bytes`] reads a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bytes {
    /// As a u8.
    Unsigned,
    /// As a u8 with its top bit flipped: an i8 plus 128.
    SignFlipped,
    /// 1 if nonzero, else 0 (a bool).
    Nonzero,
}

/// The sum of `bytes`, each read as `how` says: exact (a u64 holds 2^56 bytes of 255). On
/// x86_64 16 bytes at a time with SSE2's `psadbw` (the sum of absolute differences against
/// zero adds 8 bytes into a 64-bit lane), part of every x86_64 CPU; the scalar loop elsewhere
/// and for the tail is the naive twin.
pub fn sum_bytes(bytes: &[u8], how: Bytes) -> u64 {
    let scalar = |b: u8| -> u64 {
        match how {
            Bytes::Unsigned => u64::from(b),
            Bytes::SignFlipped => u64::from(b ^ 0x80),
            Bytes::Nonzero => u64::from(b != 0),
        }
    };
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        let mut chunks = bytes.chunks_exact(64);
        // SAFETY: SSE2 is part of x86_64; each load reads 16 bytes inside a 64-byte chunk.
        let total = unsafe {
            let zero = _mm_setzero_si128();
            let (flip, one) = (_mm_set1_epi8(0x80u8 as i8), _mm_set1_epi8(1));
            let mut acc = [zero; 4];
            let prefetch = host::software_prefetch();
            for chunk in &mut chunks {
                generic::prefetch_ahead(chunk, prefetch);
                for (k, lanes) in acc.iter_mut().enumerate() {
                    let v = _mm_loadu_si128(chunk[16 * k..].as_ptr().cast());
                    let v = match how {
                        Bytes::Unsigned => v,
                        Bytes::SignFlipped => _mm_xor_si128(v, flip),
                        Bytes::Nonzero => _mm_min_epu8(v, one),
                    };
                    *lanes = _mm_add_epi64(*lanes, _mm_sad_epu8(v, zero));
                }
            }
            let sum = _mm_add_epi64(_mm_add_epi64(acc[0], acc[1]), _mm_add_epi64(acc[2], acc[3]));
            let mut halves = [0u64; 2];
            _mm_storeu_si128(halves.as_mut_ptr().cast(), sum);
            halves[0] + halves[1]
        };
        total + chunks.remainder().iter().map(|&b| scalar(b)).sum::<u64>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    bytes.iter().map(|&b| scalar(b)).sum()
}

/// The sum of `words` (native 16-bit integers), signed or unsigned: exact. On x86_64 eight at a
/// time with SSE2's `pmaddwd` against ones (pairs summed into 32-bit lanes; unsigned words with
/// the top bit flipped, as signed ones less 2^15), the 32-bit lanes moved into 64-bit sums
/// before they could overflow; the scalar loop elsewhere and for the tail is the naive twin.
pub fn sum_words(words: &[u16], signed: bool) -> i128 {
    let scalar = |w: u16| -> i64 { if signed { i64::from(w as i16) } else { i64::from(w) } };
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        // Each 32-bit lane gains at most 2 * 2^15 per chunk: 2^14 chunks fit.
        const CHUNKS_PER_FLUSH: usize = 1 << 14;
        let mut chunks = words.chunks_exact(32);
        let mut total: i128 = 0;
        let mut pending = 0;
        // SAFETY: SSE2 is part of x86_64; each load reads 8 words inside a 32-word chunk.
        unsafe {
            let (ones, flip) = (_mm_set1_epi16(1), _mm_set1_epi16(i16::MIN));
            let mut acc = [_mm_setzero_si128(); 4];
            let flush = |acc: &mut [__m128i; 4]| {
                let mut lanes = [0i32; 16];
                for (k, v) in acc.iter_mut().enumerate() {
                    _mm_storeu_si128(lanes[4 * k..].as_mut_ptr().cast(), *v);
                    *v = _mm_setzero_si128();
                }
                lanes.iter().map(|&l| i128::from(l)).sum::<i128>()
            };
            let prefetch = host::software_prefetch();
            for chunk in &mut chunks {
                generic::prefetch_ahead(chunk, prefetch);
                for (k, lanes) in acc.iter_mut().enumerate() {
                    let v = _mm_loadu_si128(chunk[8 * k..].as_ptr().cast());
                    let v = if signed { v } else { _mm_xor_si128(v, flip) };
                    *lanes = _mm_add_epi32(*lanes, _mm_madd_epi16(v, ones));
                }
                pending += 1;
                if pending == CHUNKS_PER_FLUSH {
                    total += flush(&mut acc);
                    pending = 0;
                }
            }
            total += flush(&mut acc);
        }
        if !signed {
            total += 32768 * (words.len() - chunks.remainder().len()) as i128;
        }
        total + chunks.remainder().iter().map(|&w| i128::from(scalar(w))).sum::<i128>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    words.iter().map(|&w| i128::from(scalar(w))).sum()
}

/// The sum of `dwords` (native 32-bit integers), signed or unsigned: exact. On x86_64 four at a
/// time with SSE2: each value split into its high half (arithmetic shift for signed values) and
/// its low half, each half summed in 32-bit lanes and moved into the total before it could
/// overflow; the scalar loop elsewhere and for the tail is the naive twin.
pub fn sum_dwords(dwords: &[u32], signed: bool) -> i128 {
    let scalar = |w: u32| -> i128 { if signed { i128::from(w as i32) } else { i128::from(w) } };
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        // A lane gains at most 2^16 per chunk in either half: 2^14 chunks fit an i32 (or u32).
        const CHUNKS_PER_FLUSH: usize = 1 << 14;
        let mut chunks = dwords.chunks_exact(16);
        let mut total: i128 = 0;
        let mut pending = 0;
        // SAFETY: SSE2 is part of x86_64; each load reads 4 values inside a 16-value chunk.
        unsafe {
            let low_mask = _mm_set1_epi32(0xffff);
            let (mut high, mut low) = ([_mm_setzero_si128(); 4], [_mm_setzero_si128(); 4]);
            let flush = |high: &mut [__m128i; 4], low: &mut [__m128i; 4]| -> i128 {
                let (mut h, mut l) = ([0i32; 16], [0i32; 16]);
                for k in 0..4 {
                    _mm_storeu_si128(h[4 * k..].as_mut_ptr().cast(), high[k]);
                    _mm_storeu_si128(l[4 * k..].as_mut_ptr().cast(), low[k]);
                    (high[k], low[k]) = (_mm_setzero_si128(), _mm_setzero_si128());
                }
                // Unsigned halves stay below 2^31 in a lane (2^14 * 2^16 = 2^30): as i32, exact.
                let highs = h.iter().map(|&x| i128::from(x)).sum::<i128>();
                let lows = l.iter().map(|&x| i128::from(x)).sum::<i128>();
                (highs << 16) + lows
            };
            let prefetch = host::software_prefetch();
            for chunk in &mut chunks {
                generic::prefetch_ahead(chunk, prefetch);
                for k in 0..4 {
                    let v = _mm_loadu_si128(chunk[4 * k..].as_ptr().cast());
                    let top = if signed { _mm_srai_epi32::<16>(v) } else { _mm_srli_epi32::<16>(v) };
                    high[k] = _mm_add_epi32(high[k], top);
                    low[k] = _mm_add_epi32(low[k], _mm_and_si128(v, low_mask));
                }
                pending += 1;
                if pending == CHUNKS_PER_FLUSH {
                    total += flush(&mut high, &mut low);
                    pending = 0;
                }
            }
            total += flush(&mut high, &mut low);
        }
        total + chunks.remainder().iter().map(|&w| scalar(w)).sum::<i128>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    dwords.iter().map(|&w| scalar(w)).sum()
}

/// The sum of `qwords` (native 64-bit integers), signed or unsigned: exact, with the lanes of
/// the CPU's widest integer level ([`sum_qwords_at`]).
pub fn sum_qwords(qwords: &[u64], signed: bool) -> i128 {
    sum_qwords_at(super::Level::selected(), qwords, signed)
}

/// [`sum_qwords`] at a given level (a level the CPU lacks, or one without its own loop, runs
/// the baseline's). A signed value's top bit is flipped first — the value plus 2^63, unsigned
/// — and 2^63 taken off per value at the end; each unsigned value's 32-bit halves are summed
/// apart in 64-bit lanes ([`sum_qword_lanes`]), 8 lanes that the compiler maps onto the
/// level's vectors. Unlike the other integer sums, whose SSE2 loops read at memory speed,
/// this one is compute-bound at SSE2's two lanes (measured: ~16 GB/s in cache, below DRAM's
/// ~29 GB/s on an Intel Xeon model 167), so it is dispatched.
pub fn sum_qwords_at(level: super::Level, qwords: &[u64], signed: bool) -> i128 {
    let flip = if signed { 1 << 63 } else { 0 };
    let prefetch = host::software_prefetch();
    #[cfg(target_arch = "x86_64")]
    let unsigned = if level >= super::Level::Avx2 && level.is_available() {
        // SAFETY: AVX2 was just detected on this CPU.
        unsafe { sum_qword_lanes_avx2(qwords, flip, prefetch) }
    } else {
        sum_qword_lanes(qwords, flip, prefetch)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let unsigned = {
        let _ = level;
        sum_qword_lanes(qwords, flip, prefetch)
    };
    // At most 2^64 values below 2^64 each: a u128 holds the sum, an i128 its signed form.
    unsigned as i128 - if signed { (qwords.len() as i128) << 63 } else { 0 }
}

/// [`sum_qword_lanes`] compiled for AVX2 (four 64-bit lanes per instruction).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_qword_lanes_avx2(qwords: &[u64], flip: u64, prefetch: bool) -> u128 {
    sum_qword_lanes(qwords, flip, prefetch)
}

/// The sum of `qwords`, each XORed with `flip` and read unsigned: exact. Plain loops over
/// 8 lanes (the compiler vectorizes them at the level they are compiled for): each value's
/// high and low 32-bit halves summed apart, a lane gaining below 2^32 per value in either
/// half, flushed into the total before 2^32 values could overflow it; prefetching as the host's
/// rule says ([`host::software_prefetch`]). The tail is the naive twin.
#[inline(always)]
fn sum_qword_lanes(qwords: &[u64], flip: u64, prefetch: bool) -> u128 {
    const LANES: usize = 8;
    const VALUES_PER_FLUSH: usize = LANES << 31;
    let mut total: u128 = 0;
    for block in qwords.chunks(VALUES_PER_FLUSH) {
        let (mut high, mut low) = ([0u64; LANES], [0u64; LANES]);
        let mut chunks = block.chunks_exact(LANES);
        for chunk in &mut chunks {
            generic::prefetch_ahead(chunk, prefetch);
            for j in 0..LANES {
                let q = chunk[j] ^ flip;
                high[j] += q >> 32;
                low[j] += q & 0xffff_ffff;
            }
        }
        total +=
            high.iter().map(|&h| u128::from(h) << 32).sum::<u128>() + low.iter().map(|&l| u128::from(l)).sum::<u128>();
        total += chunks.remainder().iter().map(|&q| u128::from(q ^ flip)).sum::<u128>();
    }
    total
}
