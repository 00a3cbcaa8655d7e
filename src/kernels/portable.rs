//! Scalar kernels: correct on every target, and the reference for the vector ones.
//!
//! They use the same structure as the vector kernels (independent lanes, blocks folded into a
//! double-double) so that their error bounds are the same, but nothing here needs a CPU feature.

use super::DoubleDouble;

/// Independent accumulators: enough to hide the latency of a floating-point add.
const LANES: usize = 8;
/// Elements per lane before a lane's plain f64 sum is folded into the double-double total.
/// Rounding error in a block is at most `BLOCK_PER_LANE * 2^-53 * sum(|x|)` of that block.
pub const BLOCK_PER_LANE: usize = 256;

/// f32 values summed in f64: each conversion is exact, each lane add rounds to f64 (29 bits
/// more than the input has), and each block's lanes are folded into a double-double.
pub fn sum_f32(xs: &[f32]) -> DoubleDouble {
    let mut total = DoubleDouble::ZERO;
    for block in xs.chunks(LANES * BLOCK_PER_LANE) {
        let mut lanes = [0f64; LANES];
        let mut groups = block.chunks_exact(LANES);
        for group in &mut groups {
            for (lane, &x) in lanes.iter_mut().zip(group) {
                *lane += f64::from(x);
            }
        }
        for (lane, &x) in lanes.iter_mut().zip(groups.remainder()) {
            *lane += f64::from(x);
        }
        for lane in lanes {
            total = total.add_f64(lane);
        }
    }
    total
}

/// f64 values summed in double-double: every add keeps its rounding error (TwoSum), so the
/// result is off by at most about `n * 2^-106 * sum(|x|)`.
pub fn sum_f64(xs: &[f64]) -> DoubleDouble {
    let mut lanes = [DoubleDouble::ZERO; LANES];
    let mut groups = xs.chunks_exact(LANES);
    for group in &mut groups {
        for (lane, &x) in lanes.iter_mut().zip(group) {
            *lane = lane.add_f64(x);
        }
    }
    for (lane, &x) in lanes.iter_mut().zip(groups.remainder()) {
        *lane = lane.add_f64(x);
    }
    lanes.into_iter().fold(DoubleDouble::ZERO, DoubleDouble::add)
}
