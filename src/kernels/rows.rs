//! Many tiny rows at once: a reduction along a short last axis (a (n, 3) array's `axis=1`),
//! where one row at a time is a chain of a few dependent adds, a scalar rounding test and the
//! batch's bookkeeping (~20 ns a row of three float64 values, measured). Here a block of rows
//! is summed one lane per row: each position within the rows is one pass over the block (loads
//! at the rows' stride), then every row's mean goes through the branch-free rounding test.
//! Plain loops, which the compiler vectorizes at the level each entry point is compiled for;
//! the same loops compiled for the baseline are the scalar level. Every level computes the
//! same IEEE operations in the same order (no contraction into FMAs), so the results are
//! bit-identical across levels; the tests compare each level with the one-row-at-a-time path
//! (`tests/kernels.rs`).

use super::{Level, Partial, UNIT_ROUNDOFF, two_sum};
use crate::rounding::{exact_sums_to_f32_means_inline, f64_mean_of_bounded_sum, partial_sums_to_f64_means};

/// Rows per call, at most.
pub const ROWS: usize = 256;
/// Values per row, at most.
pub const MAX_LEN: usize = 32;
/// Contiguous rows (the stride their length) at most this long are read as whole vectors and
/// transposed in registers at the AVX-512 level ([`transposed`]), not gathered.
const TRANSPOSED_LEN: usize = 8;
/// Row strides the gathers take (their lane offsets are products below 2^32 · 8).
const GATHER_STRIDES: usize = 1 << 31;

/// Checks what the loops below rely on to read inside `data` without bound checks.
fn check(data_len: usize, rows: usize, len: usize, stride: usize) {
    assert!(rows <= ROWS && (1..=MAX_LEN).contains(&len), "{rows} rows of {len}");
    assert!(rows == 0 || (rows - 1).checked_mul(stride).and_then(|s| s.checked_add(len)) <= Some(data_len));
}

/// The float64 means of `means.len()` rows of `len` values each (`1..=MAX_LEN`), row `k` at
/// `data[k * stride..][..len]`, and whether each is `undecided`. Each row's sum is a
/// double-double by TwoSum, its error added into the low part by TwoSum too, whose own
/// rounding errors (the only loss, nearly always none) are dropped and their magnitudes kept as
/// the error bound: `reduce::cells::tiny_row_sum`, value for value. The means are
/// `rounding::partial_sums_to_f64_means`'s; an undecided row's caller redoes it from that sum.
pub fn tiny_row_means_f64_at(
    level: Level,
    data: &[f64],
    len: usize,
    stride: usize,
    means: &mut [f64],
    undecided: &mut [bool],
) {
    check(data.len(), means.len(), len, stride);
    assert_eq!(means.len(), undecided.len());
    #[cfg(target_arch = "x86_64")]
    if level.is_available() && stride < GATHER_STRIDES {
        match level {
            // SAFETY: the level was detected on this CPU; `check` holds.
            Level::Avx512
                if stride == len && len <= TRANSPOSED_LEN && std::arch::is_x86_feature_detected!("avx512vl") =>
            {
                return unsafe { transposed::means_f64(data, len, means, undecided) };
            }
            // SAFETY: as above.
            Level::Avx512 => return unsafe { tiny_row_means_f64_avx512(data, len, stride, means, undecided) },
            // SAFETY: as above.
            Level::Avx2 => return unsafe { tiny_row_means_f64_avx2(data, len, stride, means, undecided) },
            _ => {}
        }
    }
    let _ = level;
    // SAFETY: `check` holds.
    unsafe { tiny_row_means_f64(data, len, stride, means, undecided) }
}

/// Adds each row's values to `sums[k]` in plain f64 (rows as in [`tiny_row_means_f64_at`]),
/// for sums certified exact by the inexact flag around the call (`kernels::CertifiedColumns`).
/// Each row's adds in order, from the value `sums[k]` holds.
pub fn tiny_row_sums_f32_at(level: Level, data: &[f32], len: usize, stride: usize, sums: &mut [f64]) {
    check(data.len(), sums.len(), len, stride);
    #[cfg(target_arch = "x86_64")]
    if level.is_available() && stride < GATHER_STRIDES {
        match level {
            // SAFETY: the level was detected on this CPU; `check` holds.
            Level::Avx512
                if stride == len && len <= TRANSPOSED_LEN && std::arch::is_x86_feature_detected!("avx512vl") =>
            {
                return unsafe { transposed::sums_f32(data, len, sums) };
            }
            // SAFETY: as above.
            Level::Avx512 => return unsafe { tiny_row_sums_f32_avx512(data, len, stride, sums) },
            // SAFETY: as above.
            Level::Avx2 => return unsafe { tiny_row_sums_f32_avx2(data, len, stride, sums) },
            _ => {}
        }
    }
    let _ = level;
    // SAFETY: `check` holds.
    unsafe { tiny_row_sums_f32(data, len, stride, sums) }
}

