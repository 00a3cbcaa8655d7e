//! The per-cell chain: every output element (a "cell") is the mean of the input elements the
//! plan's reduced loops visit from the cell's start, rounded once.
//!
//! ```text
//! float cells: fast pass   -> a double-double and an error bound per cell (a Partial)
//!              rounding test (rounding.rs) -> the mean, or "unsure"
//!              exact pass over the unsure cells only -> ExactSum -> the mean
//! integer and bool cells: an exact integer sum per cell, rounded once (no second pass)
//! ```
//!
//! Two traversals, chosen by which loop is innermost in memory:
//! - horizontal: the innermost reduced loop has the smallest stride (a mean along rows of a C
//!   array, or of a whole array): each cell's rows go, in memory order, to the summation
//!   kernels (contiguous native float32/float64 rows directly; others decoded through a small
//!   buffer);
//! - vertical: the innermost kept loop has the smallest stride (a mean down the columns of a C
//!   array): a tile of up to [`TILE`] adjacent cells is summed together, one input row at a
//!   time, each cell's sum in its own lane of per-tile arrays; then each is rounded. A run of
//!   2 to 8 cells down one reduced loop (a tall, narrow array) keeps its sums in registers.
//!
//! float32 and float16 values have few significant bits, so plain f64 adds of a run (or of a
//! block of rows) are usually exact: they are tried first, certified by the inexact flag, and
//! folded into the double-double sums; a run or block whose adds rounded is summed again with
//! TwoSum. float64 goes to TwoSum directly.
//!
//! No allocation: every buffer and per-tile accumulator is a fixed-size array on the stack
//! (the vertical traversal's largest frame is ~160 KiB: float and integer tiles of 2048 lanes).

use std::marker::PhantomData;

use super::element::{ByteOrder, Decode, Raw};
use super::layout::{Loop, Loops, Plan, for_each_start};
use crate::exact::{ExactSum, SERIALIZED_LEN};
use crate::kernels::{self, DoubleDouble, Level, Partial, UNIT_ROUNDOFF};
use crate::rounding::{Format, Rounded, divide_exact_sum, exact_mean, exact_sum, exact_sums_to_f32_means, round_mean};

/// Adjacent cells summed together by the vertical traversal: 16 KiB of each accumulator array
/// (~80 KiB of stack with the counts and the certified block), so that each input row is read
/// in runs of up to 8-16 KiB.
pub const TILE: usize = 2048;
/// Rows of a vertical tile the column kernels add in one pass over the tile's lanes: the lanes
/// loaded and stored once per pass, the rows read as that many streams. Passes ahead of the
/// one summed that they ask for. Measured float64 `axis=0`, one row per pass and no hints
/// against 8 per pass and 16 rows ahead, one thread, ms (numpy.mean's in brackets): on an
/// Intel Xeon of family 6, model 167, (10^4, 10^3) 7.8 -> 2.9-4.2 (4.5-5.1), (10^3, 10^4)
/// 9.5-13.6 -> 3.9-4.4 (4.2-4.4), (100, 10^5) 14.1 -> 7.9-9.0 (5.1-5.3); on an AMD EPYC of
/// family 26, model 2 (Zen 5), 5.1 -> 2.3-2.8 (2.5-3.4), 10.2 -> 2.8-3.5 (3.7-5.3),
/// 15.5 -> 7.2-7.9 (3.2-4.2). float32 gains as much (README, "Measured").
const ROWS_PER_PASS: usize = 8;
const PASSES_AHEAD: isize = 2;
const _: () = assert!(ROW_BLOCK.is_multiple_of(ROWS_PER_PASS));
/// Lanes of a vertical tile whose means are rounded together ([`FloatLanes::write_means`]): a
/// few KiB of stack for the means and their flags.
const ROUNDED_TOGETHER: usize = 256;
/// Rows of a vertical tile summed plainly under one certificate (float32): few enough that
/// their sums rarely round (values 2^29 below the sum of 32 rows are rare), and that redoing a
/// block that did round rereads little.
const ROW_BLOCK: usize = 32;
/// The tile of runs of at most this many cells.
const SMALL_TILE: usize = 64;
/// Values decoded before a kernel runs over them (the horizontal traversal of rows that are not
/// contiguous native floats).
const BUFFER: usize = 512;
/// Strided or byte-swapped runs at least this long are gathered, [`GATHERED`] values at a time,
/// for the kernels (`FloatCell::gather`).
const GATHER_FROM: usize = 256;
const GATHERED: usize = 1024;
/// Contiguous native float rows this long or longer go to the whole-array kernels; shorter
/// ones to the short-run kernels (`Decode::run_sum`: no setup), where they lie.
const KERNEL_FROM: usize = 4096;
/// Cells of a vertical tile from which contiguous native float rows go to the column kernels.
const COLUMN_KERNEL_FROM: usize = 16;
/// Integer adds between two moves of the pieces' sums into the 128-bit total: each piece is
/// below 2^32 in magnitude, so 2^31 of them fit an i64.
const INT_ADDS_PER_FLUSH: u64 = 1 << 31;

/// The input of one reduction: the elements (component raw values, native or swapped) and
/// the optional mask (bytes; nonzero counts the element in).
pub struct Input<'a, D: Decode> {
    pub data: &'a [D::Raw],
    pub mask: Option<&'a [u8]>,
}

/// What a reduction makes of each cell's values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Task {
    /// NaN values are left out: neither added nor counted (nanmean, nansum).
    pub skip_nan: bool,
    /// The sum (plus `initial`) instead of the mean.
    pub sum: bool,
    /// Added once to every cell's sum, exactly (sums only; zero for means).
    pub initial: Initial,
}

/// A sum's starting value, as the output's component type holds it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Initial {
    /// For float outputs.
    pub float: f64,
    /// For integer outputs.
    pub integer: i128,
}

/// Where results go: bytes, written one cell at a time in the format's encoding.
pub struct Output<'a> {
    pub bytes: &'a mut [u8],
    /// The rounding of float outputs.
    pub format: Format,
    /// The range of integer outputs (exact sums), instead of a float format.
    pub integer: Option<IntegerRange>,
    pub swapped: bool,
    /// Set when an integer sum did not fit the output type (the cell is not written).
    pub overflowed: bool,
    /// Each cell's exact state is written instead of its result ([`Output::write_state`]).
    pub states: bool,
}

/// An integer output type: its size in bytes and its range.
#[derive(Clone, Copy, Debug)]
pub struct IntegerRange {
    pub size: usize,
    pub min: i128,
    pub max: i128,
}

