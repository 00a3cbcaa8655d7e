//! Element types the reduction engine reads and writes, and how each is decoded: to an `f64`
//! (exactly: every float16, float32 and float64 value, and every integer of 32 bits or fewer,
//! is an `f64`) or, for bool and integers, to integer pieces summed exactly.
//!
//! Each type is a zero-sized marker implementing [`Decode`] over the unsigned integer of its
//! size (its raw storage), so that a kernel is written once and monomorphized per type and byte
//! order; [`ByteOrder`] swaps in registers (`swap_bytes` is one instruction).

use super::cells::Initial;
use crate::exact::ExactSum;
use crate::kernels::{self, ColumnLanes, Level, Order, Partial};
use crate::rounding::Format;

/// An element type, as the C ABI numbers it (`enum mean_type` in `include/mean.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ElementType {
    Bool = 1,
    Int8 = 2,
    UInt8 = 3,
    Int16 = 4,
    UInt16 = 5,
    Int32 = 6,
    UInt32 = 7,
    Int64 = 8,
    UInt64 = 9,
    Float16 = 10,
    Float32 = 11,
    Float64 = 12,
    /// Two float32: real, imaginary.
    Complex64 = 13,
    /// Two float64: real, imaginary.
    Complex128 = 14,
}

impl ElementType {
    const ALL: [ElementType; 14] = [
        ElementType::Bool,
        ElementType::Int8,
        ElementType::UInt8,
        ElementType::Int16,
        ElementType::UInt16,
        ElementType::Int32,
        ElementType::UInt32,
        ElementType::Int64,
        ElementType::UInt64,
        ElementType::Float16,
        ElementType::Float32,
        ElementType::Float64,
        ElementType::Complex64,
        ElementType::Complex128,
    ];

    /// The type the C ABI numbers `code`.
    pub fn from_code(code: i32) -> Option<ElementType> {
        ElementType::ALL.into_iter().find(|&t| t as i32 == code)
    }

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            ElementType::Bool | ElementType::Int8 | ElementType::UInt8 => 1,
            ElementType::Int16 | ElementType::UInt16 | ElementType::Float16 => 2,
            ElementType::Int32 | ElementType::UInt32 | ElementType::Float32 => 4,
            ElementType::Int64 | ElementType::UInt64 | ElementType::Float64 | ElementType::Complex64 => 8,
            ElementType::Complex128 => 16,
        }
    }

    /// The type of one component: a complex type's real type, else the type itself.
    pub const fn component(self) -> ElementType {
        match self {
            ElementType::Complex64 => ElementType::Float32,
            ElementType::Complex128 => ElementType::Float64,
            other => other,
        }
    }

    pub const fn is_complex(self) -> bool {
        matches!(self, ElementType::Complex64 | ElementType::Complex128)
    }

    /// Whether a mean can be written as this type: the float and complex types.
    pub const fn is_result_type(self) -> bool {
        matches!(
            self,
            ElementType::Float16
                | ElementType::Float32
                | ElementType::Float64
                | ElementType::Complex64
                | ElementType::Complex128
        )
    }

    /// Whether this is bool or an integer type (whose sums are exact integers).
    pub const fn is_integer(self) -> bool {
        self.integer_range().is_some() || matches!(self, ElementType::Bool)
    }

    /// The values an integer type holds (bool is not an output integer: None).
    pub const fn integer_range(self) -> Option<(i128, i128)> {
        Some(match self {
            ElementType::Int8 => (i8::MIN as i128, i8::MAX as i128),
            ElementType::UInt8 => (0, u8::MAX as i128),
            ElementType::Int16 => (i16::MIN as i128, i16::MAX as i128),
            ElementType::UInt16 => (0, u16::MAX as i128),
            ElementType::Int32 => (i32::MIN as i128, i32::MAX as i128),
            ElementType::UInt32 => (0, u32::MAX as i128),
            ElementType::Int64 => (i64::MIN as i128, i64::MAX as i128),
            ElementType::UInt64 => (0, u64::MAX as i128),
            _ => return None,
        })
    }

    /// The alignment every element address must have: that of one component.
    pub const fn alignment(self) -> usize {
        self.component().size()
    }
}

