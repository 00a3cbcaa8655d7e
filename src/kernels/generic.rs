//! The summation algorithms, written once over a vector of f64 lanes ([`F64Lanes`]) and
//! instantiated per instruction set in `x86_64/` (memchr's layout).
//!
//! Both kernels keep `ACCUMULATORS` independent vectors so that adds from different iterations
//! overlap (an add's latency is several cycles; two or more issue per cycle). Heads need no
//! special case (loads are unaligned); the tail is copied into a zero-padded vector, so nothing
//! is read past the end of the slice.

use super::{Level, Order, Partial, certificate, host, mxcsr};

/// A vector of `LANES` f64 values and the operations the kernels need.
///
/// # Safety
/// Every method may only be called on a CPU that has the implementation's instruction set;
/// the `x86_64` entry points guarantee this with `#[target_feature]` and runtime detection.
pub(super) trait F64Lanes: Copy {
    /// f64 lanes in one vector (also the number of f32 values one widening load takes).
    const LANES: usize;
    /// The instruction-set level these vectors belong to (whose certificate they use).
    const LEVEL: Level;

    /// Every lane `x`.
    unsafe fn splat(x: f64) -> Self;
    /// All lanes 0.0.
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { Self::splat(0.0) }
    }
    /// Loads `LANES` f64 from the start of `xs`, which must hold at least that many.
    unsafe fn load(xs: &[f64]) -> Self;
    /// Loads `LANES` f32 from the start of `xs` (at least that many), converting each exactly.
    unsafe fn load_widened(xs: &[f32]) -> Self;
    unsafe fn add(self, other: Self) -> Self;
    unsafe fn sub(self, other: Self) -> Self;
    /// `self + other`, rounded the same way, but issued to the FMA units as
    /// `self * one + other` where the CPU has them (`one` holds 1.0 in every lane): a CPU with
    /// two add pipes and two FMA pipes then runs more of the double-double kernel's adds per
    /// cycle. `one` comes from outside so that the compiler cannot fold the FMA back into an add.
    #[inline(always)]
    unsafe fn add_on_fma(self, other: Self, one: Self) -> Self {
        let _ = one;
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { self.add(other) }
    }
    /// `self - other` on the FMA units where available (see `add_on_fma`).
    #[inline(always)]
    unsafe fn sub_on_fma(self, other: Self, one: Self) -> Self {
        let _ = one;
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { self.sub(other) }
    }
    /// Lane by lane, the larger of |self| and |other| (NaN handling unspecified: callers treat
    /// special values apart).
    unsafe fn abs_max(self, other: Self) -> Self;
    /// Stores the lanes into the start of `out`, which must hold at least `LANES` values.
    unsafe fn store(self, out: &mut [f64]);

    /// The lanes, in an array of the widest vector's size (the rest 0.0).
    #[inline(always)]
    unsafe fn lanes(self) -> [f64; 8] {
        let mut out = [0.0; 8];
        // SAFETY: the caller runs on a CPU with this instruction set; `out` holds 8 >= LANES.
        unsafe { self.store(&mut out) };
        out
    }

    /// |self|, lane by lane (the sign bit cleared).
    unsafe fn abs(self) -> Self;

    /// `self` with its NaN lanes replaced by +0.0, and `one`'s lanes where `self` is not NaN
    /// (0.0 where it is): the value to add and the count to add, when NaNs are left out.
    unsafe fn without_nan(self, one: Self) -> (Self, Self);

    /// Whether [`F64Lanes::add_quiet`] leaves the inexact flag alone.
    const QUIET_ADD: bool = false;
    /// `self + other`, rounded the same way; where `QUIET_ADD`, without touching the inexact
    /// flag (see `mxcsr`).
    #[inline(always)]
    unsafe fn add_quiet(self, other: Self) -> Self {
        // SAFETY: the caller runs on a CPU with this instruction set.
        unsafe { self.add(other) }
    }
}

/// Independent accumulator vectors.
const ACCUMULATORS: usize = 8;

/// Bytes ahead of the loads that the kernels ask the CPU to fetch, on hosts where that helps
/// (`host::software_prefetch`).
const PREFETCH_BYTES: usize = 8192;

/// Asks for the cache lines `PREFETCH_BYTES` after the start of `chunk` (one per 64 bytes of
/// `chunk`), if `enabled`. A prefetch never faults, so addresses past the end of the slice are
/// harmless; the pointer is only computed, never read.
#[inline(always)]
pub(crate) fn prefetch_ahead<T>(chunk: &[T], enabled: bool) {
    if enabled {
        prefetch_lines(chunk.as_ptr().cast::<u8>().wrapping_add(PREFETCH_BYTES), size_of_val(chunk));
    }
}

/// Asks for every cache line of `xs` (one hint per 64 bytes): for memory the caller reads
/// soon, where the hardware's prefetchers do not see it coming.
#[inline(always)]
pub(crate) fn prefetch<T>(xs: &[T]) {
    prefetch_lines(xs.as_ptr().cast::<u8>(), size_of_val(xs));
}

/// Asks for the cache lines of `bytes` bytes from `start` (one hint per 64): a hint, never a read.
#[inline(always)]
pub(crate) fn prefetch_lines(start: *const u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..bytes).step_by(64) {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: _mm_prefetch is a hint: it reads nothing architecturally and cannot fault,
        // whatever the address (SSE is part of x86_64); the pointer is only computed.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, bytes);
}
/// Iterations (one load per accumulator each) in a block of the f32 kernel: each lane adds at
/// most `FOLD_EVERY + 1` values in plain f64 before the block's sums are certified and folded.
const FOLD_EVERY: usize = 256;

/// What the kernels read: f32 values (widened to f64, exactly) or f64 values.
pub(super) trait Input: Copy + Default {
    /// `V::LANES` values from the start of `xs` (which holds at least that many) as f64 lanes.
    ///
    /// # Safety
    /// The CPU must have V's instruction set.
    unsafe fn load<V: F64Lanes>(xs: &[Self]) -> V;
}

impl Input for f32 {
    #[inline(always)]
    unsafe fn load<V: F64Lanes>(xs: &[f32]) -> V {
        // SAFETY: the caller runs on a CPU with V's instruction set; xs is long enough.
        unsafe { V::load_widened(xs) }
    }
}

impl Input for f64 {
    #[inline(always)]
    unsafe fn load<V: F64Lanes>(xs: &[f64]) -> V {
        // SAFETY: the caller runs on a CPU with V's instruction set; xs is long enough.
        unsafe { V::load(xs) }
    }
}

/// The last `tail.len() < V::LANES` values, zero-padded to a whole vector (nothing is read past
/// the end of the slice).
#[inline(always)]
unsafe fn load_padded<V: F64Lanes, T: Input>(tail: &[T]) -> V {
    let mut padded = [T::default(); 16];
    padded[..tail.len()].copy_from_slice(tail);
    // SAFETY: the caller runs on a CPU with V's instruction set; padded holds 16 >= LANES.
    unsafe { T::load(&padded) }
}

