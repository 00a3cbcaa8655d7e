//! Summation kernels: each turns a slice into an unevaluated double-double sum.
//!
//! `portable` is the reference implementation that compiles everywhere; it is also the naive
//! twin the vector kernels are tested against.

pub mod portable;

/// An unevaluated sum `hi + lo` with `|lo| <= ulp(hi) / 2` after [`DoubleDouble::add`]:
/// about 106 bits of a partial sum.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DoubleDouble {
    pub hi: f64,
    pub lo: f64,
}

impl DoubleDouble {
    pub const ZERO: DoubleDouble = DoubleDouble { hi: 0.0, lo: 0.0 };

    /// Adds `x`, keeping the rounding error of the high part (Knuth's TwoSum).
    #[inline(always)]
    pub fn add_f64(self, x: f64) -> DoubleDouble {
        let (hi, err) = two_sum(self.hi, x);
        DoubleDouble { hi, lo: self.lo + err }
    }

    /// Adds another double-double.
    #[inline(always)]
    pub fn add(self, other: DoubleDouble) -> DoubleDouble {
        let (hi, err) = two_sum(self.hi, other.hi);
        let lo = err + self.lo + other.lo;
        let (hi, lo) = fast_two_sum(hi, lo);
        DoubleDouble { hi, lo }
    }

    pub fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }
}

/// `a + b` and its rounding error, exactly: `s + err == a + b` (no overflow).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// TwoSum for `|a| >= |b|` (or a == 0), in three operations.
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// Sum of `xs`, each converted to f64 exactly; partial sums rounded to f64 within blocks.
pub fn sum_f32(xs: &[f32]) -> DoubleDouble {
    portable::sum_f32(xs)
}

/// Sum of `xs` accumulated in double-double.
pub fn sum_f64(xs: &[f64]) -> DoubleDouble {
    portable::sum_f64(xs)
}