/// One element of the real type `ty` from its native-order bytes, as a sum's initial value.
pub fn decode_one(ty: ElementType, bytes: &[u8]) -> Initial {
    let unsigned = match *bytes {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_ne_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_ne_bytes([a, b, c, d])),
        _ => u64::from_ne_bytes(bytes.try_into().unwrap_or_default()),
    };
    let shift = 64 - 8 * bytes.len() as u32;
    let signed = i128::from((unsigned << shift) as i64 >> shift);
    let float = |x: f64| Initial { float: x, integer: 0 };
    match ty {
        ElementType::Float16 => float(f16_to_f64(unsigned as u16)),
        ElementType::Float32 => float(f64::from(f32::from_bits(unsigned as u32))),
        ElementType::Float64 => float(f64::from_bits(unsigned)),
        ElementType::Int8 | ElementType::Int16 | ElementType::Int32 | ElementType::Int64 => {
            Initial { float: 0.0, integer: signed }
        }
        _ => Initial { float: 0.0, integer: i128::from(unsigned) },
    }
}

/// Raw storage of an element: an unsigned integer of its size. Every bit pattern is valid,
/// which is what makes reading aligned bytes as a slice of it sound (see [`cast_slice`]).
pub trait Raw: Copy + Send + Sync + 'static {
    const ZERO: Self;
    fn swapped(self) -> Self;

    /// `dst[i] = src[i * step]`, swapped if `swap` (`kernels::gather` where it has a kernel
    /// for the size).
    #[inline(always)]
    fn gather(_level: Level, src: &[Self], step: usize, swap: bool, dst: &mut [Self]) {
        for (i, slot) in dst.iter_mut().enumerate() {
            let raw = src[i * step];
            *slot = if swap { raw.swapped() } else { raw };
        }
    }
}

macro_rules! raw {
    ($($t:ty $(=> $gather:path)?),*) => {$(
        impl Raw for $t {
            const ZERO: Self = 0;
            #[inline(always)]
            fn swapped(self) -> Self {
                self.swap_bytes()
            }
            $(
                fn gather(level: Level, src: &[Self], step: usize, swap: bool, dst: &mut [Self]) {
                    $gather(level, src, step, swap, dst);
                }
            )?
        }
    )*};
}
raw!(u8, u16, u32 => kernels::gather::gather_u32_at, u64 => kernels::gather::gather_u64_at);

/// The slice of `T` whose bytes are `bytes`, if `bytes` is aligned for `T` and a whole number
/// of elements long.
pub fn cast_slice<T: Raw>(bytes: &[u8]) -> Option<&[T]> {
    if !bytes.len().is_multiple_of(size_of::<T>()) || !bytes.as_ptr().cast::<T>().is_aligned() {
        return None;
    }
    // SAFETY: the pointer is aligned for T and the length a multiple of T's size (checked
    // above); T is an unsigned integer (the only implementors of the sealed-in-crate `Raw`),
    // for which every bit pattern is valid; the result borrows `bytes`, so it lives no longer.
    Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), bytes.len() / size_of::<T>()) })
}

/// Byte order of the stored elements relative to this CPU's.
pub trait ByteOrder: Copy + Send + Sync + 'static {
    /// Whether the stored order is this CPU's (raw values are then the values' own bits).
    const NATIVE: bool;
    fn native<R: Raw>(raw: R) -> R;
}

#[derive(Clone, Copy)]
pub struct Native;
#[derive(Clone, Copy)]
pub struct Swapped;

impl ByteOrder for Native {
    const NATIVE: bool = true;
    #[inline(always)]
    fn native<R: Raw>(raw: R) -> R {
        raw
    }
}

impl ByteOrder for Swapped {
    const NATIVE: bool = false;
    #[inline(always)]
    fn native<R: Raw>(raw: R) -> R {
        raw.swapped()
    }
}