impl Output<'_> {
    /// Writes the integer `value` at byte offset `at`, or records an overflow if the output
    /// type cannot hold it.
    pub fn write_integer(&mut self, at: isize, value: i128) {
        let Some(range) = self.integer else { return };
        if !(range.min..=range.max).contains(&value) {
            self.overflowed = true;
            return;
        }
        // Two's complement: the low `size` bytes of the value, little-endian, are the element.
        let mut bytes = value.to_le_bytes();
        let element = &mut bytes[..range.size];
        if cfg!(target_endian = "big") != self.swapped {
            element.reverse();
        }
        let at = at as usize;
        self.bytes[at..at + range.size].copy_from_slice(element);
    }

    /// Writes the serialized `state` at byte offset `at` (a state output: room for
    /// [`SERIALIZED_LEN`] bytes at every cell's offset).
    pub fn write_state(&mut self, at: isize, state: &ExactSum) {
        let at = at as usize;
        self.bytes[at..at + SERIALIZED_LEN].copy_from_slice(&state.to_bytes());
    }

    /// Writes the mean of each cell `k` (output at `cells[k].1`) of `counts[k]` values whose
    /// exact sum is `sums[k]`, where one division rounds it (`divide_exact_sum`). Returns how
    /// many it could not, their `k` at the front of `undecided`. One loop per format, so that
    /// a cell costs its division and a store.
    fn write_exact_means(
        &mut self,
        cells: &[(isize, isize)],
        sums: &[f64],
        counts: &[u64],
        undecided: &mut [u16],
    ) -> usize {
        let swapped = self.swapped;
        match self.format {
            Format::Binary16 => self.write_exact_means_as(cells, sums, counts, undecided, Format::Binary16, |mean| {
                let bits = super::element::f64_to_f16_bits(mean);
                if swapped { bits.swap_bytes() } else { bits }.to_ne_bytes()
            }),
            Format::Binary32 => self.write_exact_means_as(cells, sums, counts, undecided, Format::Binary32, |mean| {
                let bits = (mean as f32).to_bits();
                if swapped { bits.swap_bytes() } else { bits }.to_ne_bytes()
            }),
            Format::Binary64 => self.write_exact_means_as(cells, sums, counts, undecided, Format::Binary64, |mean| {
                let bits = mean.to_bits();
                if swapped { bits.swap_bytes() } else { bits }.to_ne_bytes()
            }),
        }
    }

    #[inline(always)]
    fn write_exact_means_as<const N: usize>(
        &mut self,
        cells: &[(isize, isize)],
        sums: &[f64],
        counts: &[u64],
        undecided: &mut [u16],
        format: Format,
        encode: impl Fn(f64) -> [u8; N],
    ) -> usize {
        let mut left = 0;
        for (k, &(_, at)) in cells.iter().enumerate() {
            let rounded = if counts[k] == 0 { None } else { divide_exact_sum(sums[k], counts[k] as usize, format) };
            match rounded {
                Some(rounded) => {
                    // (An exact zero sum gives +0.0, as in `finish_float`.)
                    let mean = if let Rounded::Certain(mean) = rounded { mean } else { 0.0 };
                    self.bytes[at as usize..at as usize + N].copy_from_slice(&encode(mean));
                }
                None => {
                    undecided[left] = k as u16;
                    left += 1;
                }
            }
        }
        left
    }

    /// [`Output::write_exact_means`] for a float32 output and cells of `n` values each, by
    /// `rounding::exact_sums_to_f32_means` (vectorized), stored straight when the output is
    /// native.
    fn write_exact_f32_means(
        &mut self,
        cells: &[(isize, isize)],
        sums: &[f64],
        n: usize,
        undecided: &mut [u16],
    ) -> usize {
        let mut means = [0.0f32; TINY_ROWS_PER_CERTIFICATE];
        let mut unsure = [false; TINY_ROWS_PER_CERTIFICATE];
        exact_sums_to_f32_means(sums, n, &mut means, &mut unsure);
        let mut left = 0;
        for (k, &(_, at)) in cells.iter().enumerate() {
            if unsure[k] {
                undecided[left] = k as u16;
                left += 1;
            } else {
                let bits = means[k].to_bits();
                let bits = if self.swapped { bits.swap_bytes() } else { bits };
                self.bytes[at as usize..at as usize + 4].copy_from_slice(&bits.to_ne_bytes());
            }
        }
        left
    }

    /// Writes `values[k]` at byte offset `start + k * step` wherever `!undecided[k]`.
    fn write_decided(&mut self, start: isize, step: isize, values: &[f64], undecided: &[bool]) {
        // The common case, a native contiguous output with every cell decided: one loop of
        // stores, without the per-cell dispatch.
        let bulk = !self.swapped && start >= 0 && !undecided.contains(&true);
        let at = start.max(0) as usize;
        match self.format {
            Format::Binary32 if bulk && step == 4 => {
                let slots = self.bytes[at..at + 4 * values.len()].chunks_exact_mut(4);
                slots.zip(values).for_each(|(slot, &value)| slot.copy_from_slice(&(value as f32).to_ne_bytes()));
                return;
            }
            Format::Binary64 if bulk && step == 8 => {
                let slots = self.bytes[at..at + 8 * values.len()].chunks_exact_mut(8);
                slots.zip(values).for_each(|(slot, &value)| slot.copy_from_slice(&value.to_ne_bytes()));
                return;
            }
            _ => {}
        }
        for (k, (&value, _)) in values.iter().zip(undecided).enumerate().filter(|(_, (_, undecided))| !**undecided) {
            self.write(start + k as isize * step, value);
        }
    }

    /// Writes `value` (a value of the format, held in an f64) at byte offset `at`.
    #[inline(always)]
    pub fn write(&mut self, at: isize, value: f64) {
        let at = at as usize;
        match self.format {
            Format::Binary16 => {
                let bits = super::element::f64_to_f16_bits(value);
                let bits = if self.swapped { bits.swap_bytes() } else { bits };
                self.bytes[at..at + 2].copy_from_slice(&bits.to_ne_bytes());
            }
            Format::Binary32 => {
                let bits = (value as f32).to_bits();
                let bits = if self.swapped { bits.swap_bytes() } else { bits };
                self.bytes[at..at + 4].copy_from_slice(&bits.to_ne_bytes());
            }
            Format::Binary64 => {
                let bits = value.to_bits();
                let bits = if self.swapped { bits.swap_bytes() } else { bits };
                self.bytes[at..at + 8].copy_from_slice(&bits.to_ne_bytes());
            }
        }
    }
}

/// Writes the result of `task` for every cell of `plan` into `out`.
pub fn run<D: Decode, O: ByteOrder>(input: &Input<D>, plan: &Plan, out: &mut Output, task: &Task, level: Level) {
    if plan.empty_cells {
        // A mean of nothing is NaN; a sum of nothing is its initial value.
        for_each_start(plan.kept.as_slice(), (0, 0, plan.output_start), |_, _, o| finish_integer(out, o, 0, 0, task));
        return;
    }
    let start = (plan.input_start, plan.mask_start, plan.output_start);
    let vertical = match (plan.kept.innermost(), plan.reduced.innermost()) {
        (Some(columns), Some(rows)) => columns.input < rows.input,
        (Some(_), None) => true, // one element per cell: a tile of cells at a time
        (None, _) => false,
    };
    if vertical {
        let columns = plan.kept.innermost().unwrap_or_default();
        for_each_start(plan.kept.outer(), start, |i, m, o| {
            if input.mask.is_none()
                && !task.skip_nan
                && plan.reduced.count == 1
                && narrow::<D, O>(input, &plan.reduced, columns, (i, o), out, task, level)
            {
                return;
            }
            // Small runs of cells get small tiles: the lanes are zeroed per tile, and 2048 of
            // them (~80 KiB) cost ~3 µs, more than a small reduction's whole work.
            if columns.len <= SMALL_TILE {
                vertical_tiles::<D, O, SMALL_TILE>(input, &plan.reduced, columns, (i, m, o), out, task, level);
            } else {
                vertical_tiles::<D, O, TILE>(input, &plan.reduced, columns, (i, m, o), out, task, level);
            }
        });
    } else {
        let mut scratch = FloatCell::<D, O>::new(level, task.skip_nan);
        if let Some(row) = short_plain_rows::<D, O>(input, &plan.reduced, task) {
            if row.len <= kernels::rows::MAX_LEN && tiny_rows::<D, O>(input, plan, row, out, task, level) {
                return;
            }
            let capacity = if row.len <= TINY_ROW { TINY_ROWS_PER_CERTIFICATE } else { ROWS_PER_CERTIFICATE };
            let mut batch = RowBatch { starts: [(0, 0); TINY_ROWS_PER_CERTIFICATE], len: 0, row, retry_in: 0 };
            for_each_start(plan.kept.as_slice(), start, |i, _, o| {
                batch.starts[batch.len] = (i, o);
                batch.len += 1;
                if batch.len == capacity {
                    batch.finish::<D, O>(input, &plan.reduced, out, task, level, &mut scratch);
                }
            });
            batch.finish::<D, O>(input, &plan.reduced, out, task, level, &mut scratch);
            return;
        }
        for_each_start(plan.kept.as_slice(), start, |i, m, o| {
            cell::<D, O>(input, &plan.reduced, (i, m, o), out, task, level, &mut scratch);
        });
    }
}

/// The cells of a horizontal plan whose rows are tiny (`kernels::rows::MAX_LEN` values at
/// most, 32; rows as `short_plain_rows` finds them) and lie at a regular stride along the
/// innermost kept loop (float32 rows of 20, per 10^7 values: 12.6 -> 5.1 ms; float64 28.6 -> 12):
/// blocks of `kernels::rows::ROWS` rows go to the type's across-rows kernel
/// (`Decode::tiny_row_means`), and the rows it leaves undecided are finished one by one. False,
/// with nothing written, where that kernel does not apply (sums, states, NaNs left out, an
/// output format it has no kernel for).
fn tiny_rows<D: Decode, O: ByteOrder>(
    input: &Input<D>,
    plan: &Plan,
    row: Loop,
    out: &mut Output,
    task: &Task,
    level: Level,
) -> bool {
    use kernels::rows::ROWS;
    let Some(rows) = plan.kept.innermost() else { return false };
    if task.sum || task.skip_nan || out.states || rows.input < 0 {
        return false;
    }
    let (len, stride) = (row.len, rows.input as usize);
    let (mut means, mut undecided) = ([0.0f64; ROWS], [false; ROWS]);
    let mut supported = true;
    for_each_start(plan.kept.outer(), (plan.input_start, 0, plan.output_start), |start, _, out_start| {
        let mut first = 0;
        while supported && first < rows.len {
            let count = (rows.len - first).min(ROWS);
            let at = (start + first as isize * rows.input) as usize;
            let raws = &input.data[at..at + (count - 1) * stride + len];
            let (means, undecided) = (&mut means[..count], &mut undecided[..count]);
            if !D::tiny_row_means(level, raws, (len, stride), out.format, means, undecided) {
                // (Known on the first block: the type and format do not change.)
                debug_assert_eq!(first, 0);
                supported = false;
                return;
            }
            out.write_decided(out_start + first as isize * rows.output, rows.output, means, undecided);
            for k in (0..count).filter(|&k| undecided[k]) {
                let o = out_start + (first + k) as isize * rows.output;
                let i = at as isize + (k * stride) as isize;
                let partial = tiny_row_sum::<D>(&input.data[i as usize..i as usize + len]);
                let exact = || exact_cell::<D, O>(input, &plan.reduced, i, 0, false);
                finish_float(out, o, partial, len as u64, task, exact);
            }
            first += count;
        }
    });
    supported
}

