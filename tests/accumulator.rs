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

#[test]
fn the_count_limit_is_an_error_never_a_wrong_mean() {
    // SAFETY: every handle is created here, used on this thread, and freed once; the pointers
    // and lengths come from live arrays.
    unsafe {
        // Self-merges double the count: 2^0 ... 2^63 are fine, the 64th doubling is refused.
        let one = [1e300f64];
        let doubled = mean_acc_new();
        assert_eq!(mean_acc_add_f64(doubled, one.as_ptr(), 1), 0);
        for doubling in 1..64 {
            assert_eq!(mean_acc_merge(doubled, doubled), 0, "doubling {doubling}");
            assert_eq!(mean_acc_mean_f64(doubled), 1e300);
        }
        assert_eq!(mean_acc_count(doubled), 1 << 63);
        assert_eq!(mean_acc_merge(doubled, doubled), -1);
        assert_eq!(mean_acc_count(doubled), 1 << 63, "a refused merge changes nothing");
        assert_eq!(mean_acc_mean_f64(doubled), 1e300);

        // 2^0 + 2^1 + ... + 2^63 = 2^64 - 1 values of 2.0: the limit itself is fine.
        let two = [2.0f64];
        let powers = mean_acc_new();
        let full = mean_acc_new();
        assert_eq!(mean_acc_add_f64(powers, two.as_ptr(), 1), 0);
        for _ in 0..64 {
            assert_eq!(mean_acc_merge(full, powers), 0);
            let expected = if mean_acc_count(powers) < 1 << 63 { 0 } else { -1 };
            assert_eq!(mean_acc_merge(powers, powers), expected);
        }
        assert_eq!(mean_acc_count(full), u64::MAX);
        assert_eq!(mean_acc_mean_f64(full), 2.0);
        // One value more, by add or by merge, is refused, and nothing changes.
        assert_eq!(mean_acc_add_f64(full, two.as_ptr(), 1), -1);
        assert_eq!(mean_acc_add_f32(full, [1.0f32].as_ptr(), 1), -1);
        assert_eq!(mean_acc_merge(full, powers), -1);
        assert_eq!(mean_acc_count(full), u64::MAX);
        assert_eq!(mean_acc_mean_f64(full), 2.0);
        // Adding nothing is still fine.
        assert_eq!(mean_acc_add_f64(full, two.as_ptr(), 0), 0);
        // The full state survives its bytes.
        let mut bytes = vec![0u8; mean_acc_serialized_size()];
        assert_eq!(mean_acc_serialize(full, bytes.as_mut_ptr(), bytes.len()), 0);
        let back = mean_acc_deserialize(bytes.as_ptr(), bytes.len());
        assert_eq!(mean_acc_count(back), u64::MAX);
        assert_eq!(mean_acc_mean_f64(back), 2.0);
        for handle in [doubled, powers, full, back] {
            mean_acc_free(handle);
        }
    }
}