/// How one element type decodes from its raw storage (already in native byte order).
pub trait Decode: Copy + Send + Sync + 'static {
    type Raw: Raw;
    /// Bool and integer types: summed exactly as integers, never as floats.
    const INTEGER: bool;
    /// Values of few significant bits (float16, float32), whose f64 sums rarely round: worth
    /// trying plain adds certified by the inexact flag before double-double sums.
    const FEW_BITS: bool = false;
    /// The value, exactly (floats; integers of up to 32 bits).
    fn to_f64(raw: Self::Raw) -> f64;
    /// An integer as `high * 2^32 + low`, `high` signed and `low` in [0, 2^32): each piece
    /// fits an `i64` sum of 2^31 of them. Floats: unused.
    fn pieces(raw: Self::Raw) -> (i64, i64);
    /// The fast kernels' sum of a contiguous run of native values, where the crate has kernels
    /// for the type (float32, float64).
    fn kernel_sum(_level: Level, _raws: &[Self::Raw]) -> Option<Partial> {
        None
    }
    /// The short-run kernel's sum (`kernels::run_sum_*_at`: no setup) of a contiguous run of
    /// native values, where the crate has one for the type (float32, float64).
    fn run_sum(_level: Level, _raws: &[Self::Raw]) -> Option<Partial> {
        None
    }
    /// Adds a contiguous run of native values to `sum` with the exact kernels, if the type has
    /// them; false if not (nothing added).
    fn add_exact(_sum: &mut ExactSum, _raws: &[Self::Raw]) -> bool {
        false
    }
    /// Adds `R` contiguous rows of native values, one after the other, into per-column sums
    /// with the column kernels (`kernels::add_rows_*_at`, which ask for the memory `ahead`
    /// bytes past the rows), where the crate has them; false if not (nothing added).
    fn add_rows<const R: usize>(_level: Level, _lanes: ColumnLanes, _rows: [&[Self::Raw]; R], _ahead: isize) -> bool {
        false
    }
    /// `hi[j] += raws[j]` (native values) plainly within a certified tile
    /// (`kernels::CertifiedColumns`): the tile's vector kernel where the crate has one
    /// (float32), else this loop.
    fn add_rows_plain<const R: usize>(
        _tile: &kernels::CertifiedColumns,
        hi: &mut [f64],
        rows: [&[Self::Raw]; R],
        _ahead: isize,
    ) {
        for raws in rows {
            for (sum, &raw) in hi.iter_mut().zip(raws) {
                *sum += Self::to_f64(raw);
            }
        }
    }

    /// The sum of the values of contiguous native `raws` that are not NaN, with an error bound,
    /// and their count, by a NaN-skipping kernel where the crate has one.
    fn run_sum_skipping_nan(_level: Level, _raws: &[Self::Raw]) -> Option<(Partial, u64)> {
        None
    }

    /// [`Decode::add_rows_plain`] of one row, leaving NaNs out (each adds +0.0), `counted[j]` counting the
    /// values that are not (exact integer adds in f64: they never raise the flag).
    fn add_row_plain_skipping_nan(
        _tile: &kernels::CertifiedColumns,
        hi: &mut [f64],
        counted: &mut [f64],
        raws: &[Self::Raw],
    ) {
        for ((sum, count), &raw) in hi.iter_mut().zip(counted.iter_mut()).zip(raws) {
            let x = Self::to_f64(raw);
            let (x, one) = if x.is_nan() { (0.0, 0.0) } else { (x, 1.0) };
            *sum += x;
            *count += one;
        }
    }

    /// The plain f64 sum of contiguous native `raws` within a certified block of rows
    /// (`kernels::CertifiedColumns`), with `skip_nan` only of the values that are not NaN, and
    /// how many were added: the tile's vector kernel where the crate has one, else this loop.
    fn row_sum_plain(_tile: &kernels::CertifiedColumns, raws: &[Self::Raw], skip_nan: bool) -> (f64, u64) {
        let (mut sum, mut count) = (0.0, 0);
        for &raw in raws {
            let x = Self::to_f64(raw);
            if !(skip_nan && x.is_nan()) {
                sum += x;
                count += 1;
            }
        }
        (sum, count)
    }

    /// The means of a block of tiny rows (`kernels::rows`: `means.len()` rows of `len` values,
    /// row `k` at `raws[k * stride..]`, contiguous native values) rounded to `format`, each
    /// held in an f64, and which are `undecided` (the caller finishes those one by one). False,
    /// with nothing written, where the type has no such kernel for `format` at `level`.
    fn tiny_row_means(
        _level: Level,
        _raws: &[Self::Raw],
        (_len, _stride): (usize, usize),
        _format: Format,
        _means: &mut [f64],
        _undecided: &mut [bool],
    ) -> bool {
        false
    }

    /// [`Decode::add_row`] leaving NaNs out, `counted[j]` counting the values that are not.
    fn add_row_skipping_nan(
        _level: Level,
        _hi: &mut [f64],
        _lo: &mut [f64],
        _bound: &mut [f64],
        _counted: &mut [f64],
        _raws: &[Self::Raw],
    ) -> bool {
        false
    }

    /// The exact sum of contiguous native `raws`, by a kernel where the crate has one.
    fn contiguous_integer_sum(_raws: &[Self::Raw]) -> Option<i128> {
        None
    }
}

