//! Tuning that depends on the CPU the library runs on, decided per process.
//!
//! **Software prefetch.** The kernels can ask for the cache lines 8 KiB ahead of their loads.
//! Whether that helps depends on the host's hardware prefetchers and memory, and it goes both
//! ways (README, "Per-host tuning"): measured side by side, it took one thread from DRAM from
//! 35 to 41-51 GB/s on the host the kernels were first tuned on (AMD, Zen 5 by its figures) and
//! ~7 to ~11 GB/s on an Intel Xeon of family 6, model 207; it cost float64 a third on AMD Zen 4
//! (family 0x19, model 17) and float32 almost half on an Intel Xeon of family 6, model 167. No
//! CPUID rule covers hosts not measured, so the choice is measured on the caller's data:
//! the first input of [`TRIAL_FROM_BYTES`] or more sums its first blocks alternately with and
//! without prefetch, timed ([`PrefetchTrial`]), and the clearly faster choice stays for the
//! process. Until then (and where no trial is clear: data in cache shows no difference) the
//! CPU rule holds: off on Zen 4, on elsewhere. `NPMEAN_PREFETCH=on|off` fixes the choice (no
//! trial); `mean_software_prefetch()` and `npmean.config()` show the one in force. The exact
//! path's kernels, far slower than memory, prefetch whatever the trial says
//! ([`exact_path_prefetch`]), and so do batches of short rows, a few rows ahead ([`row_prefetch`]).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

static PREFETCH: AtomicU8 = AtomicU8::new(UNDECIDED);
/// Whether the choice is final: set by `NPMEAN_PREFETCH`, a clear trial, or [`MAX_TRIALS`]
/// unclear ones; until then it is the CPU rule's.
static FINAL: AtomicBool = AtomicBool::new(false);
/// A thread is measuring (one at a time).
static MEASURING: AtomicBool = AtomicBool::new(false);
static TRIALS: AtomicU8 = AtomicU8::new(0);
/// `NPMEAN_PREFETCH=off`: no kernel prefetches, the exact path's neither.
static FORCED_OFF: AtomicBool = AtomicBool::new(false);

/// Whether the kernels issue software prefetches now (see the module doc).
pub fn software_prefetch() -> bool {
    match PREFETCH.load(Ordering::Relaxed) {
        UNDECIDED => decide_prefetch(),
        decided => decided == ON,
    }
}

/// Whether the exact path's kernels (exponent windows, the large superaccumulator) prefetch:
/// always, unless `NPMEAN_PREFETCH=off`. They run well below memory speed (1-3 ns per value),
/// where the hardware prefetchers, measured, did not keep up: on an Intel Xeon of family 6,
/// model 167 (whose streaming kernels run faster without), prefetch took float64 data with
/// exponents over the whole range from 3.1 to 1.5 ns per value at 10^7, and cancelling values
/// in 8 windows from 2.6 to 1.7. A hint per 64 bytes at that pace costs next to nothing; the
/// losses measured on Zen 4 were in kernels at the memory limit.
pub fn exact_path_prefetch() -> bool {
    software_prefetch(); // (reads NPMEAN_PREFETCH once)
    !FORCED_OFF.load(Ordering::Relaxed)
}

/// Whether batches of short rows (`reduce::cells`) ask for the rows they read next: always,
/// unless `NPMEAN_PREFETCH=off`. A short row's sum ends in a fold whose latency keeps few of
/// the next row's loads in flight, and the rows' own start-stop pattern is not one the
/// hardware prefetchers follow far; the hints are for memory read a few hundred nanoseconds
/// later, not the streaming kernels' 8 KiB ahead. Measured on an Intel Xeon of family 6, model
/// 167: float64 rows of 100, (10^5, 100) `axis=1`, 11.1 -> 5.7-6.3 ms.
pub fn row_prefetch() -> bool {
    exact_path_prefetch()
}