/// The double-double sum of one tiny row, `first` then `rest`: TwoSum keeps each add's error
/// exactly, and a second TwoSum adds it into the low part, whose own rounding errors (the only
/// loss, nearly always none) are dropped and their magnitudes summed into `dropped`, the error
/// bound. Returns `(hi, lo, dropped)`. The vector levels do the same operations lane by lane.
#[inline(always)]
pub(crate) fn row_sum(first: f64, rest: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut hi, mut lo, mut dropped) = (first, 0.0, 0.0);
    for x in rest {
        let (sum, error) = two_sum(hi, x);
        let (low, lost) = two_sum(lo, error);
        (hi, lo) = (sum, low);
        dropped += f64::abs(lost);
    }
    (hi, lo, dropped)
}

/// The double-double sums of the rows (one lane per row, see [`tiny_row_means_f64_at`]).
/// SoA arrays of at most [`ROWS`].
struct Sums {
    hi: [f64; ROWS],
    lo: [f64; ROWS],
    dropped: [f64; ROWS],
}

impl Sums {
    fn new() -> Self {
        Sums { hi: [0.0; ROWS], lo: [0.0; ROWS], dropped: [0.0; ROWS] }
    }

    /// Rows `first..rows` one value at a time (the scalar level, and the vector levels' tail).
    ///
    /// # Safety
    /// `check(data.len(), rows, len, stride)` holds.
    #[inline(always)]
    unsafe fn add_rows(&mut self, data: &[f64], len: usize, stride: usize, first: usize, rows: usize) {
        for k in first..rows {
            // SAFETY: k < rows and j < len, so k * stride + j < data.len() by `check`.
            let at = |j: usize| unsafe { *data.get_unchecked(k * stride + j) };
            (self.hi[k], self.lo[k], self.dropped[k]) = row_sum(at(0), (1..len).map(at));
        }
    }

    /// Every row's mean, rounded (`rounding::partial_sums_to_f64_means`'s test, in a loop
    /// that vectorizes at the caller's level).
    #[inline(always)]
    fn round(&self, len: usize, means: &mut [f64], undecided: &mut [bool]) {
        let rows = means.len();
        let divisor = len as f64;
        let sums = self.hi[..rows].iter().zip(&self.lo[..rows]).zip(&self.dropped[..rows]);
        for ((mean, undecided), ((&hi, &lo), &dropped)) in means.iter_mut().zip(undecided.iter_mut()).zip(sums) {
            (*mean, *undecided) = f64_mean_of_bounded_sum(hi, lo, dropped, divisor);
        }
    }
}

/// Defines `pub fn $name(level, args...)`: the `#[inline(always)]` loop `$body` compiled for
/// `level` (AVX-512, AVX2 and FMA, or the baseline): the same IEEE operations in the same order
/// at every level (no contraction into FMAs), more lanes.
macro_rules! at_each_level {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) => $body:path;) => {
        $(#[$doc])*
        pub fn $name(level: Level, $($arg: $ty),*) {
            /// # Safety
            /// The CPU must support AVX-512F and DQ.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512dq")]
            unsafe fn avx512($($arg: $ty),*) {
                $body($($arg),*)
            }
            /// # Safety
            /// The CPU must support AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($arg: $ty),*) {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if level.is_available() {
                match level {
                    // SAFETY: the level was detected on this CPU.
                    Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    Level::Avx2 => return unsafe { avx2($($arg),*) },
                    _ => {}
                }
            }
            let _ = level;
            $body($($arg),*)
        }
    };
}