/// Short rows summed under one certificate: a kernel call per row costs less than the flag's
/// two accesses (which wait for every add in flight: ~40 ns on an Intel Xeon, measured).
const ROWS_PER_CERTIFICATE: usize = 32;
/// Rows at most this long are added value by value inside the batch's window (a kernel call
/// costs more than their adds), and batched by [`TINY_ROWS_PER_CERTIFICATE`] so that the flag's
/// cost per row stays below a nanosecond.
const TINY_ROW: usize = 16;
const TINY_ROWS_PER_CERTIFICATE: usize = 256;

/// The row of a horizontal reduction whose cells are single short contiguous rows of few-bit
/// floats (float32, float16: plain f64 sums rarely round), native, unmasked: the rows
/// [`RowBatch`] sums; None for other plans.
fn short_plain_rows<D: Decode, O: ByteOrder>(input: &Input<D>, reduced: &Loops, task: &Task) -> Option<Loop> {
    let row = reduced.innermost()?;
    // Other floats (float64) are batched too, for the rounding of their means; not with NaNs
    // left out.
    let kind = D::FEW_BITS || (!D::INTEGER && !task.skip_nan);
    let plain = kind && O::NATIVE && input.mask.is_none() && reduced.count == 1;
    (plain && row.input == 1 && row.len < KERNEL_FROM).then_some(row)
}

/// Up to [`ROWS_PER_CERTIFICATE`] cells, each one short contiguous row: their plain sums under
/// one inexact-flag certificate, each then rounded; if an add rounded, each cell again on its
/// own (`cell`), and the next batch too (data whose sums round would pay twice).
struct RowBatch {
    /// (input, output) starts of the cells.
    starts: [(isize, isize); TINY_ROWS_PER_CERTIFICATE],
    len: usize,
    row: Loop,
    /// Batches left to run cell by cell after one whose certificate failed.
    retry_in: u32,
}

impl RowBatch {
    fn finish<D: Decode, O: ByteOrder>(
        &mut self,
        input: &Input<D>,
        reduced: &Loops,
        out: &mut Output,
        task: &Task,
        level: Level,
        scratch: &mut FloatCell<D, O>,
    ) {
        let cells = &self.starts[..self.len];
        self.len = 0;
        if cells.is_empty() {
            return;
        }
        if !D::FEW_BITS {
            return self.finish_bounded(cells, input, reduced, out, task, level, scratch);
        }
        let mut sums = [0.0f64; TINY_ROWS_PER_CERTIFICATE];
        let mut counts = [0u64; TINY_ROWS_PER_CERTIFICATE];
        if self.retry_in == 0
            && let Some(tile) = kernels::CertifiedColumns::begin(level, &mut sums)
        {
            let len = self.row.len;
            let ahead = RowsAhead::new(input, cells, len);
            if len <= TINY_ROW && !task.skip_nan {
                for (k, &(i, _)) in cells.iter().enumerate() {
                    // From the value the window's clear may have written (see `kernels::mxcsr`):
                    // no add can move before the clear.
                    let mut sum = sums[k];
                    for &raw in &input.data[i as usize..i as usize + len] {
                        sum += D::to_f64(raw);
                    }
                    (sums[k], counts[k]) = (sum, len as u64);
                }
            } else {
                for (k, &(i, _)) in cells.iter().enumerate() {
                    ahead.prefetch(input, cells, k);
                    (sums[k], counts[k]) =
                        D::row_sum_plain(&tile, &input.data[i as usize..i as usize + len], task.skip_nan);
                }
            }
            if tile.exact(&sums) {
                // Most cells are a mean whose exact sum one division rounds; the others (and
                // sums, states) go through the general `finish_float`.
                let mut undecided = [0u16; TINY_ROWS_PER_CERTIFICATE];
                let undecided = if out.states || task.sum {
                    undecided.iter_mut().zip(0..).take(cells.len()).for_each(|(slot, k)| *slot = k);
                    &undecided[..cells.len()]
                } else if len <= TINY_ROW && !task.skip_nan && out.format == Format::Binary32 {
                    let left = out.write_exact_f32_means(cells, &sums[..cells.len()], len, &mut undecided);
                    &undecided[..left]
                } else {
                    let left = out.write_exact_means(cells, &sums, &counts, &mut undecided);
                    &undecided[..left]
                };
                for &k in undecided {
                    let (k, (i, o)) = (k as usize, cells[k as usize]);
                    let exact = || exact_cell::<D, O>(input, reduced, i, 0, task.skip_nan);
                    finish_float(out, o, Partial::exact(sums[k]), counts[k], task, exact);
                }
                return;
            }
            self.retry_in = 8;
        }
        self.retry_in = self.retry_in.saturating_sub(1);
        for &(i, o) in cells {
            cell::<D, O>(input, reduced, (i, 0, o), out, task, level, scratch);
        }
    }

    /// [`RowBatch::finish`] for values of many bits (float64), whose plain sums round: each row
    /// summed in double-double with an error bound (inline if tiny, else the short-run kernel),
    /// the float64 means of the batch rounded together at the CPU's level
    /// (`kernels::rows::partial_sums_to_f64_means_at`), and the
    /// cells that test leaves undecided, or other outputs, finished one by one.
    #[allow(clippy::too_many_arguments)]
    fn finish_bounded<D: Decode, O: ByteOrder>(
        &self,
        cells: &[(isize, isize)],
        input: &Input<D>,
        reduced: &Loops,
        out: &mut Output,
        task: &Task,
        level: Level,
        scratch: &mut FloatCell<D, O>,
    ) {
        let len = self.row.len;
        let mut partials = [Partial::ZERO; TINY_ROWS_PER_CERTIFICATE];
        let ahead = RowsAhead::new(input, cells, len);
        for (k, (partial, &(i, _))) in partials.iter_mut().zip(cells).enumerate() {
            ahead.prefetch(input, cells, k);
            let raws = &input.data[i as usize..i as usize + len];
            *partial = if len <= TINY_ROW {
                tiny_row_sum::<D>(raws)
            } else {
                match D::run_sum(level, raws) {
                    Some(sum) => sum,
                    None => {
                        return cells
                            .iter()
                            .for_each(|&(i, o)| cell(input, reduced, (i, 0, o), out, task, level, scratch));
                    }
                }
            };
        }
        let partials = &partials[..cells.len()];
        let mut means = [0.0f64; TINY_ROWS_PER_CERTIFICATE];
        let mut undecided = [true; TINY_ROWS_PER_CERTIFICATE];
        if !out.states && !task.sum && out.format == Format::Binary64 {
            kernels::rows::partial_sums_to_f64_means_at(level, partials, len, &mut means, &mut undecided);
        }
        let swapped = out.swapped;
        for (k, &(i, o)) in cells.iter().enumerate() {
            if undecided[k] {
                let exact = || exact_cell::<D, O>(input, reduced, i, 0, task.skip_nan);
                finish_float(out, o, partials[k], len as u64, task, exact);
            } else {
                let bits = means[k].to_bits();
                let bits = if swapped { bits.swap_bytes() } else { bits };
                out.bytes[o as usize..o as usize + 8].copy_from_slice(&bits.to_ne_bytes());
            }
        }
    }
}

/// Bytes of rows a batch asks for ahead of the row it sums: enough loads in flight to cover
/// the latency, near enough to be read before they are evicted (float64 rows of 100, measured
/// on an Intel Xeon of family 6, model 167: 4 rows ahead 5.7-6.3 ms, 1 row 7.9, 8 rows 7.7-8.1,
/// none 11.1).
const ROW_PREFETCH_BYTES: usize = 3200;

/// Which rows of a batch to ask for, and whether to (`host::row_prefetch`; not for tiny rows,
/// whose adjacent rows the hardware prefetchers follow). float64 rows of any length up to
/// [`KERNEL_FROM`] gain (rows of 3000, per 10^7 values: 8.5 -> 5.8 ms).
struct RowsAhead {
    rows: usize,
    len: usize,
}

