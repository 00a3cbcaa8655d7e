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
    use mean::ffi::{MeanArray, MeanCall, mean_reduce, mean_reduce_call};
    use std::ptr;

    pub(super) const FLOAT64: i32 = 12;
    pub(super) const BOOL: i32 = 1;

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
    /// the output was left untouched. `mean_reduce_call` with the same arguments must give the
    /// same status and output.
    fn run(input: &MeanArray, mask: Option<&MeanArray>, axes: &[i32], out_code: i32) -> (i32, bool) {
        let (shape, strides) = ([3i64], [8i64]);
        let mask = mask.map_or(ptr::null(), |m| m as *const MeanArray);
        let mut results = Vec::new();
        for through_call in [false, true] {
            let mut out = [7.0f64; 3];
            let output = MeanArray { type_code: out_code, ..view(&out, 0, &shape, &strides) };
            let output = MeanArray { memory: out.as_mut_ptr().cast(), ..output };
            let naxes = axes.len() as i32;
            let call = MeanCall {
                operation: 0,
                naxes,
                input,
                where_: mask,
                output: &output,
                axes: axes.as_ptr(),
                initial: ptr::null(),
                threads: 0,
            };
            // SAFETY: every descriptor describes live memory of the stated length.
            let status = unsafe {
                if through_call {
                    mean_reduce_call(&call)
                } else {
                    mean_reduce(0, input, mask, &output, axes.as_ptr(), naxes, ptr::null(), 0)
                }
            };
            results.push((status, out));
        }
        assert_eq!(results[0].0, results[1].0, "mean_reduce_call's status");
        assert_eq!(results[0].1.map(f64::to_bits), results[1].1.map(f64::to_bits), "mean_reduce_call's output");
        (results[0].0, results[0].1 == [7.0; 3])
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
            (
                "null memory",
                MeanArray { memory: ptr::null_mut(), ..view(&data, 0, &shape, &strides) },
                vec![0],
                FLOAT64,
                -1,
            ),
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
        assert_eq!(
            unsafe { mean_reduce(0, ptr::null(), ptr::null(), ptr::null(), ptr::null(), 0, ptr::null(), 0) },
            -1
        );
        // SAFETY: a NULL call is refused before anything is read.
        assert_eq!(unsafe { mean_reduce_call(ptr::null()) }, -1);
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
        let status = unsafe {
            mean_reduce(0, &view(&data, 0, &shape, &strides), ptr::null(), &output, [0].as_ptr(), 1, ptr::null(), 0)
        };
        assert_eq!((status, out), (0, [1.0, 1.5, 0.0]));
    }

    /// A 1-d descriptor of `values` (any plain element type) with the engine's `type_code`.
    pub(super) fn vector<T>(values: &[T], type_code: i32, shape: &[i64; 1], strides: &[i64; 1]) -> MeanArray {
        MeanArray {
            memory: values.as_ptr().cast_mut().cast(),
            len: size_of_val(values),
            offset: 0,
            type_code,
            swapped: 0,
            ndim: 1,
            shape: shape.as_ptr(),
            strides: strides.as_ptr(),
        }
    }

    /// `operation` over axis 0 of `input` into a 0-d output of `out_code` holding T.
    fn reduce_all<T: Copy + Default>(
        operation: i32,
        input: &MeanArray,
        out_code: i32,
        initial: Option<&MeanArray>,
    ) -> (i32, T) {
        let mut out = [T::default()];
        let output = MeanArray {
            memory: out.as_mut_ptr().cast(),
            len: size_of::<T>(),
            offset: 0,
            type_code: out_code,
            swapped: 0,
            ndim: 0,
            shape: ptr::null(),
            strides: ptr::null(),
        };
        let initial = initial.map_or(ptr::null(), |i| i as *const MeanArray);
        // SAFETY: live descriptors of the stated lengths; the output is a separate local.
        let status = unsafe { mean_reduce(operation, input, ptr::null(), &output, [0].as_ptr(), 1, initial, 0) };
        (status, out[0])
    }

    pub(super) const MEAN: i32 = 0;
    pub(super) const NANMEAN: i32 = 1;
    pub(super) const SUM: i32 = 2;
    pub(super) const NANSUM: i32 = 3;
    pub(super) const INT8: i32 = 2;
    pub(super) const INT64: i32 = 8;
    pub(super) const UINT64: i32 = 9;

    #[test]
    fn each_operation_gives_its_exact_result_rounded_once() {
        let big = 2f64.powi(60);
        let data = [1.0, f64::NAN, big, 2.0, -big];
        let (shape, strides) = ([5i64], [8i64]);
        let input = vector(&data, FLOAT64, &shape, &strides);
        let result = |op| reduce_all::<f64>(op, &input, FLOAT64, None);
        assert!(result(MEAN).1.is_nan() && result(SUM).1.is_nan());
        assert_eq!(result(NANMEAN), (0, 0.75)); // (1 + 2) / 4 values that are not NaN
        assert_eq!(result(NANSUM), (0, 3.0));
        let nans = [f64::NAN; 3];
        let only_nans = vector(&nans, FLOAT64, &[3], &[8]);
        assert!(reduce_all::<f64>(NANMEAN, &only_nans, FLOAT64, None).1.is_nan());
        assert_eq!(reduce_all::<f64>(NANSUM, &only_nans, FLOAT64, None), (0, 0.0));
        // A sum of nothing is zero (or the initial value); a mean of nothing is NaN.
        let empty = vector(&data[..0], FLOAT64, &[0], &[8]);
        assert_eq!(reduce_all::<f64>(SUM, &empty, FLOAT64, None), (0, 0.0));
        assert!(reduce_all::<f64>(MEAN, &empty, FLOAT64, None).1.is_nan());
        // float32 sums round once: 2^24 + 1 + 1 is exactly 2^24 + 2 (float32 adds give 2^24).
        let narrow = [16777216.0f32, 1.0, 1.0];
        let input32 = vector(&narrow, 11, &[3], &[4]);
        assert_eq!(reduce_all::<f32>(SUM, &input32, 11, None), (0, 16777218.0));
        // ... and beyond float32's range, to infinity (the exact sum, not an overflow of adds).
        let huge = [3e38f32, 3e38, -3e38];
        assert_eq!(reduce_all::<f32>(SUM, &vector(&huge, 11, &[3], &[4]), 11, None), (0, 3e38));
        assert_eq!(reduce_all::<f32>(SUM, &vector(&huge[..2], 11, &[2], &[4]), 11, None), (0, f32::INFINITY));
    }

    #[test]
    fn integer_sums_are_exact_or_refused_as_overflow() {
        let values = [i64::MAX, 1, -1];
        let input = vector(&values, INT64, &[3], &[8]);
        assert_eq!(reduce_all::<i64>(SUM, &input, INT64, None), (0, i64::MAX));
        let past = vector(&values[..2], INT64, &[2], &[8]);
        assert_eq!(reduce_all::<i64>(SUM, &past, INT64, None).0, -12);
        assert_eq!(reduce_all::<f64>(SUM, &past, FLOAT64, None), (0, 2f64.powi(63)));
        assert_eq!(
            reduce_all::<u64>(NANSUM, &vector(&values[..1], INT64, &[1], &[8]), UINT64, None),
            (0, i64::MAX as u64)
        );
        let small = [100i8, 27, -128];
        assert_eq!(reduce_all::<i8>(SUM, &vector(&small, INT8, &[3], &[1]), INT8, None), (0, -1));
        assert_eq!(reduce_all::<i8>(SUM, &vector(&small[..2], INT8, &[2], &[1]), INT8, None), (0, 127));
        assert_eq!(
            reduce_all::<i8>(
                SUM,
                &vector(&small[..1], INT8, &[1], &[1]),
                INT8,
                Some(&vector(&[28i8], INT8, &[1], &[1]))
            )
            .0,
            -12
        );
        // Integer outputs are for sums of integers only, and bool is not one.
        assert_eq!(reduce_all::<i64>(MEAN, &input, INT64, None).0, -6);
        assert_eq!(reduce_all::<u8>(SUM, &input, 1, None).0, -6);
        let floats = [1.0f64];
        assert_eq!(reduce_all::<i64>(SUM, &vector(&floats, FLOAT64, &[1], &[8]), INT64, None).0, -6);
    }

    #[test]
    fn a_sums_initial_value_is_added_once_and_checked() {
        let data = [1.0f64, 2.0, 2f64.powi(-60)];
        let input = vector(&data, FLOAT64, &[3], &[8]);
        let start = [2f64.powi(60)];
        let initial = vector(&start, FLOAT64, &[1], &[8]);
        // 2^60 + 3 + 2^-60 rounds once, to 2^60 (the exact sum is 3 + tiny above it).
        assert_eq!(reduce_all::<f64>(SUM, &input, FLOAT64, Some(&initial)), (0, 2f64.powi(60)));
        let minus = [-3.0f64];
        let cancel = vector(&minus, FLOAT64, &[1], &[8]);
        assert_eq!(reduce_all::<f64>(SUM, &input, FLOAT64, Some(&cancel)), (0, 2f64.powi(-60)));
        // The initial value must be one element of the output's type, and only sums take one.
        let start32 = [1.0f32];
        assert_eq!(reduce_all::<f64>(SUM, &input, FLOAT64, Some(&vector(&start32, 11, &[1], &[4]))).0, -6);
        assert_eq!(reduce_all::<f64>(SUM, &input, FLOAT64, Some(&vector(&data, FLOAT64, &[2], &[8]))).0, -3);
        assert_eq!(reduce_all::<f64>(MEAN, &input, FLOAT64, Some(&initial)).0, -10);
    }
}