at_each_level! {
    /// The float64 means of `means.len()` sums of `n` values each (`1..=2^26`), sum `k` being
    /// `hi[k] + lo[k]` within `bound[k] * UNIT_ROUNDOFF` (the column kernels' lanes,
    /// `kernels::add_rows_f64_at`), and whether each is `undecided`: `rounding::round_mean`'s
    /// answer where decided, by the branch-free test of [`tiny_row_means_f64_at`], where one
    /// call per cell costs 15-25 ns (its tests branch, its FMAs are libm calls at the baseline
    /// level).
    pub fn bounded_sums_to_f64_means_at(
        lanes: (&[f64], &[f64], &[f64]),
        n: usize,
        means: &mut [f64],
        undecided: &mut [bool]
    ) => bounded_means;
}

#[inline(always)]
fn bounded_means((hi, lo, bound): (&[f64], &[f64], &[f64]), n: usize, means: &mut [f64], undecided: &mut [bool]) {
    assert!((1..=1 << 26).contains(&n), "n must fit the test's split");
    let cells = means.len();
    assert!(hi.len() >= cells && lo.len() >= cells && bound.len() >= cells && undecided.len() == cells);
    let divisor = n as f64;
    let sums = hi.iter().zip(lo).zip(bound);
    for ((mean, undecided), ((&hi, &lo), &bound)) in means.iter_mut().zip(undecided.iter_mut()).zip(sums) {
        (*mean, *undecided) = f64_mean_of_bounded_sum(hi, lo, bound * UNIT_ROUNDOFF, divisor);
    }
}

at_each_level! {
    /// `rounding::partial_sums_to_f64_means` (the float64 means of a batch of short rows' sums,
    /// `reduce::cells::RowBatch`) at `level`.
    pub fn partial_sums_to_f64_means_at(partials: &[Partial], n: usize, means: &mut [f64], undecided: &mut [bool])
        => partial_sums_to_f64_means;
}

at_each_level! {
    /// `rounding::exact_sums_to_f32_means` (float32 means of exact sums of `n` values each) at
    /// `level`.
    pub fn exact_sums_to_f32_means_at(sums: &[f64], n: usize, means: &mut [f32], undecided: &mut [bool])
        => exact_sums_to_f32_means_inline;
}

/// # Safety
/// `check(data.len(), means.len(), len, stride)` holds.
#[inline(always)]
unsafe fn tiny_row_means_f64(data: &[f64], len: usize, stride: usize, means: &mut [f64], undecided: &mut [bool]) {
    let mut sums = Sums::new();
    // SAFETY: the caller's `check`.
    unsafe { sums.add_rows(data, len, stride, 0, means.len()) };
    sums.round(len, means, undecided);
}

/// # Safety
/// `check(data.len(), sums.len(), len, stride)` holds.
#[inline(always)]
unsafe fn tiny_row_sums_f32(data: &[f32], len: usize, stride: usize, sums: &mut [f64]) {
    for (k, sum) in sums.iter_mut().enumerate() {
        for j in 0..len {
            // SAFETY: k < rows and j < len, so k * stride + j < data.len() by `check`.
            *sum += f64::from(unsafe { *data.get_unchecked(k * stride + j) });
        }
    }
}

/// One value `$x` into vectors of [`row_sum`]'s `(hi, lo, dropped)`, lane by lane, with the
/// level's add, subtract and absolute value: TwoSum into `hi`, a second TwoSum of its error into
/// `lo`, the magnitude of what that one loses into `dropped`.
macro_rules! row_sum_step {
    ($add:path, $sub:path, $abs:expr, ($hi:ident, $lo:ident, $dropped:ident), $x:expr) => {{
        let x = $x;
        let sum = $add($hi, x);
        let b = $sub(sum, $hi);
        let error = $add($sub($hi, $sub(sum, b)), $sub(x, b));
        let low = $add($lo, error);
        let b = $sub(low, $lo);
        let lost = $add($sub($lo, $sub(low, b)), $sub(error, b));
        ($hi, $lo) = (sum, low);
        $dropped = $add($dropped, $abs(lost));
    }};
}

/// The vector levels: a lane per row, each position within the rows one gather (8 rows with
/// AVX-512, 4 with AVX2), the same operations as [`Sums::add_rows`] lane by lane.
#[cfg(target_arch = "x86_64")]
mod gathered {
    use core::arch::x86_64::*;

    use super::{Sums, check};

