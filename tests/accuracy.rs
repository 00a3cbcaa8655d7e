//! The safe API against the exact, correctly rounded mean: every length, alignment and kind.
//! Equality is exact: the library promises correct rounding.

mod common;

use common::*;
use mean::{exact_mean_f32, exact_mean_f64, mean_f32, mean_f64};

#[test]
fn every_length_and_alignment_f32() {
    for kind in KINDS {
        for n in 1..=300 {
            let values = data_f32(kind, n, n as u64);
            let exact = exact_mean_f32(&values);
            for offset in [0, 1, 2, 3, 5, 7, 15] {
                let data = Aligned::new(&values, offset);
                let got = mean_f32(data.as_slice());
                assert_eq!(got.to_bits(), exact.to_bits(), "{kind} n={n} offset={offset}: {got} vs exact {exact}");
            }
        }
    }
}

#[test]
fn every_length_and_alignment_f64() {
    for kind in KINDS {
        for n in 1..=300 {
            let values = data_f64(kind, n, n as u64);
            let exact = exact_mean_f64(&values);
            for offset in [0, 1, 2, 3, 5, 7] {
                let data = Aligned::new(&values, offset);
                let got = mean_f64(data.as_slice());
                assert_eq!(got.to_bits(), exact.to_bits(), "{kind} n={n} offset={offset}: {got} vs exact {exact}");
            }
        }
    }
}

#[test]
fn large_arrays_stay_within_one_ulp() {
    for kind in KINDS {
        for n in [4095, 65_536, 1_000_003] {
            let values = data_f32(kind, n, 7);
            assert_eq!(mean_f32(&values).to_bits(), exact_mean_f32(&values).to_bits(), "f32 {kind} n={n}");
            let values = data_f64(kind, n, 7);
            assert_eq!(mean_f64(&values).to_bits(), exact_mean_f64(&values).to_bits(), "f64 {kind} n={n}");
        }
    }
}

#[test]
fn f32_accumulation_does_not_stall_past_2_pow_24() {
    // A float32 accumulator stops growing at 2^24; the tutorial's mean of 10^8 ones is 0.168.
    let ones = vec![1.0f32; (1 << 24) + 1_000_001];
    assert_eq!(mean_f32(&ones), 1.0);
    let tenths = vec![0.1f32; 20_000_000];
    assert_eq!(mean_f32(&tenths), 0.1);
}

