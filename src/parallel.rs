//! Large arrays split across threads, with `std::thread::scope`.
//!
//! Each thread sums one contiguous part with the selected kernel; the partial double-double
//! sums are added in part order, so a given (array, thread count) always gives the same result.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::kernels::DoubleDouble;

/// A thread is started only for at least this many bytes of input. Starting and joining one
/// costs ~22 µs here; measured on the 2-core dev machine, two threads first beat one at 8-16 MB
/// in all (f32: 0.86x at 8 MB, 0.99x at 16 MB, 1.5x at 32 MB; f64: 0.96x at 8 MB, 1.4x at
/// 16 MB), so two threads start from 12 MB.
pub const MIN_BYTES_PER_THREAD: usize = 6 << 20;

/// 0 until first use; then the default thread count.
static DEFAULT_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads used when the caller does not say: `NPMEAN_NUM_THREADS` if it is a positive
/// integer, else the number of CPUs this process may use. Read once, then cached.
pub fn default_threads() -> usize {
    match DEFAULT_THREADS.load(Ordering::Relaxed) {
        0 => {
            let threads = std::env::var("NPMEAN_NUM_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&t| t > 0)
                .or_else(|| std::thread::available_parallelism().ok().map(|t| t.get()))
                .unwrap_or(1);
            DEFAULT_THREADS.store(threads, Ordering::Relaxed);
            threads
        }
        cached => cached,
    }
}

/// How many threads `xs` is split across: `requested` (0 means [`default_threads`]), but never
/// so many that a thread gets less than [`MIN_BYTES_PER_THREAD`].
pub fn threads_for<T>(xs: &[T], requested: usize) -> usize {
    let requested = if requested == 0 { default_threads() } else { requested };
    let worthwhile = size_of_val(xs) / MIN_BYTES_PER_THREAD;
    requested.min(worthwhile).max(1)
}

/// The sum of `xs` by `kernel`, split across up to `requested` threads (0: the default).
pub fn sum<T: Sync>(xs: &[T], requested: usize, kernel: impl Fn(&[T]) -> DoubleDouble + Sync) -> DoubleDouble {
    let threads = threads_for(xs, requested);
    if threads == 1 {
        return kernel(xs);
    }
    // Parts of whole cache lines (a multiple of 64 bytes), so no two threads share one.
    let line = (64 / size_of::<T>()).max(1);
    let part_len = xs.len().div_ceil(threads).next_multiple_of(line);
    std::thread::scope(|scope| {
        let mut parts = xs.chunks(part_len);
        let own = parts.next().unwrap_or(&[]);
        let kernel = &kernel;
        let handles: Vec<_> = parts
            .map(|part| (part, std::thread::Builder::new().spawn_scoped(scope, move || kernel(part))))
            .collect();
        let mut total = kernel(own);
        for (part, handle) in handles {
            // A thread that could not start (or, impossibly, panicked) is summed here instead.
            let partial = match handle.map(|h| h.join()) {
                Ok(Ok(partial)) => partial,
                _ => kernel(part),
            };
            total = total.add(partial);
        }
        total
    })
}
