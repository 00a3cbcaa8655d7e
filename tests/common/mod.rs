//! Helpers shared by the integration tests: test data and ulp distances.
#![allow(dead_code)]

/// A small deterministic generator (xorshift64*), so the tests need no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Roughly normal(0, 1): the sum of four uniforms, centred and scaled.
    pub fn normal(&mut self) -> f64 {
        ((self.unit() + self.unit() + self.unit() + self.unit()) - 2.0) * 3f64.sqrt()
    }

    /// A value with a random sign and an exponent spread over 2^-exp_range..2^exp_range.
    pub fn wide(&mut self, exp_range: i32) -> f64 {
        let e = (self.next_u64() % (2 * exp_range as u64 + 1)) as i32 - exp_range;
        let sign = if self.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
        sign * (1.0 + self.unit()) * 2f64.powi(e)
    }
}

/// The kinds of data every accuracy test runs on.
pub const KINDS: [&str; 5] = ["uniform", "normal", "offset", "mixed_sign", "wide"];

pub fn data_f64(kind: &str, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| match kind {
            "uniform" => rng.unit(),
            "normal" => rng.normal(),
            "offset" => 1e6 + rng.unit(),
            "mixed_sign" => (rng.unit() - 0.5) * 1e3,
            "wide" => rng.wide(60),
            _ => unreachable!("unknown kind {kind}"),
        })
        .collect()
}

pub fn data_f32(kind: &str, n: usize, seed: u64) -> Vec<f32> {
    data_f64(kind, n, seed).into_iter().map(|x| x as f32).collect()
}

/// Distance in ulps between two floats of the same format (0 for equal, including +0 and -0).
pub fn ulps_f64(a: f64, b: f64) -> u64 {
    fn ordered(x: f64) -> i128 {
        let bits = x.to_bits() as i64;
        i128::from(if bits < 0 { i64::MIN - bits } else { bits })
    }
    (ordered(a) - ordered(b)).unsigned_abs() as u64
}

pub fn ulps_f32(a: f32, b: f32) -> u64 {
    fn ordered(x: f32) -> i64 {
        let bits = x.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    }
    (ordered(a) - ordered(b)).unsigned_abs()
}

/// A copy of `values` starting `offset` elements past a 64-byte boundary, so that kernels see
/// every alignment relative to a cache line and a vector register.
pub struct Aligned<T> {
    buffer: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    pub fn new(values: &[T], offset: usize) -> Self {
        let mut buffer = vec![T::default(); values.len() + offset + 64];
        let misalignment = buffer.as_ptr() as usize % 64;
        let to_boundary = ((64 - misalignment) % 64) / size_of::<T>();
        let start = to_boundary + offset;
        buffer[start..start + values.len()].copy_from_slice(values);
        Aligned { buffer, start, len: values.len() }
    }

    pub fn as_slice(&self) -> &[T] {
        &self.buffer[self.start..self.start + self.len]
    }
}