macro_rules! small_integer {
    ($name:ident, $raw:ty, $value:ty) => {
        small_integer!($name, $raw, $value, |_raws: &[$raw]| None);
    };
    ($name:ident, $raw:ty, $value:ty, $sum:expr) => {
        #[derive(Clone, Copy)]
        pub struct $name;
        impl Decode for $name {
            type Raw = $raw;
            const INTEGER: bool = true;
            #[inline(always)]
            fn to_f64(raw: $raw) -> f64 {
                f64::from(raw as $value)
            }
            #[inline(always)]
            fn pieces(raw: $raw) -> (i64, i64) {
                (0, i64::from(raw as $value))
            }
            fn contiguous_integer_sum(raws: &[$raw]) -> Option<i128> {
                $sum(raws)
            }
        }
    };
}
// Bytes are summed 16 at a time (SSE2's sum of absolute differences against zero); int8 as
// its bytes with the sign bit flipped (x + 128), less 128 per value.
small_integer!(Int8, u8, i8, |raws: &[u8]| Some(
    i128::from(kernels::sum_bytes(raws, kernels::Bytes::SignFlipped)) - 128 * raws.len() as i128
));
small_integer!(UInt8, u8, u8, |raws: &[u8]| Some(i128::from(kernels::sum_bytes(raws, kernels::Bytes::Unsigned))));
// 16-bit words eight at a time (SSE2's multiply-add of pairs).
small_integer!(Int16, u16, i16, |raws: &[u16]| Some(kernels::sum_words(raws, true)));
small_integer!(UInt16, u16, u16, |raws: &[u16]| Some(kernels::sum_words(raws, false)));
// 32-bit values four at a time, split in halves (SSE2).
small_integer!(Int32, u32, i32, |raws: &[u32]| Some(kernels::sum_dwords(raws, true)));
small_integer!(UInt32, u32, u32, |raws: &[u32]| Some(kernels::sum_dwords(raws, false)));

/// numpy's bool is one byte, 0 or 1; any other byte counts as true (1), as numpy reads it.
#[derive(Clone, Copy)]
pub struct Bool;
impl Decode for Bool {
    type Raw = u8;
    const INTEGER: bool = true;
    #[inline(always)]
    fn to_f64(raw: u8) -> f64 {
        f64::from(u8::from(raw != 0))
    }
    #[inline(always)]
    fn pieces(raw: u8) -> (i64, i64) {
        (0, i64::from(raw != 0))
    }
    fn contiguous_integer_sum(raws: &[u8]) -> Option<i128> {
        Some(i128::from(kernels::sum_bytes(raws, kernels::Bytes::Nonzero)))
    }
}

#[derive(Clone, Copy)]
pub struct Int64;
impl Decode for Int64 {
    type Raw = u64;
    const INTEGER: bool = true;
    fn to_f64(raw: u64) -> f64 {
        raw as i64 as f64 // not exact beyond 2^53; integer sums use `pieces`
    }
    #[inline(always)]
    fn pieces(raw: u64) -> (i64, i64) {
        // The signed high half, from logical shifts only (AVX2 has no 64-bit arithmetic
        // shift): its unsigned value minus 2^32 for a negative number.
        let (logical, sign) = ((raw >> 32) as i64, (raw >> 63) as i64);
        (logical - (sign << 32), (raw & 0xffff_ffff) as i64)
    }
    fn contiguous_integer_sum(raws: &[u64]) -> Option<i128> {
        Some(kernels::sum_qwords(raws, true))
    }
}

