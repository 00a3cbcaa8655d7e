//! Whether the inexact-flag certificate (see `mxcsr`) may be trusted at each SIMD level.
//!
//! The kernels certify a sum exact because the sticky inexact flag stayed clear. That is only
//! as good as the flag: where it is not kept (valgrind does not emulate it; an emulator or a
//! hypervisor might not either), a clear flag proves nothing, and trusting it would return a
//! wrong mean with no sign of it. So on first use of a level, a self-test checks that an
//! operation known to round sets the flag and one known to be exact leaves it clear, with that
//! level's own instructions. A level that fails runs without the certificate: the bound-based
//! paths, still correctly rounded, slower on exact ties. `NPMEAN_CERTIFICATE=off` turns the
//! certificate off at every level (for tests of those paths).

use std::sync::atomic::{AtomicU8, Ordering};

use super::{Level, mxcsr, portable};

const UNTESTED: u8 = 0;
const TRUSTED: u8 = 1;
const DISTRUSTED: u8 = 2;

/// Per level (indexed by its discriminant): the self-test's verdict once it has run. Racing
/// first calls compute the same verdict, so plain stores are enough.
static VERDICT: [AtomicU8; 5] = [const { AtomicU8::new(UNTESTED) }; 5];

/// Whether kernels of `level` may certify sums by the inexact flag. False where the flag does
/// not exist (not x86_64), where the self-test fails, for a level this CPU lacks, and for every
/// level when `NPMEAN_CERTIFICATE` is `off`.
pub fn trusted(level: Level) -> bool {
    match VERDICT[level as usize].load(Ordering::Relaxed) {
        UNTESTED => test(level),
        verdict => verdict == TRUSTED,
    }
}

#[cold]
fn test(level: Level) -> bool {
    let off = std::env::var("NPMEAN_CERTIFICATE").is_ok_and(|v| v.trim().eq_ignore_ascii_case("off"));
    let trusted = !off && mxcsr::AVAILABLE && level.is_available() && flag_reports_rounding(level);
    VERDICT[level as usize].store(if trusted { TRUSTED } else { DISTRUSTED }, Ordering::Relaxed);
    trusted
}

/// The self-test at `level`, which this CPU has.
fn flag_reports_rounding(level: Level) -> bool {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller checked that the CPU has the level.
    unsafe {
        match level {
            Level::Avx512 => return super::x86_64::flag_test_avx512(),
            Level::Avx2 => return super::x86_64::flag_test_avx2(),
            Level::Sse2 => return super::x86_64::flag_test_sse2(),
            Level::Scalar => {}
        }
    }
    portable::flag_reports_rounding()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_self_test_passes_on_a_real_cpu_at_every_level() {
        // A CPU keeps the flag (valgrind does not: tests/python/test_safety.py runs there).
        for level in Level::available() {
            assert_eq!(flag_reports_rounding(level), mxcsr::AVAILABLE, "{level:?}");
        }
    }
}