/// The exact partial states: `mean_reduce_states`, `mean_states_merge`, `mean_states_finish`.
mod states {
    use super::reduce::{FLOAT64, INT64, MEAN, NANMEAN, SUM, vector};
    use mean::ffi::{MeanArray, mean_reduce_states, mean_states_finish, mean_states_merge};
    use std::ptr;

    const STATE: usize = 596;

    /// The state of `operation` over all of `values` (float64), and the call's status.
    fn state_of(operation: i32, values: &[f64]) -> (i32, Vec<u8>) {
        let shape = [values.len() as i64];
        let input = vector(values, FLOAT64, &shape, &[8]);
        let mut state = vec![0u8; STATE];
        // SAFETY: a live descriptor of `values`; `state` is STATE writable bytes of its own.
        let status = unsafe {
            mean_reduce_states(operation, &input, ptr::null(), [0].as_ptr(), 1, state.as_mut_ptr(), STATE, 0)
        };
        (status, state)
    }

    /// `mean_states_finish` of `states` into as many T of `out_code`.
    fn finish<T: Copy + Default>(operation: i32, states: &[u8], out_code: i32) -> (i32, Vec<T>) {
        let count = states.len() / STATE;
        let mut out = vec![T::default(); count];
        let shape = [count as i64];
        let strides = [size_of::<T>() as i64];
        let output = MeanArray { memory: out.as_mut_ptr().cast(), ..vector(&out, out_code, &shape, &strides) };
        // SAFETY: `states` holds `count` states; the output is a separate buffer of `count` T.
        let status = unsafe { mean_states_finish(operation, states.as_ptr(), count, &output) };
        (status, out)
    }