#[derive(Clone, Copy)]
pub struct UInt64;
impl Decode for UInt64 {
    type Raw = u64;
    const INTEGER: bool = true;
    fn to_f64(raw: u64) -> f64 {
        raw as f64 // not exact beyond 2^53; integer sums use `pieces`
    }
    #[inline(always)]
    fn pieces(raw: u64) -> (i64, i64) {
        ((raw >> 32) as i64, (raw & 0xffff_ffff) as i64)
    }
    fn contiguous_integer_sum(raws: &[u64]) -> Option<i128> {
        Some(kernels::sum_qwords(raws, false))
    }
}

#[derive(Clone, Copy)]
pub struct Float16;
impl Decode for Float16 {
    type Raw = u16;
    const INTEGER: bool = false;
    const FEW_BITS: bool = true;
    #[inline(always)]
    fn to_f64(raw: u16) -> f64 {
        f16_to_f64(raw)
    }
    fn pieces(_: u16) -> (i64, i64) {
        (0, 0)
    }
    /// Runs of 256 values or more: converted to f32 with F16C (exact), 1024 at a time into a
    /// stack buffer, and summed by float32's run kernels. Shorter runs, and any without F16C:
    /// none (the caller decodes them to f64 one by one, with no buffer to clear).
    fn run_sum(level: Level, raws: &[u16]) -> Option<Partial> {
        const AT_ONCE: usize = 1024;
        if raws.len() < 256 {
            return None;
        }
        let mut floats = [0f32; AT_ONCE];
        let mut total = Partial::ZERO;
        for chunk in raws.chunks(AT_ONCE) {
            let floats = &mut floats[..chunk.len()];
            if !kernels::f16_to_f32_at(level, chunk, floats) {
                return None; // (on the first chunk: F16C is there for all or none)
            }
            total = total.merge(run_sum_f32s(level, floats));
        }
        Some(total)
    }
}

#[derive(Clone, Copy)]
pub struct Float32;
impl Decode for Float32 {
    type Raw = u32;
    const INTEGER: bool = false;
    const FEW_BITS: bool = true;
    #[inline(always)]
    fn to_f64(raw: u32) -> f64 {
        f64::from(f32::from_bits(raw))
    }
    fn pieces(_: u32) -> (i64, i64) {
        (0, 0)
    }
    fn kernel_sum(level: Level, raws: &[u32]) -> Option<Partial> {
        Some(kernels::sum_f32_at(level, as_f32s(raws), Order::Forward))
    }
    fn run_sum(level: Level, raws: &[u32]) -> Option<Partial> {
        Some(run_sum_f32s(level, as_f32s(raws)))
    }
    fn add_exact(sum: &mut ExactSum, raws: &[u32]) -> bool {
        kernels::add_exact_f32(sum, as_f32s(raws));
        true
    }
    fn add_rows<const R: usize>(level: Level, lanes: ColumnLanes, rows: [&[u32]; R], ahead: isize) -> bool {
        kernels::add_rows_f32_at(level, lanes, rows.map(as_f32s), ahead);
        true
    }
    fn add_rows_plain<const R: usize>(
        tile: &kernels::CertifiedColumns,
        hi: &mut [f64],
        rows: [&[u32]; R],
        ahead: isize,
    ) {
        tile.add_rows_f32(hi, rows.map(as_f32s), ahead);
    }
    fn row_sum_plain(tile: &kernels::CertifiedColumns, raws: &[u32], skip_nan: bool) -> (f64, u64) {
        tile.row_sum_f32(as_f32s(raws), skip_nan)
    }
    /// Plain sums of the rows certified by the inexact flag, rounded by one division each
    /// (`rounding::exact_sums_to_f32_means`); a block whose adds rounded is all undecided.
    fn tiny_row_means(
        level: Level,
        raws: &[u32],
        (len, stride): (usize, usize),
        format: Format,
        means: &mut [f64],
        undecided: &mut [bool],
    ) -> bool {
        let rows = means.len();
        let mut sums = [0.0f64; kernels::rows::ROWS];
        let sums = &mut sums[..rows];
        if format != Format::Binary32 {
            return false;
        }
        let Some(tile) = kernels::CertifiedColumns::begin(level, sums) else { return false };
        tile.add_tiny_rows_f32(sums, as_f32s(raws), len, stride);
        if !tile.exact(sums) {
            undecided[..rows].fill(true);
            return true;
        }
        let mut means32 = [0.0f32; kernels::rows::ROWS];
        kernels::rows::exact_sums_to_f32_means_at(level, sums, len, &mut means32[..rows], undecided);
        for (mean, &mean32) in means.iter_mut().zip(&means32[..rows]) {
            *mean = f64::from(mean32);
        }
        true
    }
    fn add_row_plain_skipping_nan(tile: &kernels::CertifiedColumns, hi: &mut [f64], counted: &mut [f64], raws: &[u32]) {
        tile.add_row_skipping_nan_f32(hi, counted, as_f32s(raws));
    }
    fn run_sum_skipping_nan(level: Level, raws: &[u32]) -> Option<(Partial, u64)> {
        let xs = as_f32s(raws);
        Some(match kernels::certified_run_skipping_nan_f32_at(level, xs) {
            Some((exact, counted)) => (Partial::exact(exact), counted),
            None => kernels::run_sum_skipping_nan_at(level, xs),
        })
    }
    fn add_row_skipping_nan(
        level: Level,
        hi: &mut [f64],
        lo: &mut [f64],
        bound: &mut [f64],
        counted: &mut [f64],
        raws: &[u32],
    ) -> bool {
        kernels::add_row_skipping_nan_at(level, hi, lo, bound, counted, as_f32s(raws));
        true
    }
}

