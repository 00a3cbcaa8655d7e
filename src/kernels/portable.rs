//! Scalar kernels: correct on every target, and the naive twins of the vector kernels.
//!
//! Same error structure as the vector kernels (plain f64 lane sums for f32 input, folded into a
//! double-double every `FOLD_EVERY` adds per lane; TwoSum on every add for f64 input), in the
//! plainest code.

use super::{Partial, UNIT_ROUNDOFF};

const LANES: usize = 8;
/// Adds per lane between folds; the vector kernels use the same bound.
const FOLD_EVERY: usize = 256;

/// f32 values summed in f64: each conversion is exact, each lane add rounds to f64 (29 bits
/// more than the input has), and every block's lanes are folded into a double-double. A lane
/// adds at most `FOLD_EVERY` values between folds: the error is at most
/// `(FOLD_EVERY + 1) * 2^-53 * sum(|x|)` (the vector kernels bound sum(|x|) differently).
pub fn sum_f32(xs: &[f32]) -> Partial {
    let mut total = Partial::ZERO;
    let mut magnitude = 0.0;
    for block in xs.chunks(LANES * FOLD_EVERY) {
        let mut lanes = [0.0f64; LANES];
        for (i, &x) in block.iter().enumerate() {
            lanes[i % LANES] += f64::from(x);
            magnitude += f64::from(x).abs();
        }
        total = lanes.into_iter().fold(total, Partial::add_f64);
    }
    // `magnitude` is rounded low by at most a factor (1 - n u): covered by the margin.
    total.error += (FOLD_EVERY + 1) as f64 * UNIT_ROUNDOFF * magnitude * (1.0 + (-20f64).exp2());
    total
}

/// f64 values summed in double-double: every add keeps its rounding error (TwoSum); only the
/// low parts' adds round, and each such rounding joins the bound.
pub fn sum_f64(xs: &[f64]) -> Partial {
    let mut lanes = [Partial::ZERO; LANES];
    for (i, &x) in xs.iter().enumerate() {
        lanes[i % LANES] = lanes[i % LANES].add_f64(x);
    }
    lanes.into_iter().fold(Partial::ZERO, Partial::merge)
}