/// `N` vectors from `memory` (8 f64 apart, the widest vector's size).
///
/// Plain loops here and below, not closures: a closure handed to a library function (array
/// `from_fn`, iterator `fold`) may be compiled outside the caller's `target_feature`, and its
/// intrinsics become calls (measured: a 10x slower f64 kernel).
///
/// # Safety
/// The CPU must have V's instruction set; `memory` holds at least `8 * N` values.
#[inline(always)]
unsafe fn load_all<V: F64Lanes, const N: usize>(memory: &[f64]) -> [V; N] {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    let mut out = [unsafe { V::zero() }; N];
    for (k, v) in out.iter_mut().enumerate() {
        // SAFETY: as above; memory[8k..] holds at least 8 >= LANES values.
        *v = unsafe { V::load(&memory[8 * k..]) };
    }
    out
}

/// `a + b` and its rounding error, lane by lane (Knuth's TwoSum); `one` is 1.0 in every lane.
#[inline(always)]
unsafe fn two_sum<V: F64Lanes>(a: V, b: V, one: V) -> (V, V) {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe {
        let s = a.add(b);
        let b_virtual = s.sub_on_fma(a, one);
        let a_virtual = s.sub_on_fma(b_virtual, one);
        (s, a.sub(a_virtual).add(b.sub_on_fma(b_virtual, one)))
    }
}

/// 1.0 in every lane, opaque to the optimiser (see `F64Lanes::add_on_fma`).
#[inline(always)]
unsafe fn opaque_one<V: F64Lanes>() -> V {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe { V::splat(core::hint::black_box(1.0)) }
}

/// The sum of a short run of f64 or f32 values (one cell of an axis reduction) with an error bound:
/// no blocks, no certificate, nothing to set up. Two vectors of lanes keep TwoSum's high parts;
/// the low parts add plainly, each add erring by at most u times its result, and the
/// magnitudes of those results add up to the bound. What is left after whole vectors goes
/// through [`Partial`] one value at a time.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn run_sum<V: F64Lanes, T: Input>(xs: &[T]) -> Partial
where
    f64: From<T>,
{
    // SAFETY (every block below): the caller runs on a CPU with V's instruction set, and each
    // load reads LANES values inside a chunk of 2 * LANES.
    let one = unsafe { opaque_one::<V>() };
    let zero = unsafe { V::zero() };
    let (mut hi, mut lo, mut bound) = ([zero; 2], [zero; 2], [zero; 2]);
    let mut chunks = xs.chunks_exact(2 * V::LANES);
    for chunk in chunks.by_ref() {
        for k in 0..2 {
            unsafe {
                let (sum, err) = two_sum(hi[k], T::load::<V>(&chunk[k * V::LANES..]), one);
                hi[k] = sum;
                lo[k] = lo[k].add(err);
                bound[k] = bound[k].add(lo[k].abs());
            }
        }
    }
    // The fold: the two vectors merged lane by lane, then the lanes pairwise (a tree: a running
    // sum would chain every lane's TwoSum after the last, which costs short runs more than
    // their loop), then the remainder one value at a time. Each merge is a TwoSum of the high
    // parts, the low parts and its error added plainly, those adds' results in the bound.
    let (mut h, mut l, mut b) = unsafe {
        let (sum, err) = two_sum(hi[0], hi[1], one);
        let low = lo[0].add(lo[1]);
        let merged = low.add(err);
        let bound = bound[0].add(bound[1]).add(low.abs()).add(merged.abs());
        (sum.lanes(), merged.lanes(), bound.lanes())
    };
    let mut width = h.len(); // (lanes past V::LANES hold zeros: merging them is exact)
    while width > 1 {
        width /= 2;
        for j in 0..width {
            let (sum, err) = crate::kernels::two_sum(h[j], h[j + width]);
            let low = l[j] + l[j + width];
            let merged = low + err;
            b[j] = b[j] + b[j + width] + low.abs() + merged.abs();
            (h[j], l[j]) = (sum, merged);
        }
    }
    let (mut hi, mut lo, mut bound) = (h[0], l[0], b[0]);
    for &x in chunks.remainder() {
        let (sum, err) = crate::kernels::two_sum(hi, f64::from(x));
        hi = sum;
        lo += err;
        bound += lo.abs();
    }
    Partial { sum: crate::kernels::DoubleDouble { hi, lo }, error: bound * crate::kernels::UNIT_ROUNDOFF }
}

/// [`run_sum`] leaving NaNs out: each NaN adds +0.0 instead (exactly nothing), and the values
/// that are not NaN are counted (in f64 lanes: exact far beyond any slice's length). Returns
/// the sum and that count.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn run_sum_skipping_nan<V: F64Lanes, T: Input>(xs: &[T]) -> (Partial, u64)
where
    f64: From<T>,
{
    // SAFETY (every block below): as in `run_sum`.
    let one = unsafe { opaque_one::<V>() };
    let zero = unsafe { V::zero() };
    let (mut hi, mut lo, mut bound, mut counted) = ([zero; 2], [zero; 2], [zero; 2], [zero; 2]);
    // Long stretches of a whole array come here too: prefetched as the whole-array kernels.
    let prefetch = host::software_prefetch();
    let mut chunks = xs.chunks_exact(2 * V::LANES);
    for chunk in chunks.by_ref() {
        prefetch_ahead(chunk, prefetch);
        for k in 0..2 {
            unsafe {
                let (x, count) = T::load::<V>(&chunk[k * V::LANES..]).without_nan(one);
                let (sum, err) = two_sum(hi[k], x, one);
                hi[k] = sum;
                lo[k] = lo[k].add(err);
                bound[k] = bound[k].add(lo[k].abs());
                counted[k] = counted[k].add(count);
            }
        }
    }
    let mut total = Partial::ZERO;
    let (mut bounds, mut count) = (0.0, 0.0);
    for k in 0..2 {
        let (his, los, bs, cs) = unsafe { (hi[k].lanes(), lo[k].lanes(), bound[k].lanes(), counted[k].lanes()) };
        for j in 0..V::LANES {
            total = total.add_f64(his[j]).add_to_lo(los[j]);
            bounds += bs[j];
            count += cs[j];
        }
    }
    total.error += bounds * crate::kernels::UNIT_ROUNDOFF;
    let mut count = count as i64 as u64;
    for &x in chunks.remainder() {
        let x = f64::from(x);
        if !x.is_nan() {
            total = total.add_f64(x);
            count += 1;
        }
    }
    (total, count)
}