#[derive(Clone, Copy)]
pub struct Float64;
impl Decode for Float64 {
    type Raw = u64;
    const INTEGER: bool = false;
    #[inline(always)]
    fn to_f64(raw: u64) -> f64 {
        f64::from_bits(raw)
    }
    fn pieces(_: u64) -> (i64, i64) {
        (0, 0)
    }
    fn kernel_sum(level: Level, raws: &[u64]) -> Option<Partial> {
        Some(kernels::sum_f64_at(level, as_f64s(raws), Order::Forward))
    }
    fn run_sum(level: Level, raws: &[u64]) -> Option<Partial> {
        Some(kernels::run_sum_f64_at(level, as_f64s(raws)))
    }
    fn add_exact(sum: &mut ExactSum, raws: &[u64]) -> bool {
        kernels::add_exact_f64(sum, as_f64s(raws));
        true
    }
    fn add_rows<const R: usize>(level: Level, lanes: ColumnLanes, rows: [&[u64]; R], ahead: isize) -> bool {
        kernels::add_rows_f64_at(level, lanes, rows.map(as_f64s), ahead);
        true
    }
    fn run_sum_skipping_nan(level: Level, raws: &[u64]) -> Option<(Partial, u64)> {
        Some(kernels::run_sum_skipping_nan_at(level, as_f64s(raws)))
    }
    fn tiny_row_means(
        level: Level,
        raws: &[u64],
        (len, stride): (usize, usize),
        format: Format,
        means: &mut [f64],
        undecided: &mut [bool],
    ) -> bool {
        if format != Format::Binary64 {
            return false;
        }
        kernels::rows::tiny_row_means_f64_at(level, as_f64s(raws), len, stride, means, undecided);
        true
    }
    fn add_row_skipping_nan(
        level: Level,
        hi: &mut [f64],
        lo: &mut [f64],
        bound: &mut [f64],
        counted: &mut [f64],
        raws: &[u64],
    ) -> bool {
        kernels::add_row_skipping_nan_at(level, hi, lo, bound, counted, as_f64s(raws));
        true
    }
}

/// Native float32 bits as the floats (same size and alignment; every bit pattern is a float).
/// A short run of f32 values: summed plainly under a certificate, else with the run kernel.
fn run_sum_f32s(level: Level, xs: &[f32]) -> Partial {
    match kernels::certified_run_f32_at(level, xs) {
        Some(exact) => Partial { sum: kernels::DoubleDouble { hi: exact, lo: 0.0 }, error: 0.0 },
        None => kernels::run_sum_f32_at(level, xs),
    }
}

fn as_f32s(raws: &[u32]) -> &[f32] {
    // SAFETY: f32 and u32 have the same size and alignment and every u32 is a valid f32; the
    // result borrows `raws`.
    unsafe { std::slice::from_raw_parts(raws.as_ptr().cast::<f32>(), raws.len()) }
}

