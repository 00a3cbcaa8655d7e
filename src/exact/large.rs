//! Radford Neal's large superaccumulator: an exact sum of f64 values at a bounded cost per value,
//! whatever their exponents.
//!
//! ```text
//! chunks[4096] := 0                            # one chunk per (sign, biased exponent)
//! for each batch of 1024 values:
//!     for x: chunks[top 12 bits of x] += the significand of x, as an integer
//!     carry every chunk at 2^63 or more into the exact sum (and empty it)
//! finish: carry every chunk into the exact sum
//! ```
//!
//! A significand is below 2^53, so a batch adds less than 2^63 to any chunk: a chunk below 2^63
//! before a batch does not overflow during it. A value costs a load, a few integer operations
//! and one add to memory; there is no count of adds per chunk (Neal's design keeps one, which
//! doubles the stores), no compare of exponents against windows — data whose exponents spread
//! over the whole range (where exponent windows need many passes) costs no more than any other.
//! The check after a batch reads the 32 KiB table at SIMD width (four chunks a value, eight
//! to a vector). Infinities and NaN (exponent 0x7ff) land in chunks of their own, which are
//! never carried: when one is not empty, the batch's special values go to the exact sum, which
//! records each kind.
//!
//! Long runs of one exponent are a chain of adds to one chunk (each waits for the previous
//! store): the windows of `x86_64/exact_f64.rs` take such data, this table the wide spreads.
//! Two tables, for values at even and odd positions, halve such chains (float64 values in
//! [1, 2) without AVX-512: 2.2 -> 1.3 ns per value) but double the footprint, and data
//! spread over every exponent, what the table is for, lost more (0.8 -> 1.3 ns per value;
//! Intel Xeon, family 6, model 167): one table.

use super::ExactSum;

/// Chunks: one per sign and biased exponent.
const CHUNKS: usize = 4096;
/// Values between checks: 1024 significands (< 2^53 each) sum below 2^63.
const BATCH: usize = 1024;
/// The fraction bits of an f64.
const FRACTION: u64 = (1 << 52) - 1;
/// The hidden bit of a normal f64's significand.
const HIDDEN: u64 = 1 << 52;
/// The chunks of zeros and subnormals (exponent 0, either sign).
const EXPONENT_ZERO: [usize; 2] = [0, 0x800];
/// The chunks of infinities and NaN (exponent 0x7ff, either sign).
const SPECIAL: [usize; 2] = [0x7ff, 0xfff];

/// The chunk table: see the module doc. Every chunk is below 2^63 between batches.
pub(crate) struct LargeAccumulator {
    chunks: [u64; CHUNKS],
}

impl LargeAccumulator {
    /// An empty table.
    pub(crate) fn new() -> Self {
        LargeAccumulator { chunks: [0; CHUNKS] }
    }

    /// Adds every value of `xs`; what a chunk cannot hold goes to `sum` (which is not counted
    /// here: the caller counts the values). Call [`LargeAccumulator::finish`] at the end.
    ///
    /// Inlined so that the check after each batch compiles at the caller's instruction set.
    #[inline(always)]
    pub(crate) fn add_f64s(&mut self, xs: &[f64], sum: &mut ExactSum) {
        // The values stream from memory slower than the hardware prefetchers expect (see
        // `host::exact_path_prefetch`): one hint per cache line.
        let prefetch = crate::kernels::host::exact_path_prefetch();
        for batch in xs.chunks(BATCH) {
            let exponent_zero_before = EXPONENT_ZERO.map(|i| self.chunks[i]);
            let mut lines = batch.chunks_exact(8);
            for line in &mut lines {
                crate::kernels::prefetch_ahead(line, prefetch);
                for &x in line {
                    self.deposit(x.to_bits());
                }
            }
            for &x in lines.remainder() {
                self.deposit(x.to_bits());
            }
            self.settle(batch, exponent_zero_before, sum);
        }
    }

    /// Adds the significand of the value with `bits` to its chunk, the hidden bit always set
    /// (one operation fewer than testing the exponent): [`LargeAccumulator::settle`] takes it
    /// back from zeros and subnormals.
    #[inline(always)]
    fn deposit(&mut self, bits: u64) {
        // bits >> 52 < 4096 = CHUNKS: no bounds check.
        self.chunks[(bits >> 52) as usize] += (bits | HIDDEN) & (HIDDEN | FRACTION);
    }