/// The sum of a short run of values in plain f64 (four vectors of lanes, the tail, the lanes'
/// fold), and how many were added: with `SKIP_NAN`, each NaN adds +0.0 instead and is not
/// counted (the count, integer adds in f64, is exact). For sums certified by the inexact flag
/// around it ([`certified_run`], `kernels::CertifiedColumns`): only the adds of the sum can
/// round.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn plain_run<V: F64Lanes, T: Input, const SKIP_NAN: bool>(xs: &[T]) -> (f64, u64)
where
    f64: From<T>,
{
    const VECTORS: usize = 4;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements (a chunk holds VECTORS * LANES).
    unsafe {
        let one = opaque_one::<V>();
        let mut acc = [V::zero(); VECTORS];
        let mut counted = [V::zero(); VECTORS];
        let prefetch = host::software_prefetch();
        let mut chunks = xs.chunks_exact(VECTORS * V::LANES);
        for chunk in &mut chunks {
            prefetch_ahead(chunk, prefetch);
            for k in 0..VECTORS {
                let x = T::load::<V>(&chunk[k * V::LANES..]);
                if SKIP_NAN {
                    let (x, count) = x.without_nan(one);
                    acc[k] = acc[k].add(x);
                    counted[k] = counted[k].add(count);
                } else {
                    acc[k] = acc[k].add(x);
                }
            }
        }
        let (mut tail, mut tail_count) = (0.0, 0u64);
        for &x in chunks.remainder() {
            let x = f64::from(x);
            if !(SKIP_NAN && x.is_nan()) {
                tail += x;
                tail_count += 1;
            }
        }
        let folded = acc[0].add(acc[1]).add(acc[2].add(acc[3])).lanes();
        let sum = folded[..V::LANES].iter().fold(tail, |total, &lane| total + lane);
        let count = if SKIP_NAN {
            let counts = counted[0].add(counted[1]).add(counted[2].add(counted[3])).lanes();
            // Through i64: f64 -> u64 has no instruction below AVX-512, and its emulation
            // subtracts 2^63, which rounds and would fail the certificate around this sum
            // (f64 -> i64 of an integer value is exact).
            counts[..V::LANES].iter().sum::<f64>() as i64 as u64 + tail_count
        } else {
            xs.len() as u64
        };
        (sum, count)
    }
}

/// The exact sum of a short run of values if plain f64 adds get it exactly ([`plain_run`]
/// between clearing the inexact flag and reading it, see `mxcsr`), and how many were added
/// (with `SKIP_NAN`: those that are not NaN, each NaN adding +0.0). `None` if any add rounded.
/// For values of few significant bits (float32, float16 decoded to f64), whose sums rarely
/// round, this costs one add per value where [`run_sum`] costs a TwoSum. The caller must know
/// the flag is kept (`certificate::trusted`).
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn certified_run<V: F64Lanes, T: Input, const SKIP_NAN: bool>(xs: &[T]) -> Option<(f64, u64)>
where
    f64: From<T>,
{
    // The sum ends in memory the flag's asm blocks see (see `mxcsr`); the values are loaded
    // after the clear (the asm may write any memory).
    let mut window = [0.0f64; 1];
    mxcsr::clear_inexact(&mut window);
    // SAFETY: the caller guarantees V's instruction set.
    let (sum, count) = unsafe { plain_run::<V, T, SKIP_NAN>(xs) };
    window[0] = sum;
    (!mxcsr::rounded_since_clear(&window)).then_some((window[0], count))
}

/// `hi[j] += row[j]` in plain f64 for each of `rows` in turn, for column sums certified by the
/// inexact flag around a whole tile of rows (`kernels::CertifiedColumns`), asking for the
/// memory `ahead` bytes past each row's values as it goes (none if 0; see [`add_rows`]).
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn add_rows_plain<V: F64Lanes, T: Input, const R: usize>(
    hi: &mut [f64],
    rows: [&[T]; R],
    ahead: isize,
) where
    f64: From<T>,
{
    let n = rows.first().map_or(0, |row| row.len());
    assert!(rows.iter().all(|row| row.len() == n));
    let hi = &mut hi[..n];
    let whole = n / V::LANES * V::LANES;
    for j in (0..whole).step_by(V::LANES) {
        ask_ahead(&rows, j, ahead);
        // SAFETY: V's instruction set (the caller); j + LANES <= n for every slice.
        unsafe {
            let mut sum = V::load(&hi[j..]);
            for row in rows {
                sum = sum.add(T::load::<V>(&row[j..]));
            }
            sum.store(&mut hi[j..]);
        }
    }
    for j in whole..n {
        for row in rows {
            hi[j] += f64::from(row[j]);
        }
    }
}

/// [`add_rows_plain`] of one row, leaving NaNs out: a NaN adds +0.0, and `counted[j]` grows by one for each
/// `row[j]` that is not NaN.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn add_row_plain_skipping_nan<V: F64Lanes, T: Input>(hi: &mut [f64], counted: &mut [f64], row: &[T])
where
    f64: From<T>,
{
    let n = row.len();
    let (hi, counted) = (&mut hi[..n], &mut counted[..n]);
    // SAFETY: the caller runs on a CPU with V's instruction set.
    let one = unsafe { opaque_one::<V>() };
    let whole = n / V::LANES * V::LANES;
    for j in (0..whole).step_by(V::LANES) {
        // SAFETY: V's instruction set (the caller); j + LANES <= n for every slice.
        unsafe {
            let (x, count) = T::load::<V>(&row[j..]).without_nan(one);
            V::load(&hi[j..]).add(x).store(&mut hi[j..]);
            V::load(&counted[j..]).add(count).store(&mut counted[j..]);
        }
    }
    for j in whole..n {
        let x = f64::from(row[j]);
        if !x.is_nan() {
            hi[j] += x;
            counted[j] += 1.0;
        }
    }
}

/// Asks for the memory `ahead` bytes past value `j` of each of `rows` (none if 0), once per 64
/// bytes of the rows: the column kernels' hints, a hint per row per cache line.
#[inline(always)]
fn ask_ahead<T, const R: usize>(rows: &[&[T]; R], j: usize, ahead: isize) {
    if ahead != 0 && (j * size_of::<T>()).is_multiple_of(64) {
        for row in rows {
            prefetch_lines(row[j..].as_ptr().cast::<u8>().wrapping_offset(ahead), 1);
        }
    }
}

