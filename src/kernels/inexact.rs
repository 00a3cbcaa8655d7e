//! Did any add in a stretch of code round? x86 answers for free: every SSE/AVX operation whose
//! result is inexact sets the sticky precision flag (bit 5, PE) of the MXCSR register, and
//! nothing but an explicit write clears it. A kernel clears it, adds a block of values in plain
//! f64, and reads it: if it is still clear, every one of those adds was exact — a certificate
//! that costs two instructions per block instead of work per value.
//!
//! Rust (like C) promises nothing about the flag's state between its own floating-point
//! operations, because the compiler may move them. So the certified values pass through memory
//! that each asm block may read and write: the adds that produce them can happen neither before
//! the clear (their inputs are reloaded after it) nor after the read (their results are stored
//! before it). Anything else the compiler schedules inside the window can only set the flag —
//! a lost certificate, never a false one. The status flags are caller-saved in the x86-64 ABIs;
//! the control bits (rounding, masks) are written back as they were read.
//!
//! Elsewhere `AVAILABLE` is false and callers use their certificate-free paths.

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::asm;

    /// MXCSR's sticky "precision" (inexact result) flag.
    const PRECISION_FLAG: u32 = 1 << 5;

    pub(in crate::kernels) const AVAILABLE: bool = true;

    /// Clears the precision flag. `values` go through memory around it (see the module doc):
    /// read them back from the slice after this call.
    #[inline(always)]
    pub(in crate::kernels) fn clear(values: &mut [f64]) {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr (SSE, part of x86_64) read and write a 4-byte local; only the
        // precision flag changes, the control bits are written back unchanged. `values` is
        // passed so that the compiler treats it as read and written here; the asm touches no
        // other memory and does not use the stack.
        unsafe {
            asm!(
                "stmxcsr [{csr}]",
                "and dword ptr [{csr}], {keep:e}",
                "ldmxcsr [{csr}]",
                csr = in(reg) &raw mut csr,
                keep = in(reg) !PRECISION_FLAG,
                in("rsi") values.as_mut_ptr(),
                options(nostack, preserves_flags),
            );
        }
    }

    /// Whether any operation rounded since [`clear`], counting every operation that produced
    /// `values` (stored before this reads the flag).
    #[inline(always)]
    pub(in crate::kernels) fn rounded_since_clear(values: &[f64]) -> bool {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr writes a 4-byte local. `values` is passed so that the compiler must
        // have stored it before the asm (which may read it); nothing else is touched.
        unsafe {
            asm!(
                "stmxcsr [{csr}]",
                csr = in(reg) &raw mut csr,
                in("rsi") values.as_ptr(),
                options(nostack, preserves_flags),
            );
        }
        csr & PRECISION_FLAG != 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(in crate::kernels) const AVAILABLE: bool = false;

    #[inline(always)]
    pub(in crate::kernels) fn clear(_values: &mut [f64]) {}

    /// Without the flag nothing is certified.
    #[inline(always)]
    pub(in crate::kernels) fn rounded_since_clear(_values: &[f64]) -> bool {
        true
    }
}

pub(in crate::kernels) use imp::*;
