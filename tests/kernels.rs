//! Every SIMD level this CPU has against the portable (naive) kernels: every length 0..=300 at
//! several alignments, block boundaries, special values, and every thread count.

mod common;

use common::*;
use mean::kernels::{DoubleDouble, Level, Order, Partial, portable, sum_f32_at, sum_f32_split_at, sum_f64_at, two_sum};
use mean::{exact_mean_f32, exact_mean_f64, mean_f32_using, mean_f64_using};

/// Both block orders (see `Order`): the same blocks, visited first to last or last to first.
const ORDERS: [Order; 2] = [Order::Forward, Order::Backward];

fn levels() -> Vec<Level> {
    let levels: Vec<Level> = Level::available().collect();
    assert!(levels.contains(&Level::Scalar));
    #[cfg(target_arch = "x86_64")]
    assert!(levels.contains(&Level::Sse2));
    levels
}

/// A double-double as one normalised pair, so that two sums of the same exact value compare
/// equal whatever split between hi and lo they had.
fn normalised(sum: DoubleDouble) -> (f64, f64) {
    two_sum(sum.hi, sum.lo)
}

/// Values whose every partial sum is exact in f64 (multiples of 2^-8 below 2^20, few of them),
/// so any order of addition gives the same sum: the vector kernels must equal the naive one.
fn exactly_summable(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| ((rng.next_u64() % (1 << 28)) as f64 - (1 << 27) as f64) / 256.0).collect()
}

#[test]
fn f32_kernels_equal_the_naive_kernel_on_exact_data() {
    for level in levels() {
        for n in 0..=300 {
            let values: Vec<f32> = exactly_summable(n, n as u64).into_iter().map(|x| x as f32).collect();
            let naive = normalised(portable::sum_f32(&values).sum);
            for offset in [0, 1, 2, 3, 5, 7, 15] {
                let data = Aligned::new(&values, offset);
                let got = normalised(sum_f32_at(level, data.as_slice(), Order::Forward).sum);
                assert_eq!(got, naive, "{level:?} n={n} offset={offset}");
            }
        }
    }
}

#[test]
fn f64_kernels_equal_the_naive_kernel_on_exact_data() {
    for level in levels() {
        for n in 0..=300 {
            let values = exactly_summable(n, n as u64 + 1000);
            let naive = normalised(portable::sum_f64(&values).sum);
            for offset in [0, 1, 2, 3, 5, 7] {
                let data = Aligned::new(&values, offset);
                let got = normalised(sum_f64_at(level, data.as_slice(), Order::Forward).sum);
                assert_eq!(got, naive, "{level:?} n={n} offset={offset}");
            }
        }
    }
}

#[test]
fn every_level_is_correctly_rounded_at_every_length() {
    for level in levels() {
        for kind in KINDS {
            for n in 1..=300 {
                let values = data_f32(kind, n, n as u64 + 7);
                let exact = exact_mean_f32(&values);
                for offset in [0, 3, 9] {
                    let data = Aligned::new(&values, offset);
                    let got = mean_f32_using(data.as_slice(), 1, level);
                    assert!(ulps_f32(got, exact) == 0, "{level:?} {kind} n={n} offset={offset}: {got} vs {exact}");
                }
                let values = data_f64(kind, n, n as u64 + 7);
                let exact = exact_mean_f64(&values);
                for offset in [0, 3, 5] {
                    let data = Aligned::new(&values, offset);
                    let got = mean_f64_using(data.as_slice(), 1, level);
                    assert!(ulps_f64(got, exact) == 0, "{level:?} {kind} n={n} offset={offset}: {got} vs {exact}");
                }
            }
        }
    }
}

#[test]
fn block_boundaries_and_large_lengths() {
    // The f32 kernels fold every 256 adds per lane: lengths around multiples of those blocks.
    let lengths = [2047, 2048, 2049, 16_383, 16_384, 16_385, 32_768 + 17, 131_072 * 3 + 5, 1_000_001];
    for level in levels() {
        for &n in &lengths {
            let values = data_f32("normal", n, 3);
            assert!(ulps_f32(mean_f32_using(&values, 1, level), exact_mean_f32(&values)) == 0, "{level:?} n={n}");
            let exact_data: Vec<f32> = exactly_summable(n, 5).into_iter().map(|x| x as f32).collect();
            let exact_data_64: Vec<f64> = exactly_summable(n, 6);
            for order in ORDERS {
                let got = normalised(sum_f32_at(level, &exact_data, order).sum);
                assert_eq!(got, normalised(portable::sum_f32(&exact_data).sum), "{level:?} {order:?} n={n}");
                let got = normalised(sum_f64_at(level, &exact_data_64, order).sum);
                assert_eq!(got, normalised(portable::sum_f64(&exact_data_64).sum), "{level:?} {order:?} n={n}");
            }
            let values = data_f64("wide", n, 3);
            assert!(ulps_f64(mean_f64_using(&values, 1, level), exact_mean_f64(&values)) == 0, "{level:?} n={n}");
        }
    }
}

#[test]
fn special_values_at_every_level_and_position() {
    for level in levels() {
        for n in [1, 7, 8, 9, 33, 300] {
            for position in [0, n / 2, n - 1] {
                let mut xs = vec![1.5f32; n];
                xs[position] = f32::INFINITY;
                assert_eq!(mean_f32_using(&xs, 1, level), f32::INFINITY, "{level:?} n={n}");
                xs[position] = f32::NAN;
                assert!(mean_f32_using(&xs, 1, level).is_nan(), "{level:?} n={n}");
                let mut ys = vec![-2.5f64; n];
                ys[position] = f64::NEG_INFINITY;
                assert_eq!(mean_f64_using(&ys, 1, level), f64::NEG_INFINITY, "{level:?} n={n}");
                ys[position] = f64::NAN;
                assert!(mean_f64_using(&ys, 1, level).is_nan(), "{level:?} n={n}");
            }
        }
    }
}

#[test]
fn zero_sums_give_positive_zero_like_numpy() {
    // numpy's sums start from +0.0: the mean of -0.0s is +0.0. A negative mean that underflows
    // to zero keeps its sign.
    for level in levels() {
        for n in [1, 5, 64, 1000] {
            assert_eq!(mean_f32_using(&vec![-0.0f32; n], 1, level).to_bits(), 0.0f32.to_bits());
            assert_eq!(mean_f64_using(&vec![-0.0f64; n], 1, level).to_bits(), 0.0f64.to_bits());
            let mut mixed = vec![-0.0f64; n];
            mixed[n / 2] = 0.0;
            assert_eq!(mean_f64_using(&mixed, 1, level).to_bits(), 0.0f64.to_bits());
            let mut underflowing = vec![0.0f64; n + 1];
            underflowing[0] = -f64::from_bits(1);
            assert_eq!(mean_f64_using(&underflowing, 1, level).to_bits(), (-0.0f64).to_bits());
        }
    }
}

#[test]
fn every_thread_count_gives_the_correctly_rounded_mean() {
    // Large enough that up to four threads really start (MIN_BYTES_PER_THREAD each).
    let per_thread = mean::parallel::MIN_BYTES_PER_THREAD;
    let values32 = data_f32("normal", 4 * per_thread / 4 + 1001, 11);
    let values64 = data_f64("mixed_sign", 4 * per_thread / 8 + 1001, 11);
    let exact32 = exact_mean_f32(&values32);
    let exact64 = exact_mean_f64(&values64);
    for level in levels() {
        for threads in 0..=4 {
            let got32 = mean_f32_using(&values32, threads, level);
            let got64 = mean_f64_using(&values64, threads, level);
            assert!(ulps_f32(got32, exact32) == 0, "{level:?} threads={threads}");
            assert!(ulps_f64(got64, exact64) == 0, "{level:?} threads={threads}");
            assert_eq!(got32.to_bits(), mean_f32_using(&values32, threads, level).to_bits());
            assert_eq!(got64.to_bits(), mean_f64_using(&values64, threads, level).to_bits());
        }
    }
}