/// Adds `R` rows of a reduction down columns (an outer axis), one after the other, into
/// per-column double-double lanes: for each row, `hi[j], lo[j] += row[j]` by TwoSum into `hi`,
/// the error added plainly to `lo`, and `|lo[j]|` after the add into `bound[j]` (each plain add
/// errs by at most u times it). The rows are as long as each other; the three arrays hold at
/// least that many values and stay in cache across rows. Several rows per pass load and store
/// the lanes once for all of them, and read the rows as that many streams at once.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn add_rows<V: F64Lanes, T: Input, const R: usize>(
    hi: &mut [f64],
    lo: &mut [f64],
    bound: &mut [f64],
    rows: [&[T]; R],
    ahead: isize,
) where
    f64: From<T>,
{
    let n = rows.first().map_or(0, |row| row.len());
    assert!(rows.iter().all(|row| row.len() == n));
    let (hi, lo, bound) = (&mut hi[..n], &mut lo[..n], &mut bound[..n]);
    // SAFETY: the caller runs on a CPU with V's instruction set.
    let one = unsafe { opaque_one::<V>() };
    let whole = n / V::LANES * V::LANES;
    for j in (0..whole).step_by(V::LANES) {
        ask_ahead(&rows, j, ahead);
        // SAFETY: V's instruction set (the caller); j + LANES <= n for every slice.
        unsafe {
            let (mut sum, mut low, mut bounds) = (V::load(&hi[j..]), V::load(&lo[j..]), V::load(&bound[j..]));
            for row in rows {
                let err;
                (sum, err) = two_sum(sum, T::load::<V>(&row[j..]), one);
                low = low.add(err);
                bounds = bounds.add(low.abs());
            }
            sum.store(&mut hi[j..]);
            low.store(&mut lo[j..]);
            bounds.store(&mut bound[j..]);
        }
    }
    for j in whole..n {
        for row in rows {
            let (sum, err) = crate::kernels::two_sum(hi[j], f64::from(row[j]));
            hi[j] = sum;
            lo[j] += err;
            bound[j] += lo[j].abs();
        }
    }
}

/// [`add_row`] leaving NaNs out: a NaN adds +0.0 to its column, and `counted[j]` (a count in
/// f64) grows by one for each `row[j]` that is not NaN.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(crate) unsafe fn add_row_skipping_nan<V: F64Lanes, T: Input>(
    hi: &mut [f64],
    lo: &mut [f64],
    bound: &mut [f64],
    counted: &mut [f64],
    row: &[T],
) where
    f64: From<T>,
{
    let n = row.len();
    let (hi, lo, bound, counted) = (&mut hi[..n], &mut lo[..n], &mut bound[..n], &mut counted[..n]);
    // SAFETY: the caller runs on a CPU with V's instruction set.
    let one = unsafe { opaque_one::<V>() };
    let whole = n / V::LANES * V::LANES;
    for j in (0..whole).step_by(V::LANES) {
        // SAFETY: V's instruction set (the caller); j + LANES <= n for every slice.
        unsafe {
            let (x, count) = T::load::<V>(&row[j..]).without_nan(one);
            let (sum, err) = two_sum(V::load(&hi[j..]), x, one);
            let low = V::load(&lo[j..]).add(err);
            sum.store(&mut hi[j..]);
            low.store(&mut lo[j..]);
            V::load(&bound[j..]).add(low.abs()).store(&mut bound[j..]);
            V::load(&counted[j..]).add(count).store(&mut counted[j..]);
        }
    }
    for j in whole..n {
        let x = f64::from(row[j]);
        let (x, count) = if x.is_nan() { (0.0, 0.0) } else { (x, 1.0) };
        let (sum, err) = crate::kernels::two_sum(hi[j], x);
        hi[j] = sum;
        lo[j] += err;
        bound[j] += lo[j].abs();
        counted[j] += count;
    }
}

/// A double-double per lane, and the sum of the magnitudes of its low parts' rounding errors,
/// each computed exactly with TwoSum: zero as long as every low-part add was exact, which is
/// what lets the rounding test settle exact ties without the exact path.
#[derive(Clone, Copy)]
struct LaneSums<V> {
    hi: V,
    lo: V,
    lo_errors: V,
}

impl<V: F64Lanes> LaneSums<V> {
    #[inline(always)]
    unsafe fn new() -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe { LaneSums { hi: V::zero(), lo: V::zero(), lo_errors: V::zero() } }
    }

    /// Adds `x` with TwoSum.
    #[inline(always)]
    unsafe fn add(self, x: V, one: V) -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe {
            let (hi, err) = two_sum(self.hi, x, one);
            LaneSums { hi, ..self }.add_to_lo(err, one)
        }
    }

    /// Adds `x` (small next to the sum) to the low part alone.
    #[inline(always)]
    unsafe fn add_to_lo(self, x: V, one: V) -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe {
            let (lo, err) = two_sum(self.lo, x, one);
            LaneSums { lo, lo_errors: self.lo_errors.add(err.abs()), ..self }
        }
    }

    /// Adds another lane set's sums and errors.
    #[inline(always)]
    unsafe fn merge(self, other: Self, one: V) -> Self {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        unsafe {
            let merged = self.add(other.hi, one).add_to_lo(other.lo, one);
            LaneSums { lo_errors: merged.lo_errors.add(other.lo_errors), ..merged }
        }
    }

    /// The lanes added up, with the error bound of everything so far (`extra_error` included).
    #[inline(always)]
    unsafe fn finish(self, extra_error: f64) -> Partial {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        let (his, los, errors) = unsafe { (self.hi.lanes(), self.lo.lanes(), self.lo_errors.lanes()) };
        let mut total = his[..V::LANES].iter().fold(Partial::ZERO, |t, &h| t.add_f64(h));
        total = los[..V::LANES].iter().fold(total, |t, &l| t.add_to_lo(l));
        total.error += errors[..V::LANES].iter().sum::<f64>() + extra_error;
        total
    }
}

/// Sum of f32 values: exact conversions, plain f64 adds in `ACCUMULATORS` vectors of lanes,
/// certified exact block by block, folded into double-double lanes.
///
/// ```text
/// for each block of FOLD_EVERY iterations:
///     clear the inexact flag; add the block in plain f64 lanes
///     flag still clear -> every add was exact: fold the lane sums (TwoSum) into the total
///     else             -> hand the block to `exact_blocks` if given (an exact accumulator),
///                         else redo it as the f64 kernel does (exact adds, see `sum_f64`)
/// ```
///
/// A lane's values are f32 (24-bit significands); its sum rounds only when a value some 2^29
/// times smaller than the sum arrives: for normal(0, 1) data a value below ~2^-25, in about
/// one block in 2,500. So the certificate almost always holds, and the
/// pass costs only what reading, converting and adding cost (no per-value bookkeeping: a
/// running max or sum of squares costs 20-30% in cache, measured). Without the flag (not
/// x86_64, or where its self-test failed: `certificate`) every block takes the exact-add path.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn sum_f32<V: F64Lanes>(xs: &[f32], order: Order, mut exact_blocks: ExactBlocks<f32>) -> Partial {
    let block_len = V::LANES * ACCUMULATORS * FOLD_EVERY;
    let (head, xs) = split_at_cache_line(xs);
    // SAFETY (whole body): the caller guarantees V's instruction set.
    unsafe {
        let one = opaque_one::<V>();
        let mut total = LaneSums::<V>::new();
        let certified = certificate::trusted(V::LEVEL);
        let prefetch = host::software_prefetch();
        let mut redo = ExactAddBlocks::new(xs, certified);
        // After a block whose plain sums rounded, the next few go straight to exact adds: data
        // that keeps rounding (wide magnitudes) then wastes a plain pass on one block in 17.
        let mut exact_add_blocks_due = 0usize;
        let mut sent_exact = false;
        for block in blocks(xs, block_len, order) {
            if certified && exact_add_blocks_due == 0 {
                if let Some(sums) = certified_plain_block::<V>(block, one, prefetch) {
                    for sum in sums {
                        total = total.add(sum, one);
                    }
                    continue;
                }
                exact_add_blocks_due = CHECKED_RUN + 1;
            }
            exact_add_blocks_due = exact_add_blocks_due.saturating_sub(1);
            if let Some(add_exactly) = exact_blocks.as_deref_mut() {
                add_exactly(block);
                sent_exact = true;
                continue;
            }
            for part in block.chunks(ExactAddBlocks::len::<V>()) {
                match redo.add(total, part, one) {
                    BlockSum::Added(next) => total = next,
                    // (only with `send_rounded`, never set here)
                    BlockSum::Rounded | BlockSum::Failed => return Partial::NAN,
                }
            }
        }
        add_head(total.finish(redo.error), head, exact_blocks, sent_exact)
    }
}