impl RowsAhead {
    /// Starts a batch of rows of `len` values: asks for its first rows at once.
    fn new<D: Decode>(input: &Input<D>, cells: &[(isize, isize)], len: usize) -> Self {
        let ahead = Self::along::<D>(len, cells.len());
        for &(i, _) in cells.iter().take(ahead.rows) {
            kernels::prefetch(&input.data[i as usize..i as usize + len]);
        }
        ahead
    }

    /// For rows of `len` values, `count` of them: how many ahead to ask for (none for a single
    /// row, tiny rows, rows long enough for the whole-array kernels, or with the hints off).
    fn along<D: Decode>(len: usize, count: usize) -> Self {
        let bytes = len * size_of::<D::Raw>();
        // Few-bit floats' plain adds run near memory speed: from 12 KiB rows on, the hints
        // cost them more than they bring (float32 rows of 3000: 1.52 -> 1.76 ms per 10^7).
        let on = count > 1
            && len > TINY_ROW
            && len < KERNEL_FROM
            && (!D::FEW_BITS || bytes <= 2 * ROW_PREFETCH_BYTES)
            && kernels::host::row_prefetch();
        RowsAhead { rows: if on { (ROW_PREFETCH_BYTES / bytes).max(1) } else { 0 }, len }
    }

    /// Before the batch sums row `k`: asks for the row `rows` after it.
    #[inline(always)]
    fn prefetch<D: Decode>(&self, input: &Input<D>, cells: &[(isize, isize)], k: usize) {
        if self.rows > 0
            && let Some(&(i, _)) = cells.get(k + self.rows)
        {
            kernels::prefetch(&input.data[i as usize..i as usize + self.len]);
        }
    }
}

/// The double-double sum of a tiny row (`kernels::rows::row_sum`, as the tiny-rows kernels
/// sum it). Its low part's adds are nearly always exact, so the bound is zero and the rounding
/// of the mean is decided exactly, ties included (`rounding::round_mean`), where a bound of u
/// times the low part's magnitudes would send every tie (one row in twenty of three normal
/// values) to the exact pass.
#[inline(always)]
fn tiny_row_sum<D: Decode>(raws: &[D::Raw]) -> Partial {
    let Some((&first, rest)) = raws.split_first() else { return Partial::ZERO };
    let (hi, lo, dropped) = kernels::rows::row_sum(D::to_f64(first), rest.iter().map(|&raw| D::to_f64(raw)));
    // (At most `kernels::rows::MAX_LEN` - 1 adds of magnitudes, 31: their rounding is within
    // the tests' BOUND_MARGIN.)
    Partial { sum: DoubleDouble { hi, lo }, error: dropped }
}

/// The innermost reduced loop as rows (length and steps), and the loops outside it.
fn rows(reduced: &Loops) -> (&[Loop], Loop) {
    match reduced.innermost() {
        Some(row) => (reduced.outer(), row),
        None => (&[], Loop { len: 1, input: 0, mask: 0, output: 0 }),
    }
}

/// Something done with the values of one strided run (see [`visit_strided`]): a trait rather
/// than a closure so that each kind of run gets its own monomorphized, vectorizable loop.
trait Visit<R: Copy> {
    fn values(&mut self, values: impl Iterator<Item = R>);

    /// `values` over `run[0], run[step], ...` (`len` of them); a visitor may override it with
    /// a loop of its own over the slice (the iterator's per-value bookkeeping does not vectorize).
    #[inline(always)]
    fn strided(&mut self, run: &[R], len: usize, step: usize) {
        if step == 1 {
            self.values(run[..len].iter().copied()) // a slice's iterator vectorizes
        } else {
            self.values((0..len).map(move |i| run[i * step]))
        }
    }
}

/// `visit` over `data[start], data[start + step], ...` (`len` of them, `step >= 0` as in every
/// plan): a slice when `step` is 1, one value repeated when it is 0.
#[inline(always)]
fn visit_strided<R: Copy, V: Visit<R>>(data: &[R], start: isize, len: usize, step: isize, visit: &mut V) {
    let start = start as usize;
    match step as usize {
        0 => visit.values(std::iter::repeat_n(data[start], len)),
        // Indexing, not `step_by`: a plain loop with a hoistable bound check.
        step => visit.strided(&data[start..=start + (len - 1) * step], len, step),
    }
}

/// Writes the result of one cell (horizontal traversal).
fn cell<D: Decode, O: ByteOrder>(
    input: &Input<D>,
    reduced: &Loops,
    (start, mask_start, out_at): (isize, isize, isize),
    out: &mut Output,
    task: &Task,
    level: Level,
    scratch: &mut FloatCell<D, O>,
) {
    if D::INTEGER {
        let mut sum = IntSum::<D, O>::default();
        let (outer, row) = rows(reduced);
        for_each_start(outer, (start, mask_start, 0), |i, m, _| {
            // (One-byte values read the same in either byte order.)
            let native = O::NATIVE || size_of::<D::Raw>() == 1;
            if native
                && input.mask.is_none()
                && row.input == 1
                && let Some(total) = D::contiguous_integer_sum(&input.data[i as usize..i as usize + row.len])
            {
                sum.total += total;
                sum.count += row.len as u64;
                return;
            }
            visit_row(input, row, i, m, &mut sum);
        });
        sum.flush();
        finish_integer(out, out_at, sum.total, sum.count, task);
        return;
    }
    let fast = scratch;
    fast.reset();
    let (outer, row) = rows(reduced);
    // Rows after rows (a whole strided array, or a cell of several rows): each asks for the
    // row a few KiB ahead along the next loop out, as batches of short rows do (`RowsAhead`).
    let next_rows = outer.last().copied().unwrap_or_default();
    let ahead = RowsAhead::along::<D>(row.len, next_rows.len);
    for_each_start(outer, (start, mask_start, 0), |i, m, _| {
        if ahead.rows > 0 && row.input == 1 {
            let next = i + (ahead.rows as isize) * next_rows.input;
            if next >= 0 && next as usize + row.len <= input.data.len() {
                kernels::prefetch(&input.data[next as usize..next as usize + row.len]);
            }
        }
        if task.skip_nan && input.mask.is_none() && O::NATIVE && row.input == 1 {
            fast.add_contiguous_skipping_nan(input, i as usize, row.len);
            return;
        }
        if input.mask.is_none() && O::NATIVE && row.input == 1 {
            // Contiguous native floats are summed where they lie: the whole-array kernels for
            // long rows, the short-run kernel (no setup) for the others.
            let raws = &input.data[i as usize..i as usize + row.len];
            let sum = if row.len >= KERNEL_FROM { D::kernel_sum(level, raws) } else { D::run_sum(level, raws) };
            if let Some(partial) = sum {
                fast.partial = fast.partial.merge(partial);
                fast.count += row.len as u64;
                return;
            }
        }
        visit_row(input, row, i, m, fast);
    });
    fast.flush();
    let exact = || exact_cell::<D, O>(input, reduced, start, mask_start, task.skip_nan);
    finish_float(out, out_at, fast.partial, fast.count - fast.nans, task, exact);
}

/// `visit` over the counted values of one row.
#[inline(always)]
fn visit_row<D: Decode, V: Visit<D::Raw>>(input: &Input<D>, row: Loop, start: isize, mask_start: isize, visit: &mut V) {
    match input.mask {
        None => visit_strided(input.data, start, row.len, row.input, visit),
        Some(mask) => visit.values(
            (0..row.len as isize)
                .filter(|&k| mask[(mask_start + k * row.mask) as usize] != 0)
                .map(|k| input.data[(start + k * row.input) as usize]),
        ),
    }
}

/// Writes the result of a float cell of `count` values at `at`: the rounded mean (or sum)
/// from its fast sum, or from `exact()` if the rounding test cannot decide; for a state output,
/// the cell's exact state (the fast sum itself when it is exact, else `exact()`).
fn finish_float(
    out: &mut Output,
    at: isize,
    partial: Partial,
    count: u64,
    task: &Task,
    exact: impl FnOnce() -> ExactSum,
) {
    if out.states {
        let DoubleDouble { hi, lo } = partial.sum;
        let state = if partial.error == 0.0 && hi.is_finite() && lo.is_finite() {
            let mut state = ExactSum::new();
            state.add_partial(hi);
            state.add_partial(lo);
            state.count_values(count);
            state
        } else {
            exact()
        };
        out.write_state(at, &state);
        return;
    }
    let format = out.format;
    let value = if task.sum {
        let initial = task.initial.float;
        let partial = if initial == 0.0 { partial } else { partial.merge(Partial::exact(initial)) };
        match round_mean(partial, 1, format) {
            Rounded::Certain(sum) => sum,
            Rounded::ExactZero => 0.0,
            Rounded::Unsure => {
                let mut sum = exact();
                sum.add(initial);
                exact_sum(&sum, format)
            }
        }
    } else if count == 0 {
        f64::NAN
    } else {
        match round_mean(partial, count as usize, format) {
            Rounded::Certain(mean) => mean,
            // numpy's sums start from +0.0, so an exactly zero sum gives +0.0 (even of -0.0s).
            Rounded::ExactZero => 0.0,
            Rounded::Unsure => exact_mean(&exact(), format),
        }
    };
    out.write(at, value);
}

