//! The C ABI's means on arbitrary bytes read as float32 and float64 arrays, at any offset
//! (aligned or not), and the Rust API at every SIMD level this CPU has: every result must be
//! bit-identical to the exact reference (NaN where the reference is NaN), a misaligned pointer
//! NaN without a read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mean::ffi;
use mean::Level;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fuzz_target!(|data: &[u8]| {
    let Some((&offset, bytes)) = data.split_first() else { return };
    // Copy into 8-byte-aligned storage, then read from `offset % 8` bytes in: misaligned starts
    // are part of the input space.
    let mut storage = vec![0u64; bytes.len().div_ceil(8) + 1];
    // SAFETY: `storage` holds at least bytes.len() + 8 bytes; u8 has no alignment or validity
    // requirement.
    let buffer = unsafe { std::slice::from_raw_parts_mut(storage.as_mut_ptr().cast::<u8>(), 8 * storage.len()) };
    let skip = usize::from(offset % 8);
    buffer[skip..skip + bytes.len()].copy_from_slice(bytes);
    let start = buffer[skip..].as_ptr();

    let n32 = bytes.len() / 4;
    let n64 = bytes.len() / 8;
    // SAFETY: `start` points to bytes.len() initialized bytes, so to n32 floats' and n64
    // doubles' worth of memory; the library reads them only if the pointer is aligned.
    let (via_c32, via_c64) = unsafe { (ffi::mean_f32(start.cast(), n32), ffi::mean_f64(start.cast(), n64)) };
    if skip % 4 != 0 || n32 == 0 {
        assert!(via_c32.is_nan());
    } else {
        // SAFETY: aligned for f32 (checked above), n32 floats of initialized bytes.
        let xs = unsafe { std::slice::from_raw_parts(start.cast::<f32>(), n32) };
        let exact = mean::exact_mean_f32(xs); // a zero sum: +0.0, as numpy's
        assert!(same(f64::from(via_c32), f64::from(exact)), "f32 C ABI: {via_c32:e} vs exact {exact:e}");
        for level in Level::available() {
            let got = mean::mean_f32_using(xs, 1, level);
            assert!(same(f64::from(got), f64::from(exact)), "f32 {level:?}: {got:e} vs exact {exact:e}");
        }
    }
    if skip != 0 || n64 == 0 {
        assert!(via_c64.is_nan());
    } else {
        // SAFETY: aligned for f64 (skip == 0), n64 doubles of initialized bytes.
        let xs = unsafe { std::slice::from_raw_parts(start.cast::<f64>(), n64) };
        let exact = mean::exact_mean_f64(xs);
        assert!(same(via_c64, exact), "f64 C ABI: {via_c64:e} vs exact {exact:e}");
        for level in Level::available() {
            let got = mean::mean_f64_using(xs, 1, level);
            assert!(same(got, exact), "f64 {level:?}: {got:e} vs exact {exact:e}");
        }
    }
});
