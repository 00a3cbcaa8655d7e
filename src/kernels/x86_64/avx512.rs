//! AVX-512 (F and DQ): eight f64 lanes.

use core::arch::x86_64::*;

use crate::kernels::Level;
use crate::kernels::generic::F64Lanes;

#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512d);

impl F64Lanes for Avx512 {
    const LANES: usize = 8;
    const LEVEL: Level = Level::Avx512;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512F.
        Avx512(unsafe { _mm512_set1_pd(x) })
    }

    #[inline(always)]
    unsafe fn load(xs: &[f64]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: AVX-512F is present (caller) and `xs` holds at least 8 values; unaligned load.
        Avx512(unsafe { _mm512_loadu_pd(xs.as_ptr()) })
    }

    #[inline(always)]
    unsafe fn load_widened(xs: &[f32]) -> Self {
        debug_assert!(xs.len() >= Self::LANES);
        // SAFETY: AVX-512F is present (caller) and `xs` holds at least 8 values; unaligned load.
        Avx512(unsafe { _mm512_cvtps_pd(_mm256_loadu_ps(xs.as_ptr())) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512F.
        Avx512(unsafe { _mm512_add_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512F.
        Avx512(unsafe { _mm512_sub_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_on_fma(self, other: Self, one: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512F (which has the 512-bit FMAs).
        // self * 1.0 is exact, so the fused result is self + other rounded once, like an add.
        Avx512(unsafe { _mm512_fmadd_pd(self.0, one.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub_on_fma(self, other: Self, one: Self) -> Self {
        // SAFETY: as in add_on_fma: -(other * 1.0) + self, rounded once, is self - other.
        Avx512(unsafe { _mm512_fnmadd_pd(other.0, one.0, self.0) })
    }

    #[inline(always)]
    unsafe fn abs_max(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512DQ (the dispatcher checks it with
        // AVX-512F). imm8 0b10_11: the larger magnitude, sign cleared.
        Avx512(unsafe { _mm512_range_pd::<0b1011>(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn store(self, out: &mut [f64]) {
        debug_assert!(out.len() >= Self::LANES);
        // SAFETY: AVX-512F is present (caller); `out` has room for 8 values; unaligned store.
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), self.0) };
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512DQ (checked with AVX-512F). and-not with -0.0 clears the sign bit.
        Avx512(unsafe { _mm512_andnot_pd(_mm512_set1_pd(-0.0), self.0) })
    }

    #[inline(always)]
    unsafe fn without_nan(self, one: Self) -> (Self, Self) {
        // SAFETY: the caller runs on a CPU with AVX-512F. The ordered compare's mask has the
        // lanes that are not NaN; the others are zeroed.
        unsafe {
            let kept = _mm512_cmp_pd_mask::<_CMP_ORD_Q>(self.0, self.0);
            (Avx512(_mm512_maskz_mov_pd(kept, self.0)), Avx512(_mm512_maskz_mov_pd(kept, one.0)))
        }
    }

    const QUIET_ADD: bool = true;

    #[inline(always)]
    unsafe fn add_quiet(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with AVX-512F. Embedded rounding to nearest with
        // suppress-all-exceptions: the same result as an add, and no flag is set.
        Avx512(unsafe { _mm512_add_round_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0, other.0) })
    }
}