/// Writes the result of an integer cell: `total` of `count` values (or of an empty cell).
/// A mean is rounded once; a sum is written exactly into an integer output, or rounded once
/// into a float one; a state output gets the exact state.
fn finish_integer(out: &mut Output, at: isize, total: i128, count: u64, task: &Task) {
    if out.states {
        let mut state = ExactSum::new();
        state.add_i128(total, count);
        out.write_state(at, &state);
    } else if !task.sum {
        out.write(at, integer_mean(total, count, out.format));
    } else if out.integer.is_some() {
        match total.checked_add(task.initial.integer) {
            Some(sum) => out.write_integer(at, sum),
            None => out.overflowed = true,
        }
    } else if task.initial.float == 0.0 {
        out.write(at, integer_mean(total, 1, out.format));
    } else {
        let mut sum = ExactSum::new();
        sum.add_i128(total, 1);
        sum.add(task.initial.float);
        out.write(at, exact_sum(&sum, out.format));
    }
}

/// The exact sum of one cell (the second pass, for cells the rounding test left undecided).
fn exact_cell<D: Decode, O: ByteOrder>(
    input: &Input<D>,
    reduced: &Loops,
    start: isize,
    mask_start: isize,
    skip_nan: bool,
) -> ExactSum {
    let mut exact = ExactCell::<D, O> { sum: ExactSum::new(), skip_nan, has_nan: false, decode: PhantomData };
    let (outer, row) = rows(reduced);
    for_each_start(outer, (start, mask_start, 0), |i, m, _| {
        if !skip_nan && !exact.has_nan && input.mask.is_none() && O::NATIVE && row.input == 1 {
            let raws = &input.data[i as usize..i as usize + row.len];
            // A NaN decides the cell: found by a scan, cheaper than the exact adds.
            if let Some(&nan) = raws.iter().find(|&&raw| D::to_f64(raw).is_nan()) {
                exact.values(std::iter::once(nan));
                return;
            }
            if D::add_exact(&mut exact.sum, raws) {
                return;
            }
        }
        visit_row(input, row, i, m, &mut exact);
    });
    exact.sum
}

struct ExactCell<D, O> {
    sum: ExactSum,
    skip_nan: bool,
    /// A NaN was added: the result is NaN whatever else comes, so the rest is not added (a
    /// mean down columns with NaNs would otherwise sum every such column exactly).
    has_nan: bool,
    decode: PhantomData<(D, O)>,
}

impl<D: Decode, O: ByteOrder> Visit<D::Raw> for ExactCell<D, O> {
    fn values(&mut self, values: impl Iterator<Item = D::Raw>) {
        if self.has_nan {
            return;
        }
        for raw in values {
            let x = D::to_f64(O::native(raw));
            if x.is_nan() {
                if self.skip_nan {
                    continue;
                }
                self.has_nan = true;
                self.sum.add(x);
                return;
            }
            self.sum.add(x);
        }
    }
}

/// A float cell's fast sum: kernel results merged, and values that come one at a time
/// decoded into a buffer first, summed by `kernels::run_sum_f64_at` when it fills. One per traversal,
/// reset for each cell (the buffer is not cleared: only its filled part is read).
///
/// Skipping NaNs, each NaN is decoded as +0.0 (which adds nothing) and counted in `nans`.
struct FloatCell<D: Decode, O> {
    partial: Partial,
    /// Values added, NaNs included.
    count: u64,
    nans: u64,
    skip_nan: bool,
    /// Whether the last stretch of contiguous values had a NaN: the next one then skips the
    /// kernels' first try (see `add_contiguous_skipping_nan`).
    nan_seen: bool,
    buffer: [f64; BUFFER],
    filled: usize,
    /// Long strided or byte-swapped runs gathered in native order, for the kernels.
    gathered: [D::Raw; GATHERED],
    level: Level,
    decode: PhantomData<(D, O)>,
}

/// Contiguous values that a NaN-skipping reduction gives to the kernels in one try.
const NAN_STRETCH: usize = 1 << 14;

impl<D: Decode, O: ByteOrder> FloatCell<D, O> {
    fn new(level: Level, skip_nan: bool) -> Self {
        FloatCell {
            partial: Partial::ZERO,
            count: 0,
            nans: 0,
            skip_nan,
            nan_seen: false,
            buffer: [0.0; BUFFER],
            filled: 0,
            gathered: [D::Raw::ZERO; GATHERED],
            level,
            decode: PhantomData,
        }
    }

    fn reset(&mut self) {
        (self.partial, self.count, self.nans, self.filled) = (Partial::ZERO, 0, 0, 0);
    }

    /// Adds `data[start..start + len]` (contiguous native values) leaving NaNs out. The
    /// whole-array kernels do not skip NaNs, but a sum they return finite had none: a long
    /// stretch goes to them first, and a stretch whose sum is not finite (or a short one) to
    /// the NaN-skipping kernel (a compare and a masked add more per vector), else through the
    /// buffer. After a stretch with a NaN, the next skips the first try (dense NaNs do not pay
    /// twice); after one without, back to the whole-array kernels.
    fn add_contiguous_skipping_nan(&mut self, input: &Input<D>, start: usize, len: usize) {
        let mut first = 0;
        while first < len {
            let take = (len - first).min(NAN_STRETCH);
            let at = start + first;
            first += take;
            let raws = &input.data[at..at + take];
            if !self.nan_seen
                && take >= KERNEL_FROM
                && let Some(partial) = D::kernel_sum(self.level, raws).filter(|p| p.is_finite())
            {
                self.partial = self.partial.merge(partial);
                self.count += take as u64;
                continue;
            }
            if let Some((partial, counted)) = D::run_sum_skipping_nan(self.level, raws) {
                self.partial = self.partial.merge(partial);
                self.count += take as u64;
                self.nans += take as u64 - counted;
                self.nan_seen = counted < take as u64;
                continue;
            }
            let before = self.nans;
            self.strided(&input.data[at..at + take], take, 1);
            self.nan_seen = self.nans > before;
        }
    }

    /// The value of `raw`, and whether it is a NaN to leave out (decoded as +0.0).
    #[inline(always)]
    fn decode(raw: D::Raw, skip_nan: bool) -> (f64, bool) {
        let x = D::to_f64(O::native(raw));
        let skipped = skip_nan && x.is_nan();
        (if skipped { 0.0 } else { x }, skipped)
    }

    /// Sums `run[0], run[step], ...` (`len` of them) with the short-run kernels
    /// (`Decode::run_sum`: certified plain adds or TwoSum at the CPU's SIMD level), where
    /// decoding into the f64 buffer would be summed at the baseline level: contiguous native
    /// values where they lie, others gathered in native byte order a chunk at a time. Returns
    /// how many it summed: all, or fewer from the first chunk the type's kernels decline (none
    /// for a type without them; float16 without F16C, or a tail under 256), which the caller
    /// decodes instead.
    #[inline(always)]
    fn gather(&mut self, run: &[D::Raw], len: usize, step: usize) -> usize {
        let mut done = 0;
        while done < len {
            let take = (len - done).min(GATHERED);
            let part = &run[done * step..];
            let chunk: &[D::Raw] = if step == 1 && O::NATIVE {
                &part[..take]
            } else {
                let chunk = &mut self.gathered[..take];
                Raw::gather(self.level, part, step, !O::NATIVE, chunk);
                chunk
            };
            let Some(partial) = D::run_sum(self.level, chunk) else { return done };
            self.partial = self.partial.merge(partial);
            self.count += take as u64;
            done += take;
        }
        done
    }

    fn flush(&mut self) {
        if self.filled == 0 {
            return; // (every cell ends with a flush; a cell of kernel-summed rows has nothing here)
        }
        let values = &self.buffer[..self.filled];
        let certified = if D::FEW_BITS { kernels::certified_run_f64_at(self.level, values) } else { None };
        let sum = match certified {
            Some(exact) => Partial { sum: DoubleDouble { hi: exact, lo: 0.0 }, error: 0.0 },
            None => kernels::run_sum_f64_at(self.level, values),
        };
        self.partial = self.partial.merge(sum);
        self.count += values.len() as u64;
        self.filled = 0;
    }
}

