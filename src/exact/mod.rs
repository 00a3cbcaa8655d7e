//! Exact summation and a correctly rounded mean.
//!
//! [`ExactSum`] holds the sum of any number of `f64` (and so `f32`) values with no rounding at
//! all, as one long fixed-point integer whose least significant bit is 2^-1074, the smallest
//! subnormal `f64`. [`ExactSum::mean_f64`] and [`ExactSum::mean_f32`] divide that integer by the
//! count and round once, to nearest, ties to even.
//!
//! The algorithm, as pseudo-code (the carry-save layout is the one Radford Neal's `xsum` uses):
//!
//! ```text
//! digits[0..LIMBS] := 0           # value = sum(digits[i] * 2^(32 i)) * 2^-1074
//! add(x):                         # x finite: x = m * 2^e, m < 2^53 an integer, e >= -1074
//!     v := m << ((e + 1074) mod 32)             # at most 85 bits
//!     i := (e + 1074) div 32
//!     digits[i], digits[i+1], digits[i+2] += ±(the three 32-bit pieces of v)
//!     every 2^30 adds: propagate carries       # an i64 digit takes 2^31 pieces before overflow
//! mean(n):
//!     propagate carries; take sign and magnitude M
//!     Q, R := divmod(M * 2^128, n)              # Q has >= 65 significant bits
//!     keep Q's top 64 bits, the rest of Q and R only as a "sticky" bit
//!     round those 64 bits + sticky to the format's precision, ties to even; subnormals keep
//!     fewer bits, and the result is built from its bits, so nothing rounds twice.
//! ```
//!
//! It is the reference the fast kernels are tested against and the path for inputs whose
//! floating-point sum overflows. Special values are tracked apart: any NaN, or +inf together
//! with -inf, gives NaN; otherwise an infinity gives that infinity.

/// Bit position of 2^0 in the fixed-point integer (2^-1074 is bit 0).
const POINT: u32 = 1074;
/// Bits needed: 1074 below the point, 1024 above it, 64 of headroom for a 64-bit count.
const BITS: u32 = POINT + 1024 + 64;
/// 32-bit digits, plus three so that an 85-bit piece at the top position still fits.
const LIMBS: usize = (BITS as usize).div_ceil(32) + 3;
/// Adds allowed between carry propagations: each add puts < 2^32 into a digit, an i64 holds 2^63.
const ADDS_PER_CARRY: u32 = 1 << 30;
/// Extra bits the dividend is shifted by, so that the quotient keeps at least 65 bits.
const QUOTIENT_SHIFT_DIGITS: usize = 4;

/// Serialized form, all little-endian (README, "The accumulator's bytes"):
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 8 | magic `NPMEANAC` |
/// | 8 | 4 | format version, [`FORMAT_VERSION`] |
/// | 12 | 4 | special values seen: bit 0 NaN, bit 1 +inf, bit 2 -inf |
/// | 16 | 8 | count |
/// | 24 | 8 × LIMBS | the digits (i64) after carry propagation, least significant first |
/// | 24 + 8 × LIMBS | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
const MAGIC: [u8; 8] = *b"NPMEANAC";
/// The version of the serialized form this library writes and reads.
pub const FORMAT_VERSION: u32 = 2;
const DIGITS_AT: usize = 24;
const CRC_AT: usize = DIGITS_AT + 8 * LIMBS;
/// Bytes in the serialized form.
pub const SERIALIZED_LEN: usize = CRC_AT + 4;

/// A merge refused because the count would pass `u64::MAX` (the digits' headroom is sized for
/// that many values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountOverflow;

/// The exact sum of a sequence of floats, and its count.
///
/// At most `u64::MAX` values: the digits hold any sum of that many finite values (each below
/// 2^1024, so the sum is below 2^1088). [`ExactSum::merge`] refuses a merge past it; callers
/// that add values check [`ExactSum::has_room_for`] first (the crate's own means count at most
/// one slice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactSum {
    digits: [i64; LIMBS],
    adds_since_carry: u32,
    count: u64,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

/// An IEEE binary format, described by what rounding needs.
#[derive(Clone, Copy)]
struct Format {
    /// Significand bits, the hidden bit included.
    precision: u32,
    /// Exponent of the smallest normal number.
    min_exp: i32,
}

const BINARY32: Format = Format { precision: 24, min_exp: -126 };
const BINARY64: Format = Format { precision: 53, min_exp: -1022 };
const BINARY16: Format = Format { precision: 11, min_exp: -14 };