#[test]
fn thread_counts_follow_the_size_threshold() {
    use mean::parallel::{MIN_BYTES_PER_THREAD, threads_for};
    let small = vec![0f32; MIN_BYTES_PER_THREAD / 4];
    assert_eq!(threads_for(&small, 8), 1);
    let big = vec![0f32; 3 * MIN_BYTES_PER_THREAD / 4];
    assert_eq!(threads_for(&big, 8), 3);
    assert_eq!(threads_for(&big, 2), 2);
    assert_eq!(threads_for(&big, 1), 1);
}

#[test]
fn the_selected_level_is_available() {
    assert!(Level::selected().is_available());
    assert_eq!(Level::best(), levels().last().copied().unwrap());
    for level in Level::ALL {
        assert_eq!(Level::from_name(level.name()), Some(level));
    }
    assert_eq!(Level::from_name("AVX2"), Some(Level::Avx2));
    assert_eq!(Level::from_name("neon"), None);
}

#[test]
fn f64_blocks_that_break_their_magnitude_bound_are_redone_exactly() {
    // The f64 kernel guesses each block's magnitude from the values before it; these arrays
    // break the guess (small values first, then a jump by 2^30 and more) at many positions.
    for level in levels() {
        for jump_at in [0, 1, 63, 64, 65, 1000, 8191, 8192, 8193, 20_000] {
            let mut values = exactly_summable(30_000, jump_at as u64);
            for v in values.iter_mut().take(jump_at) {
                *v /= 1024.0; // still exact: multiples of 2^-18 below 2^17
            }
            values[jump_at] = 3.0 * 2f64.powi(40);
            let last = values.len() - 1;
            values[last] = -(2f64.powi(41));
            let naive = normalised(portable::sum_f64(&values).sum);
            for order in ORDERS {
                assert_eq!(
                    normalised(sum_f64_at(level, &values, order).sum),
                    naive,
                    "{level:?} {order:?} jump at {jump_at}"
                );
            }
            assert!(ulps_f64(mean_f64_using(&values, 1, level), exact_mean_f64(&values)) == 0);
        }
    }
}

#[test]
fn block_order_alternates_from_call_to_call_on_each_thread() {
    let first = Order::alternating();
    let second = Order::alternating();
    assert_ne!(first, second);
    assert_eq!(Order::alternating(), first);
    // Another thread keeps its own alternation.
    let other = std::thread::spawn(|| [Order::alternating(), Order::alternating()]).join().unwrap();
    assert_ne!(other[0], other[1]);
    assert_eq!(Order::alternating(), second);
    // Passes from DRAM stay forward (backward blocks would start ahead of the prefetch).
    let big = mean::kernels::ALTERNATE_UP_TO_BYTES + 1;
    assert_eq!([Order::for_pass(big), Order::for_pass(big)], [Order::Forward; 2]);
    let small = mean::kernels::ALTERNATE_UP_TO_BYTES;
    assert_ne!(Order::for_pass(small), Order::for_pass(small));
}

#[test]
fn f64_tiny_and_huge_magnitudes() {
    let tiny = f64::from_bits(1);
    for level in levels() {
        // Only subnormals: the fast pass leaves them to the exact path (see below).
        let subnormals: Vec<f64> = (0..20_000).map(|i| tiny * (i % 977) as f64).collect();
        assert_eq!(mean_f64_using(&subnormals, 1, level), exact_mean_f64(&subnormals), "{level:?}");
        // Values below 2^-977, whose error terms would be subnormal (slow on Intel cores): the
        // SIMD levels' fast pass leaves them to the exact path's integer adds (the scalar level,
        // the naive twin, does not). From 2^-900 the fast pass keeps them.
        let normal = data_f64("normal", 20_000, 3);
        let below: Vec<f64> = normal.iter().map(|x| x * 2f64.powi(-1000)).collect();
        assert_eq!(mean_f64_using(&below, 1, level), exact_mean_f64(&below), "{level:?}");
        let above: Vec<f64> = normal.iter().map(|x| x * 2f64.powi(-900)).collect();
        assert_eq!(mean_f64_using(&above, 1, level), exact_mean_f64(&above), "{level:?}");
        assert!(!mean::takes_exact_path_f64(&above, level), "{level:?}");
        if level != mean::kernels::Level::Scalar {
            assert!(mean::takes_exact_path_f64(&below, level), "{level:?}");
        }
        // Near the largest double: no bias fits, every block takes the TwoSum path.
        let huge: Vec<f64> = (0..20_000).map(|i| if i % 2 == 0 { f64::MAX } else { -f64::MAX / 2.0 }).collect();
        assert_eq!(mean_f64_using(&huge, 1, level), exact_mean_f64(&huge), "{level:?}");
    }
}

/// |exact sum - (hi + lo)| <= error, checked exactly with the exact accumulator.
fn bound_holds(exact_values: impl IntoIterator<Item = f64>, partial: Partial) -> bool {
    let mut residual = mean::exact::ExactSum::new();
    for x in exact_values {
        residual.add(x);
    }
    residual.add(-partial.sum.hi);
    residual.add(-partial.sum.lo);
    let r = residual.sum_f64().abs();
    // sum_f64 rounds once: compare with the bound's f64 value (exact comparison of floats).
    r <= partial.error
}

#[test]
fn error_bounds_hold_at_every_level() {
    let mut cases: Vec<Vec<f64>> = KINDS.iter().flat_map(|k| [37, 4099, 70_001].map(|n| data_f64(k, n, 9))).collect();
    // Cancellation against huge values, at many lane positions.
    for huge in [3e38, 1e300] {
        let mut cancel = data_f64("normal", 5000, 4);
        for i in (0..5000).step_by(97) {
            cancel[i] = if i % 2 == 0 { huge } else { -huge };
        }
        cases.push(cancel);
    }
    for level in levels() {
        for values in &cases {
            let as_f32: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            for order in ORDERS {
                if as_f32.iter().all(|x| x.is_finite()) {
                    let p32 = sum_f32_at(level, &as_f32, order);
                    assert!(bound_holds(as_f32.iter().map(|&x| f64::from(x)), p32), "{level:?} {order:?} f32 {p32:?}");
                }
                let p64 = sum_f64_at(level, values, order);
                assert!(bound_holds(values.iter().copied(), p64), "{level:?} {order:?} f64 {p64:?}");
            }
        }
    }
}

#[test]
fn run_sums_bound_their_error_at_every_level_length_and_alignment() {
    // The engine's short-run kernel (`run_sum_f64_at`) against its portable twin and the exact
    // sum: every length up to a few vectors past the unrolled chunk, every start offset within
    // a vector, data that cancels and data that spans many binades.
    use mean::kernels::{portable, run_sum_f32_at, run_sum_f64_at};
    let mut cases: Vec<Vec<f64>> = KINDS.iter().map(|k| data_f64(k, 300, 5)).collect();
    let mut cancel = data_f64("normal", 300, 6);
    for i in (0..300).step_by(7) {
        cancel[i] = if i % 2 == 0 { 1e300 } else { -1e300 };
    }
    cases.push(cancel);
    for level in levels() {
        for values in &cases {
            for start in 0..8 {
                for len in 0..(values.len() - start).min(80) {
                    let run = &values[start..start + len];
                    let got = run_sum_f64_at(level, run);
                    assert!(bound_holds(run.iter().copied(), got), "{level:?} start {start} len {len}: {got:?}");
                    let twin = portable::sum_f64(run);
                    assert!(bound_holds(run.iter().copied(), twin));
                    let run32: Vec<f32> = run.iter().map(|&x| x as f32).collect();
                    if run32.iter().all(|x| x.is_finite()) {
                        let got32 = run_sum_f32_at(level, &run32);
                        assert!(bound_holds(run32.iter().map(|&x| f64::from(x)), got32), "{level:?} f32 len {len}");
                    }
                }
            }
        }
    }
}

