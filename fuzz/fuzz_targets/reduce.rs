//! `mean_reduce` on arbitrary descriptors over arbitrary bytes: operations (mean, nanmean, sum,
//! nansum), shapes, strides (negative, zero, misaligned, huge), offsets, types, byte orders,
//! axes and masks drawn from the input.
//! The call must refuse or succeed without reading outside the described memory (the
//! sanitizer watches: the memory is its own allocation) and without touching the output when
//! it refuses; when it succeeds, every output element must be bit-identical to a naive
//! reference: the element addresses computed one by one, each value decoded (NaNs left out by
//! the nan operations), summed exactly, rounded once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mean::exact::ExactSum;
use mean::ffi::{MeanArray, mean_reduce};

/// Bytes of each type code 1..=14 (bool, i8, u8, i16, u16, i32, u32, i64, u64, f16, f32, f64, c64, c128).
const SIZES: [usize; 15] = [0, 1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8, 8, 16];

/// One component of the element at `at` as an exact f64, if the type's values all are one
/// (64-bit integers are not: `None`, and the reference skips the comparison).
fn decode(memory: &[u8], at: usize, code: i32, swapped: bool) -> Option<f64> {
    let size = match code {
        13 => 4,
        14 => 8,
        c => SIZES[c as usize],
    };
    let mut raw = [0u8; 8];
    raw[..size].copy_from_slice(&memory[at..at + size]);
    if swapped {
        raw[..size].reverse();
    }
    let bits = u64::from_le_bytes(raw);
    Some(match code {
        1 => f64::from(u8::from(bits as u8 != 0)),
        2 => f64::from(bits as u8 as i8),
        3 => f64::from(bits as u8),
        4 => f64::from(bits as u16 as i16),
        5 => f64::from(bits as u16),
        6 => f64::from(bits as u32 as i32),
        7 => f64::from(bits as u32),
        10 => f16_value(bits as u16),
        11 | 13 => f64::from(f32::from_bits(bits as u32)),
        12 | 14 => f64::from_bits(bits),
        _ => return None,
    })
}

/// binary16 from its fields, the slow way.
fn f16_value(bits: u16) -> f64 {
    let (sign, exponent, fraction) = (bits >> 15, (bits >> 10) & 0x1f, f64::from(bits & 0x3ff));
    let magnitude = match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(i32::from(e) - 15),
    };
    if sign == 1 { -magnitude } else { magnitude }
}

struct Draw<'a>(&'a [u8]);

impl Draw<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
}