impl ExactSum {
    /// An empty sum.
    pub const fn new() -> Self {
        ExactSum { digits: [0; LIMBS], adds_since_carry: 0, count: 0, nan: false, pos_inf: false, neg_inf: false }
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether `n` more values can be added without the count passing `u64::MAX`.
    pub fn has_room_for(&self, n: u64) -> bool {
        self.count.checked_add(n).is_some()
    }

    /// Counts `n` more values; see [`ExactSum::has_room_for`].
    fn count_more(&mut self, n: u64) {
        debug_assert!(self.has_room_for(n), "count overflow: the caller must check has_room_for");
        self.count = self.count.saturating_add(n);
    }

    /// Adds every value of `xs`.
    pub fn add_f64s(&mut self, xs: &[f64]) {
        self.add_many(xs, |x| x);
    }

    /// Adds every value of `xs` (each is exactly an `f64`).
    pub fn add_f32s(&mut self, xs: &[f32]) {
        self.add_many(xs, f64::from);
    }

    /// The bulk loop: the values go in turn to `STREAMS` digit arrays, so that consecutive values
    /// of similar magnitude update different memory and do not wait on each other's stores
    /// (a single array is bound by store-to-load latency, ~4x slower). The arrays are merged
    /// at the end, and carried before any of them could take 2^30 adds.
    fn add_many<T: Copy>(&mut self, xs: &[T], to_f64: impl Fn(T) -> f64) {
        const STREAMS: usize = 4;
        self.propagate_carries();
        let [mut a, mut b, mut c, mut d] = [[0i64; LIMBS]; STREAMS];
        let mut specials = Specials::default();
        // Each batch gives every stream fewer than 2^30 adds.
        for batch in xs.chunks(STREAMS * (ADDS_PER_CARRY as usize - 1)) {
            let mut quads = batch.chunks_exact(STREAMS);
            for quad in &mut quads {
                add_to_digits(&mut a, to_f64(quad[0]), &mut specials);
                add_to_digits(&mut b, to_f64(quad[1]), &mut specials);
                add_to_digits(&mut c, to_f64(quad[2]), &mut specials);
                add_to_digits(&mut d, to_f64(quad[3]), &mut specials);
            }
            for &x in quads.remainder() {
                add_to_digits(&mut a, to_f64(x), &mut specials);
            }
            for stream in [&mut a, &mut b, &mut c, &mut d] {
                carry(stream);
            }
        }
        let mut streams = [a, b, c, d];
        for stream in &mut streams {
            for (digit, d) in self.digits.iter_mut().zip(stream.iter()) {
                *digit += d;
            }
            self.propagate_carries();
        }
        self.count_more(xs.len() as u64);
        self.record(&specials);
    }

    /// Adds `x`, a partial sum of values already counted with [`ExactSum::count_values`]: for
    /// kernels that sum groups of values exactly in f64 before handing them over.
    #[inline]
    pub(crate) fn add_partial(&mut self, x: f64) {
        self.add_shifted(x, 0);
    }

    /// Adds `x * 2^64` (exactly, though that product may exceed the f64 range), a partial sum
    /// like those of [`ExactSum::add_partial`], computed scaled down to stay finite.
    pub(crate) fn add_partial_times_2_64(&mut self, x: f64) {
        self.add_shifted(x, 64);
    }

    /// Counts `n` values whose sum arrives through [`ExactSum::add_partial`].
    pub(crate) fn count_values(&mut self, n: u64) {
        self.count_more(n);
    }

    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.count_more(1);
        self.add_shifted(x, 0);
    }

    /// Adds `x * 2^shift` (`shift <= 64`) without counting it.
    #[inline]
    fn add_shifted(&mut self, x: f64, shift: u32) {
        let mut specials = Specials::default();
        add_to_digits_shifted(&mut self.digits, x, shift, &mut specials);
        self.record(&specials);
        self.adds_since_carry += 1;
        if self.adds_since_carry == ADDS_PER_CARRY {
            self.propagate_carries();
        }
    }

    /// Adds `±m * 2^(position - 1074)` exactly, without counting it: a sum of raw significands
    /// kept elsewhere (`large`). `position <= 2046`, so the value lies below 2^1036.
    #[inline]
    pub(crate) fn add_integer(&mut self, m: u64, position: u32, negative: bool) {
        debug_assert!(position <= 2046);
        let index = (position / 32) as usize;
        let shifted = u128::from(m) << (position % 32); // at most 95 bits: three pieces
        let sign = -i64::from(negative);
        for (k, digit) in self.digits[index..index + 3].iter_mut().enumerate() {
            let piece = (shifted >> (32 * k)) as u64 & 0xffff_ffff;
            *digit += (piece as i64 ^ sign) - sign;
        }
        self.adds_since_carry += 1;
        if self.adds_since_carry == ADDS_PER_CARRY {
            self.propagate_carries();
        }
    }

