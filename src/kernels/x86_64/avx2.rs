//! AVX2 (with FMA, which every AVX2 CPU has): four f64 lanes. The conversions and adds are
//! AVX; AVX2 names the level.

use core::arch::x86_64::*;

use crate::kernels::Level;
use crate::kernels::generic::F64Lanes;

#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256d);

impl F64Lanes for Avx2 {
    const LANES: usize = 4;
    const LEVEL: Level = Level::Avx2;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        // SAFETY: the caller runs on a CPU with AVX.
        Avx2(unsafe { _mm256_set1_pd(x) })
    }

    #[inline(always)]
    unsafe fn load(xs: &[f64]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: AVX is present (caller) and `xs` holds at least 4 values; unaligned load.
        Avx2(unsafe { _mm256_loadu_pd(xs.as_ptr()) })
    }

    #[inline(always)]
    unsafe fn load_widened(xs: &[f32]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: AVX is present (caller) and `xs` holds at least 4 values; unaligned load.
        Avx2(unsafe { _mm256_cvtps_pd(_mm_loadu_ps(xs.as_ptr())) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX.
        Avx2(unsafe { _mm256_add_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX.
        Avx2(unsafe { _mm256_sub_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_on_fma(self, other: Self, one: Self) -> Self {
        // SAFETY: the caller runs on a CPU with FMA. self * 1.0 is exact, so the fused result
        // is self + other rounded once, like an add.
        Avx2(unsafe { _mm256_fmadd_pd(self.0, one.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub_on_fma(self, other: Self, one: Self) -> Self {
        // SAFETY: as in add_on_fma: -(other * 1.0) + self, rounded once, is self - other.
        Avx2(unsafe { _mm256_fnmadd_pd(other.0, one.0, self.0) })
    }

    #[inline(always)]
    unsafe fn abs_max(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX. Clearing the sign bit (and-not with -0.0) is |other|.
        Avx2(unsafe { _mm256_max_pd(self.0, _mm256_andnot_pd(_mm256_set1_pd(-0.0), other.0)) })
    }

    #[inline(always)]
    unsafe fn store(self, out: &mut [f64]) {
        debug_assert!(out.len() >= Self::LANES);
        // SAFETY: AVX is present (caller); `out` has room for 4 values; unaligned store.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), self.0) };
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX. and-not with -0.0 clears the sign bit.
        Avx2(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
    }

    #[inline(always)]
    unsafe fn without_nan(self, one: Self) -> (Self, Self) {
        // SAFETY: the caller runs on a CPU with AVX. An ordered compare of a lane with itself
        // is all ones unless it is NaN.
        unsafe {
            let kept = _mm256_cmp_pd::<_CMP_ORD_Q>(self.0, self.0);
            (Avx2(_mm256_and_pd(kept, self.0)), Avx2(_mm256_and_pd(kept, one.0)))
        }
    }
}
