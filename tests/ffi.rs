//! The exported `extern "C"` functions themselves: the C ABI contract of the README.

mod common;

use common::*;
use mean::ffi::{compute_mean, mean_f32, mean_f32_indirect, mean_f64, mean_f64_indirect};
use std::ptr;

#[test]
fn null_pointers_give_nan() {
    // SAFETY: NULL is allowed by the contract and must not be read.
    unsafe {
        assert!(compute_mean(ptr::null(), 10).is_nan());
        assert!(mean_f32(ptr::null(), 10).is_nan());
        assert!(mean_f64(ptr::null(), 10).is_nan());
        // The indirect forms: NULL in place of the field, and a field that holds NULL.
        assert!(mean_f32_indirect(ptr::null(), 10).is_nan());
        assert!(mean_f64_indirect(ptr::null(), 10).is_nan());
        let null_f32: *const f32 = ptr::null();
        let null_f64: *const f64 = ptr::null();
        assert!(mean_f32_indirect(&null_f32, 10).is_nan());
        assert!(mean_f64_indirect(&null_f64, 10).is_nan());
    }
}

#[test]
fn non_positive_lengths_give_nan() {
    let xs = [1.0f32, 2.0];
    let ys = [1.0f64, 2.0];
    // SAFETY: the pointers are valid for two elements; lengths 0 and below read nothing.
    unsafe {
        assert!(compute_mean(xs.as_ptr(), 0).is_nan());
        assert!(compute_mean(xs.as_ptr(), -1).is_nan());
        assert!(compute_mean(xs.as_ptr(), i32::MIN).is_nan());
        assert!(mean_f32(xs.as_ptr(), 0).is_nan());
        assert!(mean_f64(ys.as_ptr(), 0).is_nan());
        // Lengths no allocation can have are refused before anything is read.
        assert!(mean_f32(xs.as_ptr(), usize::MAX).is_nan());
        assert!(mean_f64(ys.as_ptr(), usize::MAX / 4).is_nan());
    }
}

#[test]
fn misaligned_pointers_give_nan() {
    let bytes = [0u8; 64];
    let base = bytes.as_ptr();
    let offset = (4 - base as usize % 4) % 4 + 1; // a pointer 1 past a 4-byte boundary
    // SAFETY: the pointers are inside `bytes` and are misaligned, so nothing is read.
    unsafe {
        assert!(compute_mean(base.add(offset).cast(), 4).is_nan());
        assert!(mean_f32(base.add(offset).cast(), 4).is_nan());
        assert!(mean_f64(base.add(offset).cast(), 4).is_nan());
        // A misaligned field is not read; a field holding a misaligned pointer gives NaN too.
        assert!(mean_f64_indirect(base.add(offset).cast(), 4).is_nan());
        let misaligned: *const f64 = base.add(offset).cast();
        assert!(mean_f64_indirect(&misaligned, 4).is_nan());
    }
}

#[test]
fn entry_points_agree_with_the_safe_api() {
    for n in [1usize, 2, 3, 17, 1000, 100_003] {
        let xs = data_f32("normal", n, 3);
        let ys = data_f64("wide", n, 3);
        // SAFETY: the pointers come from live vectors of length n.
        unsafe {
            assert_eq!(compute_mean(xs.as_ptr(), n as i32).to_bits(), mean::mean_f32(&xs).to_bits());
            assert_eq!(mean_f32(xs.as_ptr(), n).to_bits(), mean::mean_f32(&xs).to_bits());
            assert_eq!(mean_f64(ys.as_ptr(), n).to_bits(), mean::mean_f64(&ys).to_bits());
            assert_eq!(mean_f32(xs.as_ptr(), n), mean::exact_mean_f32(&xs));
            assert_eq!(mean_f64(ys.as_ptr(), n), mean::exact_mean_f64(&ys));
            // The indirect forms read the data pointer from a field holding it.
            let (xs_field, ys_field) = (xs.as_ptr(), ys.as_ptr());
            assert_eq!(mean_f32_indirect(&xs_field, n).to_bits(), mean::mean_f32(&xs).to_bits());
            assert_eq!(mean_f64_indirect(&ys_field, n).to_bits(), mean::mean_f64(&ys).to_bits());
            assert!(mean_f64_indirect(&ys_field, 0).is_nan());
        }
    }
}

