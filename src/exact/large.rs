//! Radford Neal's large superaccumulator: an exact sum of f64 values at a bounded cost per value,
//! whatever their exponents.
//!
//! ```text
//! chunks[4096] := 0; room[4096] := 2047       # one chunk per (sign, biased exponent)
//! add(x):
//!     i := the top 12 bits of x (sign and exponent)
//!     if room[i] == 0: carry chunk i into the exact sum; chunks[i] := 0; room[i] := 2047
//!     room[i] -= 1
//!     chunks[i] += the significand of x, as an integer (the hidden bit included)
//! finish: carry every chunk used into the exact sum
//! ```
//!
//! A significand is below 2^53, so 2047 of them sum below 2^64 in a u64 chunk: no add rounds or
//! overflows, and a carry happens once per 2047 values of one exponent at most. Every value
//! costs the same few integer operations — two loads, two stores, no compare of exponents
//! against windows — so data whose exponents spread over the whole range (where exponent
//! windows need many passes) costs no more than any other. The tables take 40 KiB (they live
//! in L1 and L2); the values of one block rarely touch more than a few hundred chunks.
//! Infinities and NaN (exponent 0x7ff) have no room: each goes to the exact sum, which records
//! it.

use super::ExactSum;

/// Chunks: one per sign and biased exponent.
const CHUNKS: usize = 4096;
/// Significands (< 2^53) one u64 chunk takes before it must be carried: 2047 * 2^53 < 2^64.
const ROOM: i16 = 2047;
/// The fraction bits of an f64.
const FRACTION: u64 = (1 << 52) - 1;

/// The chunk table: see the module doc.
pub(crate) struct LargeAccumulator {
    chunks: [u64; CHUNKS],
    room: [i16; CHUNKS],
}

impl LargeAccumulator {
    /// An empty table.
    pub(crate) fn new() -> Self {
        let mut room = [ROOM; CHUNKS];
        // Exponent 0x7ff, either sign: infinities and NaN, never kept in a chunk.
        room[0x7ff] = 0;
        room[0xfff] = 0;
        LargeAccumulator { chunks: [0; CHUNKS], room }
    }

    /// Adds every value of `xs`; what a chunk cannot hold goes to `sum` (which is not counted
    /// here: the caller counts the values). Call [`LargeAccumulator::finish`] at the end.
    #[inline]
    pub(crate) fn add_f64s(&mut self, xs: &[f64], sum: &mut ExactSum) {
        // Four values a step: their chunk indices and significands first, then the four table
        // updates, so that the loads of one do not wait behind the stores of the one before.
        // The values stream from memory slower than the hardware prefetchers expect (see
        // `host::exact_path_prefetch`): one hint per cache line, every other quad.
        let prefetch = crate::kernels::host::exact_path_prefetch();
        let mut quads = xs.chunks_exact(4);
        for (q, quad) in (&mut quads).enumerate() {
            if q % 2 == 0 {
                crate::kernels::prefetch_ahead(quad, prefetch);
            }
            let bits = [quad[0].to_bits(), quad[1].to_bits(), quad[2].to_bits(), quad[3].to_bits()];
            let index = bits.map(|b| (b >> 52) as usize & (CHUNKS - 1));
            if index.iter().any(|&i| self.room[i] < 4) {
                for &x in quad {
                    self.add(x, sum);
                }
                continue;
            }
            for k in 0..4 {
                self.deposit(index[k], bits[k]);
            }
        }
        for &x in quads.remainder() {
            self.add(x, sum);
        }
    }

    /// Adds `x`. Every significand goes in with the hidden bit set, subnormals' too (a branch-
    /// free add); [`LargeAccumulator::carry`] takes the extra bits back from the two chunks
    /// of exponent 0, counting their adds by their room.
    #[inline(always)]
    fn add(&mut self, x: f64, sum: &mut ExactSum) {
        let bits = x.to_bits();
        let i = (bits >> 52) as usize & (CHUNKS - 1);
        if self.room[i] == 0 {
            self.carry_and_add(i, x, sum);
            return;
        }
        self.deposit(i, bits);
    }

    /// Adds the significand of the value with `bits` to chunk `i`, which has room for it.
    #[inline(always)]
    fn deposit(&mut self, i: usize, bits: u64) {
        self.room[i] -= 1;
        self.chunks[i] += (bits & FRACTION) | 1 << 52;
    }

    #[cold]
    #[inline(never)]
    fn carry_and_add(&mut self, i: usize, x: f64, sum: &mut ExactSum) {
        if i & 0x7ff == 0x7ff {
            sum.add_partial(x); // an infinity or NaN: recorded, not added
            return;
        }
        self.carry(i, sum);
        self.add(x, sum);
    }

