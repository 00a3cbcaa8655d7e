//! x86_64 instantiations of the generic kernels, one per instruction-set level. Each entry
//! point enables its level with `#[target_feature]`; the dispatcher in `kernels/mod.rs` calls
//! one only after runtime detection has found the level on this CPU.

mod avx2;
mod avx512;
pub(crate) mod exact_f32;
pub(crate) mod exact_f64;
mod sse2;

use super::generic;
use super::{Order, Partial};

macro_rules! entry_points {
    ($feature:literal, $vector:ty, $sum_f32:ident, $sum_f64:ident, $plain_f32:ident, $flag_test:ident, $run_sum:ident) => {
        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $run_sum(xs: &[f64]) -> Partial {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::run_sum::<$vector, f64>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $sum_f32(xs: &[f32], order: Order, exact_blocks: generic::ExactBlocks<f32>) -> Partial {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::sum_f32::<$vector>(xs, order, exact_blocks) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $sum_f64(xs: &[f64], order: Order, exact_blocks: generic::ExactBlocks<f64>) -> Partial {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::sum_f64::<$vector>(xs, order, exact_blocks) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $plain_f32(xs: &[f32]) -> f64 {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::plain_sum_f32::<$vector>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $flag_test() -> bool {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::flag_reports_rounding::<$vector>() }
        }
    };
}

entry_points!("sse2", sse2::Sse2, sum_f32_sse2, sum_f64_sse2, plain_sum_f32_sse2, flag_test_sse2, run_sum_sse2);
entry_points!("avx2,fma", avx2::Avx2, sum_f32_avx2, sum_f64_avx2, plain_sum_f32_avx2, flag_test_avx2, run_sum_avx2);
entry_points!(
    "avx512f,avx512dq",
    avx512::Avx512,
    sum_f32_avx512,
    sum_f64_avx512,
    plain_sum_f32_avx512,
    flag_test_avx512,
    run_sum_avx512
);

macro_rules! column_entry_points {
    ($feature:literal, $vector:ty, $row_f32:ident, $row_f64:ident, $run_f32:ident, $cert_f32:ident, $cert_f64:ident, $plain_row_f32:ident) => {
        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $plain_row_f32<const R: usize>(hi: &mut [f64], rows: [&[f32]; R], ahead: isize) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_rows_plain::<$vector, f32, R>(hi, rows, ahead) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $cert_f32(xs: &[f32]) -> Option<f64> {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::certified_run::<$vector, f32, false>(xs).map(|(sum, _)| sum) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $cert_f64(xs: &[f64]) -> Option<f64> {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::certified_run::<$vector, f64, false>(xs).map(|(sum, _)| sum) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $run_f32(xs: &[f32]) -> Partial {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::run_sum::<$vector, f32>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $row_f32<const R: usize>(
            hi: &mut [f64],
            lo: &mut [f64],
            bound: &mut [f64],
            rows: [&[f32]; R],
            ahead: isize,
        ) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_rows::<$vector, f32, R>(hi, lo, bound, rows, ahead) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $row_f64<const R: usize>(
            hi: &mut [f64],
            lo: &mut [f64],
            bound: &mut [f64],
            rows: [&[f64]; R],
            ahead: isize,
        ) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_rows::<$vector, f64, R>(hi, lo, bound, rows, ahead) }
        }
    };
}

column_entry_points!(
    "sse2",
    sse2::Sse2,
    add_rows_f32_sse2,
    add_rows_f64_sse2,
    run_sum_f32_sse2,
    certified_run_f32_sse2,
    certified_run_f64_sse2,
    add_rows_plain_f32_sse2
);
column_entry_points!(
    "avx2,fma",
    avx2::Avx2,
    add_rows_f32_avx2,
    add_rows_f64_avx2,
    run_sum_f32_avx2,
    certified_run_f32_avx2,
    certified_run_f64_avx2,
    add_rows_plain_f32_avx2
);
column_entry_points!(
    "avx512f,avx512dq",
    avx512::Avx512,
    add_rows_f32_avx512,
    add_rows_f64_avx512,
    run_sum_f32_avx512,
    certified_run_f32_avx512,
    certified_run_f64_avx512,
    add_rows_plain_f32_avx512
);

macro_rules! nan_entry_points {
    ($feature:literal, $vector:ty, $run_f32:ident, $run_f64:ident, $row_f32:ident, $row_f64:ident, $cert_f32:ident, $plain_row_f32:ident) => {
        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $plain_row_f32(hi: &mut [f64], counted: &mut [f64], row: &[f32]) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_row_plain_skipping_nan::<$vector, f32>(hi, counted, row) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $cert_f32(xs: &[f32]) -> Option<(f64, u64)> {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::certified_run::<$vector, f32, true>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $run_f32(xs: &[f32]) -> (Partial, u64) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::run_sum_skipping_nan::<$vector, f32>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $run_f64(xs: &[f64]) -> (Partial, u64) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::run_sum_skipping_nan::<$vector, f64>(xs) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $row_f32(
            hi: &mut [f64],
            lo: &mut [f64],
            bound: &mut [f64],
            counted: &mut [f64],
            row: &[f32],
        ) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_row_skipping_nan::<$vector, f32>(hi, lo, bound, counted, row) }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $row_f64(
            hi: &mut [f64],
            lo: &mut [f64],
            bound: &mut [f64],
            counted: &mut [f64],
            row: &[f64],
        ) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::add_row_skipping_nan::<$vector, f64>(hi, lo, bound, counted, row) }
        }
    };
}

nan_entry_points!(
    "sse2",
    sse2::Sse2,
    run_sum_skipping_nan_f32_sse2,
    run_sum_skipping_nan_f64_sse2,
    add_row_skipping_nan_f32_sse2,
    add_row_skipping_nan_f64_sse2,
    certified_run_skipping_nan_f32_sse2,
    add_row_plain_skipping_nan_f32_sse2
);
nan_entry_points!(
    "avx2,fma",
    avx2::Avx2,
    run_sum_skipping_nan_f32_avx2,
    run_sum_skipping_nan_f64_avx2,
    add_row_skipping_nan_f32_avx2,
    add_row_skipping_nan_f64_avx2,
    certified_run_skipping_nan_f32_avx2,
    add_row_plain_skipping_nan_f32_avx2
);
nan_entry_points!(
    "avx512f,avx512dq",
    avx512::Avx512,
    run_sum_skipping_nan_f32_avx512,
    run_sum_skipping_nan_f64_avx512,
    add_row_skipping_nan_f32_avx512,
    add_row_skipping_nan_f64_avx512,
    certified_run_skipping_nan_f32_avx512,
    add_row_plain_skipping_nan_f32_avx512
);

macro_rules! row_block_entry_points {
    ($feature:literal, $vector:ty, $plain_f32:ident, $plain_nan_f32:ident) => {
        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $plain_f32(xs: &[f32]) -> f64 {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::plain_run::<$vector, f32, false>(xs).0 }
        }

        /// # Safety
        #[doc = concat!("The CPU must support `", $feature, "`.")]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $plain_nan_f32(xs: &[f32]) -> (f64, u64) {
            // SAFETY: the caller checked the feature; the target_feature makes it usable here.
            unsafe { generic::plain_run::<$vector, f32, true>(xs) }
        }
    };
}