/// Native float64 bits as the floats (as [`as_f32s`]).
fn as_f64s(raws: &[u64]) -> &[f64] {
    // SAFETY: f64 and u64 have the same size and alignment and every u64 is a valid f64; the
    // result borrows `raws`.
    unsafe { std::slice::from_raw_parts(raws.as_ptr().cast::<f64>(), raws.len()) }
}

/// A binary16 value, exactly, branch-free but for infinities and NaN: its exponent and
/// significand bits placed at binary32's positions give the value times 2^-112 (subnormals
/// included, as binary32 subnormals), which one exact multiply rescales. Vectorizes.
#[inline(always)]
pub fn f16_to_f64(bits: u16) -> f64 {
    let magnitude = u32::from(bits & 0x7fff);
    let sign = u32::from(bits & 0x8000) << 16;
    let finite = f32::from_bits(magnitude << 13) * f32::from_bits(0x7780_0000); // 2^112
    let special = f32::from_bits((magnitude << 13) | 0x7f80_0000); // inf, or NaN keeping its payload
    let value = if magnitude >= 0x7c00 { special } else { finite };
    f64::from(f32::from_bits(value.to_bits() | sign))
}

/// `x` rounded to the nearest binary16 (ties to even; beyond the largest, infinity), as bits.
pub fn f64_to_f16_bits(x: f64) -> u16 {
    let sign = if x.is_sign_negative() { 0x8000u16 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return sign | 0x7e00;
    }
    // The quantum (spacing) of binary16 at `a`: 2^(e - 10) for normal a (e = a's exponent),
    // 2^-24 for subnormals. a / quantum rounded to an integer, ties to even, is the result's
    // significand times 2^(its exponent - the quantum's): exact in f64 (powers of two).
    let exponent = if a == 0.0 { -25 } else { ((a.to_bits() >> 52) as i32 - 1023).max(-14) };
    if exponent > 15 {
        return sign | 0x7c00;
    }
    let quantum = f64::from_bits(((exponent - 10 + 1023) as u64) << 52);
    let rounded = (a / quantum).round_ties_even() * quantum;
    if rounded > 65504.0 {
        return sign | 0x7c00;
    }
    // `rounded` is a binary16 value: its binary32 form converts back by the inverse placement.
    let as_f32 = (rounded as f32) * f32::from_bits(0x0780_0000); // 2^-112, exact for binary16 values
    sign | (as_f32.to_bits() >> 13) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_float16_round_trips_and_matches_the_reference() {
        for bits in 0..=u16::MAX {
            let value = f16_to_f64(bits);
            // Reference: sign * significand * 2^exponent from the fields.
            let (s, e, m) = ((bits >> 15) & 1, (bits >> 10) & 0x1f, bits & 0x3ff);
            let reference = match e {
                0 => f64::from(m) * 2f64.powi(-24),
                31 if m == 0 => f64::INFINITY,
                31 => f64::NAN,
                _ => (1.0 + f64::from(m) / 1024.0) * 2f64.powi(i32::from(e) - 15),
            };
            let reference = if s == 1 { -reference } else { reference };
            if reference.is_nan() {
                assert!(value.is_nan());
                continue;
            }
            assert_eq!(value.to_bits(), reference.to_bits(), "bits {bits:#06x}");
            assert_eq!(f64_to_f16_bits(value), bits, "round trip of {bits:#06x}");
        }
    }

    #[test]
    fn rounding_to_float16_is_to_nearest_ties_to_even() {
        for bits in 0..0x7bffu16 {
            let (low, high) = (f16_to_f64(bits), f16_to_f64(bits + 1));
            let middle = (low + high) / 2.0; // exact in f64
            let even = if bits % 2 == 0 { bits } else { bits + 1 };
            assert_eq!(f64_to_f16_bits(middle), even);
            assert_eq!(f64_to_f16_bits(middle.next_down()), bits);
            assert_eq!(f64_to_f16_bits(middle.next_up()), bits + 1);
        }
        assert_eq!(f64_to_f16_bits(65519.99), 0x7bff);
        assert_eq!(f64_to_f16_bits(65520.0), 0x7c00);
        assert_eq!(f64_to_f16_bits(-1e300), 0xfc00);
        assert_eq!(f64_to_f16_bits(2f64.powi(-25)), 0); // a tie with zero: to even
        assert_eq!(f64_to_f16_bits(2f64.powi(-25).next_up()), 1);
    }
}