    macro_rules! level {
        (
            $feature:literal, $lanes:literal, $means_f64:ident, $sums_f32:ident,
            $vector:ty, $index:ty, $iota:expr, $splat_index:ident, $mul_index:ident,
            $gather_f64:expr, $gather_f32:expr, $load:ident, $store:ident, $zero:ident, $add:ident, $sub:ident,
            $abs:expr
        ) => {
            /// # Safety
            #[doc = concat!("The CPU must support `", $feature, "`; `check` holds.")]
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn $means_f64(
                data: &[f64],
                len: usize,
                stride: usize,
                means: &mut [f64],
                undecided: &mut [bool],
            ) {
                let rows = means.len();
                debug_assert!({
                    check(data.len(), rows, len, stride);
                    true
                });
                let mut sums = Sums::new();
                let whole = rows / $lanes * $lanes;
                // SAFETY (every block): the caller checked the feature. The gathers read
                // data[k * stride + lane * stride + j] for k + lane < whole <= rows and j < len:
                // inside `data` by `check`; the stores write lanes k..k + LANES < ROWS.
                unsafe {
                    let offsets: $index = $mul_index($iota, $splat_index(stride as i64));
                    for k in (0..whole).step_by($lanes) {
                        let row = data.as_ptr().add(k * stride);
                        let mut hi: $vector = $gather_f64(offsets, row);
                        let (mut lo, mut dropped): ($vector, $vector) = ($zero(), $zero());
                        for j in 1..len {
                            let x: $vector = $gather_f64(offsets, row.add(j));
                            row_sum_step!($add, $sub, $abs, (hi, lo, dropped), x);
                        }
                        $store(sums.hi.as_mut_ptr().add(k), hi);
                        $store(sums.lo.as_mut_ptr().add(k), lo);
                        $store(sums.dropped.as_mut_ptr().add(k), dropped);
                    }
                    sums.add_rows(data, len, stride, whole, rows);
                }
                sums.round(len, means, undecided);
            }

            /// # Safety
            #[doc = concat!("The CPU must support `", $feature, "`; `check` holds.")]
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn $sums_f32(data: &[f32], len: usize, stride: usize, sums: &mut [f64]) {
                let rows = sums.len();
                debug_assert!({
                    check(data.len(), rows, len, stride);
                    true
                });
                let whole = rows / $lanes * $lanes;
                // SAFETY: as in the float64 kernel.
                unsafe {
                    let offsets: $index = $mul_index($iota, $splat_index(stride as i64));
                    for k in (0..whole).step_by($lanes) {
                        let row = data.as_ptr().add(k * stride);
                        let mut sum: $vector = $load(sums.as_ptr().add(k));
                        for j in 0..len {
                            sum = $add(sum, $gather_f32(offsets, row.add(j)));
                        }
                        $store(sums.as_mut_ptr().add(k), sum);
                    }
                    for k in whole..rows {
                        for j in 0..len {
                            sums[k] += f64::from(*data.get_unchecked(k * stride + j));
                        }
                    }
                }
            }
        };
    }

    level!(
        "avx512f,avx512dq",
        8,
        tiny_row_means_f64_avx512,
        tiny_row_sums_f32_avx512,
        __m512d,
        __m512i,
        _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi64,
        _mm512_mullo_epi64,
        |o, p| _mm512_i64gather_pd::<8>(o, p),
        |o, p| _mm512_cvtps_pd(_mm512_i64gather_ps::<4>(o, p)),
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_setzero_pd,
        _mm512_add_pd,
        _mm512_sub_pd,
        |v| _mm512_andnot_pd(_mm512_set1_pd(-0.0), v)
    );
    level!(
        "avx2,fma",
        4,
        tiny_row_means_f64_avx2,
        tiny_row_sums_f32_avx2,
        __m256d,
        __m256i,
        _mm256_set_epi64x(3, 2, 1, 0),
        _mm256_set1_epi64x,
        mul_epi64_avx2,
        |o, p| _mm256_i64gather_pd::<8>(p, o),
        |o, p| _mm256_cvtps_pd(_mm256_i64gather_ps::<4>(p, o)),
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_setzero_pd,
        _mm256_add_pd,
        _mm256_sub_pd,
        |v| _mm256_andnot_pd(_mm256_set1_pd(-0.0), v)
    );

