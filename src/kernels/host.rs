//! Tuning that depends on the CPU the library runs on, decided once per process.
//!
//! **Software prefetch.** The kernels can ask for the cache lines 8 KiB ahead of their loads.
//! Whether that helps depends on the host's hardware prefetchers, and it goes both ways
//! (README, "Per-host tuning"): on the host the kernels were first tuned on (AMD EPYC, Zen 5 by
//! its figures) it took one thread from DRAM from 35 to 41-51 GB/s (float64) and 41-46 to
//! 45-60 GB/s (float32); on AMD Zen 4 (family 0x19: EPYC family 25, model 17, measured side by
//! side in one process) it costs float64 a third (10^7-10^8 values, one thread: 17-20 GB/s
//! with, 25-30 without; numpy.mean 25-30) and float32 up to a tenth, and changes nothing in
//! cache; no distance (512 B-16 KiB) or hint (T0, T1) beat none there. So Zen 4 runs without
//! it and every other host with it, as measured where it was tuned. `NPMEAN_PREFETCH=on|off` overrides the rule (and `npmean.config()` shows it).

use std::sync::atomic::{AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

static PREFETCH: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Whether the kernels issue software prefetches on this host (see the module doc).
pub fn software_prefetch() -> bool {
    match PREFETCH.load(Ordering::Relaxed) {
        UNDECIDED => decide_prefetch(),
        decided => decided == ON,
    }
}

#[cold]
fn decide_prefetch() -> bool {
    let requested = std::env::var("NPMEAN_PREFETCH").ok().map(|v| v.trim().to_ascii_lowercase());
    let on = match requested.as_deref() {
        Some("on" | "1") => true,
        Some("off" | "0") => false,
        _ => !is_zen4(),
    };
    PREFETCH.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

/// Whether this CPU is an AMD Zen 4: family 0x19, models 0x10-0x1F, 0x60-0x7F, 0xA0-0xAF
/// (family 0x19's other models are Zen 3, which has not been measured).
fn is_zen4() -> bool {
    matches!(amd_family_model(), Some((0x19, 0x10..=0x1f | 0x60..=0x7f | 0xa0..=0xaf)))
}

/// The (family, model) of an AMD CPU, as lscpu displays them; `None` for other vendors.
fn amd_family_model() -> Option<(u32, u32)> {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::__cpuid;
        // SAFETY: CPUID exists on every x86_64 CPU, with leaves 0 and 1 always. (Recent Rust
        // declares `__cpuid` safe; the block keeps older compilers of rust-version happy.)
        #[allow(unused_unsafe)]
        let (vendor, signature) = unsafe { (__cpuid(0), __cpuid(1)) };
        let amd = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163); // "AuthenticAMD"
        let base_family = (signature.eax >> 8) & 0xf;
        let base_model = (signature.eax >> 4) & 0xf;
        // The extended fields count only for family 0xF (AMD's rule).
        let (family, model) = if base_family == 0xf {
            (base_family + ((signature.eax >> 20) & 0xff), ((signature.eax >> 16) & 0xf) << 4 | base_model)
        } else {
            (base_family, base_model)
        };
        amd.then_some((family, model))
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_and_model_are_read_as_the_kernel_shows_them() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo.lines().find(|l| l.starts_with(name)).and_then(|l| l.split(':').nth(1)).map(|v| v.trim().to_string())
        };
        if let (Some(vendor), Some(family), Some(model)) = (field("vendor_id"), field("cpu family"), field("model")) {
            let expected = (family.parse().unwrap(), model.parse().unwrap());
            assert_eq!(amd_family_model(), (vendor == "AuthenticAMD").then_some(expected));
        }
    }
}