#[test]
fn exact_f32_sums_at_every_level_equal_the_scalar_exact_sum() {
    use mean::exact::ExactSum;
    use mean::kernels::add_exact_f32_at;
    let mut rng = Rng::new(77);
    let mut cases: Vec<Vec<f32>> = vec![vec![], vec![1.5], vec![-0.0; 17]];
    for n in [15, 16, 17, 8191, 8192, 8193, 50_001] {
        // Every window: exponents from subnormal to near overflow, both signs, some zeros.
        cases.push(
            (0..n)
                .map(|i| {
                    let bits = (rng.next_u64() as u32) & 0xff7f_ffff; // exponent below 255
                    if i % 13 == 0 { 0.0 } else { f32::from_bits(bits) }
                })
                .collect(),
        );
        cases.push(data_f32("normal", n, 3));
    }
    // Windows changing from block to block (the AVX-512 kernel guesses from the previous one).
    let block = 8192;
    let mut changing = data_f32("normal", 2 * block, 5);
    changing.extend(data_f32("uniform", block, 6).iter().map(|x| x * 2f32.powi(100)));
    changing.extend(data_f32("wide", 2 * block, 9));
    changing.extend(data_f32("normal", block + 3, 12).iter().enumerate().map(|(i, x)| if i == 5 { 1e-44 } else { *x }));
    cases.push(changing);
    let mut special = data_f32("uniform", 9000, 1);
    special[8500] = f32::INFINITY;
    cases.push(special.clone());
    special[10] = f32::NEG_INFINITY;
    cases.push(special.clone());
    special[20] = f32::NAN;
    cases.push(special);
    for level in levels() {
        for xs in &cases {
            let mut scalar = ExactSum::new();
            scalar.add_f32s(xs);
            let mut fast = ExactSum::new();
            add_exact_f32_at(level, &mut fast, xs);
            assert_eq!(fast.count(), scalar.count(), "{level:?} n={}", xs.len());
            assert_eq!(fast.to_bytes(), scalar.to_bytes(), "{level:?} n={}", xs.len());
            let (a, b) = (fast.mean_f32(), scalar.mean_f32());
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
    }
}

#[test]
fn exact_f64_sums_at_every_level_equal_the_scalar_exact_sum() {
    use mean::exact::ExactSum;
    use mean::kernels::add_exact_f64_at;
    let mut rng = Rng::new(78);
    let mut cases: Vec<Vec<f64>> = vec![vec![], vec![1.5], vec![-0.0; 17]];
    for n in [7, 8, 9, 2047, 2048, 2049, 30_001] {
        // Every window: exponents from subnormal to near overflow, both signs, some zeros,
        // some values with empty low halves.
        cases.push(
            (0..n)
                .map(|i| {
                    let bits = rng.next_u64() & 0xffef_ffff_ffff_ffff; // exponent below 0x7ff
                    match i % 13 {
                        0 => 0.0,
                        1 => f64::from(f64::from_bits(bits) as f32),
                        _ => f64::from_bits(bits),
                    }
                })
                .collect(),
        );
        cases.push(data_f64("normal", n, 3));
        cases.push(data_f64("wide", n, 4));
        // Subnormals and their neighbours only (window 0).
        cases.push((0..n).map(|_| f64::from_bits(rng.next_u64() % (1u64 << 58))).collect());
        // Near the largest double (the top window), whose sums overflow f64.
        cases.push((0..n).map(|i| if i % 3 == 0 { -f64::MAX } else { f64::MAX / (1.0 + (i % 7) as f64) }).collect());
    }
    // Windows changing from block to block (the AVX-512 kernel guesses a block's windows from
    // the previous one): new windows, fewer windows, more than four, window 0, the top window.
    let block = 2048;
    let mut changing = data_f64("normal", 3 * block, 5);
    changing.extend(data_f64("uniform", 2 * block, 6).iter().map(|x| x * 2f64.powi(300)));
    changing.extend(
        data_f64("normal", block, 7).iter().enumerate().map(|(i, x)| if i % 100 == 0 { x * 1e-200 } else { *x }),
    );
    changing.extend(data_f64("uniform", block, 8));
    changing.extend(data_f64("wide", 2 * block, 9));
    changing.extend(data_f64("normal", block, 10).iter().enumerate().map(|(i, x)| if i == 77 { 1e-310 } else { *x }));
    changing.extend(
        data_f64("normal", block, 11).iter().enumerate().map(|(i, x)| if i == 1000 { f64::MAX / 3.0 } else { *x }),
    );
    changing.extend(data_f64("normal", block + 5, 12));
    cases.push(changing);
    // 1 to 10 windows in every block (a pass adds up to eight): values 16 binades apart, with
    // full significands (so their low halves fall one or two windows lower, too).
    for windows in 1..=10 {
        let values = data_f64("uniform", 3 * block + 8, 13 + windows as u64);
        cases.push(
            values.iter().enumerate().map(|(i, x)| (1.0 + x) * 2f64.powi(16 * (i % windows) as i32 - 80)).collect(),
        );
    }
    let mut special = data_f64("uniform", 5000, 1);
    special[4500] = f64::INFINITY;
    cases.push(special.clone());
    special[10] = f64::NEG_INFINITY;
    cases.push(special.clone());
    special[20] = f64::NAN;
    cases.push(special);
    // Every exponent in every block (too many windows: such blocks, and the runs after them, go
    // to the large superaccumulator), then ordinary blocks (the run ends where they start: the
    // sample sends them back to windows), then wide again with specials, one exponent repeated
    // past a chunk's room, and cancelling pairs. And 200 blocks of every exponent: the samples
    // extend the run.
    let every_exponent = |n: usize, seed: u64| -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| f64::from_bits(rng.next_u64() & !(0x7ff << 52) | (rng.next_u64() % 0x7ff) << 52)).collect()
    };
    let mut mixed = every_exponent(65 * block, 40);
    mixed.extend(data_f64("normal", 5 * block, 41));
    let mut wide_special = every_exponent(3 * block, 42);
    wide_special[block + 7] = f64::INFINITY;
    mixed.extend(wide_special);
    mixed.extend(vec![1.0 + f64::EPSILON; 5000]);
    mixed.extend(every_exponent(block, 43).iter().flat_map(|&x| [x, -x]));
    cases.push(mixed);
    cases.push(every_exponent(200 * block + 3, 44));
    for offset in 1..4 {
        cases.push(every_exponent(3 * block + offset, 50 + offset as u64));
    }
    for level in levels() {
        for xs in &cases {
            let mut scalar = ExactSum::new();
            scalar.add_f64s(xs);
            let mut fast = ExactSum::new();
            add_exact_f64_at(level, &mut fast, xs);
            assert_eq!(fast.count(), scalar.count(), "{level:?} n={}", xs.len());
            assert_eq!(fast.to_bytes(), scalar.to_bytes(), "{level:?} n={}", xs.len());
        }
    }
}

/// Arrays whose plain f64 lane sums round: every lane meets values 2^54 apart (f32: 2^24 and
/// 2^-30 and so on), at every position pattern the lane layouts of the levels give.
fn lane_sums_that_round(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let scale = if (i / 64) % 2 == 0 { 2f64.powi(24) } else { 2f64.powi(-30) };
            scale * (1.0 + (rng.next_u64() % (1 << 20)) as f64 / (1 << 20) as f64)
        })
        .collect()
}