impl<D: Decode, O: ByteOrder> Visit<D::Raw> for FloatCell<D, O> {
    /// Decodes into the buffer a chunk at a time with an indexed loop (which vectorizes when
    /// `step` is 1: byte swaps and conversions in registers).
    #[inline(always)]
    fn strided(&mut self, run: &[D::Raw], len: usize, step: usize) {
        let mut done = 0;
        if !self.skip_nan && len >= GATHER_FROM {
            done = self.gather(run, len, step);
        }
        while done < len {
            let take = (BUFFER - self.filled).min(len - done);
            let free = &mut self.buffer[self.filled..self.filled + take];
            // Four loops, so that each vectorizes without a test it does not need.
            let mut nans = 0;
            match (step, self.skip_nan) {
                (1, false) => {
                    for (slot, &raw) in free.iter_mut().zip(&run[done..done + take]) {
                        *slot = D::to_f64(O::native(raw));
                    }
                }
                (1, true) => {
                    for (slot, &raw) in free.iter_mut().zip(&run[done..done + take]) {
                        let (x, skipped) = Self::decode(raw, true);
                        *slot = x;
                        nans += u64::from(skipped);
                    }
                }
                (_, false) => {
                    let part = &run[done * step..];
                    for (i, slot) in free.iter_mut().enumerate() {
                        *slot = D::to_f64(O::native(part[i * step]));
                    }
                }
                (_, true) => {
                    let part = &run[done * step..];
                    for (i, slot) in free.iter_mut().enumerate() {
                        let (x, skipped) = Self::decode(part[i * step], true);
                        *slot = x;
                        nans += u64::from(skipped);
                    }
                }
            }
            self.nans += nans;
            self.filled += take;
            done += take;
            if self.filled == BUFFER {
                self.flush();
            }
        }
    }

    #[inline(always)]
    fn values(&mut self, values: impl Iterator<Item = D::Raw>) {
        let mut values = values.peekable();
        while values.peek().is_some() {
            let free = &mut self.buffer[self.filled..];
            let mut filled = 0;
            for (slot, raw) in free.iter_mut().zip(values.by_ref()) {
                let (x, skipped) = Self::decode(raw, self.skip_nan);
                *slot = x;
                self.nans += u64::from(skipped);
                filled += 1;
            }
            self.filled += filled;
            if self.filled == BUFFER {
                self.flush();
            }
        }
    }
}

/// An exact integer sum: pieces (see [`Decode::pieces`]) summed in i64, moved into an i128
/// before they could overflow.
struct IntSum<D, O> {
    total: i128,
    high: i64,
    low: i64,
    pending: u64,
    count: u64,
    decode: PhantomData<(D, O)>,
}

impl<D, O> Default for IntSum<D, O> {
    fn default() -> Self {
        IntSum { total: 0, high: 0, low: 0, pending: 0, count: 0, decode: PhantomData }
    }
}

impl<D: Decode, O: ByteOrder> Visit<D::Raw> for IntSum<D, O> {
    #[inline(always)]
    fn values(&mut self, values: impl Iterator<Item = D::Raw>) {
        let room = INT_ADDS_PER_FLUSH - self.pending;
        match values.size_hint() {
            // The common case: the run fits before the next flush. A plain fold, which
            // vectorizes (no per-value check).
            (_, Some(most)) if (most as u64) < room => {
                // (A filtered run, masked, yields fewer than `most`: the fold counts.)
                let (high, low, n) = values.fold((0i64, 0i64, 0u64), |(high, low, n), raw| {
                    let (h, l) = D::pieces(O::native(raw));
                    (high + h, low + l, n + 1)
                });
                self.high += high;
                self.low += low;
                self.count += n;
                self.pending += n;
            }
            _ => {
                for raw in values {
                    let (h, l) = D::pieces(O::native(raw));
                    self.high += h;
                    self.low += l;
                    self.count += 1;
                    self.pending += 1;
                    if self.pending == INT_ADDS_PER_FLUSH {
                        self.flush();
                    }
                }
            }
        }
    }
}

impl<D, O> IntSum<D, O> {
    fn flush(&mut self) {
        self.total += (i128::from(self.high) << 32) + i128::from(self.low);
        (self.high, self.low, self.pending) = (0, 0, 0);
    }
}

/// `sum / count` rounded once to `format` (NaN for no values; +0.0 for a zero sum).
fn integer_mean(sum: i128, count: u64, format: Format) -> f64 {
    if count == 0 {
        return f64::NAN;
    }
    if sum == 0 {
        return 0.0;
    }
    // An exact double-double of the sum while |sum| < 2^106: the rounding test then rounds it
    // exactly (its bound is zero). Beyond, the exact accumulator holds it.
    if sum.unsigned_abs() < 1 << 106 {
        let hi = sum as f64;
        let lo = (sum - hi as i128) as f64;
        if let Rounded::Certain(mean) =
            round_mean(Partial { sum: DoubleDouble { hi, lo }, error: 0.0 }, count as usize, format)
        {
            return mean;
        }
    }
    let mut exact = ExactSum::new();
    exact.add_i128(sum, count);
    exact_mean(&exact, format)
}

/// The vertical traversal of one run of adjacent cells (`columns`), tile by tile.
fn vertical_tiles<D: Decode, O: ByteOrder, const N: usize>(
    input: &Input<D>,
    reduced: &Loops,
    columns: Loop,
    (start, mask_start, out_start): (isize, isize, isize),
    out: &mut Output,
    task: &Task,
    level: Level,
) {
    let per_cell = reduced.iterations() as u64;
    let mut first = 0;
    while first < columns.len {
        let width = N.min(columns.len - first);
        let tile = (start + first as isize * columns.input, mask_start + first as isize * columns.mask);
        let cell = |j: usize| (tile.0 + j as isize * columns.input, tile.1 + j as isize * columns.mask);
        let place = |j: usize| out_start + (first + j) as isize * columns.output;
        if D::INTEGER {
            let mut lanes = IntLanes::<D, O, N>::new(width);
            for_each_start(reduced.as_slice(), (tile.0, tile.1, 0), |i, m, _| {
                lanes.add_row(input, columns, i, m);
            });
            lanes.flush();
            for j in 0..width {
                let count = if input.mask.is_some() { lanes.count[j] } else { per_cell };
                finish_integer(out, place(j), lanes.total[j], count, task);
            }
        } else {
            let mut lanes = FloatLanes::<D, O, N>::new(width, level, task.skip_nan);
            if !(D::FEW_BITS && lanes.add_rows_certified(input, reduced, columns, tile.0)) {
                lanes.add_rows(input, reduced, columns, tile);
            }
            let counted = input.mask.is_some() || task.skip_nan;
            let together = !counted && !out.states && !task.sum && (1..=1 << 26).contains(&per_cell);
            for lanes_from in (0..width).step_by(ROUNDED_TOGETHER) {
                let chunk = lanes_from..width.min(lanes_from + ROUNDED_TOGETHER);
                let mut undecided = [true; ROUNDED_TOGETHER];
                let undecided = &mut undecided[..chunk.len()];
                if together {
                    lanes.write_means(out, (place(lanes_from), columns.output), chunk.clone(), per_cell, undecided);
                }
                for j in chunk.filter(|&j| undecided[j - lanes_from]) {
                    let count = if counted { lanes.count[j] as u64 } else { per_cell };
                    let partial = lane_partial(lanes.hi[j], lanes.lo[j], lanes.bound[j]);
                    let (i, m) = cell(j);
                    let exact = || exact_cell::<D, O>(input, reduced, i, m, task.skip_nan);
                    finish_float(out, place(j), partial, count, task, exact);
                }
            }
        }
        first += width;
    }
}

/// The sum a column lane holds (the column kernels' `hi`, `lo`, `bound`: `kernels::add_rows_f64_at`).
fn lane_partial(hi: f64, lo: f64, bound: f64) -> Partial {
    Partial { sum: DoubleDouble { hi, lo }, error: bound * UNIT_ROUNDOFF }
}

/// The vertical traversal's float accumulators: one lane per cell of a tile, each a TwoSum
/// double-double, and the sum of |lo| after each add (the low parts' rounding errors are at
/// most u times it).
struct FloatLanes<D, O, const N: usize> {
    width: usize,
    level: Level,
    /// NaNs are added as +0.0 and not counted (then `count` counts every lane's values).
    skip_nan: bool,
    hi: [f64; N],
    lo: [f64; N],
    bound: [f64; N],
    /// Values counted per lane (with a mask or skipping NaNs), in f64 as the kernels count.
    count: [f64; N],
    decode: PhantomData<(D, O)>,
}

impl<D: Decode, O: ByteOrder, const N: usize> FloatLanes<D, O, N> {
    fn new(width: usize, level: Level, skip_nan: bool) -> Self {
        FloatLanes {
            width,
            level,
            skip_nan,
            hi: [0.0; N],
            lo: [0.0; N],
            bound: [0.0; N],
            count: [0.0; N],
            decode: PhantomData,
        }
    }

