//! The exact, mergeable accumulator through its C ABI: chunks, merges and byte round trips give
//! the correctly rounded mean of the whole; bad arguments are refused.

mod common;

use common::*;
use mean::ffi::*;
use std::ptr;

#[test]
fn chunks_merges_and_bytes_equal_the_whole() {
    let values = data_f64("wide", 10_007, 5);
    let floats = data_f32("normal", 3_001, 6);
    let mut whole = mean::exact::ExactSum::new();
    whole.add_f64s(&values);
    whole.add_f32s(&floats);
    // SAFETY: every handle is created here, used on this thread, and freed once; the pointers
    // and lengths come from live vectors.
    unsafe {
        let a = mean_acc_new();
        let b = mean_acc_new();
        let (first, rest) = values.split_at(4_000);
        assert_eq!(mean_acc_add_f64(a, first.as_ptr(), first.len()), 0);
        assert_eq!(mean_acc_add_f64(b, rest.as_ptr(), rest.len()), 0);
        assert_eq!(mean_acc_add_f32(b, floats.as_ptr(), floats.len()), 0);
        assert_eq!(mean_acc_merge(a, b), 0);
        assert_eq!(mean_acc_count(a), (values.len() + floats.len()) as u64);
        assert_eq!(mean_acc_mean_f64(a), whole.mean_f64());
        assert_eq!(mean_acc_mean_f32(a), whole.mean_f32());

        let mut bytes = vec![0u8; mean_acc_serialized_size()];
        assert_eq!(mean_acc_serialize(a, bytes.as_mut_ptr(), bytes.len()), 0);
        let c = mean_acc_deserialize(bytes.as_ptr(), bytes.len());
        assert!(!c.is_null());
        assert_eq!(mean_acc_mean_f64(c), whole.mean_f64());
        assert_eq!(mean_acc_count(c), mean_acc_count(a));

        // Merging a handle into itself doubles it: same mean, twice the count.
        assert_eq!(mean_acc_merge(c, c), 0);
        assert_eq!(mean_acc_count(c), 2 * mean_acc_count(a));
        assert_eq!(mean_acc_mean_f64(c), whole.mean_f64());
        for acc in [a, b, c] {
            mean_acc_free(acc);
        }
    }
}

#[test]
fn correctly_rounded_f32_mean_from_the_accumulator() {
    // A tie in binary32: the mean of 1 and 1 + 2^-23 is 1 + 2^-24, which goes to even (1.0).
    let xs = [1.0f32, f32::from_bits(1.0f32.to_bits() + 1)];
    // SAFETY: as above.
    unsafe {
        let acc = mean_acc_new();
        mean_acc_add_f32(acc, xs.as_ptr(), 2);
        assert_eq!(mean_acc_mean_f32(acc), 1.0);
        mean_acc_free(acc);
    }
}

#[test]
fn bad_arguments_are_refused() {
    let xs = [1.0f64, 2.0];
    let bytes = [0u8; 64];
    // SAFETY: NULL handles and pointers are allowed by the contract and never dereferenced.
    unsafe {
        mean_acc_free(ptr::null_mut());
        assert_eq!(mean_acc_add_f64(ptr::null_mut(), xs.as_ptr(), 2), -1);
        assert_eq!(mean_acc_merge(ptr::null_mut(), ptr::null()), -1);
        assert_eq!(mean_acc_count(ptr::null()), 0);
        assert!(mean_acc_mean_f64(ptr::null()).is_nan());
        assert!(mean_acc_mean_f32(ptr::null()).is_nan());
        assert!(mean_acc_deserialize(ptr::null(), 10).is_null());
        assert!(mean_acc_deserialize(bytes.as_ptr(), bytes.len()).is_null());
        let acc = mean_acc_new();
        assert!(mean_acc_mean_f64(acc).is_nan()); // no values
        assert_eq!(mean_acc_add_f64(acc, ptr::null(), 5), -1);
        assert_eq!(mean_acc_add_f64(acc, ptr::null(), 0), 0); // nothing to add
        let misaligned = bytes.as_ptr().wrapping_add(1).cast::<f64>();
        assert_eq!(mean_acc_add_f64(acc, misaligned, 2), -1);
        assert_eq!(mean_acc_count(acc), 0);
        let mut small = [0u8; 16];
        assert_eq!(mean_acc_serialize(acc, small.as_mut_ptr(), small.len()), -1);
        assert_eq!(mean_acc_merge(acc, ptr::null()), -1);
        mean_acc_free(acc);
    }
}
