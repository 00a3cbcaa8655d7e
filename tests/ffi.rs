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