/// The values before the first 64-byte boundary added to `total`; but once blocks went to the
/// exact accumulator, the head goes there too: folded into the double-double its adds could
/// round, and a nonzero bound would then cost a second, exact pass over everything (data whose
/// every block fails the certificate).
fn add_head<T: Copy + Into<f64>>(
    total: Partial,
    head: &[T],
    exact_blocks: ExactBlocks<T>,
    sent_exact: bool,
) -> Partial {
    if let Some(add_exactly) = exact_blocks
        && sent_exact
        && !head.is_empty()
    {
        add_exactly(head);
        return total;
    }
    head.iter().fold(total, |t, &x| t.add_f64(x.into()))
}

/// `xs` split where its first 64-byte boundary falls: the vector loads of the rest then never
/// straddle two cache lines (numpy's arrays are 16-byte aligned; measured: f64 kernel 3-6%
/// faster from L2 on aligned data). The head, at most 15 values, is added with TwoSum.
fn split_at_cache_line<T>(xs: &[T]) -> (&[T], &[T]) {
    // An aligned slice's address and 64 are multiples of size_of::<T>().
    let to_boundary = (64 - xs.as_ptr() as usize % 64) % 64 / size_of::<T>();
    xs.split_at(to_boundary.min(xs.len()))
}

/// `xs.chunks(len)` visited in `order`: the same blocks (the first starts where `xs` does, on a
/// cache-line boundary), first to last or last to first.
fn blocks<T>(xs: &[T], len: usize, order: Order) -> Blocks<'_, T> {
    Blocks { chunks: xs.chunks(len), backward: order == Order::Backward }
}

struct Blocks<'a, T> {
    chunks: core::slice::Chunks<'a, T>,
    backward: bool,
}

impl<'a, T> Iterator for Blocks<'a, T> {
    type Item = &'a [T];

    #[inline(always)]
    fn next(&mut self) -> Option<&'a [T]> {
        if self.backward { self.chunks.next_back() } else { self.chunks.next() }
    }
}

/// Where a kernel may send the blocks it cannot certify: an exact accumulator's add.
pub(super) type ExactBlocks<'a, T> = Option<&'a mut dyn FnMut(&[T])>;

/// One block of the f32 kernel in plain f64 lanes, returned only if no add rounded.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
unsafe fn certified_plain_block<V: F64Lanes>(block: &[f32], one: V, prefetch: bool) -> Option<[V; ACCUMULATORS + 1]> {
    let step = V::LANES * ACCUMULATORS;
    // The accumulators start from, and end in, memory the flag's asm blocks see (see `mxcsr`).
    let mut window = [0.0f64; 8 * (ACCUMULATORS + 1)];
    mxcsr::clear_inexact(&mut window);
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements, as its comment says.
    unsafe {
        let mut acc: [V; ACCUMULATORS + 1] = load_all(&window);
        let mut chunks = block.chunks_exact(step);
        for chunk in &mut chunks {
            prefetch_ahead(chunk, prefetch);
            for k in 0..ACCUMULATORS {
                // chunk has `step` = ACCUMULATORS * LANES elements.
                let x = V::load_widened(&chunk[k * V::LANES..]);
                // On the FMA units: the conversions keep the add pipes busy (measured:
                // 123 -> 155 GB/s from L2 with AVX-512 on the dev machine).
                acc[k] = acc[k].add_on_fma(x, one);
            }
        }
        // Only the last block has a remainder: fewer than ACCUMULATORS whole vectors, then one
        // zero-padded vector, into the extra accumulator.
        let mut vectors = chunks.remainder().chunks_exact(V::LANES);
        for vector in &mut vectors {
            // vector has exactly LANES elements.
            acc[ACCUMULATORS] = acc[ACCUMULATORS].add(V::load_widened(vector));
        }
        if !vectors.remainder().is_empty() {
            acc[ACCUMULATORS] = acc[ACCUMULATORS].add(load_padded(vectors.remainder()));
        }
        for (k, a) in acc.iter().enumerate() {
            a.store(&mut window[8 * k..]);
        }
        (!mxcsr::rounded_since_clear(&window)).then_some(acc)
    }
}

/// The largest lane of any of `vectors` (NaN if any is NaN: the caller then finds the sum
/// non-finite anyway).
#[inline(always)]
unsafe fn largest_lane<V: F64Lanes>(vectors: &[V]) -> f64 {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe {
        let mut combined = V::zero();
        for &v in vectors {
            combined = combined.abs_max(v);
        }
        let lanes = combined.lanes();
        let mut largest = 0.0f64;
        for &lane in &lanes[..V::LANES] {
            // A NaN lane makes the result NaN (f64::max would drop it).
            largest = if lane.is_nan() || largest.is_nan() { f64::NAN } else { largest.max(lane) };
        }
        largest
    }
}

/// Independent accumulators of the exact-add blocks.
const DD_ACCUMULATORS: usize = 8;
/// Vectors each accumulator of an exact-add block adds, between folds.
const F64_BLOCK: usize = 128;
/// Values one lane may add in a block: a whole block, plus the last block's remainder.
const F64_PER_LANE: usize = F64_BLOCK + DD_ACCUMULATORS;
/// How much larger than the previous block's largest |x| the next block's values may be.
const BOUND_SLACK: usize = 256;

