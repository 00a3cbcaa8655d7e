//! Scalar kernels: correct on every target, and the naive twins of the vector kernels.
//!
//! Same error structure as the vector kernels (plain f64 lane sums for f32 input, folded into a
//! double-double every `FOLD_EVERY` adds per lane; TwoSum on every add for f64 input), in the
//! plainest code.

use super::{DoubleDouble, Partial};

const LANES: usize = 8;
/// Adds per lane between folds; the vector kernels use the same bound.
const FOLD_EVERY: usize = 256;

/// f32 values summed in f64: each conversion is exact, each lane add rounds to f64 (29 bits
/// more than the input has), and every block's lanes are folded into a double-double.
pub fn sum_f32(xs: &[f32]) -> DoubleDouble {
    let mut total = DoubleDouble::ZERO;
    for block in xs.chunks(LANES * FOLD_EVERY) {
        let mut lanes = [0.0f64; LANES];
        for (i, &x) in block.iter().enumerate() {
            lanes[i % LANES] += f64::from(x);
        }
        total = lanes.into_iter().fold(total, DoubleDouble::add_f64);
    }
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