row_block_entry_points!("sse2", sse2::Sse2, plain_run_f32_sse2, plain_run_skipping_nan_f32_sse2);
row_block_entry_points!("avx2,fma", avx2::Avx2, plain_run_f32_avx2, plain_run_skipping_nan_f32_avx2);
row_block_entry_points!("avx512f,avx512dq", avx512::Avx512, plain_run_f32_avx512, plain_run_skipping_nan_f32_avx512);

/// `out[i] = raws[i]` (binary16 bits) as f32, exactly (F16C's conversion: subnormals, infinities
/// and NaN included; a signaling NaN comes out quiet), for `i < raws.len().min(out.len())`.
///
/// # Safety
/// The CPU must support AVX and F16C.
#[target_feature(enable = "avx,f16c")]
pub(super) unsafe fn f16_to_f32_f16c(raws: &[u16], out: &mut [f32]) {
    use core::arch::x86_64::{_mm_loadu_si128, _mm256_cvtph_ps, _mm256_storeu_ps};
    let n = raws.len().min(out.len());
    let (raws, out) = (&raws[..n], &mut out[..n]);
    let mut from = raws.chunks_exact(8);
    let mut to = out.chunks_exact_mut(8);
    for (h, f) in (&mut from).zip(&mut to) {
        // SAFETY: `h` holds 8 u16 (16 bytes) and `f` 8 f32 (32 bytes); unaligned load and store.
        unsafe { _mm256_storeu_ps(f.as_mut_ptr(), _mm256_cvtph_ps(_mm_loadu_si128(h.as_ptr().cast()))) };
    }
    // The last 0-7 values through one zero-padded vector.
    let (h, f) = (from.remainder(), to.into_remainder());
    let mut padded = [0u16; 8];
    padded[..h.len()].copy_from_slice(h);
    let mut wide = [0f32; 8];
    // SAFETY: `padded` is 8 u16 (16 bytes) and `wide` 8 f32 (32 bytes), as in the loop.
    unsafe { _mm256_storeu_ps(wide.as_mut_ptr(), _mm256_cvtph_ps(_mm_loadu_si128(padded.as_ptr().cast()))) };
    f.copy_from_slice(&wide[..f.len()]);
}

/// The large superaccumulator (`exact::large`) with its checks after each batch at AVX2 width
/// (a 32 KiB table read per 1,024 values: at SSE2 width, ~15% of the time).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn add_f64s_large_avx2(sum: &mut crate::exact::ExactSum, xs: &[f64]) {
    crate::exact::large::LargeAccumulator::add_to(sum, xs);
}