/// Sum of f64 values in double-double, with every add exact (up to the rounding of the error
/// terms' own sum, which is certified exact or joins the error bound). See [`ExactAddBlocks`].
///
/// With `exact_blocks`, the first block whose error terms rounded and whose values span more
/// than [`EXTREME_SPAN`] binades goes there instead (while it is in cache), and so does every
/// block after it: such data, if its sum cancels (the bound would not decide it), takes one
/// pass instead of two (see [`spans_extremely`]). Every block after it, because its neighbours are
/// likely as wide, and the double-double lanes' own adds of such blocks round (their bound,
/// ~2^-106 of the partial sums, would then decide nothing either).
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn sum_f64<V: F64Lanes>(xs: &[f64], order: Order, mut exact_blocks: ExactBlocks<f64>) -> Partial {
    let (head, xs) = split_at_cache_line(xs);
    // SAFETY (whole body): the caller guarantees V's instruction set.
    unsafe {
        let one = opaque_one::<V>();
        let mut total = LaneSums::<V>::new();
        let mut redo = ExactAddBlocks::new(xs, certificate::trusted(V::LEVEL));
        redo.send_rounded = redo.certified && exact_blocks.is_some();
        let mut sent_exact = false;
        for block in blocks(xs, ExactAddBlocks::len::<V>(), order) {
            if sent_exact && let Some(add_exactly) = exact_blocks.as_deref_mut() {
                add_exactly(block);
                continue;
            }
            match redo.add(total, block, one) {
                BlockSum::Added(next) => total = next,
                BlockSum::Rounded => {
                    if let Some(add_exactly) = exact_blocks.as_deref_mut() {
                        if total.finish(redo.error).error != 0.0 {
                            // The blocks before are not known exactly (a first block that
                            // broke its guessed bound, say): they go to the exact sum too.
                            add_exactly(read_before(xs, block, order));
                            (total, redo.error) = (LaneSums::new(), 0.0);
                        }
                        add_exactly(block);
                        sent_exact = true;
                    }
                }
                BlockSum::Failed => return Partial::NAN,
            }
        }
        add_head(total.finish(redo.error), head, exact_blocks, sent_exact)
    }
}

/// Binades between the largest and the smallest nonzero values of a block's sample beyond
/// which [`sum_f64`] sends a block whose error terms rounded to the exact accumulator (as the
/// exact path sends blocks of 16 windows or more to the large superaccumulator).
const EXTREME_SPAN: u64 = 256;
/// Values of the sample: the block's first.
const SPAN_SAMPLE: usize = 64;

/// Whether the first [`SPAN_SAMPLE`] values of `block` span more than [`EXTREME_SPAN`]
/// binades (integer operations on the exponent fields: a few per sampled value).
///
/// Such data's bound (~2^-67 of the largest value per block) decides nothing if its sum
/// cancels, and summing it exactly at once costs less than a second pass; data that spans
/// less, lognormal data or ordinary values with rare large ones, is usually decided by the
/// bound, and summing it exactly at once would cost 3× the fast pass (measured: lognormal
/// with sigma 4, 0.30 -> 0.96 ns per value on an Intel Xeon, family 6, model 167).
fn spans_extremely<T: Input + Into<f64>>(block: &[T]) -> bool {
    let (mut lowest, mut highest) = (u64::MAX, 0);
    for &x in block.iter().take(SPAN_SAMPLE) {
        let exponent = x.into().to_bits() >> 52 & 0x7ff;
        if exponent != 0 {
            (lowest, highest) = (lowest.min(exponent), highest.max(exponent));
        }
    }
    highest > lowest.saturating_add(EXTREME_SPAN)
}

/// The values of `xs` that [`blocks`] in `order` visited before `block` (one of its blocks).
fn read_before<'a, T>(xs: &'a [T], block: &[T], order: Order) -> &'a [T] {
    let offset = (block.as_ptr() as usize - xs.as_ptr() as usize) / size_of::<T>();
    match order {
        Order::Forward => &xs[..offset],
        Order::Backward => &xs[offset + block.len()..],
    }
}

/// What [`ExactAddBlocks::add`] did with a block.
enum BlockSum<V> {
    /// The new total.
    Added(LaneSums<V>),
    /// Nothing: its error terms rounded and its values span extremely (or they are too near
    /// overflow for a bias), and `send_rounded` asks for such blocks back.
    Rounded,
    /// Nothing: the sum became infinite or NaN, or the values are so small that their error
    /// terms would be subnormal (the caller's exact path decides then, and the rest of the
    /// pass would be wasted).
    Failed,
}

/// Blocks of values added with every add exact, into double-double lanes.
///
/// TwoSum keeps an add's rounding error in six operations. Within a block this needs three
/// (Dekker's Fast2Sum, exact when the accumulator's exponent is at least the addend's):
///
/// ```text
/// M     := bound on |x| in the block      # the previous block's max, times 2^8 of slack
/// C     := power of two >= 2 * F64_PER_LANE * M
/// acc   := C; err := 0                    # acc stays in [C/2, 3C/2]: its exponent >= any x's
/// for x:  s := acc + x; err += x - (s - acc); acc := s      # acc + err == C + sum, exactly
/// check:  max |x| of the block <= C / (2 F64_PER_LANE), else redo the block with TwoSum
/// fold:   (acc - C) is exact (Sterbenz); add it and err into the double-double total
/// ```
///
/// The running max costs one more operation (AVX-512's `vrangepd`; two elsewhere). The first
/// block's bound comes from its first 64 values. The slack makes broken bounds rare on
/// ordinary data; it costs nothing but a larger error term.
///
/// Error bound of a block: each |x - (s - acc)| <= ulp(s)/2 <= 2^-52 C, so an `err` lane's
/// partial sums stay below F64_PER_LANE * 2^-52 C and its F64_PER_LANE rounded adds lose at
/// most F64_PER_LANE^2 * 2^-105 C < 2^-90 C (F64_PER_LANE = 136); 64 lanes: 2^-84 C. Where the
/// `acc + x` adds can leave the inexact flag alone (AVX-512's suppress-all-exceptions rounding),
/// the flag then tells whether any `err` add rounded: if none did, the block's error is zero.
struct ExactAddBlocks {
    /// Bound on |x| for the next block (see above).
    bound: f64,
    /// Error bound of the blocks added so far.
    error: f64,
    /// Blocks still to run with the bound checked before trying unchecked blocks again.
    checked_blocks_due: usize,
    /// Whether the inexact flag may certify error terms exact (see `certificate`): without it,
    /// every block is checked and its error terms count as rounded.
    certified: bool,
    /// Whether to issue software prefetches (`host::software_prefetch`).
    prefetch: bool,
    /// Whether a block whose error terms rounded is handed back ([`BlockSum::Rounded`])
    /// instead of adding to the error bound.
    send_rounded: bool,
}

impl ExactAddBlocks {
    /// Starts with a bound guessed from the first values of `xs`.
    fn new<T: Input + Into<f64>>(xs: &[T], certified: bool) -> Self {
        let bound = xs.iter().take(64).fold(0.0f64, |m, &x| m.max(x.into().abs()));
        ExactAddBlocks {
            bound,
            error: 0.0,
            checked_blocks_due: 0,
            certified,
            prefetch: host::software_prefetch(),
            send_rounded: false,
        }
    }

    /// Values in one block at level V.
    const fn len<V: F64Lanes>() -> usize {
        V::LANES * DD_ACCUMULATORS * F64_BLOCK
    }