    #[test]
    fn states_of_parts_merge_and_finish_to_the_whole_arrays_result() {
        let big = 2f64.powi(80);
        let values = [big, 1.0, 0.25, -big, 3.0, f64::NAN, 7.5];
        for operation in [MEAN, NANMEAN, SUM] {
            let (status, whole) = state_of(operation, &values);
            assert_eq!(status, 0);
            let mut merged = state_of(operation, &values[..3]).1;
            let rest = state_of(operation, &values[3..]).1;
            // SAFETY: both buffers hold one state.
            assert_eq!(unsafe { mean_states_merge(merged.as_mut_ptr(), rest.as_ptr(), 1) }, 0);
            let expected = finish::<f64>(operation, &whole, FLOAT64);
            let got = finish::<f64>(operation, &merged, FLOAT64);
            assert_eq!(expected.0, 0);
            assert_eq!(got.1[0].to_bits(), expected.1[0].to_bits(), "operation {operation}");
        }
        // nanmean: the exact sum 11.75 over the 6 values that are not NaN (one division: rounded once).
        let (_, state) = state_of(NANMEAN, &values);
        assert_eq!(finish::<f64>(NANMEAN, &state, FLOAT64), (0, vec![11.75 / 6.0]));
    }

    #[test]
    fn a_state_merged_into_itself_doubles() {
        let (_, mut state) = state_of(SUM, &[1.5, 2.0]);
        // SAFETY: `into == from` is allowed (no other reference to the buffer is live).
        assert_eq!(unsafe { mean_states_merge(state.as_mut_ptr(), state.as_ptr(), 1) }, 0);
        assert_eq!(finish::<f64>(SUM, &state, FLOAT64), (0, vec![7.0]));
        assert_eq!(finish::<f64>(MEAN, &state, FLOAT64), (0, vec![1.75]));
    }