    /// Lane-wise `a * b` of 64-bit integers below 2^32 (AVX2 has no 64-bit multiply).
    #[target_feature(enable = "avx2")]
    fn mul_epi64_avx2(a: __m256i, b: __m256i) -> __m256i {
        _mm256_mul_epu32(a, b)
    }
}
#[cfg(target_arch = "x86_64")]
use gathered::*;

/// Blocks of 8 contiguous rows of `L <= 8` values (the stride `L`) at the AVX-512 level: the
/// block is `L` whole vectors of 8 values, and position `j` of every row, value `l * L + j` of
/// the block, is moved into lane `l` by a masked `vpermpd` from each vector holding some of
/// them (`L` at most), where the gathers of [`gathered`] wait on 8 loads each. Measured on an
/// AMD EPYC of family 26, model 2, (3333333, 3) float64 `axis=1`, one thread: 29 -> 14 ms, float32 14.7 -> 5.8. The
/// same arithmetic as [`Sums::add_rows`], lane by lane.
#[cfg(target_arch = "x86_64")]
mod transposed {
    use core::arch::x86_64::*;

    use super::{Sums, TRANSPOSED_LEN, check};
    use crate::kernels::{generic::prefetch_lines, host};

    /// How far ahead of a block the kernels ask for memory, where the host takes hints for
    /// short rows (`host::row_prefetch`): each call reads only 256 rows before it rounds and
    /// writes their means, with no load in flight. Measured on an AMD EPYC of family 26, model
    /// 2, (3333333, 3) `axis=1`, one thread: float64 17-28 ms without hints, 15.5-16.8 at 4 KiB,
    /// 14.1-14.3 at 8 KiB, 14.1-14.3 at 16 KiB; float32 9.3-12.7, 5.9-6.1, 5.8, 5.8-6.0.
    const AHEAD_BYTES: usize = 8192;

    /// For position `j` and vector `v` of a block, the lanes of `v` to move (`index`) and the
    /// rows that take them (`rows`, a lane mask).
    #[derive(Clone, Copy)]
    struct Moves {
        index: [i32; 8],
        rows: u8,
    }

    #[inline(always)]
    fn moves<const L: usize>() -> [[Moves; L]; L] {
        let mut moves = [[Moves { index: [0; 8], rows: 0 }; L]; L];
        for (j, by_vector) in moves.iter_mut().enumerate() {
            for row in 0..8 {
                let value = row * L + j;
                by_vector[value / 8].index[row] = (value % 8) as i32;
                by_vector[value / 8].rows |= 1 << row;
            }
        }
        moves
    }