    /// Adds the integer `sum` exactly and counts `count` values: an exact integer sum made
    /// elsewhere (the reduction engine's integer cells).
    pub(crate) fn add_i128(&mut self, sum: i128, count: u64) {
        let magnitude = sum.unsigned_abs();
        self.add_integer(magnitude as u64, POINT, sum < 0);
        self.add_integer((magnitude >> 64) as u64, POINT + 64, sum < 0);
        self.count_values(count);
    }

    fn record(&mut self, specials: &Specials) {
        self.nan |= specials.nan;
        self.pos_inf |= specials.pos_inf;
        self.neg_inf |= specials.neg_inf;
    }

    /// Adds another exact sum to this one: the result is as if every value had been added here.
    /// Refused, leaving this sum unchanged, if the count would pass `u64::MAX`.
    pub fn merge(&mut self, other: &ExactSum) -> Result<(), CountOverflow> {
        let count = self.count.checked_add(other.count).ok_or(CountOverflow)?;
        self.propagate_carries();
        let mut other = other.clone();
        other.propagate_carries();
        // After propagation every digit but the top one is in [0, 2^32), and both sums are below
        // 2^1088 in magnitude (fewer than 2^64 values below 2^1024), so the top digits are 0
        // or -1: digit sums fit, and so does the merged sum.
        for (digit, theirs) in self.digits.iter_mut().zip(other.digits) {
            *digit += theirs;
        }
        self.propagate_carries();
        self.count = count;
        self.nan |= other.nan;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
        Ok(())
    }

