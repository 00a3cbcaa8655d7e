//! x86's MXCSR register, for two things.
//!
//! **The inexact flag as a certificate.** Did any add in a stretch of code round? x86 answers
//! for free: every SSE/AVX operation whose
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
//!
//! **The default environment for callers from C.** Rust code (these kernels' error bounds and
//! certificates included) assumes round-to-nearest, no flush-to-zero and no
//! denormals-are-zero. A C caller may have changed that: a shared library built with
//! `-ffast-math` sets FTZ and DAZ when it is loaded, in any process that loads it, and then
//! subnormal values would silently count as zero. [`in_default_environment`] runs a
//! computation with the default control bits and gives the caller's back afterwards.

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::asm;

    /// MXCSR's sticky "precision" (inexact result) flag.
    const PRECISION_FLAG: u32 = 1 << 5;

    pub(in crate::kernels) const AVAILABLE: bool = true;

    /// MXCSR's control bits (exception masks, rounding, FTZ, DAZ) and their power-on values:
    /// every exception masked, round to nearest, no flushing.
    const CONTROL_BITS: u32 = 0xFFC0;
    const DEFAULT_CONTROL: u32 = 0x1F80;

    /// MXCSR. `sees` is handed to the asm, so the compiler treats the memory it points to as
    /// read and written here: stores to it happen before, loads from it after (see the module
    /// doc). Null when nothing needs ordering.
    fn read(sees: *const f64) -> u32 {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr writes a 4-byte local; the asm touches no other memory and does not
        // use the stack (`sees` is only passed, for the compiler's benefit).
        unsafe {
            asm!(
                "stmxcsr [{csr}]",
                csr = in(reg) &raw mut csr,
                in("rsi") sees,
                options(nostack, preserves_flags),
            );
        }
        csr
    }

    /// Loads MXCSR; `sees` as for [`read`].
    fn write(csr: u32, sees: *const f64) {
        // SAFETY: ldmxcsr reads a 4-byte local. Callers only write control bits that are valid
        // (the power-on values, or ones read before), never reserved ones.
        unsafe {
            asm!(
                "ldmxcsr [{csr}]",
                csr = in(reg) &raw const csr,
                in("rsi") sees,
                options(nostack, preserves_flags),
            );
        }
    }

    /// `f()` with MXCSR's control bits at their defaults, the caller's restored afterwards (the
    /// status flags are left as the computation set them: caller-saved in the x86-64 ABIs).
    ///
    /// `f` runs in a call that is not inlined: the compiler cannot move its floating-point
    /// operations (which read the caller's arrays) across the two asm blocks, which may write
    /// any memory. Threads `f` starts inherit the default environment (POSIX).
    pub(crate) fn in_default_environment<R>(f: impl FnOnce() -> R) -> R {
        let nothing = core::ptr::null();
        let saved = read(nothing);
        let foreign = saved & CONTROL_BITS != DEFAULT_CONTROL;
        if foreign {
            write(saved & !CONTROL_BITS | DEFAULT_CONTROL, nothing);
        }
        let result = call_opaque(f);
        if foreign {
            write(read(nothing) & !CONTROL_BITS | saved & CONTROL_BITS, nothing);
        }
        result
    }

    #[inline(never)]
    fn call_opaque<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// Clears the precision flag (the control bits are written back unchanged). `values` go
    /// through memory around it (see the module doc): read them back from the slice after this
    /// call.
    #[inline(always)]
    pub(in crate::kernels) fn clear_inexact(values: &mut [f64]) {
        let sees = values.as_mut_ptr().cast_const();
        write(read(sees) & !PRECISION_FLAG, sees);
    }

    /// Whether any operation rounded since [`clear_inexact`], counting every operation that
    /// produced `values` (stored before this reads the flag).
    #[inline(always)]
    pub(in crate::kernels) fn rounded_since_clear(values: &[f64]) -> bool {
        read(values.as_ptr()) & PRECISION_FLAG != 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(in crate::kernels) const AVAILABLE: bool = false;

    /// `f()`: elsewhere the environment is left as it is.
    pub(crate) fn in_default_environment<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    #[inline(always)]
    pub(in crate::kernels) fn clear_inexact(_values: &mut [f64]) {}

    /// Without the flag nothing is certified.
    #[inline(always)]
    pub(in crate::kernels) fn rounded_since_clear(_values: &[f64]) -> bool {
        true
    }
}

pub(crate) use imp::in_default_environment;
pub(in crate::kernels) use imp::{AVAILABLE, clear_inexact, rounded_since_clear};