    /// After a batch: the hidden bits of its zeros and subnormals taken back (they count in
    /// units of exponent 1, without one: see [`LargeAccumulator::carry`]), its special values
    /// to `sum`, and every chunk at 2^63 or more carried.
    #[inline(always)]
    fn settle(&mut self, batch: &[f64], exponent_zero_before: [u64; 2], sum: &mut ExactSum) {
        // Each value of exponent 0 added at least its hidden bit.
        if EXPONENT_ZERO.map(|i| self.chunks[i]) != exponent_zero_before {
            let mut counts = [0u64; 2];
            for &x in batch {
                let top = (x.to_bits() >> 52) as usize;
                for (count, i) in counts.iter_mut().zip(EXPONENT_ZERO) {
                    *count += u64::from(top == i);
                }
            }
            for (count, i) in counts.into_iter().zip(EXPONENT_ZERO) {
                self.chunks[i] -= count << 52;
            }
        }
        if SPECIAL.iter().any(|&i| self.chunks[i] != 0) {
            for i in SPECIAL {
                self.chunks[i] = 0;
            }
            for &x in batch.iter().filter(|x| !x.is_finite()) {
                sum.add_partial(x); // recorded, not added
            }
        }
        for group in 0..CHUNKS / 64 {
            let chunks = &self.chunks[group * 64..][..64];
            if chunks.iter().fold(0, |any, &c| any | c) >> 63 != 0 {
                for i in group * 64..group * 64 + 64 {
                    if self.chunks[i] >> 63 != 0 {
                        self.carry(i, sum);
                    }
                }
            }
        }
    }

    /// Carries chunk `i` into `sum` and empties it.
    #[inline]
    fn carry(&mut self, i: usize, sum: &mut ExactSum) {
        let chunk = std::mem::take(&mut self.chunks[i]);
        if chunk != 0 {
            // A significand m at biased exponent e (1 for subnormals) is m * 2^(e - 1075),
            // whose bit 0 is at position e - 1 in the sum's units of 2^-1074.
            let exponent = (i & 0x7ff).max(1) as u32;
            sum.add_integer(chunk, exponent - 1, i >> 11 != 0);
        }
    }

    /// The exact sum of `xs` added to `sum` (not counted: the caller counts the values),
    /// through a table of its own. Inlined, as [`LargeAccumulator::add_f64s`] is.
    #[inline(always)]
    pub(crate) fn add_to(sum: &mut ExactSum, xs: &[f64]) {
        let mut large = LargeAccumulator::new();
        large.add_f64s(xs, sum);
        large.finish(sum);
    }

    /// Carries every chunk into `sum`, leaving the table empty (the special chunks are empty
    /// after every batch).
    pub(crate) fn finish(&mut self, sum: &mut ExactSum) {
        for i in 0..CHUNKS {
            self.carry(i, sum);
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
        // A chunk is carried once it reaches 2^63 (after 1024 to 2048 significands): 10^4 values
        // of one exponent carry it several times, across batches.
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
    fn zeros_and_subnormals_of_either_sign_in_every_batch() {
        // Their hidden bits go in and are taken back batch by batch, counted by sign.
        let xs: Vec<f64> = (0..5000u64)
            .map(|i| match i % 5 {
                0 => 0.0,
                1 => -0.0,
                2 => f64::from_bits(i),
                3 => -f64::from_bits(i * 977),
                _ => 1.0 + i as f64,
            })
            .collect();
        assert_same(&xs);
        assert_same(&vec![-0.0; 3000]);
        assert_same(&vec![f64::from_bits((1 << 52) - 1); 3000]);
        assert_same(&vec![-f64::from_bits(1); 3000]);
    }

    #[test]
    fn specials_at_batch_edges() {
        for (at, special) in [(0, f64::INFINITY), (1023, f64::NAN), (1024, f64::NEG_INFINITY), (2047, f64::INFINITY)] {
            let mut xs = vec![1.5; 3000];
            xs[at] = special;
            assert_same(&xs);
            xs[2999] = -special;
            assert_same(&xs);
        }
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
            let xs: Vec<f64> =
                (0..n).map(|_| f64::from_bits(next() & !(0x7ff << 52) | (next() % 0x7ff) << 52)).collect();
            assert_same(&xs);
        }
    }
}
