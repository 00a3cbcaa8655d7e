//! The accumulator's deserialization on arbitrary bytes, and on valid states with bytes
//! changed: it never crashes, refuses what is not a state, and an accepted state writes back
//! exactly the bytes it was read from, and merges and means without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mean::ffi;

fuzz_target!(|data: &[u8]| {
    check(data);
    // Mutations of a real state: the first bytes of the input pick values to add and bytes to
    // change, so that the checks past the checksum are reached too.
    let Some((&count, rest)) = data.split_first() else { return };
    let values: Vec<f64> = rest.chunks_exact(8).take(usize::from(count % 8)).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    let edits = &rest[8 * values.len()..];
    // SAFETY: handles are created, used and freed here; pointers come from live vectors.
    unsafe {
        let acc = ffi::mean_acc_new();
        assert_eq!(ffi::mean_acc_add_f64(acc, values.as_ptr(), values.len()), 0);
        let mut bytes = vec![0u8; ffi::mean_acc_serialized_size()];
        assert_eq!(ffi::mean_acc_serialize(acc, bytes.as_mut_ptr(), bytes.len()), 0);
        ffi::mean_acc_free(acc);
        let original = bytes.clone();
        for edit in edits.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
            bytes[at] ^= edit[2];
        }
        let accepted = check(&bytes);
        if bytes != original {
            // One to three bytes changed in a row are within CRC-32's guarantee: refused. (More
            // scattered changes are refused with probability 1 - 2^-32; not asserted.)
            let changed: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != original[i]).collect();
            if changed.last().unwrap() - changed[0] < 4 {
                assert!(!accepted, "a burst of changes within 32 bits was accepted");
            }
        } else {
            assert!(accepted);
        }
    }
});

/// Deserializes `bytes`; if accepted, checks the round trip and exercises the handle.
fn check(bytes: &[u8]) -> bool {
    // SAFETY: `bytes` is live for the call; handles are freed once.
    unsafe {
        let acc = ffi::mean_acc_deserialize(bytes.as_ptr(), bytes.len());
        if acc.is_null() {
            return false;
        }
        let mut back = vec![0u8; ffi::mean_acc_serialized_size()];
        assert_eq!(ffi::mean_acc_serialize(acc, back.as_mut_ptr(), back.len()), 0);
        assert_eq!(back, bytes, "an accepted state must write back the same bytes");
        let _ = (ffi::mean_acc_mean_f64(acc), ffi::mean_acc_mean_f32(acc), ffi::mean_acc_count(acc));
        let copy = ffi::mean_acc_deserialize(bytes.as_ptr(), bytes.len());
        let merged = ffi::mean_acc_merge(acc, copy);
        assert!(merged == 0 || ffi::mean_acc_count(copy) > u64::MAX - ffi::mean_acc_count(copy));
        let _ = ffi::mean_acc_mean_f64(acc);
        ffi::mean_acc_free(copy);
        ffi::mean_acc_free(acc);
        true
    }
}
