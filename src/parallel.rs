//! Large arrays split across threads, with `std::thread::scope`.
//!
//! Each thread reduces one contiguous part (a kernel's partial sum, or an exact sum); the parts'
//! results are merged in part order, so a given (array, thread count) always gives the same
//! result.

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// `kernel` over parts of `xs` on up to `requested` threads (0: the default), the parts'
/// results combined with `merge` in order.
pub fn map_merge<T: Sync, R: Send>(
    xs: &[T],
    requested: usize,
    kernel: impl Fn(&[T]) -> R + Sync,
    merge: impl Fn(R, R) -> R,
) -> R {
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
            let result = match handle.map(|h| h.join()) {
                Ok(Ok(result)) => result,
                _ => kernel(part),
            };
            total = merge(total, result);
        }
        total
    })
}