    /// Carries chunk `i` into `sum` and empties it (its room back to [`ROOM`]).
    #[inline]
    fn carry(&mut self, i: usize, sum: &mut ExactSum) {
        let mut chunk = std::mem::take(&mut self.chunks[i]);
        let adds = (ROOM - std::mem::replace(&mut self.room[i], ROOM)) as u64;
        if i & 0x7ff == 0 {
            chunk -= adds << 52; // subnormals have no hidden bit (see `add`)
        }
        if chunk != 0 {
            // A significand m at biased exponent e (1 for subnormals) is m * 2^(e - 1075),
            // whose bit 0 is at position e - 1 in the sum's units of 2^-1074.
            let exponent = (i & 0x7ff).max(1) as u32;
            sum.add_integer(chunk, exponent - 1, i >> 11 != 0);
        }
    }

    /// The exact sum of `xs` added to `sum` (not counted: the caller counts the values),
    /// through a table of its own.
    pub(crate) fn add_to(sum: &mut ExactSum, xs: &[f64]) {
        let mut large = LargeAccumulator::new();
        large.add_f64s(xs, sum);
        large.finish(sum);
    }

    /// Carries every chunk into `sum`, leaving the table empty.
    pub(crate) fn finish(&mut self, sum: &mut ExactSum) {
        for i in 0..CHUNKS {
            if i & 0x7ff != 0x7ff && self.room[i] != ROOM {
                self.carry(i, sum);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn large_sum(xs: &[f64]) -> ExactSum {
        let mut sum = ExactSum::new();
        sum.count_values(xs.len() as u64);
        LargeAccumulator::add_to(&mut sum, xs);
        sum
    }

    fn reference(xs: &[f64]) -> ExactSum {
        let mut sum = ExactSum::new();
        sum.add_f64s(xs);
        sum
    }

    fn assert_same(xs: &[f64]) {
        let (a, b) = (large_sum(xs), reference(xs));
        assert_eq!(a.to_bytes(), b.to_bytes(), "n = {}", xs.len());
    }

    #[test]
    fn one_exponent_repeated_past_a_chunks_room() {
        // 2047 significands fill a chunk; 10^4 values of one exponent carry it several times.
        for &x in &[1.0, -1.0, 1.0 - f64::EPSILON / 2.0, f64::MAX, -f64::MIN_POSITIVE, f64::from_bits(1)] {
            for n in [1, 2046, 2047, 2048, 2049, 4094, 4095, 10_000] {
                assert_same(&vec![x; n]);
            }
        }
    }

    #[test]
    fn every_exponent_both_signs_subnormals_and_cancellation() {
        let mut xs = Vec::new();
        for e in 0..0x7ffu64 {
            for fraction in [0, 1, (1 << 52) - 1, 0x5_5555_5555_5555] {
                let x = f64::from_bits(e << 52 | fraction);
                xs.extend([x, -x, x]);
            }
        }
        assert_same(&xs);
        let sum = large_sum(&xs);
        assert_eq!(sum.sum_f64(), reference(&xs).sum_f64());
        // Pairs that cancel to exactly zero.
        let pairs: Vec<f64> = xs.iter().flat_map(|&x| [x, -x]).collect();
        assert_eq!(large_sum(&pairs).sum_f64(), 0.0);
    }

    #[test]
    fn sums_that_overflow_f64_and_specials() {
        assert_same(&[f64::MAX; 5000]);
        assert_eq!(large_sum(&[f64::MAX, f64::MAX, -f64::MAX]).mean_f64(), f64::MAX / 3.0);
        assert!(large_sum(&[1.0, f64::NAN, 2.0]).mean_f64().is_nan());
        assert_eq!(large_sum(&[1.0, f64::INFINITY, 2.0]).mean_f64(), f64::INFINITY);
        assert!(large_sum(&[f64::NEG_INFINITY, 1.0, f64::INFINITY]).mean_f64().is_nan());
        assert_eq!(large_sum(&[f64::NEG_INFINITY; 3000]).mean_f64(), f64::NEG_INFINITY);
    }

    #[test]
    fn pseudo_random_wide_data() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [0, 1, 7, 100, 4096, 50_000] {
            let xs: Vec<f64> = (0..n).map(|_| f64::from_bits(next() & !(0x7ff << 52) | (next() % 0x7ff) << 52)).collect();
            assert_same(&xs);
        }
    }
}

