//! SSE2 (the x86_64 baseline): two f64 lanes.

use core::arch::x86_64::*;

use crate::kernels::Level;
use crate::kernels::generic::F64Lanes;

#[derive(Clone, Copy)]
pub(crate) struct Sse2(__m128d);

impl F64Lanes for Sse2 {
    const LANES: usize = 2;
    const LEVEL: Level = Level::Sse2;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        // SAFETY: SSE2 is part of x86_64.
        Sse2(unsafe { _mm_set1_pd(x) })
    }

    #[inline(always)]
    unsafe fn load(xs: &[f64]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: SSE2 is part of x86_64; the caller passes at least 2 values; unaligned load.
        Sse2(unsafe { _mm_loadu_pd(xs.as_ptr()) })
    }

    #[inline(always)]
    unsafe fn load_widened(xs: &[f32]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: SSE2 is part of x86_64; the caller passes at least 2 values (8 bytes), and
        // _mm_loadl_epi64 reads 8 bytes unaligned.
        Sse2(unsafe { _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(xs.as_ptr().cast()))) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: SSE2 is part of x86_64.
        Sse2(unsafe { _mm_add_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: SSE2 is part of x86_64.
        Sse2(unsafe { _mm_sub_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn abs_max(self, other: Self) -> Self {
        // SAFETY: SSE2 is part of x86_64. Clearing the sign bit (and-not with -0.0) is |other|.
        Sse2(unsafe { _mm_max_pd(self.0, _mm_andnot_pd(_mm_set1_pd(-0.0), other.0)) })
    }

    #[inline(always)]
    unsafe fn store(self, out: &mut [f64]) {
        debug_assert!(out.len() >= Self::LANES);
        // SAFETY: SSE2 is part of x86_64; `out` has room for 2 values; unaligned store.
        unsafe { _mm_storeu_pd(out.as_mut_ptr(), self.0) };
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: SSE2 is part of x86_64. and-not with -0.0 clears the sign bit.
        Sse2(unsafe { _mm_andnot_pd(_mm_set1_pd(-0.0), self.0) })
    }

    #[inline(always)]
    unsafe fn without_nan(self, one: Self) -> (Self, Self) {
        // SAFETY: SSE2 is part of x86_64. cmpord is all ones in the lanes that are not NaN.
        unsafe {
            let kept = _mm_cmpord_pd(self.0, self.0);
            (Sse2(_mm_and_pd(kept, self.0)), Sse2(_mm_and_pd(kept, one.0)))
        }
    }
}