    /// The state as bytes ([`SERIALIZED_LEN`] of them, laid out as the table above it says),
    /// for storage or another process.
    pub fn to_bytes(&self) -> [u8; SERIALIZED_LEN] {
        let mut sum = self.clone();
        sum.propagate_carries();
        let mut out = [0u8; SERIALIZED_LEN];
        out[..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        let flags = u32::from(sum.nan) | u32::from(sum.pos_inf) << 1 | u32::from(sum.neg_inf) << 2;
        out[12..16].copy_from_slice(&flags.to_le_bytes());
        out[16..24].copy_from_slice(&sum.count.to_le_bytes());
        for (chunk, digit) in out[DIGITS_AT..CRC_AT].chunks_exact_mut(8).zip(sum.digits) {
            chunk.copy_from_slice(&digit.to_le_bytes());
        }
        let crc = crc32(&out[..CRC_AT]);
        out[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The state `to_bytes` wrote, or `None` for anything else: a wrong length, magic or
    /// version, a checksum that does not match (every error of up to 32 bits in a row is
    /// caught), or fields no state can hold (unknown flags; digits not carried; a sum larger
    /// than its count of finite values can make; values or flags with a count of 0). An
    /// accepted state writes back the same bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<ExactSum> {
        if bytes.len() != SERIALIZED_LEN || bytes[..8] != MAGIC {
            return None;
        }
        let le = |at: usize, len: usize| -> u64 {
            let mut word = [0u8; 8];
            word[..len].copy_from_slice(&bytes[at..at + len]);
            u64::from_le_bytes(word)
        };
        if le(8, 4) != u64::from(FORMAT_VERSION) || le(CRC_AT, 4) != u64::from(crc32(&bytes[..CRC_AT])) {
            return None;
        }
        let flags = le(12, 4);
        let count = le(16, 8);
        let mut sum = ExactSum::new();
        for (i, digit) in sum.digits.iter_mut().enumerate() {
            *digit = le(DIGITS_AT + 8 * i, 8) as i64;
        }
        let (low, top) = sum.digits.split_at(LIMBS - 1);
        if flags > 0b111 || low.iter().any(|&d| !(0..1 << 32).contains(&d)) || !(-1..=0).contains(&top[0]) {
            return None;
        }
        // |sum| < count * 2^1024: at most POINT + 1024 + (bits of count) bits.
        let magnitude = magnitude_digits(&sum.digits, top[0] < 0);
        let bits =
            magnitude.iter().rposition(|&d| d != 0).map_or(0, |i| 32 * i as u32 + 32 - magnitude[i].leading_zeros());
        let allowed = POINT + 1024 + (64 - count.leading_zeros());
        if bits > allowed || (count == 0 && (bits != 0 || flags != 0)) {
            return None;
        }
        sum.count = count;
        sum.nan = flags & 1 != 0;
        sum.pos_inf = flags & 2 != 0;
        sum.neg_inf = flags & 4 != 0;
        Some(sum)
    }

    /// Brings every digit but the top one into [0, 2^32); the top digit carries the sign.
    fn propagate_carries(&mut self) {
        carry(&mut self.digits);
        self.adds_since_carry = 0;
    }

    /// The special value the mean must be, if any value added was NaN or infinite.
    fn special(&self) -> Option<f64> {
        if self.nan || (self.pos_inf && self.neg_inf) {
            Some(f64::NAN)
        } else if self.pos_inf {
            Some(f64::INFINITY)
        } else if self.neg_inf {
            Some(f64::NEG_INFINITY)
        } else {
            None
        }
    }

    /// The exact mean rounded once to the nearest `f64`, ties to even; NaN for no values.
    pub fn mean_f64(&self) -> f64 {
        self.mean_in(BINARY64)
    }

    /// The exact mean rounded once to the nearest `f32`, ties to even; NaN for no values.
    pub fn mean_f32(&self) -> f32 {
        // The value is built exactly representable as an f32, so this cast does not round.
        self.mean_in(BINARY32) as f32
    }

    /// The exact mean rounded once to the nearest binary16, ties to even, returned as the `f64`
    /// of that value (beyond binary16's largest finite value: an infinity); NaN for no values.
    pub fn mean_f16_as_f64(&self) -> f64 {
        saturate_binary16(self.mean_in(BINARY16))
    }

    /// The exact sum rounded once to the nearest `f64` (inf if it overflows).
    pub fn sum_f64(&self) -> f64 {
        self.quotient_in(1, BINARY64)
    }

    /// The exact sum rounded once to the nearest `f32` (inf if it overflows).
    pub fn sum_f32(&self) -> f32 {
        // Rounded to 24 bits already: the cast only turns a value beyond f32's range into inf.
        self.quotient_in(1, BINARY32) as f32
    }

    /// The exact sum rounded once to the nearest binary16, as the `f64` of that value (inf
    /// beyond binary16's largest finite value).
    pub fn sum_f16_as_f64(&self) -> f64 {
        saturate_binary16(self.quotient_in(1, BINARY16))
    }

    /// The exact sum as an integer, if it is one (no NaN or infinity, no fraction) and fits an
    /// `i128`: the integer sums of the reduction engine, finished from their states.
    pub fn to_i128(&self) -> Option<i128> {
        if self.special().is_some() {
            return None;
        }
        let mut sum = self.clone();
        sum.propagate_carries();
        let negative = sum.digits[LIMBS - 1] < 0;
        let magnitude = magnitude_digits(&sum.digits, negative);
        // Bits [0, POINT) are the fraction; bits [POINT, POINT + 128) the integer part.
        let (point_digit, point_bit) = ((POINT / 32) as usize, POINT % 32);
        const { assert!(!POINT.is_multiple_of(32)) }; // (the shifts below assume it)
        let fraction_mask = (1u32 << point_bit) - 1;
        if magnitude[..point_digit].iter().any(|&d| d != 0) || magnitude[point_digit] & fraction_mask != 0 {
            return None;
        }
        // The integer part's 32-bit digits: two neighbouring digits of the magnitude each.
        let integer_digit = |j: usize| -> u32 {
            let low = magnitude.get(point_digit + j).map_or(0, |&d| d >> point_bit);
            let high = magnitude.get(point_digit + j + 1).map_or(0, |&d| d << (32 - point_bit));
            low | high
        };
        if (4..LIMBS - point_digit).any(|j| integer_digit(j) != 0) {
            return None;
        }
        let value = (0..4).fold(0u128, |value, j| value | u128::from(integer_digit(j)) << (32 * j));
        if negative {
            if value > 1u128 << 127 {
                return None;
            }
            Some((value as i128).wrapping_neg())
        } else {
            i128::try_from(value).ok()
        }
    }

    fn mean_in(&self, format: Format) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        self.quotient_in(self.count, format)
    }

    /// (exact sum / divisor) rounded to `format`, returned as the f64 holding that value.
    fn quotient_in(&self, divisor: u64, format: Format) -> f64 {
        if let Some(special) = self.special() {
            return special;
        }
        let mut sum = self.clone();
        sum.propagate_carries();
        let negative = sum.digits[LIMBS - 1] < 0;
        let magnitude = magnitude_digits(&sum.digits, negative);

        // Long division of magnitude * 2^128 by the divisor, most significant digit first.
        // Each quotient digit is < 2^32 because the running remainder is < divisor.
        // Each step is a 128-bit division (~20 ns), so only the steps that matter run: digits
        // above the magnitude's top one give quotient digits 0 and leave the remainder 0, and
        // once four quotient digits are known (97 bits or more: any format's precision and a
        // rounding bit) the rest only tells whether anything nonzero remains (the sticky bit).
        let mut quotient = [0u32; LIMBS + QUOTIENT_SHIFT_DIGITS];
        let mut remainder: u128 = 0;
        let divisor = u128::from(divisor);
        let top = magnitude.iter().rposition(|&d| d != 0).map_or(0, |t| t + QUOTIENT_SHIFT_DIGITS + 1);
        let (mut known_digits, mut rest_nonzero) = (0, false);
        for i in (0..top).rev() {
            let digit = if i >= QUOTIENT_SHIFT_DIGITS { magnitude[i - QUOTIENT_SHIFT_DIGITS] } else { 0 };
            let dividend = (remainder << 32) | u128::from(digit);
            quotient[i] = (dividend / divisor) as u32;
            remainder = dividend % divisor;
            if known_digits > 0 || quotient[i] != 0 {
                known_digits += 1;
            }
            if known_digits == 4 {
                let lower = &magnitude[..i.saturating_sub(QUOTIENT_SHIFT_DIGITS)];
                rest_nonzero = remainder != 0 || lower.iter().any(|&d| d != 0);
                break;
            }
        }
        let Some(top_digit) = quotient.iter().rposition(|&d| d != 0) else {
            return if negative { -0.0 } else { 0.0 };
        };
        // Bit length of the quotient, and its top 64 bits with everything below as "sticky".
        let bit_length = 32 * top_digit as u32 + (32 - quotient[top_digit].leading_zeros());
        let (top64, mut sticky) = top_bits(&quotient, bit_length);
        sticky |= rest_nonzero || remainder != 0;
        // quotient ~ top64 * 2^(low_exp), in units of 2^-1074 shifted by the extra 128 bits.
        let low_exp = bit_length as i32 - 64 - POINT as i32 - 32 * QUOTIENT_SHIFT_DIGITS as i32;
        let value = round_to_format(top64, sticky, low_exp, format);
        if negative { -value } else { value }
    }
}

/// A value rounded to binary16's precision, as binary16 holds it: beyond its largest finite
/// value (65504), an infinity (`round_to_format` knows precisions, not exponent ranges).
fn saturate_binary16(value: f64) -> f64 {
    if value.abs() > 65504.0 { value.signum() * f64::INFINITY } else { value }
}

/// CRC-32 of `bytes` (the IEEE 802.3 polynomial, reflected, as zlib's `crc32`): it detects
/// every error burst of up to 32 bits, so every flipped bit. Bitwise: a state is 600 bytes.
fn crc32(bytes: &[u8]) -> u32 {
    // Slicing by 8: eight table lookups per 8 bytes (~1 cycle per byte, against ~8 for a bit
    // at a time); reduction states are checked by the thousand (`mean_states_merge`).
    let mut crc = !0u32;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let low = crc ^ u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        crc = CRC_TABLES[7][(low & 0xff) as usize]
            ^ CRC_TABLES[6][((low >> 8) & 0xff) as usize]
            ^ CRC_TABLES[5][((low >> 16) & 0xff) as usize]
            ^ CRC_TABLES[4][(low >> 24) as usize]
            ^ CRC_TABLES[3][word[4] as usize]
            ^ CRC_TABLES[2][word[5] as usize]
            ^ CRC_TABLES[1][word[6] as usize]
            ^ CRC_TABLES[0][word[7] as usize];
    }
    for &byte in words.remainder() {
        crc = (crc >> 8) ^ CRC_TABLES[0][((crc ^ u32::from(byte)) & 0xff) as usize];
    }
    !crc
}