    /// Adds `block` (at most [`Self::len`] values) to `total`: see [`BlockSum`].
    ///
    /// # Safety
    /// The CPU must have V's instruction set.
    #[inline(always)]
    unsafe fn add<V: F64Lanes, T: Input + Into<f64>>(
        &mut self,
        total: LaneSums<V>,
        block: &[T],
        one: V,
    ) -> BlockSum<V> {
        // SAFETY (whole body): the caller guarantees V's instruction set.
        unsafe {
            let bias = bias_for(self.bound);
            if self.bound > 0.0 && bias.is_some_and(|bias| bias < SMALLEST_BIAS) {
                return BlockSum::Failed;
            }
            if bias.is_none() && self.send_rounded {
                return BlockSum::Rounded; // values near overflow (or NaN): sums likely overflow
            }
            if V::QUIET_ADD && self.certified && self.checked_blocks_due == 0 {
                if let Some(bias) = bias
                    && let BiasedBlock::Exact { sums, errors } =
                        biased_block::<V, T, false>(block, bias, one, self.prefetch)
                {
                    return BlockSum::Added(fold_biased(total, sums, errors, one));
                }
                // Values beyond the bound, or error terms that rounded: the block is redone with
                // the bound checked, and so are the next few.
                self.checked_blocks_due = CHECKED_RUN;
            }
            self.checked_blocks_due = self.checked_blocks_due.saturating_sub(1);
            if let Some(bias) = bias
                && let BiasedBlock::Checked { sums, errors, block_max, rounded } =
                    biased_block::<V, T, true>(block, bias, one, self.prefetch)
            {
                self.bound = block_max;
                if block_max <= bias / (2 * F64_PER_LANE) as f64 {
                    if rounded && self.send_rounded && spans_extremely(block) {
                        return BlockSum::Rounded;
                    }
                    if rounded || !self.certified {
                        self.error += bias * (-84f64).exp2();
                    }
                    // sums are in [C/2, 3C/2], so sum - C is exact.
                    let bias_v = V::splat(bias);
                    let mut unbiased = sums;
                    for sum in &mut unbiased {
                        *sum = sum.sub(bias_v);
                    }
                    return BlockSum::Added(fold_biased(total, unbiased, errors, one));
                }
            }
            // A bound too large for a bias (or NaN), or a block that broke its bound.
            let total = two_sum_block(total, block, one);
            if total.hi.lanes().iter().all(|x| x.is_finite()) { BlockSum::Added(total) } else { BlockSum::Failed }
        }
    }
}

/// The smallest bias the fast pass works with. Below it (values below about 2^-977) the error
/// terms, below ulp(bias) = 2^-1012, are subnormal or close: f64 arithmetic with subnormal
/// results takes a microcode assist on Intel cores (measured on a Xeon of family 6, model 167:
/// ~10 ns a value at AVX-512, ~19 at AVX2, for normal values times 10^-300), while the exact
/// path's integer adds take any magnitude at the same cost.
const SMALLEST_BIAS: f64 = f64::from_bits((1023 - 960) << 52);

/// Blocks checked (max tracked) after an unchecked block failed, before trying unchecked again:
/// data that keeps failing (wide exponent ranges) pays for a wasted attempt one block in 17.
const CHECKED_RUN: usize = 16;

/// Adds a biased block's lane sums (bias already removed) and error terms into `total`.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
unsafe fn fold_biased<V: F64Lanes>(
    total: LaneSums<V>,
    sums: [V; DD_ACCUMULATORS],
    errors: [V; DD_ACCUMULATORS],
    one: V,
) -> LaneSums<V> {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    let mut total = total;
    for k in 0..DD_ACCUMULATORS {
        // SAFETY: the caller runs on a CPU with V's instruction set.
        total = unsafe { total.add(sums[k], one).add_to_lo(errors[k], one) };
    }
    total
}

/// The bias for a block whose values are at most `bound` in magnitude (with slack), or `None`
/// if it would not be a finite power of two.
fn bias_for(bound: f64) -> Option<f64> {
    let wanted = (bound * (2 * F64_PER_LANE * BOUND_SLACK) as f64).max(f64::MIN_POSITIVE);
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // negated so that NaN is refused too
    if !(wanted <= f64::MAX / 4.0) {
        return None; // also NaN
    }
    // The next power of two >= wanted (wanted is normal).
    let bits = wanted.to_bits();
    let exponent_bits = bits & (0x7ff << 52);
    let power = if bits & ((1 << 52) - 1) == 0 { exponent_bits } else { exponent_bits + (1 << 52) };
    Some(f64::from_bits(power))
}

/// What [`biased_block`] found.
enum BiasedBlock<V> {
    /// Unchecked (`CHECKED = false`), and the inexact flag says every add but the quiet ones
    /// was exact: `sums[k] + errors[k]` is exactly the k-th accumulator's share (bias removed).
    Exact { sums: [V; DD_ACCUMULATORS], errors: [V; DD_ACCUMULATORS] },
    /// Unchecked, and something rounded (or the flag is not available): nothing is known.
    Unknown,
    /// Checked: the biased sums, error terms, the block's largest |x|, and whether an error
    /// term's add may have rounded.
    Checked { sums: [V; DD_ACCUMULATORS], errors: [V; DD_ACCUMULATORS], block_max: f64, rounded: bool },
}