fuzz_target!(|data: &[u8]| {
    let mut draw = Draw(data);
    let code = i32::from(draw.byte() % 16); // 0 and 15: unknown types
    let swapped = draw.byte() % 2 == 1;
    let ndim = usize::from(draw.byte() % 5);
    let size = SIZES.get(code as usize).copied().filter(|&s| s > 0).unwrap_or(1);
    let align = if code == 13 || code == 14 { size / 2 } else { size };
    let mut shape = [0i64; 4];
    let mut strides = [0i64; 4];
    for d in 0..ndim {
        shape[d] = i64::from(draw.byte() % 6);
        let choice = draw.byte();
        strides[d] = match choice % 8 {
            7 => i64::from(choice) * 1_000_003, // far outside
            6 => i64::from(choice as i8),       // any byte count, misaligned included
            c => (i64::from(c) - 3) * size as i64,
        };
    }
    let offset = usize::from(draw.byte()) * if draw.byte() % 4 == 0 { 1 } else { align };
    let axes_mask = draw.byte();
    let keepdims = draw.byte() % 2 == 1;
    let use_mask = draw.byte() % 3 == 0;
    let operation = i32::from(draw.byte() % 4); // mean, nanmean, sum, nansum
    let (is_sum, skips_nan) = (operation >= 2, operation % 2 == 1);
    let axes: Vec<i32> = (0..ndim as i32).filter(|d| axes_mask >> d & 1 == 1).collect();

    // The memory: its own allocation of exactly the remaining bytes, so that a read past it
    // is a sanitizer error.
    let memory: Vec<u8> = draw.0.to_vec();
    let mask_bytes: Vec<u8> = memory.iter().map(|b| b & 1).collect();
    let input = MeanArray {
        memory: memory.as_ptr().cast_mut().cast(),
        len: memory.len(),
        offset,
        type_code: code,
        swapped: i32::from(swapped),
        ndim: ndim as i32,
        shape: shape.as_ptr(),
        strides: strides.as_ptr(),
    };
    // The mask: the same geometry over a bool copy (strides in bytes scaled by 1/size).
    let mask_strides: Vec<i64> = strides[..ndim].iter().map(|s| s / size as i64).collect();
    let mask = MeanArray {
        memory: mask_bytes.as_ptr().cast_mut().cast(),
        len: mask_bytes.len(),
        offset: offset / size,
        type_code: 1,
        swapped: 0,
        ndim: ndim as i32,
        shape: shape.as_ptr(),
        strides: mask_strides.as_ptr(),
    };
    // Output: float64 (complex128 for complex input), C order, of the kept shape.
    let out_code = if code == 13 || code == 14 { 14 } else { 12 };
    let out_size = SIZES[out_code as usize];
    let kept: Vec<i64> =
        (0..ndim).filter_map(|d| if axes.contains(&(d as i32)) { keepdims.then_some(1) } else { Some(shape[d]) }).collect();
    let cells: usize = kept.iter().map(|&n| n as usize).product();
    let mut out_strides = vec![0i64; kept.len()];
    let mut step = out_size as i64;
    for d in (0..kept.len()).rev() {
        out_strides[d] = step;
        step *= kept[d].max(1);
    }
    let sentinel = 0xA5u8;
    let mut out = vec![sentinel; cells * out_size];
    let output = MeanArray {
        memory: out.as_mut_ptr().cast(),
        len: out.len(),
        offset: 0,
        type_code: out_code,
        swapped: 0,
        ndim: kept.len() as i32,
        shape: kept.as_ptr(),
        strides: out_strides.as_ptr(),
    };
    let mask_ptr: *const MeanArray = if use_mask { &mask } else { std::ptr::null() };
    // SAFETY: every descriptor points at live vectors of the lengths it states; the output is
    // its own vector.
    let status = unsafe { mean_reduce(operation, &input, mask_ptr, &output, axes.as_ptr(), axes.len() as i32, std::ptr::null(), 1) };
    if status != 0 {
        assert!(out.iter().all(|&b| b == sentinel), "a refused call wrote its output");
        return;
    }
    // The reference, cell by cell: every input index, its address, its cell.
    let components = if code == 13 || code == 14 { 2 } else { 1 };
    let mut sums: Vec<ExactSum> = (0..cells * components).map(|_| ExactSum::new()).collect();
    let total: usize = shape[..ndim].iter().map(|&n| n as usize).product();
    let mut comparable = true;
    for flat in 0..total {
        let (mut rest, mut at, mut mask_at, mut cell) = (flat, offset as i64, (offset / size) as i64, 0usize);
        let mut index = [0usize; 4];
        for d in (0..ndim).rev() {
            index[d] = rest % shape[d] as usize;
            rest /= shape[d] as usize;
        }
        for d in 0..ndim {
            at += index[d] as i64 * strides[d];
            mask_at += index[d] as i64 * mask_strides[d];
        }
        let mut place = 1usize;
        for d in (0..ndim).rev() {
            if !axes.contains(&(d as i32)) {
                cell += index[d] * place;
                place *= shape[d] as usize;
            }
        }
        if use_mask && mask_bytes[mask_at as usize] == 0 {
            continue;
        }
        for c in 0..components {
            match decode(&memory, at as usize + c * size / components, code, swapped) {
                Some(x) if skips_nan && x.is_nan() => {}
                Some(x) => sums[cell * components + c].add(x),
                None => comparable = false,
            }
        }
    }
    if !comparable {
        return;
    }
    for (k, sum) in sums.iter().enumerate() {
        let got = f64::from_ne_bytes(out[8 * k..8 * k + 8].try_into().unwrap());
        let want = if is_sum { sum.sum_f64() } else { sum.mean_f64() };
        assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "cell {k}: {got:e} vs {want:e}");
    }
});