    /// # Safety
    /// The CPU must support AVX-512F, DQ and VL; `check(data.len(), means.len(), len, len)`
    /// holds and `len <= TRANSPOSED_LEN`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn means_f64(data: &[f64], len: usize, means: &mut [f64], undecided: &mut [bool]) {
        debug_assert!(len <= TRANSPOSED_LEN);
        // SAFETY: the caller's contract, with L == len.
        unsafe {
            match len {
                1 => means_f64_of::<1>(data, means, undecided),
                2 => means_f64_of::<2>(data, means, undecided),
                3 => means_f64_of::<3>(data, means, undecided),
                4 => means_f64_of::<4>(data, means, undecided),
                5 => means_f64_of::<5>(data, means, undecided),
                6 => means_f64_of::<6>(data, means, undecided),
                7 => means_f64_of::<7>(data, means, undecided),
                _ => means_f64_of::<8>(data, means, undecided),
            }
        }
    }

    /// # Safety
    /// As for [`means_f64`], with `L == len`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn means_f64_of<const L: usize>(data: &[f64], means: &mut [f64], undecided: &mut [bool]) {
        let rows = means.len();
        debug_assert!({
            check(data.len(), rows, L, L);
            true
        });
        let moves = moves::<L>();
        // SAFETY (each load): an array of eight i32 is the size of the index vector.
        let index = moves.map(|by_vector| by_vector.map(|m| unsafe { _mm256_loadu_si256(m.index.as_ptr().cast()) }));
        let mut sums = Sums::new();
        let whole = rows / 8 * 8;
        let abs = |v| _mm512_andnot_pd(_mm512_set1_pd(-0.0), v);
        let prefetch = host::row_prefetch();
        for k in (0..whole).step_by(8) {
            if prefetch {
                prefetch_lines(data.as_ptr().wrapping_add(k * L).cast::<u8>().wrapping_add(AHEAD_BYTES), 64 * L);
            }
            // SAFETY: rows k..k + 8 < whole <= rows are data[k * L..(k + 8) * L], inside
            // `data` by `check` (the stride is L): L vectors of 8.
            let block: [__m512d; L] =
                core::array::from_fn(|v| unsafe { _mm512_loadu_pd(data.as_ptr().add(k * L + 8 * v)) });
            let column = |j: usize| {
                let mut x = _mm512_setzero_pd();
                for v in 0..L {
                    if moves[j][v].rows != 0 {
                        let index = _mm512_cvtepi32_epi64(index[j][v]);
                        x = _mm512_mask_permutexvar_pd(x, moves[j][v].rows, index, block[v]);
                    }
                }
                x
            };
            let (mut hi, mut lo, mut dropped) = (column(0), _mm512_setzero_pd(), _mm512_setzero_pd());
            for j in 1..L {
                row_sum_step!(_mm512_add_pd, _mm512_sub_pd, abs, (hi, lo, dropped), column(j));
            }
            // SAFETY: lanes k..k + 8 <= whole <= ROWS of the sums.
            unsafe {
                _mm512_storeu_pd(sums.hi.as_mut_ptr().add(k), hi);
                _mm512_storeu_pd(sums.lo.as_mut_ptr().add(k), lo);
                _mm512_storeu_pd(sums.dropped.as_mut_ptr().add(k), dropped);
            }
        }
        // SAFETY: the caller's `check`.
        unsafe { sums.add_rows(data, L, L, whole, rows) };
        sums.round(L, means, undecided);
    }

    /// # Safety
    /// The CPU must support AVX-512F, DQ and VL; `check(data.len(), sums.len(), len, len)`
    /// holds and `len <= TRANSPOSED_LEN`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn sums_f32(data: &[f32], len: usize, sums: &mut [f64]) {
        debug_assert!(len <= TRANSPOSED_LEN);
        // SAFETY: the caller's contract, with L == len.
        unsafe {
            match len {
                1 => sums_f32_of::<1>(data, sums),
                2 => sums_f32_of::<2>(data, sums),
                3 => sums_f32_of::<3>(data, sums),
                4 => sums_f32_of::<4>(data, sums),
                5 => sums_f32_of::<5>(data, sums),
                6 => sums_f32_of::<6>(data, sums),
                7 => sums_f32_of::<7>(data, sums),
                _ => sums_f32_of::<8>(data, sums),
            }
        }
    }

    /// # Safety
    /// As for [`sums_f32`], with `L == len`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn sums_f32_of<const L: usize>(data: &[f32], sums: &mut [f64]) {
        let rows = sums.len();
        debug_assert!({
            check(data.len(), rows, L, L);
            true
        });
        let moves = moves::<L>();
        // SAFETY (each load): an array of eight i32 is the size of the index vector.
        let index = moves.map(|by_vector| by_vector.map(|m| unsafe { _mm256_loadu_si256(m.index.as_ptr().cast()) }));
        let whole = rows / 8 * 8;
        let prefetch = host::row_prefetch();
        for k in (0..whole).step_by(8) {
            if prefetch {
                prefetch_lines(data.as_ptr().wrapping_add(k * L).cast::<u8>().wrapping_add(AHEAD_BYTES), 32 * L);
            }
            // SAFETY: as in `means_f64_of`, with vectors of 8 f32.
            let block: [__m256; L] =
                core::array::from_fn(|v| unsafe { _mm256_loadu_ps(data.as_ptr().add(k * L + 8 * v)) });
            // SAFETY: lanes k..k + 8 <= whole <= rows of `sums`.
            let mut sum = unsafe { _mm512_loadu_pd(sums.as_ptr().add(k)) };
            for j in 0..L {
                let mut x = _mm256_setzero_ps();
                for v in 0..L {
                    if moves[j][v].rows != 0 {
                        x = _mm256_mask_permutexvar_ps(x, moves[j][v].rows, index[j][v], block[v]);
                    }
                }
                sum = _mm512_add_pd(sum, _mm512_cvtps_pd(x));
            }
            // SAFETY: as for the load.
            unsafe { _mm512_storeu_pd(sums.as_mut_ptr().add(k), sum) };
        }
        for k in whole..rows {
            for j in 0..L {
                sums[k] += f64::from(data[k * L + j]);
            }
        }
    }
}