#[cold]
fn decide_prefetch() -> bool {
    let requested = std::env::var("NPMEAN_PREFETCH").ok().map(|v| v.trim().to_ascii_lowercase());
    let (on, fixed) = match requested.as_deref() {
        Some("on" | "1") => (true, true),
        Some("off" | "0") => (false, true),
        _ => (rule(), false),
    };
    if fixed {
        FINAL.store(true, Ordering::Relaxed);
        FORCED_OFF.store(!on, Ordering::Relaxed);
    }
    PREFETCH.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

/// The CPU rule: prefetch but on AMD Zen 4.
fn rule() -> bool {
    !is_zen4()
}

/// Inputs at least this long measure the prefetch choice: well beyond a core's share of the
/// caches of most hosts, so that their first blocks stream from memory.
pub const TRIAL_FROM_BYTES: usize = 16 << 20;
/// Bytes per timed block (each ~50 µs from memory), and blocks timed per choice.
pub const TRIAL_BLOCK_BYTES: usize = 512 << 10;
pub const TRIAL_BLOCKS: usize = 6;
/// How much faster (best block time) the other choice must be to replace the rule's.
const CLEAR_WIN: f64 = 0.9;
/// Trials without a clear winner before the rule is kept for good.
const MAX_TRIALS: u8 = 4;

/// A measurement of software prefetch on one input's first blocks: [`PrefetchTrial::time`]
/// runs each block with the choice given; dropping the trial keeps the faster choice if it won
/// clearly. While it runs, other threads may see either choice (only their speed depends on it).
pub struct PrefetchTrial {
    best: [u64; 2], // nanoseconds of the fastest block: [without, with]
}

impl PrefetchTrial {
    /// A trial, if the choice is not final and no other thread is measuring.
    pub fn start() -> Option<PrefetchTrial> {
        software_prefetch(); // (reads NPMEAN_PREFETCH, which may make the choice final)
        if FINAL.load(Ordering::Relaxed) || MEASURING.swap(true, Ordering::Acquire) {
            return None;
        }
        Some(PrefetchTrial { best: [u64::MAX; 2] })
    }

    /// Runs `f` with prefetch `on`, timed.
    pub fn time<R>(&mut self, on: bool, f: impl FnOnce() -> R) -> R {
        PREFETCH.store(if on { ON } else { OFF }, Ordering::Relaxed);
        let start = std::time::Instant::now();
        let result = f();
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let best = &mut self.best[usize::from(on)];
        *best = (*best).min(nanos);
        result
    }
}

impl Drop for PrefetchTrial {
    fn drop(&mut self) {
        let verdict = verdict(self.best);
        let on = verdict.unwrap_or_else(rule);
        PREFETCH.store(if on { ON } else { OFF }, Ordering::Relaxed);
        if verdict.is_some() || TRIALS.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_TRIALS {
            FINAL.store(true, Ordering::Relaxed);
        }
        MEASURING.store(false, Ordering::Release);
    }
}

/// Whether prefetch won clearly (`Some(true)`), lost clearly (`Some(false)`) or neither, from
/// the best block times `[without, with]`.
fn verdict(best: [u64; 2]) -> Option<bool> {
    let [without, with] = best.map(|n| n as f64);
    if with < CLEAR_WIN * without {
        Some(true)
    } else if without < CLEAR_WIN * with {
        Some(false)
    } else {
        None
    }
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
    fn a_trial_decides_only_on_a_clear_difference() {
        assert_eq!(verdict([53_555, 43_213]), Some(true)); // measured on an Intel Xeon (family 6, model 207)
        assert_eq!(verdict([43_213, 53_555]), Some(false));
        assert_eq!(verdict([50_000, 47_000]), None); // within 10%: the rule stands
        assert_eq!(verdict([47_000, 50_000]), None);
        assert_eq!(verdict([u64::MAX, u64::MAX]), None); // nothing timed
    }

    #[test]
    fn family_and_model_are_read_as_the_kernel_shows_them() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        };
        if let (Some(vendor), Some(family), Some(model)) = (field("vendor_id"), field("cpu family"), field("model")) {
            let expected = (family.parse().unwrap(), model.parse().unwrap());
            assert_eq!(amd_family_model(), (vendor == "AuthenticAMD").then_some(expected));
        }
    }
}