#[test]
fn sums_certified_exact_are_exact() {
    // An error bound of 0 claims hi + lo is the exact sum; the rounding test then rounds it
    // without the exact path. Checked exactly on ordinary data, on data whose plain lane sums
    // round (the certificate must be refused and the block redone), and on hard data.
    let mut cases: Vec<Vec<f64>> =
        KINDS.iter().flat_map(|k| [1, 37, 4099, 70_001].map(|n| data_f64(k, n, 21))).collect();
    cases.extend([100, 5000, 40_000].map(|n| lane_sums_that_round(n, 5)));
    let mut tiny_inside = data_f64("normal", 50_000, 6);
    tiny_inside[12_345] = 1e-30;
    tiny_inside[40_000] = -3e-41;
    cases.push(tiny_inside);
    for (level, order) in levels().into_iter().flat_map(|level| ORDERS.map(|order| (level, order))) {
        for values in &cases {
            let as_f32: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            let p32 = sum_f32_at(level, &as_f32, order);
            assert!(bound_holds(as_f32.iter().map(|&x| f64::from(x)), p32), "{level:?} f32 n={} {p32:?}", values.len());
            // The split form: blocks it cannot certify summed exactly apart.
            let (partial, exact) = sum_f32_split_at(level, &as_f32, order);
            let mut residual = exact.unwrap_or_default();
            residual.add(partial.sum.hi);
            residual.add(partial.sum.lo);
            for &x in &as_f32 {
                residual.add(-f64::from(x));
            }
            // (exact blocks + partial) - values, rounded once: 0 exactly when the bound is 0.
            assert!(residual.sum_f64().abs() <= partial.error, "{level:?} split f32 n={} {partial:?}", values.len());
            let p64 = sum_f64_at(level, values, order);
            assert!(bound_holds(values.iter().copied(), p64), "{level:?} f64 n={} {p64:?}", values.len());
        }
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn ordinary_sums_are_certified_exact() {
    // The certificate is what spares ordinary data the exact path: it must actually be given.
    // f32: at every level (plain adds, inexact flag); f64: where adds can be made quiet (AVX-512).
    for level in levels() {
        for kind in ["uniform", "normal", "offset"] {
            for n in [2, 300, 20_000, 200_001] {
                let values = data_f32(kind, n, 8);
                assert_eq!(sum_f32_at(level, &values, Order::Forward).error, 0.0, "{level:?} f32 {kind} n={n}");
                if level == Level::Avx512 {
                    let values = data_f64(kind, n, 8);
                    assert_eq!(sum_f64_at(level, &values, Order::Forward).error, 0.0, "{level:?} f64 {kind} n={n}");
                }
            }
        }
    }
    // Data whose plain f64 sum rounds, so that a certificate given wrongly would show.
    let rounding: Vec<f32> = lane_sums_that_round(5000, 3).into_iter().map(|x| x as f32).collect();
    let plain = DoubleDouble { hi: rounding.iter().map(|&x| f64::from(x)).sum(), lo: 0.0 };
    assert!(!bound_holds(rounding.iter().map(|&x| f64::from(x)), Partial { sum: plain, error: 0.0 }));
}

#[test]
fn uncertified_f32_blocks_are_summed_exactly_in_the_same_pass() {
    // With AVX-512 the blocks whose plain sums round go to the exponent-window kernel: even a
    // tie among wide magnitudes is then known exactly after one pass, and rounded to even.
    let pattern =
        [2f32.powi(40), -(2f32.powi(40)), 2f32.powi(-60), -(2f32.powi(-60)), 4.0, 2.5, 0.5 + 7.0 * 2f32.powi(-24)];
    let xs: Vec<f32> = pattern.iter().copied().cycle().take(7 * 40_000).collect();
    for level in levels() {
        let (partial, exact) = sum_f32_split_at(level, &xs, Order::Forward);
        if level == Level::Avx512 {
            assert_eq!(partial.error, 0.0);
            assert!(exact.is_some());
        } else {
            assert!(exact.is_none(), "{level:?}: no exact kernel at memory speed");
        }
        assert_eq!(mean_f32_using(&xs, 1, level), 1.0, "{level:?}");
        // Special values met in such blocks keep IEEE's rules.
        let mut special = xs.clone();
        special[100_000] = f32::INFINITY;
        assert_eq!(mean_f32_using(&special, 1, level), f32::INFINITY, "{level:?}");
        special[3] = f32::NEG_INFINITY;
        assert!(mean_f32_using(&special, 1, level).is_nan(), "{level:?}");
        special[3] = f32::NAN;
        assert!(mean_f32_using(&special, 1, level).is_nan(), "{level:?}");
    }
    // Large enough for two threads, whose exact parts are merged.
    let long: Vec<f32> = pattern.iter().copied().cycle().take(7 * 600_000).collect();
    assert_eq!(mean::parallel::threads_for(&long, 2), 2);
    for level in levels() {
        assert_eq!(mean_f32_using(&long, 2, level), 1.0, "{level:?}");
    }
}

#[test]
fn column_kernels_equal_their_portable_twin_at_every_level_and_width() {
    // The vertical traversal's kernels (`add_rows_*_at`) against the naive loop, row after row:
    // same TwoSum arithmetic, so bit-identical sums and bounds, for every width around the
    // vector sizes, rows starting at every alignment of a vector, added one, two or three per
    // pass, with and without the hints ahead.
    use mean::kernels::{add_rows_f32_at, add_rows_f64_at, portable};
    let rows: Vec<Vec<f64>> = (0..6).map(|k| data_f64(KINDS[k % KINDS.len()], 80, 20 + k as u64)).collect();
    let rows32: Vec<Vec<f32>> = rows.iter().map(|row| row.iter().map(|&x| x as f32).collect()).collect();
    for level in levels() {
        for offset in 0..8 {
            for width in 0..70 {
                let mut fast = (vec![0.0; width], vec![0.0; width], vec![0.0; width]);
                let mut naive = fast.clone();
                let mut fast32 = fast.clone();
                let mut naive32 = fast.clone();
                let row = |k: usize| &rows[k][offset..offset + width];
                let row32 = |k: usize| &rows32[k][offset..offset + width];
                let ahead = if width % 2 == 0 { 4096 } else { 0 };
                add_rows_f64_at(level, (&mut fast.0, &mut fast.1, &mut fast.2), [row(0)], 0);
                add_rows_f64_at(level, (&mut fast.0, &mut fast.1, &mut fast.2), [row(1), row(2)], ahead);
                add_rows_f64_at(level, (&mut fast.0, &mut fast.1, &mut fast.2), [row(3), row(4), row(5)], ahead);
                add_rows_f32_at(
                    level,
                    (&mut fast32.0, &mut fast32.1, &mut fast32.2),
                    [row32(0), row32(1), row32(2)],
                    ahead,
                );
                add_rows_f32_at(level, (&mut fast32.0, &mut fast32.1, &mut fast32.2), [row32(3)], 0);
                add_rows_f32_at(level, (&mut fast32.0, &mut fast32.1, &mut fast32.2), [row32(4), row32(5)], ahead);
                for k in 0..rows.len() {
                    portable::add_row(&mut naive.0, &mut naive.1, &mut naive.2, row(k).iter().copied());
                    let converted = row32(k).iter().map(|&x| f64::from(x));
                    portable::add_row(&mut naive32.0, &mut naive32.1, &mut naive32.2, converted);
                }
                let bits = |v: &(Vec<f64>, Vec<f64>, Vec<f64>)| -> Vec<u64> {
                    v.0.iter().chain(&v.1).chain(&v.2).map(|x| x.to_bits()).collect()
                };
                assert_eq!(bits(&fast), bits(&naive), "{level:?} f64 width {width} offset {offset}");
                assert_eq!(bits(&fast32), bits(&naive32), "{level:?} f32 width {width} offset {offset}");
            }
        }
    }
}

#[test]
fn certified_runs_are_exact_or_refused_at_every_level() {
    // `certified_run_*_at`: Some(sum) only if that is the exact sum; data whose f64 sum must
    // round is refused. Lengths around the 4-vector chunks, every start offset.
    use mean::exact::ExactSum;
    use mean::kernels::{certified_run_f32_at, certified_run_f64_at};
    let mut rng = Rng::new(99);
    let values: Vec<f32> = (0..400).map(|_| (rng.next_u64() >> 40) as f32 / 1024.0 - 8000.0).collect();
    let mut rounding: Vec<f32> = values.clone();
    rounding[150] = 1e30; // 1e30 + the others rounds in f64
    for level in levels() {
        let mut certified = 0;
        for start in 0..8 {
            for len in 0..(values.len() - start).min(200) {
                for (data, must_round) in [(&values, false), (&rounding, start <= 150 && 150 < start + len)] {
                    let run = &data[start..start + len];
                    let mut exact = ExactSum::new();
                    exact.add_f32s(run);
                    let wide: Vec<f64> = run.iter().map(|&x| f64::from(x)).collect();
                    for sum in
                        [certified_run_f32_at(level, run), certified_run_f64_at(level, &wide)].into_iter().flatten()
                    {
                        assert!(!must_round, "{level:?} certified a sum that rounds");
                        assert_eq!(sum.to_bits(), exact.sum_f64().to_bits(), "{level:?} start {start} len {len}");
                        certified += 1;
                    }
                }
            }
        }
        // Where the flag is trusted, these sums (24-bit values of one range) are certified.
        if mean::kernels::certificate::trusted(level) && level != mean::Level::Scalar {
            assert!(certified > 1000, "{level:?}: only {certified} certified");
        }
    }
}

/// `values` with NaNs at a pseudo-random tenth of the positions (and the first, at odd seeds).
fn with_nans(values: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    values
        .iter()
        .enumerate()
        .map(|(i, &x)| if rng.next_u64().is_multiple_of(10) || (i == 0 && seed % 2 == 1) { f64::NAN } else { x })
        .collect()
}

#[test]
fn nan_skipping_runs_count_and_bound_like_the_naive_sum_at_every_level_length_and_alignment() {
    // `run_sum_skipping_nan_at` and `certified_run_skipping_nan_f32_at` against the naive sum of
    // the values that are not NaN: the same count, an error bound that holds (the certified
    // sum: the exact sum), every length past the unrolled chunks, every start in a vector,
    // no NaNs, some, and NaNs only.
    use mean::exact::ExactSum;
    use mean::kernels::{certified_run_skipping_nan_f32_at, run_sum_skipping_nan_at};
    let mut cases: Vec<Vec<f64>> =
        KINDS.iter().enumerate().map(|(k, kind)| with_nans(&data_f64(kind, 300, 5), k as u64)).collect();
    cases.push(data_f64("normal", 300, 7));
    cases.push(vec![f64::NAN; 300]);
    // Values of 24 bits in one range, a tenth NaN: sums that plain f64 adds get exactly.
    let mut rng = Rng::new(77);
    let few_bits: Vec<f64> = (0..300).map(|_| f64::from((rng.next_u64() >> 40) as f32 / 1024.0 - 8000.0)).collect();
    cases.push(with_nans(&few_bits, 3));
    for level in levels() {
        let mut certified = 0;
        for values in &cases {
            for start in 0..8 {
                for len in 0..(values.len() - start).min(140) {
                    let run = &values[start..start + len];
                    let kept = run.iter().copied().filter(|x| !x.is_nan());
                    let expected_count = kept.clone().count() as u64;
                    let (partial, count) = run_sum_skipping_nan_at(level, run);
                    assert_eq!(count, expected_count, "{level:?} f64 start {start} len {len}");
                    assert!(bound_holds(kept, partial), "{level:?} f64 start {start} len {len}: {partial:?}");
                    let run32: Vec<f32> = run.iter().map(|&x| x as f32).collect();
                    if run32.iter().any(|x| x.is_infinite()) {
                        continue;
                    }
                    let kept32 = run32.iter().map(|&x| f64::from(x)).filter(|x| !x.is_nan());
                    let (partial, count) = run_sum_skipping_nan_at(level, &run32);
                    assert_eq!(count, expected_count, "{level:?} f32 start {start} len {len}");
                    assert!(bound_holds(kept32.clone(), partial), "{level:?} f32 start {start} len {len}");
                    if let Some((sum, count)) = certified_run_skipping_nan_f32_at(level, &run32) {
                        let mut exact = ExactSum::new();
                        kept32.for_each(|x| exact.add(x));
                        assert_eq!(count, expected_count, "{level:?} certified start {start} len {len}");
                        assert_eq!(
                            sum.to_bits(),
                            exact.sum_f64().to_bits(),
                            "{level:?} certified start {start} len {len}"
                        );
                        certified += 1;
                    }
                }
            }
        }
        // Where the flag is trusted, the few-bit sums are certified (the count's own
        // conversion must not raise the flag).
        if mean::kernels::certificate::trusted(level) && level != Level::Scalar {
            assert!(certified > 1000, "{level:?}: only {certified} certified");
        }
    }
}

#[test]
fn nan_skipping_column_kernels_equal_their_naive_twin_at_every_level_and_width() {
    // `add_row_skipping_nan_at` against the same TwoSum arithmetic in a plain loop, NaNs as
    // +0.0 and not counted: bit-identical sums, bounds and counts.
    use mean::kernels::add_row_skipping_nan_at;
    let rows: Vec<Vec<f64>> =
        (0..6).map(|k| with_nans(&data_f64(KINDS[k % KINDS.len()], 70, 30 + k as u64), k as u64)).collect();
    type Lanes = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    fn naive(lanes: &mut Lanes, row: impl Iterator<Item = f64>) {
        for (j, x) in row.enumerate() {
            let (x, count) = if x.is_nan() { (0.0, 0.0) } else { (x, 1.0) };
            let (sum, err) = two_sum(lanes.0[j], x);
            lanes.0[j] = sum;
            lanes.1[j] += err;
            lanes.2[j] += lanes.1[j].abs();
            lanes.3[j] += count;
        }
    }
    for level in levels() {
        for width in 0..70 {
            let zero = || (vec![0.0; width], vec![0.0; width], vec![0.0; width], vec![0.0; width]);
            let (mut fast, mut twin, mut fast32, mut twin32) = (zero(), zero(), zero(), zero());
            for row in &rows {
                let row = &row[..width];
                let row32: Vec<f32> = row.iter().map(|&x| x as f32).collect();
                add_row_skipping_nan_at(level, &mut fast.0, &mut fast.1, &mut fast.2, &mut fast.3, row);
                naive(&mut twin, row.iter().copied());
                add_row_skipping_nan_at(level, &mut fast32.0, &mut fast32.1, &mut fast32.2, &mut fast32.3, &row32);
                naive(&mut twin32, row32.iter().map(|&x| f64::from(x)));
            }
            let bits = |v: &Lanes| -> Vec<u64> {
                v.0.iter().chain(&v.1).chain(&v.2).chain(&v.3).map(|x| x.to_bits()).collect()
            };
            assert_eq!(bits(&fast), bits(&twin), "{level:?} f64 width {width}");
            assert_eq!(bits(&fast32), bits(&twin32), "{level:?} f32 width {width}");
        }
    }
}

#[test]
fn certified_nan_skipping_column_blocks_equal_the_naive_sums_at_every_level_and_width() {
    // `CertifiedColumns::add_row_skipping_nan_f32`: exact data (multiples of 2^-8), so the
    // certified plain sums are the exact column sums of the values that are not NaN, and the
    // counts are theirs.
    use mean::kernels::CertifiedColumns;
    let rows: Vec<Vec<f32>> =
        (0..6).map(|k| with_nans(&exactly_summable(70, 40 + k), k).iter().map(|&x| x as f32).collect()).collect();
    for level in levels() {
        for width in 0..70 {
            let (mut hi, mut counted) = (vec![0.0; width], vec![0.0; width]);
            let Some(tile) = CertifiedColumns::begin(level, &mut hi) else { continue };
            for row in &rows {
                tile.add_row_skipping_nan_f32(&mut hi, &mut counted, &row[..width]);
            }
            assert!(tile.exact(&hi), "{level:?} width {width}: exact data must certify");
            for j in 0..width {
                let kept: Vec<f64> = rows.iter().map(|r| f64::from(r[j])).filter(|x| !x.is_nan()).collect();
                assert_eq!(hi[j], kept.iter().sum::<f64>(), "{level:?} width {width} column {j}");
                assert_eq!(counted[j], kept.len() as f64, "{level:?} width {width} column {j}");
            }
        }
    }
}

#[test]
fn certified_row_sums_are_exact_and_counted_at_every_level_and_length() {
    // `CertifiedColumns::row_sum_f32`, used as the engine's batches of short rows use it: many
    // rows' plain sums (and counts) stored between one `begin` and one `exact`. Few-bit data
    // must certify at every trusted level: nothing but the sums' adds may raise the flag (an
    // f64 -> u64 conversion of a count emulated below AVX-512 did, and failed every batch).
    use mean::kernels::CertifiedColumns;
    let mut rng = Rng::new(78);
    let values: Vec<f32> = (0..400).map(|_| (rng.next_u64() >> 40) as f32 / 1024.0 - 8000.0).collect();
    let values: Vec<f32> =
        with_nans(&values.iter().map(|&x| f64::from(x)).collect::<Vec<_>>(), 5).iter().map(|&x| x as f32).collect();
    for level in levels() {
        for skip_nan in [false, true] {
            for len in [1usize, 7, 31, 32, 33, 100, 255] {
                let rows: Vec<&[f32]> = (0..32).map(|k| &values[k * 3..k * 3 + len]).collect();
                let mut sums = [0.0f64; 32];
                let mut counts = [0u64; 32];
                let Some(tile) = CertifiedColumns::begin(level, &mut sums) else { continue };
                for (k, row) in rows.iter().enumerate() {
                    (sums[k], counts[k]) = tile.row_sum_f32(row, skip_nan);
                }
                let exact = tile.exact(&sums);
                for (k, row) in rows.iter().enumerate() {
                    let kept: Vec<f64> =
                        row.iter().map(|&x| f64::from(x)).filter(|x| !(skip_nan && x.is_nan())).collect();
                    assert_eq!(counts[k], kept.len() as u64, "{level:?} skip {skip_nan} len {len}");
                    if exact && !kept.iter().any(|x| x.is_nan()) {
                        let mut sum = mean::exact::ExactSum::new();
                        kept.iter().for_each(|&x| sum.add(x));
                        assert_eq!(sums[k], sum.sum_f64(), "{level:?} skip {skip_nan} len {len} row {k}");
                    }
                }
                if mean::kernels::certificate::trusted(level) {
                    assert!(exact, "{level:?} skip {skip_nan} len {len}: few-bit rows must certify");
                }
            }
        }
    }
}

#[test]
fn byte_sums_equal_the_naive_sum_at_every_length_and_alignment() {
    // `sum_bytes` (SSE2's psadbw on x86_64) against the plain loop, each way of reading a byte:
    // every length around the 64-byte chunks and every start within 16 bytes.
    use mean::kernels::{Bytes, sum_bytes};
    let mut rng = Rng::new(81);
    let bytes: Vec<u8> = (0..400).map(|_| rng.next_u64() as u8).collect();
    let extremes: Vec<u8> = (0..400).map(|i| [0u8, 1, 127, 128, 255][i % 5]).collect();
    for data in [&bytes, &extremes] {
        for start in 0..16 {
            for len in 0..(data.len() - start).min(300) {
                let run = &data[start..start + len];
                let naive = |f: fn(u8) -> u64| run.iter().map(|&b| f(b)).sum::<u64>();
                assert_eq!(sum_bytes(run, Bytes::Unsigned), naive(u64::from), "start {start} len {len}");
                assert_eq!(
                    sum_bytes(run, Bytes::SignFlipped),
                    naive(|b| u64::from(b ^ 0x80)),
                    "start {start} len {len}"
                );
                assert_eq!(sum_bytes(run, Bytes::Nonzero), naive(|b| u64::from(b != 0)), "start {start} len {len}");
            }
        }
    }
}

#[test]
fn word_sums_equal_the_naive_sum_at_every_length_and_alignment() {
    // `sum_words` (SSE2's pmaddwd on x86_64) against the plain loop, signed and unsigned, every
    // length around the 32-word chunks and every start within 8 words, and a run long enough
    // to move the 32-bit lanes into the total (2^14 chunks) several times.
    use mean::kernels::sum_words;
    let mut rng = Rng::new(82);
    let words: Vec<u16> = (0..400).map(|_| rng.next_u64() as u16).collect();
    let extremes: Vec<u16> = (0..400).map(|i| [0u16, 1, 0x7fff, 0x8000, 0xffff][i % 5]).collect();
    let naive = |run: &[u16], signed: bool| -> i128 {
        run.iter().map(|&w| if signed { i128::from(w as i16) } else { i128::from(w) }).sum()
    };
    for data in [&words, &extremes] {
        for start in 0..8 {
            for len in 0..(data.len() - start).min(300) {
                let run = &data[start..start + len];
                for signed in [false, true] {
                    assert_eq!(sum_words(run, signed), naive(run, signed), "start {start} len {len} signed {signed}");
                }
            }
        }
    }
    let long: Vec<u16> = (0..(3 << 19) + 5).map(|i| [0x7fffu16, 0x8000, 0xffff][i % 3]).collect();
    for signed in [false, true] {
        assert_eq!(sum_words(&long, signed), naive(&long, signed));
    }
    let max: Vec<u16> = vec![0xffff; (1 << 20) + 3];
    assert_eq!(sum_words(&max, false), naive(&max, false));
    let min: Vec<u16> = vec![0x8000; (1 << 20) + 3];
    assert_eq!(sum_words(&min, true), naive(&min, true));
}

#[test]
fn dword_sums_equal_the_naive_sum_at_every_length_and_alignment() {
    // `sum_dwords` (SSE2, halves summed apart) against the plain loop, signed and unsigned,
    // every length around the 16-value chunks, every start within 4 values, and runs long
    // enough to move the lanes into the total (2^14 chunks) several times, at the extremes.
    use mean::kernels::sum_dwords;
    let mut rng = Rng::new(83);
    let dwords: Vec<u32> = (0..300).map(|_| rng.next_u64() as u32).collect();
    let extremes: Vec<u32> =
        (0..300).map(|i| [0u32, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff][i % 6]).collect();
    let naive = |run: &[u32], signed: bool| -> i128 {
        run.iter().map(|&w| if signed { i128::from(w as i32) } else { i128::from(w) }).sum()
    };
    for data in [&dwords, &extremes] {
        for start in 0..4 {
            for len in 0..(data.len() - start).min(200) {
                let run = &data[start..start + len];
                for signed in [false, true] {
                    assert_eq!(sum_dwords(run, signed), naive(run, signed), "start {start} len {len} signed {signed}");
                }
            }
        }
    }
    for value in [0xffff_ffffu32, 0x8000_0000, 0x7fff_ffff] {
        let long = vec![value; (3 << 18) + 7];
        for signed in [false, true] {
            assert_eq!(sum_dwords(&long, signed), naive(&long, signed), "{value:#x} signed {signed}");
        }
    }
}

#[test]
fn qword_sums_equal_the_naive_sum_at_every_length_and_alignment() {
    // `sum_qwords_at` (halves summed apart in lanes, signed values' top bit flipped) against
    // the plain loop at every level, signed and unsigned, every length around the 8-value
    // chunks, every start within 2.
    use mean::Level;
    use mean::kernels::sum_qwords_at;
    let mut rng = Rng::new(84);
    let qwords: Vec<u64> = (0..200).map(|_| rng.next_u64()).collect();
    let extremes: Vec<u64> =
        (0..200).map(|i| [0u64, 1, i64::MAX as u64, 1 << 63, u64::MAX, 0xffff_ffff][i % 6]).collect();
    let naive = |run: &[u64], signed: bool| -> i128 {
        run.iter().map(|&q| if signed { i128::from(q as i64) } else { i128::from(q) }).sum()
    };
    for data in [&qwords, &extremes] {
        for start in 0..2 {
            for len in 0..(data.len() - start) {
                let run = &data[start..start + len];
                for (signed, level) in [false, true].into_iter().flat_map(|s| Level::ALL.map(|l| (s, l))) {
                    assert_eq!(
                        sum_qwords_at(level, run, signed),
                        naive(run, signed),
                        "start {start} len {len} signed {signed} {level:?}"
                    );
                }
            }
        }
    }
    for value in [u64::MAX, 1 << 63, i64::MAX as u64] {
        let long = vec![value; 100_003];
        for (signed, level) in [false, true].into_iter().flat_map(|s| Level::ALL.map(|l| (s, l))) {
            assert_eq!(
                sum_qwords_at(level, &long, signed),
                naive(&long, signed),
                "{value:#x} signed {signed} {level:?}"
            );
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn f16c_conversions_equal_the_element_decoder_for_every_value_length_and_alignment() {
    // `f16_to_f32_at` (F16C, eight at a time, a padded tail) against `f16_to_f64`, the naive
    // twin: all 65,536 bit patterns (NaN for NaN: F16C quiets signaling ones), then every
    // length 0-40 at every start within 8; at levels below AVX2 it must decline.
    use mean::Level;
    use mean::kernels::f16_to_f32_at;
    use mean::reduce::element::f16_to_f64;
    let all: Vec<u16> = (0..=u16::MAX).collect();
    let same = |bits: u16, got: f32| {
        let want = f16_to_f64(bits);
        if want.is_nan() { got.is_nan() } else { f64::from(got).to_bits() == want.to_bits() }
    };
    for level in Level::ALL {
        let mut out = vec![0f32; all.len()];
        if !f16_to_f32_at(level, &all, &mut out) {
            assert!(level < Level::Avx2 || !level.is_available() || !std::arch::is_x86_feature_detected!("f16c"));
            continue;
        }
        assert!(all.iter().zip(&out).all(|(&b, &x)| same(b, x)), "{level:?}");
        let mut rng = Rng::new(16);
        let data: Vec<u16> = (0..48).map(|_| rng.next_u64() as u16).collect();
        for start in 0..8 {
            for len in 0..=40 {
                let run = &data[start..start + len];
                let mut got = vec![f32::NAN; len];
                assert!(f16_to_f32_at(level, run, &mut got));
                assert!(run.iter().zip(&got).all(|(&b, &x)| same(b, x)), "{level:?} start {start} len {len}");
            }
        }
    }
}

/// Rows of `len` few-bit values (ties are common among them) at `stride`, after `offset`
/// values of padding, for the tiny-rows kernels.
fn tiny_rows_data(rows: usize, len: usize, stride: usize, offset: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let size = offset + if rows == 0 { 0 } else { (rows - 1) * stride + len };
    (0..size)
        .map(|k| match k % 11 {
            0 => rng.normal() * 1e300, // overflowing sums, undecided
            1 => 0.0,
            _ => (rng.normal() * 4096.0).round() / 64.0 + rng.normal() * f64::from(u8::from(k % 3 == 0)),
        })
        .collect()
}

#[test]
fn tiny_row_kernels_equal_the_scalar_level_and_the_exact_mean_at_every_level_length_stride_and_alignment() {
    use mean::exact::ExactSum;
    use mean::kernels::rows::{MAX_LEN, ROWS, exact_sums_to_f32_means_at, tiny_row_means_f64_at, tiny_row_sums_f32_at};
    for len in 1..=MAX_LEN {
        for stride in [len, len + 1, 2 * len + 3] {
            for (rows, offset) in [(0, 0), (1, 3), (7, 1), (9, 0), (ROWS - 1, 5), (ROWS, 2)] {
                let data = tiny_rows_data(rows, len, stride, offset, (len * 1000 + stride * 10 + rows) as u64);
                let data = &data[offset..];
                let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
                let row = |k: usize| &data[k * stride..k * stride + len];
                let mut scalar = (vec![0.0; rows], vec![false; rows]);
                tiny_row_means_f64_at(Level::Scalar, data, len, stride, &mut scalar.0, &mut scalar.1);
                let mut sums32_scalar = vec![0.5; rows];
                tiny_row_sums_f32_at(Level::Scalar, &data32, len, stride, &mut sums32_scalar);
                for level in levels() {
                    let mut means = (vec![0.0; rows], vec![true; rows]);
                    tiny_row_means_f64_at(level, data, len, stride, &mut means.0, &mut means.1);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        (bits(&means.0), &means.1),
                        (bits(&scalar.0), &scalar.1),
                        "{level:?} {len} {stride} {rows}"
                    );
                    let mut sums32 = vec![0.5; rows];
                    tiny_row_sums_f32_at(level, &data32, len, stride, &mut sums32);
                    assert_eq!(bits(&sums32), bits(&sums32_scalar), "{level:?} f32 {len} {stride} {rows}");
                    let mut from_zero = vec![0.0; rows];
                    tiny_row_sums_f32_at(level, &data32, len, stride, &mut from_zero);
                    let (mut means32, mut undecided32) = (vec![0.0f32; rows], vec![true; rows]);
                    exact_sums_to_f32_means_at(level, &from_zero, len, &mut means32, &mut undecided32);
                    for k in 0..rows {
                        let mut exact = ExactSum::new();
                        row(k).iter().for_each(|&x| exact.add(x));
                        if !means.1[k] {
                            let expected = if exact.sum_f64() == 0.0 { 0.0 } else { exact.mean_f64() };
                            assert_eq!(means.0[k].to_bits(), expected.to_bits(), "{level:?} row {k} {:?}", row(k));
                        }
                        // The float32 sums: plain adds in order, from what the sum held (0.5).
                        let row32 = &data32[k * stride..][..len];
                        let plain = row32.iter().fold(0.5, |s, &x| s + f64::from(x));
                        assert_eq!(sums32[k].to_bits(), plain.to_bits());
                        // Their means, where the plain sum from zero was exact.
                        let mut exact32 = ExactSum::new();
                        row32.iter().for_each(|&x| exact32.add(f64::from(x)));
                        if !undecided32[k] && exact32.sum_f64() == from_zero[k] && from_zero[k].is_finite() {
                            assert_eq!(means32[k], exact32.mean_f32(), "{level:?} f32 row {k} {row32:?}");
                        }
                    }
                    // Rows with no huge value: nearly all decided (their sums are mostly exact).
                    let ordinary: Vec<usize> = (0..rows).filter(|&k| row(k).iter().all(|x| x.abs() < 1e200)).collect();
                    let decided = ordinary.iter().filter(|&&k| !means.1[k]).count();
                    assert!(decided * 10 >= ordinary.len() * 9, "{level:?} {len}: {decided} of {}", ordinary.len());
                }
            }
        }
    }
}

#[test]
fn gathers_equal_the_scalar_copy_at_every_level_step_length_and_alignment() {
    use mean::kernels::gather::{gather_u32_at, gather_u64_at};
    let mut rng = Rng::new(77);
    let src64: Vec<u64> = (0..2000).map(|_| rng.next_u64()).collect();
    let src32: Vec<u32> = src64.iter().map(|&x| x as u32).collect();
    for level in levels() {
        for step in [1usize, 2, 3, 4, 5, 6, 7, 8, 9, 64] {
            for len in (0..=40).chain([255, 256, 257]) {
                for offset in [0usize, 1, 3] {
                    if len > 0 && offset + (len - 1) * step >= src64.len() {
                        continue;
                    }
                    for swap in [false, true] {
                        let want64: Vec<u64> = (0..len)
                            .map(|i| src64[offset + i * step])
                            .map(|x| if swap { x.swap_bytes() } else { x })
                            .collect();
                        let mut got64 = vec![0u64; len];
                        gather_u64_at(level, &src64[offset..], step, swap, &mut got64);
                        assert_eq!(got64, want64, "{level:?} u64 step {step} len {len} swap {swap}");
                        let want32: Vec<u32> = (0..len)
                            .map(|i| src32[offset + i * step])
                            .map(|x| if swap { x.swap_bytes() } else { x })
                            .collect();
                        let mut got32 = vec![0u32; len];
                        gather_u32_at(level, &src32[offset..], step, swap, &mut got32);
                        assert_eq!(got32, want32, "{level:?} u32 step {step} len {len} swap {swap}");
                    }
                }
            }
        }
    }
}

/// Values over ~1000 binades whose large ones cancel in pairs across the array, with ordinary
/// ones: the first 64 are ordinary, so the first block breaks the bound they give.
fn cancelling_over_extreme_spans(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut xs: Vec<f64> = (0..n / 4)
        .flat_map(|_| {
            let big = (1.0 + rng.unit()) * 2f64.powi(500 + (rng.next_u64() % 500) as i32);
            let big = if rng.next_u64().is_multiple_of(2) { big } else { -big };
            [big, -big]
        })
        .collect();
    while xs.len() < n {
        xs.push(rng.normal());
    }
    for i in (1..n).rev() {
        xs.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let ordinary: Vec<f64> = (0..64).map(|_| rng.normal()).collect();
    xs[..64].copy_from_slice(&ordinary);
    xs
}

#[test]
fn float64_blocks_spanning_extremely_are_summed_exactly_in_the_first_pass() {
    // With AVX-512 the first pass hands such blocks (and those it folded before them) to the
    // exact sum: one pass, the mean exact. Both block orders (alternating between calls),
    // one and two threads, every level, against the exact mean; and with special values.
    for n in [8192 - 1, 3 * 8192 + 5, 100_003] {
        let xs = cancelling_over_extreme_spans(n, n as u64);
        let exact = exact_mean_f64(&xs);
        for level in levels() {
            for threads in [1, 2, 1] {
                assert_eq!(mean_f64_using(&xs, threads, level).to_bits(), exact.to_bits(), "{level:?} n={n}");
            }
            if level == Level::Avx512 {
                assert!(!mean::takes_exact_path_f64(&xs, level), "n={n}");
            }
        }
        let mut special = xs.clone();
        special[n / 2] = f64::INFINITY;
        for level in levels() {
            assert_eq!(mean_f64_using(&special, 1, level), f64::INFINITY, "{level:?} n={n}");
        }
        special[n / 3] = f64::NAN;
        for level in levels() {
            assert!(mean_f64_using(&special, 1, level).is_nan(), "{level:?} n={n}");
        }
    }
}

#[test]
fn column_means_equal_the_scalar_level_and_the_exact_mean_at_every_level() {
    // The vertical traversal's rounding of a tile's lanes at once
    // (`rows::bounded_sums_to_f64_means_at`), and the short rows' of a batch's sums
    // (`rows::partial_sums_to_f64_means_at`, the same sums as Partials): the lanes of columns
    // summed by the column kernels, their means bit-identical across levels, every decided one
    // the exact mean.
    // Values on a coarse grid make exact sums whose means are exact ties (one column in ~n/2),
    // which the test decides from the exact remainder; uniform values make inexact lanes.
    use mean::exact::ExactSum;
    use mean::kernels::add_rows_f64_at;
    use mean::kernels::rows::{bounded_sums_to_f64_means_at, partial_sums_to_f64_means_at};
    let mut rng = Rng::new(91);
    for n in [1usize, 2, 3, 10, 100, 1000] {
        for grid in [true, false] {
            for width in [1usize, 7, 8, 9, 64, 203] {
                let value = |rng: &mut Rng| {
                    let x = rng.unit() * 2.0 - 0.5;
                    if grid { (x * 256.0).round() / 256.0 } else { x }
                };
                let columns: Vec<Vec<f64>> = (0..n).map(|_| (0..width).map(|_| value(&mut rng)).collect()).collect();
                let mut decided_somewhere = 0;
                let mut first_level: Option<(Vec<u64>, Vec<bool>)> = None;
                for level in levels() {
                    let mut lanes = (vec![0.0; width], vec![0.0; width], vec![0.0; width]);
                    for row in &columns {
                        add_rows_f64_at(level, (&mut lanes.0, &mut lanes.1, &mut lanes.2), [&row[..]], 0);
                    }
                    let (mut means, mut undecided) = (vec![0.0; width], vec![true; width]);
                    bounded_sums_to_f64_means_at(level, (&lanes.0, &lanes.1, &lanes.2), n, &mut means, &mut undecided);
                    // The short rows' batches round the same sums given as Partials.
                    let partials: Vec<Partial> = (0..width)
                        .map(|j| Partial {
                            sum: DoubleDouble { hi: lanes.0[j], lo: lanes.1[j] },
                            error: lanes.2[j] * mean::kernels::UNIT_ROUNDOFF,
                        })
                        .collect();
                    let (mut from_partials, mut undecided_from_partials) = (vec![0.0; width], vec![true; width]);
                    partial_sums_to_f64_means_at(level, &partials, n, &mut from_partials, &mut undecided_from_partials);
                    assert_eq!(undecided_from_partials, undecided, "{level:?} n {n} grid {grid}");
                    for j in (0..width).filter(|&j| !undecided[j]) {
                        assert_eq!(from_partials[j].to_bits(), means[j].to_bits(), "{level:?} n {n} column {j}");
                    }
                    for j in (0..width).filter(|&j| !undecided[j]) {
                        let mut exact = ExactSum::new();
                        columns.iter().for_each(|row| exact.add(row[j]));
                        let want = if exact.sum_f64() == 0.0 { 0.0 } else { exact.mean_f64() };
                        assert_eq!(means[j].to_bits(), want.to_bits(), "{level:?} n {n} grid {grid} column {j}");
                        decided_somewhere += 1;
                    }
                    let bits = (means.iter().map(|m| m.to_bits()).collect::<Vec<_>>(), undecided);
                    match &first_level {
                        None => first_level = Some(bits),
                        Some(first) => assert_eq!(&bits, first, "{level:?} n {n} grid {grid} width {width}"),
                    }
                }
                assert!(decided_somewhere > 0, "n {n} grid {grid} width {width}: nothing decided");
            }
        }
    }
}