#[test]
fn special_values_through_the_abi() {
    let xs = [3e38f32, 3e38];
    let inf = [f64::INFINITY, -f64::MAX, -f64::MAX];
    let both = [f32::INFINITY, f32::NEG_INFINITY];
    // SAFETY: pointers and lengths come from the arrays above.
    unsafe {
        assert_eq!(compute_mean(xs.as_ptr(), 2), 3e38);
        assert_eq!(mean_f64(inf.as_ptr(), 3), f64::INFINITY);
        assert!(mean_f32(both.as_ptr(), 2).is_nan());
    }
}

#[test]
fn concurrent_calls_agree() {
    let xs = data_f32("offset", 1 << 20, 11);
    let expected = mean::mean_f32(&xs);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    // SAFETY: `xs` outlives the scope and is only read.
                    let got = unsafe { mean_f32(xs.as_ptr(), xs.len()) };
                    assert_eq!(got.to_bits(), expected.to_bits());
                }
            });
        }
    });
}

mod reduce {
    use mean::ffi::{MeanArray, mean_reduce};
    use std::ptr;

    const FLOAT64: i32 = 12;
    const BOOL: i32 = 1;

    fn view(memory: &[f64], offset: usize, shape: &[i64], strides: &[i64]) -> MeanArray {
        MeanArray {
            memory: memory.as_ptr().cast_mut().cast(),
            len: size_of_val(memory),
            offset,
            type_code: FLOAT64,
            swapped: 0,
            ndim: shape.len() as i32,
            shape: shape.as_ptr(),
            strides: strides.as_ptr(),
        }
    }

    /// Runs `mean_reduce` over axis 0 into a 3-element output; returns the status and whether
    /// the output was left untouched.
    fn run(input: &MeanArray, mask: Option<&MeanArray>, axes: &[i32], out_code: i32) -> (i32, bool) {
        let mut out = [7.0f64; 3];
        let (shape, strides) = ([3i64], [8i64]);
        let output = MeanArray { type_code: out_code, ..view(&out, 0, &shape, &strides) };
        let output = MeanArray { memory: out.as_mut_ptr().cast(), ..output };
        let mask = mask.map_or(ptr::null(), |m| m as *const MeanArray);
        // SAFETY: every descriptor describes live memory of the stated length.
        let status = unsafe { mean_reduce(0, input, mask, &output, axes.as_ptr(), axes.len() as i32, ptr::null(), 0) };
        (status, out == [7.0; 3])
    }