    /// The tile's rows in blocks of [`ROW_BLOCK`], each summed by plain adds certified by the
    /// inexact flag into `block`, then folded into the lanes by TwoSum; a block whose adds
    /// rounded is added again row by row with TwoSum (rows of few-bit floats: contiguous,
    /// native, no mask). False, with nothing added, where this does not apply.
    fn add_rows_certified(&mut self, input: &Input<D>, reduced: &Loops, columns: Loop, start: isize) -> bool {
        let w = self.width;
        if input.mask.is_some() || !O::NATIVE || columns.input != 1 || w < COLUMN_KERNEL_FROM {
            return false;
        }
        let mut block = [0.0f64; N];
        // Skipping NaNs, the block's counts: kept if the block is, else counted again with
        // its rows (see `finish_block`).
        let mut block_count = [0.0f64; N];
        let mut starts = [0isize; ROW_BLOCK];
        let mut tile = kernels::CertifiedColumns::begin(self.level, &mut block[..w]);
        if tile.is_none() {
            return false; // no trusted flag at this level
        }
        let row = |i: isize| &input.data[i as usize..i as usize + w];
        let ahead = self.rows_ahead(reduced);
        let mut pending = 0;
        for_each_start(reduced.as_slice(), (start, 0, 0), |i, _, _| {
            if pending == 0 && tile.is_none() {
                tile = kernels::CertifiedColumns::begin(self.level, &mut block[..w]);
            }
            starts[pending] = i;
            pending += 1;
            // (Were `begin` to refuse a later block, its rows are all added again by TwoSum.)
            if let Some(t) = &tile {
                if self.skip_nan {
                    D::add_row_plain_skipping_nan(t, &mut block[..w], &mut block_count[..w], row(i));
                } else if pending % ROWS_PER_PASS == 0 {
                    let rows: [_; ROWS_PER_PASS] = core::array::from_fn(|k| row(starts[pending - ROWS_PER_PASS + k]));
                    D::add_rows_plain(t, &mut block[..w], rows, ahead);
                }
            }
            if pending == ROW_BLOCK {
                self.finish_block(input, columns, (&mut block, &mut block_count), &starts[..pending], tile.take());
                pending = 0;
            }
        });
        if pending > 0 {
            if let Some(t) = &tile
                && !self.skip_nan
            {
                for &i in &starts[pending / ROWS_PER_PASS * ROWS_PER_PASS..pending] {
                    D::add_rows_plain(t, &mut block[..w], [row(i)], 0);
                }
            }
            self.finish_block(input, columns, (&mut block, &mut block_count), &starts[..pending], tile.take());
        }
        true
    }

    /// The distance in bytes from a row to the one [`PASSES_AHEAD`] passes on along the
    /// innermost reduced loop (0: no hints): where the rows' addresses jump, the hardware
    /// prefetchers start late on each of them.
    fn rows_ahead(&self, reduced: &Loops) -> isize {
        let step = reduced.as_slice().last().map_or(0, |l| l.input);
        let rows = PASSES_AHEAD * ROWS_PER_PASS as isize;
        if kernels::host::row_prefetch() { step * rows * size_of::<D::Raw>() as isize } else { 0 }
    }

    /// Folds a certified block of rows into the lanes (and, skipping NaNs, its counts into the
    /// lanes' counts), or adds its rows again with TwoSum (counting them) if an add rounded;
    /// `block` and `block_count` are left zero.
    fn finish_block(
        &mut self,
        input: &Input<D>,
        columns: Loop,
        (block, block_count): (&mut [f64; N], &mut [f64; N]),
        starts: &[isize],
        tile: Option<kernels::CertifiedColumns>,
    ) {
        let w = self.width;
        if tile.is_some_and(|t| t.exact(&block[..w])) {
            kernels::add_row_f64_at(
                self.level,
                &mut self.hi[..w],
                &mut self.lo[..w],
                &mut self.bound[..w],
                &block[..w],
            );
            if self.skip_nan {
                for (count, &more) in self.count[..w].iter_mut().zip(&block_count[..w]) {
                    *count += more;
                }
            }
        } else {
            for &i in starts {
                self.add_row(input, columns, i, 0);
            }
        }
        block[..w].fill(0.0);
        if self.skip_nan {
            block_count[..w].fill(0.0);
        }
    }

    /// Writes the means of `lanes` (`per_cell` values each, none masked or left out) where one
    /// branch-free test at the CPU's level decides them, `undecided` saying where it does not:
    /// float64 outputs by the double-double test of short rows, float32 ones from lanes that
    /// hold exact sums (a certified tile's, with no low part and no bound) by one division.
    /// Per cell, `rounding::round_mean` costs 15-25 ns (its branches; libm FMA calls at the
    /// baseline level): a quarter of float64 (100, 10^5) `axis=0` and an eighth of float32's,
    /// measured on an AMD EPYC of family 26, model 2 (float64 7.2-7.9 -> 4.8-5.4 ms).
    fn write_means(
        &self,
        out: &mut Output,
        (start, step): (isize, isize),
        lanes: core::ops::Range<usize>,
        per_cell: u64,
        undecided: &mut [bool],
    ) {
        let mut means = [0.0f64; ROUNDED_TOGETHER];
        let means = &mut means[..lanes.len()];
        let n = per_cell as usize;
        match out.format {
            Format::Binary64 => {
                let sums = (&self.hi[lanes.clone()], &self.lo[lanes.clone()], &self.bound[lanes]);
                kernels::rows::bounded_sums_to_f64_means_at(self.level, sums, n, means, undecided);
            }
            Format::Binary32 => {
                let mut means32 = [0.0f32; ROUNDED_TOGETHER];
                let means32 = &mut means32[..lanes.len()];
                kernels::rows::exact_sums_to_f32_means_at(self.level, &self.hi[lanes.clone()], n, means32, undecided);
                for (k, j) in lanes.enumerate() {
                    undecided[k] |= self.lo[j] != 0.0 || self.bound[j] != 0.0;
                    means[k] = f64::from(means32[k]);
                }
            }
            _ => return,
        }
        out.write_decided(start, step, means, undecided);
    }

    /// Adds every input row of the tile at `(start, mask_start)`: [`ROWS_PER_PASS`] at a time
    /// where the column kernels take them, else one by one.
    fn add_rows(&mut self, input: &Input<D>, reduced: &Loops, columns: Loop, (start, mask_start): (isize, isize)) {
        let w = self.width;
        if !(input.mask.is_none() && O::NATIVE && columns.input == 1 && w >= COLUMN_KERNEL_FROM && !self.skip_nan) {
            for_each_start(reduced.as_slice(), (start, mask_start, 0), |i, m, _| self.add_row(input, columns, i, m));
            return;
        }
        let ahead = self.rows_ahead(reduced);
        let mut pending = [0isize; ROWS_PER_PASS];
        let mut count = 0;
        for_each_start(reduced.as_slice(), (start, 0, 0), |i, _, _| {
            pending[count] = i;
            count += 1;
            if count == ROWS_PER_PASS {
                count = 0;
                let rows = pending.map(|i| &input.data[i as usize..i as usize + w]);
                let lanes = (&mut self.hi[..w], &mut self.lo[..w], &mut self.bound[..w]);
                if !D::add_rows(self.level, lanes, rows, ahead) {
                    for i in pending {
                        self.add_row(input, columns, i, 0);
                    }
                }
            }
        });
        for &i in &pending[..count] {
            self.add_row(input, columns, i, 0);
        }
    }

    /// Adds one input row: one element to each lane.
    #[inline(always)]
    fn add_row(&mut self, input: &Input<D>, columns: Loop, start: isize, mask_start: isize) {
        let w = self.width;
        // A kernel call per row pays off from a few vectors of columns (measured: a row of 3
        // columns costs more through the call than in the loop below).
        if input.mask.is_none() && O::NATIVE && columns.input == 1 && w >= COLUMN_KERNEL_FROM {
            let row = &input.data[start as usize..start as usize + w];
            let (hi, lo, bound) = (&mut self.hi[..w], &mut self.lo[..w], &mut self.bound[..w]);
            let added = if self.skip_nan {
                D::add_row_skipping_nan(self.level, hi, lo, bound, &mut self.count[..w], row)
            } else {
                D::add_rows(self.level, (hi, lo, bound), [row], 0)
            };
            if added {
                return;
            }
        }
        if input.mask.is_none() && !self.skip_nan {
            visit_strided(input.data, start, self.width, columns.input, self);
            return;
        }
        for j in 0..self.width {
            let masked_in = input.mask.is_none_or(|mask| mask[(mask_start + j as isize * columns.mask) as usize] != 0);
            let x = D::to_f64(O::native(input.data[(start + j as isize * columns.input) as usize]));
            let counted = masked_in && !(self.skip_nan && x.is_nan());
            // A value that does not count adds +0.0 (exact, and no NaN or inf leaks in).
            two_sum_into(&mut self.hi[j], &mut self.lo[j], &mut self.bound[j], if counted { x } else { 0.0 });
            self.count[j] += f64::from(u8::from(counted));
        }
    }
}