    #[test]
    fn corrupt_states_are_refused_and_nothing_after_them_merged() {
        let (_, good) = state_of(SUM, &[1.0, 2.0]);
        for byte in [0, 8, 12, 20, 100, STATE - 1] {
            let mut bad = good.clone();
            bad[byte] ^= 0x10;
            assert_eq!(finish::<f64>(SUM, &bad, FLOAT64).0, -13, "byte {byte}");
            let mut into = [good.clone(), good.clone()].concat();
            let from = [good.clone(), bad.clone()].concat();
            // SAFETY: both buffers hold two states.
            assert_eq!(unsafe { mean_states_merge(into.as_mut_ptr(), from.as_ptr(), 2) }, -13);
            assert_eq!(finish::<f64>(SUM, &into[..STATE], FLOAT64), (0, vec![6.0])); // merged
            assert_eq!(&into[STATE..], &good[..]); // not touched
        }
    }

    #[test]
    fn bad_arguments_get_their_status() {
        let values = [1.0f64, 2.0];
        let input = vector(&values, FLOAT64, &[2], &[8]);
        let mut state = vec![0u8; 2 * STATE];
        let axes = [0];
        // SAFETY: each call is given live descriptors, or NULL/short lengths that must be refused
        // before anything is read or written.
        unsafe {
            // `len` not exactly one state per output element.
            assert_eq!(
                mean_reduce_states(MEAN, &input, ptr::null(), axes.as_ptr(), 1, state.as_mut_ptr(), STATE - 1, 0),
                -8
            );
            assert_eq!(
                mean_reduce_states(MEAN, &input, ptr::null(), axes.as_ptr(), 1, state.as_mut_ptr(), 2 * STATE, 0),
                -8
            );
            assert_eq!(mean_reduce_states(MEAN, &input, ptr::null(), axes.as_ptr(), 1, ptr::null_mut(), STATE, 0), -1);
            assert_eq!(
                mean_reduce_states(MEAN, ptr::null(), ptr::null(), axes.as_ptr(), 1, state.as_mut_ptr(), STATE, 0),
                -1
            );
            assert_eq!(mean_reduce_states(9, &input, ptr::null(), axes.as_ptr(), 1, state.as_mut_ptr(), STATE, 0), -10);
            assert_eq!(
                mean_reduce_states(MEAN, &input, ptr::null(), [1].as_ptr(), 1, state.as_mut_ptr(), STATE, 0),
                -7
            );
            // States written over the input are refused.
            let mut overlapping = vec![0u8; STATE];
            let over = MeanArray { memory: overlapping.as_mut_ptr().cast(), len: 16, ..input };
            assert_eq!(
                mean_reduce_states(MEAN, &over, ptr::null(), axes.as_ptr(), 1, overlapping.as_mut_ptr(), STATE, 0),
                -9
            );
            assert_eq!(mean_states_merge(ptr::null_mut(), state.as_ptr(), 1), -1);
            assert_eq!(mean_states_merge(state.as_mut_ptr(), state.as_ptr(), 0), 0); // nothing to do
        }
        // A mean of no values is NaN; a sum 0.
        let (status, empty) = state_of(MEAN, &[]);
        assert_eq!(status, 0);
        assert!(finish::<f64>(MEAN, &empty, FLOAT64).1[0].is_nan());
        assert_eq!(finish::<f64>(SUM, &empty, FLOAT64), (0, vec![0.0]));
    }

    #[test]
    fn integer_finishes_are_exact_or_refused() {
        let (_, state) = state_of(SUM, &[2f64.powi(62), 2f64.powi(62), -1.0]);
        assert_eq!(finish::<i64>(SUM, &state, INT64), (0, vec![i64::MAX]));
        let (_, over) = state_of(SUM, &[2f64.powi(62), 2f64.powi(62)]);
        assert_eq!(finish::<i64>(SUM, &over, INT64).0, -12);
        let (_, half) = state_of(SUM, &[0.5]);
        assert_eq!(finish::<i64>(SUM, &half, INT64).0, -6); // not an integer
        assert_eq!(finish::<i64>(MEAN, &state, INT64).0, -6); // a mean has no integer result
    }
}