    #[test]
    fn each_bad_descriptor_gets_its_status_and_nothing_is_written() {
        let data: Vec<f64> = (0..6).map(f64::from).collect(); // a 2 x 3 C array
        let (shape, strides) = ([2i64, 3], [24i64, 8]);
        let good = view(&data, 0, &shape, &strides);
        assert_eq!(run(&good, None, &[0], FLOAT64), (0, false));

        let bad_shape = [-1i64, 3];
        let beyond = [24i64, 16];
        let odd = [24i64, 4];
        let cases: Vec<(&str, MeanArray, Vec<i32>, i32, i32)> = vec![
            ("null memory", MeanArray { memory: ptr::null_mut(), ..view(&data, 0, &shape, &strides) }, vec![0], FLOAT64, -1),
            ("null shape", MeanArray { shape: ptr::null(), ..view(&data, 0, &shape, &strides) }, vec![0], FLOAT64, -1),
            ("ndim 33", MeanArray { ndim: 33, ..view(&data, 0, &shape, &strides) }, vec![0], FLOAT64, -2),
            ("ndim -1", MeanArray { ndim: -1, ..view(&data, 0, &shape, &strides) }, vec![0], FLOAT64, -2),
            ("negative length", view(&data, 0, &bad_shape, &strides), vec![0], FLOAT64, -3),
            ("past the memory", view(&data, 0, &shape, &beyond), vec![0], FLOAT64, -4),
            ("offset past the memory", view(&data, 8, &shape, &strides), vec![0], FLOAT64, -4),
            ("misaligned stride", view(&data, 0, &shape, &odd), vec![0], FLOAT64, -5),
            ("unknown type", MeanArray { type_code: 99, ..view(&data, 0, &shape, &strides) }, vec![0], FLOAT64, -6),
            ("integer output", view(&data, 0, &shape, &strides), vec![0], 8, -6),
            ("axis out of range", view(&data, 0, &shape, &strides), vec![2], FLOAT64, -7),
            ("axis repeated", view(&data, 0, &shape, &strides), vec![0, 0], FLOAT64, -7),
            ("axis negative", view(&data, 0, &shape, &strides), vec![-1], FLOAT64, -7),
            ("output of the wrong shape", view(&data, 0, &shape, &strides), vec![1], FLOAT64, -8),
        ];
        for (name, input, axes, out_code, status) in cases {
            assert_eq!(run(&input, None, &axes, out_code), (status, true), "{name}");
        }
        // SAFETY: NULL descriptors are refused before anything is read.
        assert_eq!(unsafe { mean_reduce(0, ptr::null(), ptr::null(), ptr::null(), ptr::null(), 0, ptr::null(), 0) }, -1);
        let mut out = [0.0f64; 3];
        let output = MeanArray { memory: out.as_mut_ptr().cast(), ..view(&out, 0, &[3], &[8]) };
        // SAFETY: live descriptors; the operation code is refused before any read.
        assert_eq!(unsafe { mean_reduce(5, &good, ptr::null(), &output, [0].as_ptr(), 1, ptr::null(), 0) }, -10);
        // An output inside the input's memory.
        let inside = MeanArray { memory: data.as_ptr().cast_mut().cast(), len: 24, ..output };
        // SAFETY: as above; the overlap is refused before anything is written.
        assert_eq!(unsafe { mean_reduce(0, &good, ptr::null(), &inside, [0].as_ptr(), 1, ptr::null(), 0) }, -9);
        // A mask that is not bool, and one of another shape.
        let not_bool = view(&data, 0, &shape, &strides);
        assert_eq!(run(&good, Some(&not_bool), &[0], FLOAT64), (-11, true));
        let flags = [1u8; 6];
        let short = [3i64];
        let mask = MeanArray {
            memory: flags.as_ptr().cast_mut().cast(),
            len: 6,
            offset: 0,
            type_code: BOOL,
            swapped: 0,
            ndim: 1,
            shape: short.as_ptr(),
            strides: [1i64].as_ptr(),
        };
        assert_eq!(run(&good, Some(&mask), &[0], FLOAT64), (-11, true));
    }

    #[test]
    fn a_good_call_gives_each_column_its_correctly_rounded_mean() {
        let data = [1.0, 2.0, 2f64.powi(60), 1.0, 1.0, -2f64.powi(60)];
        let (shape, strides) = ([2i64, 3], [24i64, 8]);
        let mut out = [0.0f64; 3];
        let output = MeanArray { memory: out.as_mut_ptr().cast(), ..view(&out, 0, &[3], &[8]) };
        // SAFETY: live descriptors of the stated lengths.
        let status = unsafe { mean_reduce(0, &view(&data, 0, &shape, &strides), ptr::null(), &output, [0].as_ptr(), 1, ptr::null(), 0) };
        assert_eq!((status, out), (0, [1.0, 1.5, 0.0]));
    }
}
