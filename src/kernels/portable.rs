//! Scalar kernels: correct on every target, and the naive twins of the vector kernels.
//!
//! Same structure as the vector kernels (plain f64 lane sums for f32 input, certified exact by
//! the inexact flag block by block, else every value added with TwoSum; TwoSum on every add for
//! f64 input), in the plainest code.

use super::{Level, Partial, certificate, mxcsr};

const LANES: usize = 8;
/// Adds per lane in a block, as in the vector kernels.
const FOLD_EVERY: usize = 256;

/// f32 values summed in f64: each conversion is exact, and a block's plain lane adds are kept
/// only if none of them rounded (see `mxcsr`); a block with a rounded add (or any block, where
/// the flag is not available) is added again, value by value, with TwoSum.
pub fn sum_f32(xs: &[f32]) -> Partial {
    let certified = certificate::trusted(Level::Scalar);
    let mut total = Partial::ZERO;
    for block in xs.chunks(LANES * FOLD_EVERY) {
        let mut lanes = [0.0f64; LANES];
        mxcsr::clear_inexact(&mut lanes);
        for (i, &x) in block.iter().enumerate() {
            lanes[i % LANES] += f64::from(x);
        }
        total = if !certified || mxcsr::rounded_since_clear(&lanes) {
            block.iter().fold(total, |t, &x| t.add_f64(f64::from(x)))
        } else {
            lanes.into_iter().fold(total, Partial::add_f64)
        };
    }
    total
}

/// f64 values summed in double-double: every add keeps its rounding error (TwoSum); only the
/// low parts' adds may round, and each such rounding joins the bound.
pub fn sum_f64(xs: &[f64]) -> Partial {
    let mut lanes = [Partial::ZERO; LANES];
    for (i, &x) in xs.iter().enumerate() {
        lanes[i % LANES] = lanes[i % LANES].add_f64(x);
    }
    lanes.into_iter().fold(Partial::ZERO, Partial::merge)
}

/// [`crate::kernels::generic`]'s flag test for scalar f64 adds and subtractions (what this
/// module's certified code uses): set when the result rounds, clear when it does not.
pub(super) fn flag_reports_rounding() -> bool {
    // Operands from memory the flag's asm blocks see (see `mxcsr`): 2^29 and 2^-40 round
    // when added or subtracted, 1 and 2 do not. window[4] takes the result.
    let mut window = [2f64.powi(29), 2f64.powi(-40), 1.0, 2.0, 0.0];
    for subtract in [false, true] {
        for rounds in [true, false] {
            mxcsr::clear_inexact(&mut window);
            let (a, b) = if rounds { (window[0], window[1]) } else { (window[2], window[3]) };
            window[4] = if subtract { a - b } else { a + b };
            if mxcsr::rounded_since_clear(&window) != rounds {
                return false;
            }
        }
    }
    true
}

/// The naive twin of the column kernels (`add_row_*_at`): TwoSum into `hi[j]`, the error
/// added plainly to `lo[j]`, and `|lo[j]|` after the add into `bound[j]`.
pub fn add_row(hi: &mut [f64], lo: &mut [f64], bound: &mut [f64], row: impl Iterator<Item = f64>) {
    for (((h, l), b), x) in hi.iter_mut().zip(lo.iter_mut()).zip(bound.iter_mut()).zip(row) {
        let (sum, err) = super::two_sum(*h, x);
        *h = sum;
        *l += err;
        *b += l.abs();
    }
}