impl<D: Decode, O: ByteOrder, const N: usize> Visit<D::Raw> for FloatLanes<D, O, N> {
    #[inline(always)]
    fn values(&mut self, values: impl Iterator<Item = D::Raw>) {
        let w = self.width;
        let lanes = self.hi[..w].iter_mut().zip(self.lo[..w].iter_mut()).zip(self.bound[..w].iter_mut());
        for (((hi, lo), bound), raw) in lanes.zip(values) {
            two_sum_into(hi, lo, bound, D::to_f64(O::native(raw)));
        }
    }
}

#[inline(always)]
fn two_sum_into(hi: &mut f64, lo: &mut f64, bound: &mut f64, x: f64) {
    let (s, err) = kernels::two_sum(*hi, x);
    *hi = s;
    *lo += err;
    *bound += lo.abs();
}

/// The vertical traversal's integer accumulators: pieces per lane in i64, moved into i128
/// totals every [`INT_ADDS_PER_FLUSH`] rows.
struct IntLanes<D, O, const N: usize> {
    width: usize,
    total: [i128; N],
    high: [i64; N],
    low: [i64; N],
    count: [u64; N],
    pending: u64,
    decode: PhantomData<(D, O)>,
}

impl<D: Decode, O: ByteOrder, const N: usize> IntLanes<D, O, N> {
    fn new(width: usize) -> Self {
        IntLanes { width, total: [0; N], high: [0; N], low: [0; N], count: [0; N], pending: 0, decode: PhantomData }
    }

    #[inline(always)]
    fn add_row(&mut self, input: &Input<D>, columns: Loop, start: isize, mask_start: isize) {
        match input.mask {
            None => visit_strided(input.data, start, self.width, columns.input, self),
            Some(mask) => {
                for j in 0..self.width {
                    if mask[(mask_start + j as isize * columns.mask) as usize] != 0 {
                        let (h, l) = D::pieces(O::native(input.data[(start + j as isize * columns.input) as usize]));
                        self.high[j] += h;
                        self.low[j] += l;
                        self.count[j] += 1;
                    }
                }
            }
        }
        self.pending += 1;
        if self.pending == INT_ADDS_PER_FLUSH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for j in 0..self.width {
            self.total[j] += (i128::from(self.high[j]) << 32) + i128::from(self.low[j]);
            (self.high[j], self.low[j]) = (0, 0);
        }
        self.pending = 0;
    }
}

impl<D: Decode, O: ByteOrder, const N: usize> Visit<D::Raw> for IntLanes<D, O, N> {
    #[inline(always)]
    fn values(&mut self, values: impl Iterator<Item = D::Raw>) {
        let w = self.width;
        for ((high, low), raw) in self.high[..w].iter_mut().zip(self.low[..w].iter_mut()).zip(values) {
            let (h, l) = D::pieces(O::native(raw));
            *high += h;
            *low += l;
        }
    }
}

/// The first rows of a narrow reduction of contiguous native rows of `W` values that do not
/// sum plainly (float64), added by the column kernels: 8 rows are one row of `8 W` values, each
/// lane of which belongs to column `lane % W`, and [`ROWS_PER_PASS`] of them go to a call, at
/// SIMD width where the scalar loop adds a value at a time. Returns the rows added (a multiple
/// of `8 ROWS_PER_PASS`; none for other layouts and types) and each column's sum of its lanes.
/// Measured on an AMD EPYC of family 26, model 2, one thread: float64 (3333333, 3) `axis=0`
/// 11.3-13.6 -> 3.7-3.9 ms (numpy.mean 39-43).
fn narrow_rows_as_lanes<D: Decode, O: ByteOrder, const W: usize>(
    input: &Input<D>,
    (start, rows): (usize, usize),
    columns: Loop,
    step: usize,
    level: Level,
) -> (usize, [Partial; W]) {
    let mut folded = [Partial::ZERO; W];
    let width = 8 * W;
    let per_pass = 8 * ROWS_PER_PASS;
    if D::FEW_BITS || !O::NATIVE || columns.input != 1 || step != W || rows < per_pass {
        return (0, folded);
    }
    let (mut hi, mut lo, mut bound) = ([0.0f64; 64], [0.0f64; 64], [0.0f64; 64]);
    let passes = rows / per_pass;
    for pass in 0..passes {
        let first = start + pass * per_pass * W;
        let wide_rows: [&[D::Raw]; ROWS_PER_PASS] = core::array::from_fn(|k| &input.data[first + k * width..][..width]);
        if !D::add_rows(level, (&mut hi[..width], &mut lo[..width], &mut bound[..width]), wide_rows, 0) {
            return (0, folded); // no kernel (nothing was added)
        }
    }
    for lane in 0..width {
        folded[lane % W] = folded[lane % W].merge(lane_partial(hi[lane], lo[lane], bound[lane]));
    }
    (passes * per_pass, folded)
}

/// Rows of a narrow reduction summed plainly under one certificate (float32, float16).
const NARROW_ROW_BLOCK: usize = 256;

/// A reduction down 2 to 8 adjacent columns along one reduced loop (a tall, narrow array's
/// `axis=0`): the columns' sums stay in registers for the whole pass instead of in per-tile
/// arrays. False, with nothing written, for other shapes.
fn narrow<D: Decode, O: ByteOrder>(
    input: &Input<D>,
    reduced: &Loops,
    columns: Loop,
    (start, out_start): (isize, isize),
    out: &mut Output,
    task: &Task,
    level: Level,
) -> bool {
    if D::INTEGER {
        return false; // integer lanes are the tiles' exact sums
    }
    macro_rules! width {
        ($($w:literal)*) => {
            match columns.len {
                $($w => narrow_width::<D, O, $w>(input, reduced, columns, (start, out_start), out, task, level),)*
                _ => return false,
            }
        };
    }
    width!(2 3 4 5 6 7 8);
    true
}

fn narrow_width<D: Decode, O: ByteOrder, const W: usize>(
    input: &Input<D>,
    reduced: &Loops,
    columns: Loop,
    (start, out_start): (isize, isize),
    out: &mut Output,
    task: &Task,
    level: Level,
) {
    let Some(rows) = reduced.innermost() else { return };
    let (step, across) = (rows.input as usize, columns.input as usize);
    let (mut hi, mut lo, mut bound) = ([0.0f64; W], [0.0f64; W], [0.0f64; W]);
    let (mut hi2, mut lo2, mut bound2) = ([0.0f64; W], [0.0f64; W], [0.0f64; W]);
    let at = |r: usize, j: usize| start as usize + r * step + j * across;
    let (mut first, folded) = narrow_rows_as_lanes::<D, O, W>(input, (start as usize, rows.len), columns, step, level);
    while first < rows.len {
        let end = rows.len.min(first + NARROW_ROW_BLOCK);
        // float32/float16: plain adds certified by the inexact flag, folded in by TwoSum.
        let mut window = [0.0f64; 8];
        let certified = if D::FEW_BITS { kernels::CertifiedColumns::begin(level, &mut window) } else { None };
        if let Some(tile) = certified {
            let mut plain = [0.0f64; W];
            for r in first..end {
                for (j, sum) in plain.iter_mut().enumerate() {
                    *sum += D::to_f64(O::native(input.data[at(r, j)]));
                }
            }
            window[..W].copy_from_slice(&plain);
            if tile.exact(&window) {
                for j in 0..W {
                    two_sum_into(&mut hi[j], &mut lo[j], &mut bound[j], window[j]);
                }
                first = end;
                continue;
            }
        }
        // Two sets of sums, alternate rows: TwoSum's chain of dependent adds is long, and two
        // chains per column overlap (measured on Zen 3: float64 (3333333, 3) 21 -> 17 ms).
        let mut r = first;
        while r + 1 < end {
            for j in 0..W {
                two_sum_into(&mut hi[j], &mut lo[j], &mut bound[j], D::to_f64(O::native(input.data[at(r, j)])));
                two_sum_into(&mut hi2[j], &mut lo2[j], &mut bound2[j], D::to_f64(O::native(input.data[at(r + 1, j)])));
            }
            r += 2;
        }
        if r < end {
            for j in 0..W {
                two_sum_into(&mut hi[j], &mut lo[j], &mut bound[j], D::to_f64(O::native(input.data[at(r, j)])));
            }
        }
        first = end;
    }
    for j in 0..W {
        let partial =
            lane_partial(hi[j], lo[j], bound[j]).merge(lane_partial(hi2[j], lo2[j], bound2[j])).merge(folded[j]);
        let cell = start + (j * across) as isize;
        let exact = || exact_cell::<D, O>(input, reduced, cell, 0, false);
        finish_float(out, out_start + j as isize * columns.output, partial, rows.len as u64, task, exact);
    }
}
