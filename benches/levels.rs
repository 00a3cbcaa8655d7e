//! Kernel throughput per SIMD level, without Python in the way: `cargo bench --bench levels`.
//! Sizes from `NPMEAN_BENCH_SIZES` (comma-separated), else 10^3 .. 10^7. Reports the median of
//! 21 runs of a batch of calls lasting about a millisecond.

use std::hint::black_box;
use std::time::Instant;

use mean::kernels::{Level, Order, sum_f32_at, sum_f64_at};

fn median_seconds(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-9);
    let batch = ((1e-3 / once) as usize).clamp(1, 1_000_000);
    let mut samples: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("NPMEAN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse::<f64>().ok()).map(|v| v as usize).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000, 1_000_000, 10_000_000]);
    println!("{:>10} {:>8} {:>14} {:>14}", "n", "level", "f32 GB/s", "f64 GB/s");
    for &n in &sizes {
        let xs32: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.001 - 0.3).collect();
        let xs64: Vec<f64> = xs32.iter().map(|&x| f64::from(x)).collect();
        for level in Level::available() {
            let t32 = median_seconds(|| {
                black_box(sum_f32_at(level, black_box(&xs32), Order::Forward));
            });
            let t64 = median_seconds(|| {
                black_box(sum_f64_at(level, black_box(&xs64), Order::Forward));
            });
            println!(
                "{n:>10} {:>8} {:>14.1} {:>14.1}",
                level.name(),
                (4 * n) as f64 / t32 / 1e9,
                (8 * n) as f64 / t64 / 1e9
            );
        }
    }
}