/// One block summed with Fast2Sum into accumulators that start at `bias`.
///
/// `CHECKED` tracks the largest |x|, which proves Fast2Sum exact (the caller compares it with
/// the bias). Unchecked blocks skip that operation and rely on the inexact flag alone, which
/// needs quiet `acc + x` adds (`V::QUIET_ADD`): then the flag stays clear only if
/// `s - acc`, `x - (s - acc)`, every error-term add and the final `sum - C` were all exact, and
/// with exact subtractions `x - (s - acc)` *is* the rounding error of `s` (no condition on
/// exponents needed), so `(sum - C) + err` is the exact sum whatever the bias.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
unsafe fn biased_block<V: F64Lanes, T: Input, const CHECKED: bool>(
    block: &[T],
    bias: f64,
    one: V,
    prefetch: bool,
) -> BiasedBlock<V> {
    let step = V::LANES * DD_ACCUMULATORS;
    // The error terms and sums start from, and end in, memory the flag's asm blocks see (see
    // `mxcsr`): error terms first (0.0), then sums (the bias; unchecked blocks leave their
    // unbiased sums there).
    let mut window = [0.0f64; 8 * 2 * DD_ACCUMULATORS];
    window[8 * DD_ACCUMULATORS..].fill(bias);
    if V::QUIET_ADD {
        mxcsr::clear_inexact(&mut window);
    }
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements, as its comment says.
    unsafe {
        let mut errors: [V; DD_ACCUMULATORS] = load_all(&window);
        let mut sums: [V; DD_ACCUMULATORS] = load_all(&window[8 * DD_ACCUMULATORS..]);
        // One running max per two accumulators: fewer registers, no loss of bound.
        let mut maxima = [V::zero(); DD_ACCUMULATORS / 2];
        let mut chunks = block.chunks_exact(step);
        for chunk in &mut chunks {
            prefetch_ahead(chunk, prefetch);
            for k in 0..DD_ACCUMULATORS {
                // chunk has `step` = DD_ACCUMULATORS * LANES elements.
                let x = T::load(&chunk[k * V::LANES..]);
                (sums[k], errors[k]) = fast_two_sum_into(sums[k], errors[k], x, one);
                if CHECKED {
                    maxima[k / 2] = maxima[k / 2].abs_max(x);
                }
            }
        }
        // Fewer than DD_ACCUMULATORS whole vectors, then one zero-padded vector.
        let mut vectors = chunks.remainder().chunks_exact(V::LANES);
        for vector in &mut vectors {
            // vector has exactly LANES elements.
            let x = T::load(vector);
            (sums[0], errors[0]) = fast_two_sum_into(sums[0], errors[0], x, one);
            if CHECKED {
                maxima[0] = maxima[0].abs_max(x);
            }
        }
        if !vectors.remainder().is_empty() {
            let x = load_padded(vectors.remainder());
            (sums[0], errors[0]) = fast_two_sum_into(sums[0], errors[0], x, one);
            if CHECKED {
                maxima[0] = maxima[0].abs_max(x);
            }
        }
        if !CHECKED {
            if !V::QUIET_ADD {
                return BiasedBlock::Unknown;
            }
            let bias_v = V::splat(bias);
            let mut unbiased = sums;
            for sum in &mut unbiased {
                *sum = sum.sub(bias_v);
            }
            for (k, v) in errors.iter().chain(&unbiased).enumerate() {
                v.store(&mut window[8 * k..]);
            }
            return if mxcsr::rounded_since_clear(&window) {
                BiasedBlock::Unknown
            } else {
                BiasedBlock::Exact { sums: unbiased, errors }
            };
        }
        let rounded = if V::QUIET_ADD {
            for (k, e) in errors.iter().enumerate() {
                e.store(&mut window[8 * k..]);
            }
            mxcsr::rounded_since_clear(&window)
        } else {
            true
        };
        BiasedBlock::Checked { sums, errors, block_max: largest_lane(&maxima), rounded }
    }
}

/// `acc + x` by Fast2Sum (exact when acc's exponent is at least x's), its error added to `err`.
/// Only the add into `err` may touch the inexact flag (`acc + x` is a quiet add where the CPU
/// has one; the two subtractions are exact).
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
unsafe fn fast_two_sum_into<V: F64Lanes>(acc: V, err: V, x: V, one: V) -> (V, V) {
    // SAFETY: the caller runs on a CPU with V's instruction set.
    unsafe {
        let s = acc.add_quiet(x);
        let s_minus_acc = s.sub_on_fma(acc, one);
        (s, err.add_on_fma(x.sub(s_minus_acc), one))
    }
}

/// One block summed with TwoSum (exact for any finite values but for the low parts' rounding,
/// which is tracked), added into `total`.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
unsafe fn two_sum_block<V: F64Lanes, T: Input>(total: LaneSums<V>, block: &[T], one: V) -> LaneSums<V> {
    let step = V::LANES * DD_ACCUMULATORS;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements, as its comment says.
    unsafe {
        let mut acc = [LaneSums::<V>::new(); DD_ACCUMULATORS];
        let mut chunks = block.chunks_exact(step);
        for chunk in &mut chunks {
            for (k, a) in acc.iter_mut().enumerate() {
                // chunk has `step` = DD_ACCUMULATORS * LANES elements.
                *a = a.add(T::load(&chunk[k * V::LANES..]), one);
            }
        }
        let mut vectors = chunks.remainder().chunks_exact(V::LANES);
        for vector in &mut vectors {
            // vector has exactly LANES elements.
            acc[0] = acc[0].add(T::load(vector), one);
        }
        if !vectors.remainder().is_empty() {
            acc[0] = acc[0].add(load_padded(vectors.remainder()), one);
        }
        let mut total = total;
        for a in acc {
            total = total.merge(a, one);
        }
        total
    }
}

/// The read-bandwidth probe of the benchmark: converts and adds f32 values in plain f64 lanes,
/// nothing more (no folds, no error terms). Not used for means.
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn plain_sum_f32<V: F64Lanes>(xs: &[f32]) -> f64 {
    let step = V::LANES * ACCUMULATORS;
    // SAFETY (whole body): the caller guarantees V's instruction set; every load gets a slice
    // of at least V::LANES elements.
    unsafe {
        let one = opaque_one::<V>();
        let mut acc = [V::zero(); ACCUMULATORS];
        let prefetch = host::software_prefetch();
        let mut chunks = xs.chunks_exact(step);
        for chunk in &mut chunks {
            prefetch_ahead(chunk, prefetch);
            for (k, a) in acc.iter_mut().enumerate() {
                *a = a.add_on_fma(V::load_widened(&chunk[k * V::LANES..]), one);
            }
        }
        let total: f64 = acc.iter().flat_map(|a| a.lanes().into_iter().take(V::LANES)).sum();
        chunks.remainder().iter().fold(total, |s, &x| s + f64::from(x))
    }
}

/// Whether the inexact flag reports what the certificate relies on at this level: set by each
/// operation the certified code uses (add, sub, and their FMA forms) when its result rounds,
/// and left clear when it does not. A CPU does; an emulator or hypervisor that does not keep
/// the flag (valgrind does not) fails, and the kernels of this level then run without the
/// certificate (see `certificate`). (Quiet adds need no test: one that set the flag would only
/// lose a certificate, never give a false one.)
///
/// # Safety
/// The CPU must have V's instruction set.
#[inline(always)]
pub(super) unsafe fn flag_reports_rounding<V: F64Lanes>() -> bool {
    // Operands from memory the flag's asm blocks see (so the adds cannot be folded at compile
    // time or moved out of the window): 2^29 and 2^-40, whose sum and difference round in f64;
    // 1 and 2, whose do not. The result goes to the last row before the flag is read.
    let mut window = [0.0f64; 8 * 5];
    window[..8].fill(2f64.powi(29));
    window[8..16].fill(2f64.powi(-40));
    window[16..24].fill(1.0);
    window[24..32].fill(2.0);
    // SAFETY (whole body): the caller guarantees V's instruction set; every load and store
    // gets a row of 8 >= LANES values.
    unsafe {
        let one = opaque_one::<V>();
        for operation in 0..4 {
            for rounds in [true, false] {
                mxcsr::clear_inexact(&mut window);
                let row = if rounds { 0 } else { 16 };
                let (a, b) = (V::load(&window[row..]), V::load(&window[row + 8..]));
                let result = match operation {
                    0 => a.add(b),
                    1 => a.add_on_fma(b, one),
                    2 => a.sub(b),
                    _ => a.sub_on_fma(b, one),
                };
                result.store(&mut window[32..]);
                if mxcsr::rounded_since_clear(&window) != rounds {
                    return false;
                }
            }
        }
        true
    }
}