/// `CRC_TABLES[k][b]`: the CRC register after byte `b` followed by `k` zero bytes.
static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            bit += 1;
        }
        tables[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let previous = tables[k - 1][b];
            tables[k][b] = (previous >> 8) ^ tables[0][(previous & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    tables
}

/// NaN and infinities seen, kept apart from the digits.
#[derive(Default)]
struct Specials {
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

/// Adds `x` exactly to `digits` (fewer than 2^30 adds since the last carry), or records it in
/// `specials` if it is NaN or infinite. Branch-free but for special values.
#[inline(always)]
fn add_to_digits(digits: &mut [i64; LIMBS], x: f64, specials: &mut Specials) {
    add_to_digits_shifted(digits, x, 0, specials);
}

/// [`add_to_digits`] of `x * 2^shift`, for `shift <= 64` (the headroom above 2^1024).
#[inline(always)]
fn add_to_digits_shifted(digits: &mut [i64; LIMBS], x: f64, shift: u32, specials: &mut Specials) {
    let bits = x.to_bits();
    let biased_exp = ((bits >> 52) & 0x7ff) as u32;
    if biased_exp == 0x7ff {
        mark_special(x, specials);
        return;
    }
    let fraction = bits & ((1 << 52) - 1);
    // Subnormals (biased_exp == 0) have no hidden bit and the exponent of biased_exp 1.
    let is_normal = u64::from(biased_exp != 0);
    let mantissa = fraction | (is_normal << 52);
    let lsb_position = biased_exp - is_normal as u32 + shift;
    let index = (lsb_position / 32) as usize;
    let shift = lsb_position % 32;
    // mantissa << shift spans at most 85 bits: three 32-bit pieces.
    let low = mantissa << shift;
    let high = (mantissa >> 1) >> (63 - shift);
    // Negation without a branch: (c ^ s) - s is c for s = 0 and -c for s = -1.
    let sign = -((bits >> 63) as i64);
    let pieces = [(low & 0xffff_ffff) as i64, (low >> 32) as i64, high as i64];
    for (digit, piece) in digits[index..index + 3].iter_mut().zip(pieces) {
        *digit += (piece ^ sign) - sign;
    }
}

#[cold]
fn mark_special(x: f64, specials: &mut Specials) {
    if x.is_nan() {
        specials.nan = true;
    } else if x > 0.0 {
        specials.pos_inf = true;
    } else {
        specials.neg_inf = true;
    }
}

/// Brings every digit but the top one into [0, 2^32), the top digit carrying the sign.
fn carry(digits: &mut [i64; LIMBS]) {
    let mut carry = 0i64;
    for digit in &mut digits[..LIMBS - 1] {
        let value = *digit + carry;
        carry = value >> 32;
        *digit = value & 0xffff_ffff;
    }
    digits[LIMBS - 1] += carry;
}

/// The absolute value of a carried, two's complement digit array, as unsigned 32-bit digits.
fn magnitude_digits(digits: &[i64; LIMBS], negative: bool) -> [u32; LIMBS] {
    let mut out = [0u32; LIMBS];
    if !negative {
        for (o, &d) in out.iter_mut().zip(digits) {
            *o = d as u32;
        }
        return out;
    }
    // Negate: invert every digit and add one.
    let mut carry = 1u64;
    for (o, &d) in out.iter_mut().zip(digits) {
        let value = u64::from(!(d as u32)) + carry;
        *o = value as u32;
        carry = value >> 32;
    }
    out
}

/// The 64 bits of `digits` below bit `bit_length` (which must be >= 64), and whether any bit
/// below those is set.
fn top_bits(digits: &[u32], bit_length: u32) -> (u64, bool) {
    let low = bit_length - 64;
    // Assemble from whole digits: the window [low, low + 64) spans at most three digits.
    let first = (low / 32) as usize;
    let mut window: u128 = 0;
    for k in 0..3 {
        if let Some(&d) = digits.get(first + k) {
            window |= u128::from(d) << (32 * k);
        }
    }
    let top = (window >> (low % 32)) as u64;
    let below_in_first = digits[first] & ((1u32 << (low % 32)).wrapping_sub(1));
    let sticky = below_in_first != 0 || digits[..first].iter().any(|&d| d != 0);
    (top, sticky)
}

/// Rounds `top * 2^low_exp` (plus a little more if `sticky`) to `format`, ties to even.
/// `top` has its highest bit set. Returns the rounded value exactly, as an f64.
fn round_to_format(top: u64, sticky: bool, low_exp: i32, format: Format) -> f64 {
    let lead_exp = low_exp + 63;
    // Exponent of the last kept bit: precision bits below the lead, but never below the
    // subnormal quantum 2^(min_exp - precision + 1).
    let lsb_exp = (lead_exp - format.precision as i32 + 1).max(format.min_exp - format.precision as i32 + 1);
    let shift = lsb_exp - low_exp; // >= 64 - precision > 0
    let (mut mantissa, round_bit, rest_nonzero) = if shift >= 65 {
        (0u64, false, top != 0 || sticky)
    } else if shift == 64 {
        (0u64, top >> 63 != 0, (top << 1) != 0 || sticky)
    } else {
        let shift = shift as u32;
        let kept = top >> shift;
        let round_bit = (top >> (shift - 1)) & 1 != 0;
        let rest = top & ((1u64 << (shift - 1)) - 1);
        (kept, round_bit, rest != 0 || sticky)
    };
    if round_bit && (rest_nonzero || mantissa & 1 == 1) {
        mantissa += 1;
    }
    // mantissa <= 2^precision and lsb_exp >= -1074: mantissa * 2^lsb_exp is an f64 exactly,
    // built in two exact steps (2^lsb_exp alone may be subnormal or overflow).
    scale_exact(mantissa, lsb_exp)
}

/// mantissa * 2^exp for mantissa <= 2^53, exact whenever the result is representable.
fn scale_exact(mantissa: u64, exp: i32) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let m = mantissa as f64;
    if exp >= -1022 {
        // 2^exp is normal (or overflows, and then so does the result).
        m * pow2(exp)
    } else {
        // Scale in two steps so that the intermediate stays normal: m * 2^(exp + 64) is exact
        // and normal-or-subnormal-free, and the final multiply by 2^-64 is exact because the
        // result's bits were chosen to fit the subnormal grid.
        m * pow2(exp + 64) * pow2(-64)
    }
}

/// 2^exp for -1022 <= exp, or infinity above 1023.
fn pow2(exp: i32) -> f64 {
    if exp > 1023 { f64::INFINITY } else { f64::from_bits(((exp + 1023) as u64) << 52) }
}

pub(crate) mod large;

#[cfg(test)]
mod tests {
    use super::*;

    fn mean64(xs: &[f64]) -> f64 {
        let mut s = ExactSum::new();
        s.add_f64s(xs);
        s.mean_f64()
    }

    fn mean32(xs: &[f32]) -> f32 {
        let mut s = ExactSum::new();
        s.add_f32s(xs);
        s.mean_f32()
    }

    #[test]
    fn small_exact_cases() {
        assert_eq!(mean64(&[1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(mean64(&[2f64.powi(100), 1.0, -2f64.powi(100)]), 1.0 / 3.0);
        assert_eq!(mean32(&[2f32.powi(100), 1.0, -2f32.powi(100)]), 1.0f32 / 3.0);
        assert_eq!(mean32(&[3e38, 3e38]), 3e38);
        assert_eq!(mean64(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(mean64(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX / 3.0);
        assert_eq!(mean64(&[0.1, 0.2, 0.3]), 0.2);
        assert_eq!(mean64(&[-1.0, -2.0]), -1.5);
    }

    #[test]
    fn signed_zeros_and_empty() {
        assert!(mean64(&[]).is_nan());
        assert_eq!(mean64(&[0.0, 0.0]).to_bits(), 0.0f64.to_bits());
        assert_eq!(mean64(&[1.0, -1.0]), 0.0);
    }

    #[test]
    fn specials() {
        assert!(mean64(&[1.0, f64::NAN]).is_nan());
        assert!(mean64(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(mean64(&[f64::INFINITY, -f64::MAX, -f64::MAX]), f64::INFINITY);
        assert_eq!(mean32(&[f32::NEG_INFINITY, 1.0]), f32::NEG_INFINITY);
    }

    #[test]
    fn subnormals_round_once() {
        let tiny = f64::from_bits(1); // 2^-1074
        // (1 + 2) * 2^-1074 / 2 = 1.5 quanta: a tie, to even (2 quanta).
        assert_eq!(mean64(&[tiny, 2.0 * tiny]).to_bits(), 2);
        // 1 quantum / 2: a tie between 0 and 1 quantum, to even (0).
        assert_eq!(mean64(&[tiny, 0.0]).to_bits(), 0);
        // 3 quanta / 2 = 1.5: to 2; 5/2 = 2.5: to 2; 7/2 = 3.5: to 4.
        assert_eq!(mean64(&[3.0 * tiny, 0.0]).to_bits(), 2);
        assert_eq!(mean64(&[5.0 * tiny, 0.0]).to_bits(), 2);
        assert_eq!(mean64(&[7.0 * tiny, 0.0]).to_bits(), 4);
        let tiny32 = f32::from_bits(1);
        assert_eq!(mean32(&[tiny32, 2.0 * tiny32]).to_bits(), 2);
        assert_eq!(mean32(&[tiny32, 0.0]).to_bits(), 0);
    }

    #[test]
    fn ties_to_even_in_binary32() {
        // 1 + 2^-24 is halfway between 1 and 1 + 2^-23: mean of (1, 1 + 2^-23) ties to 1.
        let one_ulp = f32::from_bits(1.0f32.to_bits() + 1);
        assert_eq!(mean32(&[1.0, one_ulp]), 1.0);
        // The next pair up ties to the even neighbour above.
        let two_ulp = f32::from_bits(1.0f32.to_bits() + 2);
        assert_eq!(mean32(&[one_ulp, two_ulp]), two_ulp);
        // A hair above the tie rounds up (the hair is 2^-1074, far below f64 resolution).
        let mut s = ExactSum::new();
        s.add_f32s(&[1.0, one_ulp]);
        s.add(f64::from_bits(1));
        s.add(-0.0);
        // Mean of four: (2 + 2^-23 + 2^-1074) / 4 = 0.5 + 2^-25 + a hair, just above the
        // midpoint between 0.5 and its successor 0.5 + 2^-24 (a plain tie would go to 0.5).
        assert_eq!(s.mean_f32(), f32::from_bits(0.5f32.to_bits() + 1));
    }

    #[test]
    fn merge_equals_whole() {
        let xs: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1013) as f64 * 1.37e-3 - 0.4).collect();
        let mut whole = ExactSum::new();
        whole.add_f64s(&xs);
        let (a, b) = xs.split_at(377);
        let mut left = ExactSum::new();
        left.add_f64s(a);
        let mut right = ExactSum::new();
        right.add_f64s(b);
        left.merge(&right).unwrap();
        assert_eq!(left.mean_f64(), whole.mean_f64());
        assert_eq!(left.count(), 1000);
    }

    #[test]
    fn bytes_round_trip_and_reject_corruption() {
        let mut s = ExactSum::new();
        s.add_f64s(&[1e300, -3.5, 2f64.powi(-1070), f64::INFINITY]);
        let bytes = s.to_bytes();
        let back = ExactSum::from_bytes(&bytes).unwrap();
        assert_eq!(back.count(), 4);
        assert_eq!(back.mean_f64(), f64::INFINITY);
        let mut finite = ExactSum::new();
        finite.add_f64s(&[1e300, -3.5, 2f64.powi(-1070)]);
        let back = ExactSum::from_bytes(&finite.to_bytes()).unwrap();
        assert_eq!(back.mean_f64(), finite.mean_f64());
        assert!(ExactSum::from_bytes(&bytes[1..]).is_none());
        let mut bad = bytes;
        bad[0] = b'X';
        assert!(ExactSum::from_bytes(&bad).is_none());
        // Fields no state can hold, under a correct checksum: still refused.
        let with_crc = |mut bytes: [u8; SERIALIZED_LEN]| {
            let crc = crc32(&bytes[..CRC_AT]);
            bytes[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
            bytes
        };
        assert!(ExactSum::from_bytes(&with_crc(bytes)).is_some());
        let mut bad = bytes;
        bad[DIGITS_AT + 8 * 3 + 7] = 0x7f; // a low digit far out of range
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
        let mut bad = bytes;
        bad[12] = 0xff; // unknown flags
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
        let mut bad = bytes;
        bad[8] = 1; // another format version
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
        let mut bad = finite.to_bytes();
        bad[CRC_AT - 8] = 1; // top digit 1: no sum of 3 values below 2^1024 reaches it
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
        let mut bad = finite.to_bytes();
        bad[CRC_AT - 16 + 4] = 1; // 2^(32 * 69 + 32 - 1074) = 2^1166: too large for 3 values
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
        let mut bad = bytes;
        bad[16..24].fill(0); // a count of 0 with values
        assert!(ExactSum::from_bytes(&with_crc(bad)).is_none());
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let mut s = ExactSum::new();
        s.add_f64s(&[1e300, -3.5, 2f64.powi(-1070), 0.1]);
        let bytes = s.to_bytes();
        for bit in 0..8 * SERIALIZED_LEN {
            let mut flipped = bytes;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(ExactSum::from_bytes(&flipped).is_none(), "bit {bit}");
        }
    }

    #[test]
    fn crc32_is_zlibs() {
        // The standard check value: zlib.crc32(b"123456789") == 0xCBF43926.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // The table-driven loop against the definition, bit by bit, at every length mod 8.
        let bitwise = |bytes: &[u8]| {
            let mut crc = !0u32;
            for &byte in bytes {
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        };
        let data: Vec<u8> = (0..700u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(crc32(&data[..len]), bitwise(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn merging_past_the_count_limit_is_refused() {
        let mut s = ExactSum::new();
        s.add_f64s(&[1e300]);
        for doubling in 1..64 {
            let copy = s.clone();
            assert_eq!(s.merge(&copy), Ok(()), "doubling {doubling}");
            assert_eq!(s.count(), 1 << doubling);
            assert_eq!(s.mean_f64(), 1e300);
        }
        // 2^63 values: one more doubling would pass u64::MAX.
        let before = s.clone();
        let copy = s.clone();
        assert_eq!(s.merge(&copy), Err(CountOverflow));
        assert_eq!(s, before);
        assert!(!s.has_room_for(1 << 63));
        assert!(s.has_room_for((1 << 63) - 1));
        // The largest sum the count allows round-trips through bytes.
        let back = ExactSum::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.mean_f64(), 1e300);
        assert_eq!(back.sum_f64(), f64::INFINITY);
        let mut negative = ExactSum::new();
        negative.add_f64s(&[-f64::MAX]);
        for _ in 1..64 {
            let copy = negative.clone();
            negative.merge(&copy).unwrap();
        }
        let back = ExactSum::from_bytes(&negative.to_bytes()).unwrap();
        assert_eq!(back.mean_f64(), -f64::MAX);
    }

    #[test]
    fn sum_matches_integer_arithmetic() {
        // Integers below 2^53 add exactly in i128, so the correctly rounded mean is checkable.
        let xs: Vec<f64> = (0..500).map(|i| ((i * 104_729) % 1_000_003) as f64 - 500_000.0).collect();
        let total: i128 = xs.iter().map(|&x| x as i128).sum();
        assert_eq!(ExactSum::new().sum_f64(), 0.0);
        let mut s = ExactSum::new();
        s.add_f64s(&xs);
        assert_eq!(s.sum_f64(), total as f64);
    }
}