#[test]
fn no_spurious_overflow() {
    assert_eq!(mean_f32(&[3e38, 3e38]), 3e38);
    assert_eq!(mean_f32(&[f32::MAX; 1000]), f32::MAX);
    assert_eq!(mean_f64(&[1e308, 1e308]), 1e308);
    assert_eq!(mean_f64(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX / 3.0);
    assert_eq!(mean_f64(&[-f64::MAX; 5]), -f64::MAX);
}

#[test]
fn cancellation_of_huge_values() {
    assert_eq!(mean_f64(&[2f64.powi(100), 1.0, -2f64.powi(100)]), 1.0 / 3.0);
    assert_eq!(mean_f32(&[2f32.powi(100), 1.0, -2f32.powi(100)]), 1.0f32 / 3.0);
}

#[test]
fn special_values() {
    let nan32 = [1.0, f32::NAN, 2.0];
    assert!(mean_f32(&nan32).is_nan());
    assert!(mean_f32(&[f32::INFINITY, 1.0, f32::NEG_INFINITY]).is_nan());
    assert_eq!(mean_f32(&[f32::INFINITY, 1.0, 2.0]), f32::INFINITY);
    assert_eq!(mean_f32(&[-3e38, f32::NEG_INFINITY, -3e38]), f32::NEG_INFINITY);
    assert!(mean_f64(&[1.0, f64::NAN]).is_nan());
    assert!(mean_f64(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    assert_eq!(mean_f64(&[f64::INFINITY, 5.0]), f64::INFINITY);
    // An overflowing finite part must not turn +inf into NaN.
    assert_eq!(mean_f64(&[f64::INFINITY, -f64::MAX, -f64::MAX]), f64::INFINITY);
    assert!(mean_f64(&[f64::NAN, f64::MAX, f64::MAX]).is_nan());
}

#[test]
fn empty_is_nan() {
    assert!(mean_f32(&[]).is_nan());
    assert!(mean_f64(&[]).is_nan());
}

#[test]
fn subnormals() {
    let tiny = f64::from_bits(1);
    assert_eq!(mean_f64(&[tiny, 3.0 * tiny]), 2.0 * tiny);
    let tiny32 = f32::from_bits(1);
    assert_eq!(mean_f32(&[tiny32, 3.0 * tiny32]), 2.0 * tiny32);
}

#[test]
fn both_the_fast_path_and_the_exact_path_are_reached() {
    use mean::kernels::{DoubleDouble, Level, Order, Partial, sum_f64_at};
    let sum_f64 = |xs: &[f64]| sum_f64_at(Level::selected(), xs, Order::Forward);
    use mean::rounding::{Format, Rounded, round_mean};
    // Ordinary data: the error bound is far from any rounding boundary.
    let ordinary = data_f64("normal", 10_000, 1);
    assert!(matches!(round_mean(sum_f64(&ordinary), ordinary.len(), Format::Binary64), Rounded::Certain(_)));
    // An exact tie whose sum the kernel knows exactly (error bound 0): rounded exactly, to even,
    // without summing again.
    let one_up = f64::from_bits(1.0f64.to_bits() + 1);
    let exact_tie = Partial { sum: DoubleDouble { hi: 2.0, lo: 2f64.powi(-52) }, error: 0.0 }; // 1.0 + one_up
    assert_eq!(round_mean(exact_tie, 2, Format::Binary64), Rounded::Certain(1.0));
    assert_eq!(mean_f64(&[1.0, one_up]), 1.0);
    // The same tie with any doubt about the sum: no bound can decide it, the exact path must.
    let doubtful_tie = Partial { error: f64::from_bits(1), ..exact_tie };
    assert_eq!(round_mean(doubtful_tie, 2, Format::Binary64), Rounded::Unsure);
    // A sum that overflows f64 is never certified.
    let big = [f64::MAX, f64::MAX];
    assert_eq!(round_mean(sum_f64(&big), 2, Format::Binary64), Rounded::Unsure);
    assert_eq!(mean_f64(&big), f64::MAX);
    // A sum known to be exactly zero is reported as such; the mean is then +0.0, as numpy's.
    let zero = [1.0, -1.0];
    let scalar = mean::kernels::portable::sum_f64(&zero);
    assert_eq!(round_mean(scalar, 2, Format::Binary64), Rounded::ExactZero);
    assert_eq!(mean_f64(&zero).to_bits(), 0.0f64.to_bits());
    assert_eq!(mean_f64(&[-0.0, -0.0]).to_bits(), 0.0f64.to_bits());
}

#[test]
fn ties_among_wide_magnitudes_take_the_exact_path() {
    // The benchmark's exact-path inputs (examples/bench.py): a tie, with magnitudes wide enough
    // apart in every lane (the pattern's odd length reaches every lane of every layout) that the
    // kernels' double-double sums cannot be certified exact, so the rounding test cannot decide.
    // Rounded to even by an exact sum: the second pass, or for f32 with AVX-512 the exact blocks
    // of the first (see tests/kernels.rs).
    use mean::kernels::{Level, Order, sum_f32_at, sum_f64_at};
    use mean::rounding::{Format, Rounded, round_mean};
    let f32_pattern =
        [2f32.powi(40), -(2f32.powi(40)), 2f32.powi(-60), -(2f32.powi(-60)), 4.0, 2.5, 0.5 + 7.0 * 2f32.powi(-24)];
    let f64_pattern =
        [2f64.powi(600), -(2f64.powi(600)), 2f64.powi(-600), -(2f64.powi(-600)), 4.0, 2.5, 0.5 + 7.0 * 2f64.powi(-53)];
    for n in [7 * 3000, 7 * 40_000] {
        let xs32: Vec<f32> = f32_pattern.iter().copied().cycle().take(n).collect();
        let xs64: Vec<f64> = f64_pattern.iter().copied().cycle().take(n).collect();
        for level in Level::available() {
            // (The scalar kernel adds such blocks with TwoSum, value by value, and may still
            // know its sum exactly.)
            if level != Level::Scalar {
                assert_eq!(
                    round_mean(sum_f32_at(level, &xs32, Order::Forward), n, Format::Binary32),
                    Rounded::Unsure,
                    "{level:?}"
                );
                assert_eq!(
                    round_mean(sum_f64_at(level, &xs64, Order::Forward), n, Format::Binary64),
                    Rounded::Unsure,
                    "{level:?}"
                );
                // f32 with AVX-512 sums such blocks exactly in the first pass, and so does f64
                // with AVX-512 when they span more than 256 binades, as these do (2^-600 to
                // 2^600); spanning less (2^-100 to 2^100), the first pass keeps them and the
                // exact path decides.
                assert_eq!(mean::takes_exact_path_f32(&xs32, level), level != Level::Avx512, "{level:?}");
                assert_eq!(mean::takes_exact_path_f64(&xs64, level), level != Level::Avx512, "{level:?}");
                let narrower: Vec<f64> = xs64
                    .iter()
                    .map(|&x| match x.abs().log2() {
                        600.0 => x.signum() * 2f64.powi(100),
                        -600.0 => x.signum() * 2f64.powi(-100),
                        _ => x,
                    })
                    .collect();
                assert!(mean::takes_exact_path_f64(&narrower, level), "{level:?}");
                assert_eq!(mean::mean_f64_using(&narrower, 1, level), 1.0, "{level:?}");
            }
            assert_eq!(mean::mean_f32_using(&xs32, 1, level), 1.0, "{level:?}");
            assert_eq!(mean::mean_f64_using(&xs64, 1, level), 1.0, "{level:?}");
        }
    }
}

#[test]
fn float64_near_ties_closer_than_float64_resolves() {
    // (2 + 2^-52 + h) / 4 = 0.5 + 2^-54 + h/4 sits a hair above (h > 0) or below (h < 0) the
    // midpoint between 0.5 and its successor.
    let one_up = f64::from_bits(1.0f64.to_bits() + 1);
    let half_up = f64::from_bits(0.5f64.to_bits() + 1);
    assert_eq!(mean_f64(&[1.0, one_up, 2f64.powi(-1000), 0.0]), half_up);
    assert_eq!(mean_f64(&[1.0, one_up, -(2f64.powi(-1000)), 0.0]), 0.5);
    assert_eq!(mean_f64(&[1.0, one_up, 0.0, 0.0]), 0.5); // the tie itself, to even
}

#[test]
#[cfg(target_arch = "x86_64")]
fn ordinary_data_does_not_take_the_exact_path() {
    // The floor: fewer than 1 ordinary array in 10^4 takes the exact path. Here none
    // does: sums are certified exact, or far from a rounding boundary. Exact ties are common
    // among short arrays (the mean of two uniform values is a tie about half the time; ~0.2% of
    // uniform float64 arrays of 10^3 are), and are settled from the certified sum.
    // float64 sums are certified with AVX-512 only (quiet adds); elsewhere exact ties still
    // take the exact path.
    use mean::kernels::Level;
    for level in Level::available().filter(|&l| l != Level::Scalar) {
        for kind in ["uniform", "normal"] {
            for (n, arrays) in [(2, 500), (8, 500), (1000, 1000), (100_000, 10)] {
                for seed in 0..arrays {
                    let xs = data_f64(kind, n, seed);
                    let ys: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                    assert!(!mean::takes_exact_path_f32(&ys, level), "{level:?} {kind} n={n} seed={seed}");
                    if level == Level::Avx512 {
                        assert!(!mean::takes_exact_path_f64(&xs, level), "{level:?} {kind} n={n} seed={seed}");
                    }
                }
            }
        }
    }
}

#[test]
fn float32_data_that_no_block_can_certify_takes_one_pass_at_avx512() {
    // Values 2^50..2^100 that cancel, among values near 1: every block's plain f64 sums round,
    // so with AVX-512 every block is summed exactly in the first pass. The head before the
    // first 64-byte boundary goes to the exact sum too, so the whole sum is known exactly and
    // no second pass is needed (folded into the double-double, its adds could round, and the
    // mean then took a second, exact pass over everything).
    use mean::kernels::Level;
    if !Level::Avx512.is_available() {
        return;
    }
    let mut rng = Rng::new(90);
    let n = 200_016;
    let mut xs: Vec<f32> = (0..n)
        .map(|i| match i % 4 {
            0 | 1 => (2f64.powf(50.0 + 50.0 * rng.unit()) * 1.000_001) as f32,
            _ => (rng.normal() * 0.7) as f32,
        })
        .collect();
    for i in (0..n).step_by(4) {
        xs[i + 1] = -xs[i];
    }
    for i in (1..n).rev() {
        xs.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize); // the order of the data sets
    }
    // The whole set (its big values cancel exactly: the mean is that of the small ones) at
    // every start modulo 64 bytes, so every head length from 0 to 15 values.
    let mut buffer = vec![0f32; n + 16];
    for offset in 0..16 {
        buffer[offset..offset + n].copy_from_slice(&xs);
        let part = &buffer[offset..offset + n];
        assert!(!mean::takes_exact_path_f32(part, Level::Avx512), "offset {offset}");
        assert_eq!(mean::mean_f32_using(part, 1, Level::Avx512), exact_mean_f32(part), "offset {offset}");
    }
}

#[test]
fn exact_ties_of_narrow_means_are_rounded_to_even_by_one_division() {
    use mean::kernels::Partial;
    use mean::rounding::{Format, Rounded, round_mean};
    // 2^25 + 2^24 + 3 = 3 * (2^24 + 1): the mean is exactly the float32 midpoint between 2^24
    // and 2^24 + 2, which rounds to even (2^24); a hair above it (a sum still exact in f64) rounds up.
    let two24 = 2f64.powi(24);
    let tie = Partial::exact(2f64.powi(25) + two24 + 3.0);
    assert_eq!(round_mean(tie, 3, Format::Binary32), Rounded::Certain(two24));
    let above = Partial::exact(2f64.powi(25) + two24 + 3.0 + 2f64.powi(-27));
    assert_eq!(round_mean(above, 3, Format::Binary32), Rounded::Certain(two24 + 2.0));
    let below = Partial::exact(2f64.powi(25) + two24 + 3.0 - 2f64.powi(-27));
    assert_eq!(round_mean(below, 3, Format::Binary32), Rounded::Certain(two24));
    // The same for binary16: (2048 + 1) is the midpoint between 2048 and 2050.
    let tie16 = Partial::exact(3.0 * 2049.0);
    assert_eq!(round_mean(tie16, 3, Format::Binary16), Rounded::Certain(2048.0));
    let odd16 = Partial::exact(3.0 * 2051.0); // the midpoint between 2050 and 2052: to even, 2052
    assert_eq!(round_mean(odd16, 3, Format::Binary16), Rounded::Certain(2052.0));
}

#[test]
fn branch_free_float32_means_of_exact_sums_agree_with_the_exact_mean() {
    use mean::exact::ExactSum;
    use mean::rounding::exact_sums_to_f32_means;
    let mut rng = Rng::new(41);
    let mut sums = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::MIN_POSITIVE, 1e-40, 3.4e38 * 16.0];
    let two24 = 2f64.powi(24);
    for n in 1..=16u32 {
        // Exact float32 midpoints times n (ties, rounded to even), and sums a hair off them.
        for odd in [1.0, 3.0, 2f64.powi(24) + 1.0] {
            let tie = (two24 + odd) * f64::from(n) * 2f64.powi(-3);
            sums.extend([tie, tie.next_up(), tie.next_down()]);
        }
    }
    while sums.len() < 4096 {
        // Sums of a few float32 values of every magnitude, some near float32's ends.
        let parts = 1 + rng.next_u64() % 16;
        let scale = 2f64.powi((rng.next_u64() % 300) as i32 - 150);
        sums.push((0..parts).map(|_| f64::from((rng.normal() * scale) as f32)).sum());
    }
    for n in 1..=16 {
        let mut means = vec![0.0f32; sums.len()];
        let mut undecided = vec![false; sums.len()];
        exact_sums_to_f32_means(&sums, n, &mut means, &mut undecided);
        let mut decided = 0;
        for (k, &sum) in sums.iter().enumerate() {
            let mut exact = ExactSum::new();
            exact.add(sum);
            (1..n).for_each(|_| exact.add(0.0));
            let expected = exact.mean_f32();
            if sum == 0.0 {
                assert!(!undecided[k] && means[k].to_bits() == 0, "a zero sum gives +0.0");
            } else if !undecided[k] {
                decided += 1;
                assert_eq!(means[k].to_bits(), expected.to_bits(), "sum {sum:e}, n {n}: {} vs {expected}", means[k]);
            } else {
                // Left to the exact path only where one division cannot say.
                let q = sum / n as f64;
                let midpoint = q.to_bits() & ((1 << 29) - 1) == 1 << 28;
                let in_range = (f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&q.abs());
                assert!(!in_range || midpoint, "sum {sum:e}, n {n} undecided");
            }
        }
        assert!(decided > sums.len() / 2, "n {n}: only {decided} decided");
    }
}

#[test]
fn branch_free_float64_means_of_bounded_sums_agree_with_the_exact_mean() {
    use mean::exact::ExactSum;
    use mean::kernels::Partial;
    use mean::rounding::partial_sums_to_f64_means;
    let mut rng = Rng::new(43);
    for n in [1usize, 2, 3, 5, 8, 16, 100, 1000] {
        let mut rows: Vec<Vec<f64>> = Vec::new();
        // Exact ties (1 + 2^-53 between 1 and its successor; -3 * 2^-53 between two negatives),
        // zeros that cancel, and rows of every magnitude, some cancelling.
        let mut tie = vec![1.0; n];
        tie[0] = 1.0 + f64::EPSILON * n as f64 / 2.0;
        rows.push(tie);
        rows.push((0..n).map(|k| if k % 2 == 0 { 1e300 } else { -1e300 }).collect());
        rows.push(vec![0.0; n]);
        rows.push(vec![f64::MIN_POSITIVE; n]);
        if n >= 3 {
            // The double-double sum is exactly a tie (1 + 2^-53 over a power of two) and the
            // bound says the true sum is a hair above it: rounding the tie to even is wrong.
            let mut above_tie = vec![0.0; n];
            above_tie[..3].copy_from_slice(&[1.0, 2f64.powi(-53), 2f64.powi(-160)]);
            rows.push(above_tie);
        }
        while rows.len() < 600 {
            let scale = 2f64.powi((rng.next_u64() % 1200) as i32 - 600);
            let cancel = rng.next_u64().is_multiple_of(3);
            rows.push(
                (0..n)
                    .map(|k| {
                        let x = rng.normal() * scale;
                        if cancel && k % 2 == 1 { -x * (1.0 + 1e-9) } else { x }
                    })
                    .collect(),
            );
        }
        let partials: Vec<Partial> = rows.iter().map(|r| r.iter().fold(Partial::ZERO, |p, &x| p.add_f64(x))).collect();
        let mut means = vec![0.0; rows.len()];
        let mut undecided = vec![false; rows.len()];
        partial_sums_to_f64_means(&partials, n, &mut means, &mut undecided);
        let mut decided = 0;
        for (k, row) in rows.iter().enumerate() {
            if undecided[k] {
                continue;
            }
            decided += 1;
            let mut exact = ExactSum::new();
            row.iter().for_each(|&x| exact.add(x));
            let expected = if exact.sum_f64() == 0.0 { 0.0 } else { exact.mean_f64() };
            assert_eq!(means[k].to_bits(), expected.to_bits(), "row {k} of {n}: {} vs {expected}", means[k]);
        }
        assert!(decided > rows.len() / 2, "n {n}: only {decided} decided");
    }
}

#[test]
fn exact_double_double_sums_round_ties_to_even_without_the_exact_pass() {
    // A float64 mean of a few values is often an exact tie (about one row in twenty of three
    // normal values). With the sum known exactly as hi + lo (error bound zero), round_mean
    // decides it from the remainder against the midpoints; it must agree with the exact
    // accumulator, ties to even, and never be left unsure.
    use mean::exact::ExactSum;
    use mean::kernels::{DoubleDouble, Partial, two_sum};
    use mean::rounding::{Format, Rounded, partial_sums_to_f64_means, round_mean};
    let mut rng = Rng::new(44);
    // Both round_mean (Ziv's test, then the exact sum's) and the batched branch-free test
    // (the tiny-rows kernels') must decide it.
    let decide = |sum: DoubleDouble, n: usize| {
        let partial = Partial { sum, error: 0.0 };
        let (mut mean, mut undecided) = ([0.0], [true]);
        partial_sums_to_f64_means(&[partial], n, &mut mean, &mut undecided);
        let scalar = round_mean(partial, n, Format::Binary64);
        assert_eq!((scalar, undecided[0]), (Rounded::Certain(mean[0]), false), "{sum:?} / {n}");
        scalar
    };
    // Rows of few-bit normal values (more ties), whose double-double sum is exact.
    let (mut rows, mut ties) = (0, 0);
    for len in [2usize, 3, 5, 7, 16] {
        for _ in 0..4000 {
            let bits = 20 + (rng.next_u64() % 34) as i32;
            let row: Vec<f64> = (0..len)
                .map(|_| {
                    let x = rng.normal() * 2f64.powi((rng.next_u64() % 40) as i32 - 20);
                    let scale = 2f64.powi(bits - x.abs().log2().floor() as i32);
                    (x * scale).round() / scale
                })
                .collect();
            let (mut hi, mut lo, mut exact_low) = (row[0], 0.0, true);
            for &x in &row[1..] {
                let (s, e) = two_sum(hi, x);
                let (l, lost) = two_sum(lo, e);
                (hi, lo, exact_low) = (s, l, exact_low && lost == 0.0);
            }
            if !exact_low || hi == 0.0 {
                continue;
            }
            let mut exact = ExactSum::new();
            row.iter().for_each(|&x| exact.add(x));
            let expected = exact.mean_f64();
            assert_eq!(decide(DoubleDouble { hi, lo }, len), Rounded::Certain(expected), "{row:?}");
            rows += 1;
            // A tie: 2 S = n (mean + neighbour) exactly, for one of the neighbours.
            ties += usize::from([expected.next_up(), expected.next_down()].iter().any(|&other| {
                let mut diff = ExactSum::new();
                row.iter().for_each(|&x| diff.add_f64s(&[x, x]));
                (0..len).for_each(|_| diff.add_f64s(&[-expected, -other]));
                diff.sum_f64() == 0.0
            }));
        }
    }
    assert!(rows > 15_000 && ties > 200, "{rows} rows, {ties} ties");
    // Constructed midpoints n (q + g/2), g the gap on that side (half the other at a power of
    // two), for random q and powers of two: the even one of q and its neighbour.
    for k in 0..3000 {
        let n = 2 + (rng.next_u64() % 40) as usize;
        let q = if k % 3 == 0 { 2f64.powi((rng.next_u64() % 200) as i32 - 100) } else { rng.normal() * 1e5 };
        for neighbour in [q.next_up(), q.next_down()] {
            let nf = n as f64;
            let product = nf * q;
            let error = nf.mul_add(q, -product); // exact
            let half_gap = nf * (neighbour - q) / 2.0; // exact
            let (hi, lo) = two_sum(product, error + half_gap);
            let even = if q.to_bits() & 1 == 0 { q } else { neighbour };
            assert_eq!(
                decide(DoubleDouble { hi, lo }, n),
                Rounded::Certain(even),
                "q {q:e} n {n} toward {neighbour:e}"
            );
        }
    }
}

#[test]
fn tiny_float64_sums_are_tested_scaled_and_possibly_subnormal_means_left_undecided() {
    // Sums below 1e-270 are scaled by 2^600 for the rounding test and the mean scaled back:
    // exact while the mean is normal, so the decided means must equal the exact ones, and
    // those that may be subnormal must stay undecided (both tests: the scalar one of whole
    // arrays and the branch-free one of rows).
    use mean::kernels::Partial;
    use mean::rounding::{Format, Rounded, partial_sums_to_f64_means, round_mean};
    let mut rng = Rng::new(17);
    for exponent in [-900, -1000, -1019, -1021, -1030, -1074] {
        for n in [2usize, 3, 7, 100] {
            let (mut decided, mut subnormal_means) = (0, 0);
            for _ in 0..500 {
                let xs: Vec<f64> = (0..n).map(|_| rng.normal() * 2f64.powi(exponent)).collect();
                let exact = exact_mean_f64(&xs);
                let partial = xs.iter().fold(Partial::ZERO, |p, &x| p.add_f64(x));
                let (mut means, mut undecided) = ([0.0], [false]);
                partial_sums_to_f64_means(&[partial], n, &mut means, &mut undecided);
                let scalar = round_mean(partial, n, Format::Binary64);
                if exact.abs() < f64::MIN_POSITIVE {
                    subnormal_means += 1;
                    assert!(undecided[0] || means[0] == exact, "{xs:?}");
                    assert!(!matches!(scalar, Rounded::Certain(m) if m != exact), "{xs:?}");
                    continue;
                }
                if !undecided[0] {
                    decided += 1;
                    assert_eq!(means[0].to_bits(), exact.to_bits(), "{xs:?}");
                }
                if let Rounded::Certain(m) = scalar {
                    assert_eq!(m.to_bits(), exact.to_bits(), "{xs:?}");
                }
                assert_eq!(mean_f64(&xs).to_bits(), exact.to_bits(), "{xs:?}");
            }
            if exponent >= -1000 {
                // Normal means far from the subnormal range: nearly all decided without ExactSum.
                assert!(decided > 450, "2^{exponent} n={n}: {decided} of 500 decided");
            }
            if exponent <= -1030 {
                assert!(subnormal_means > 0, "2^{exponent} n={n}");
            }
        }
    }
}
