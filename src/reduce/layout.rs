//! Strided views, checked, and the plan of loops a reduction runs over them.
//!
//! A view is numpy's: a data offset, a shape and byte strides (negative and zero included)
//! into a described block of memory. [`Layout::check`] proves that every element lies inside
//! that block and is aligned; after it, every element is reached by indexing a slice, never by
//! pointer arithmetic.
//!
//! [`Plan::new`] turns (input, mask, output, axes) into two loop nests, kept and reduced,
//! each ordered by memory (largest stride outermost), with negative strides flipped and
//! adjacent dimensions coalesced, as numpy's iterator does: memory is then read in order
//! whatever the axis order, and a C- or Fortran-ordered reduction is one long loop.

use super::element::ElementType;

/// Dimensions a view may have (numpy's limit since 2.0 is 64; 32 covers every earlier numpy).
pub const MAX_DIMS: usize = 32;

/// Why a reduction was refused. Codes as the C ABI returns them (`mean_status` in mean.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Status {
    Ok = 0,
    /// A NULL descriptor, or a NULL pointer where memory or a shape is needed.
    Null = -1,
    /// `ndim` below 0 or above [`MAX_DIMS`].
    Ndim = -2,
    /// A negative dimension, or more elements than memory can hold.
    Shape = -3,
    /// An element outside the described memory.
    Bounds = -4,
    /// An element address not aligned for its type.
    Misaligned = -5,
    /// An unknown element type, or one that cannot be the input or output asked for.
    Type = -6,
    /// An axis out of range, repeated, or too many axes.
    Axes = -7,
    /// The output's shape is not the input's with the reduced axes removed (or kept as 1).
    OutputShape = -8,
    /// The output's memory overlaps the input's or the mask's.
    Overlap = -9,
    /// An unknown operation.
    Operation = -10,
    /// The mask is not bool, or its shape is not the input's.
    Mask = -11,
    /// An integer sum does not fit the output type (or a merged count passes `u64::MAX`).
    Overflow = -12,
    /// Bytes that are not an exact state this library wrote.
    State = -13,
}

/// A view's geometry and type, checked against its memory by [`Layout::check`].
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub ty: ElementType,
    pub swapped: bool,
    /// Byte offset of element (0, ..., 0) from the start of the memory.
    pub offset: usize,
    pub ndim: usize,
    pub shape: [usize; MAX_DIMS],
    pub strides: [isize; MAX_DIMS],
}

impl Layout {
    /// The layout of a view of `memory_len` bytes at address `memory_address`, if every element
    /// lies in the memory and is aligned.
    pub fn check(
        ty: ElementType,
        swapped: bool,
        offset: usize,
        shape: &[i64],
        strides: &[i64],
        memory_address: usize,
        memory_len: usize,
    ) -> Result<Layout, Status> {
        if shape.len() > MAX_DIMS || strides.len() != shape.len() {
            return Err(Status::Ndim);
        }
        let mut layout =
            Layout { ty, swapped, offset, ndim: shape.len(), shape: [0; MAX_DIMS], strides: [0; MAX_DIMS] };
        let mut elements: u128 = 1;
        for (d, (&len, &stride)) in shape.iter().zip(strides).enumerate() {
            let len = usize::try_from(len).map_err(|_| Status::Shape)?;
            elements = elements.saturating_mul(len as u128);
            layout.shape[d] = len;
            layout.strides[d] = isize::try_from(stride).map_err(|_| Status::Bounds)?;
        }
        if elements > isize::MAX as u128 {
            return Err(Status::Shape);
        }
        if elements == 0 {
            return Ok(layout); // no element to read or write
        }
        // The lowest and highest byte any element touches, exactly (i128: no overflow).
        let mut low = offset as i128;
        let mut high = offset as i128 + ty.size() as i128;
        for d in 0..layout.ndim {
            let reach = (layout.shape[d] as i128 - 1) * layout.strides[d] as i128;
            if reach < 0 { low += reach } else { high += reach }
        }
        if low < 0 || high > memory_len as i128 {
            return Err(Status::Bounds);
        }
        let align = ty.alignment();
        let misaligned_stride =
            (0..layout.ndim).any(|d| layout.shape[d] > 1 && layout.strides[d] % align as isize != 0);
        if !memory_address.wrapping_add(offset).is_multiple_of(align) || misaligned_stride {
            return Err(Status::Misaligned);
        }
        Ok(layout)
    }
}

/// One loop of a plan: its length and its stride in each array, in units of that array's
/// elements (input: elements of the input's component type; mask: bytes; output: bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loop {
    pub len: usize,
    pub input: isize,
    pub mask: isize,
    pub output: isize,
}

/// A fixed-capacity list of loops, outermost first.
#[derive(Clone, Copy, Debug)]
pub struct Loops {
    pub loops: [Loop; MAX_DIMS],
    pub count: usize,
}

impl Loops {
    const EMPTY: Loops = Loops { loops: [Loop { len: 0, input: 0, mask: 0, output: 0 }; MAX_DIMS], count: 0 };

    pub fn as_slice(&self) -> &[Loop] {
        &self.loops[..self.count]
    }

    /// Iterations of the whole nest.
    pub fn iterations(&self) -> usize {
        self.as_slice().iter().map(|l| l.len).product()
    }

    /// The innermost loop, if any.
    pub fn innermost(&self) -> Option<Loop> {
        self.as_slice().last().copied()
    }

    /// All loops but the innermost.
    pub fn outer(&self) -> &[Loop] {
        &self.loops[..self.count.saturating_sub(1)]
    }

    fn push(&mut self, l: Loop) {
        self.loops[self.count] = l;
        self.count += 1;
    }

    /// Sorted by input stride, largest outermost (stable: ties keep axis order), then merged
    /// where the outer loop steps exactly over the inner one in every array.
    fn order_and_coalesce(&mut self) {
        let loops = &mut self.loops[..self.count];
        loops.sort_by_key(|l| std::cmp::Reverse(l.input));
        // In place (the loops are 1 KiB: a copy costs more than a small reduction's work).
        let mut merged: usize = 0;
        for k in 0..self.count {
            let l = self.loops[k];
            if let Some(outer) = merged.checked_sub(1).map(|i| &mut self.loops[i]) {
                let len = l.len as isize;
                if outer.input == l.input * len && outer.mask == l.mask * len && outer.output == l.output * len {
                    *outer = Loop { len: outer.len * l.len, ..l };
                    continue;
                }
            }
            self.loops[merged] = l;
            merged += 1;
        }
        self.count = merged;
    }
}

/// The loops of one reduction, and where each array starts.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// One output element per iteration.
    pub kept: Loops,
    /// The elements of one output element (a "cell").
    pub reduced: Loops,
    /// Start of the first cell, in each array's units.
    pub input_start: isize,
    pub mask_start: isize,
    pub output_start: isize,
    /// Elements per cell in the input as described, before broadcast loops were dropped (for
    /// sums, which count every one; a mean over a broadcast axis is the mean of one copy).
    pub cell_len: usize,
    /// Whether some reduced dimension is empty (every cell is then empty).
    pub empty_cells: bool,
}

impl Plan {
    /// The plan of a reduction of `input` over `axes` into `output` (`mask`: which elements
    /// count, of the input's shape). `component` is the input's component size, the unit of
    /// input strides in the plan. Dimensions of length 1 disappear; `drop_broadcast` also drops
    /// reduced dimensions along which neither input nor mask moves (right for a mean).
    pub fn new(
        input: &Layout,
        mask: Option<&Layout>,
        output: &Layout,
        axes: &[i32],
        drop_broadcast: bool,
    ) -> Result<Plan, Status> {
        let ndim = input.ndim;
        let mut reduced_axis = [false; MAX_DIMS];
        for &axis in axes {
            let axis = usize::try_from(axis).map_err(|_| Status::Axes)?;
            if axis >= ndim || reduced_axis[axis] {
                return Err(Status::Axes);
            }
            reduced_axis[axis] = true;
        }
        if let Some(mask) = mask
            && (mask.ty != ElementType::Bool || mask.ndim != ndim || mask.shape[..ndim] != input.shape[..ndim])
        {
            return Err(Status::Mask);
        }
        // The output is the input's shape without the reduced axes, or with them as 1.
        let keepdims = output.ndim == ndim && (!axes.is_empty() || ndim == 0);
        let expected_ndim = if keepdims { ndim } else { ndim - axes.len() };
        if output.ndim != expected_ndim {
            return Err(Status::OutputShape);
        }
        let unit = input.ty.alignment() as isize;
        let mut plan = Plan {
            kept: Loops::EMPTY,
            reduced: Loops::EMPTY,
            input_start: input.offset as isize / unit,
            mask_start: mask.map_or(0, |m| m.offset as isize),
            output_start: output.offset as isize,
            cell_len: 1,
            empty_cells: false,
        };
        let mut output_dim = 0;
        #[allow(clippy::needless_range_loop)] // d indexes four arrays
        for d in 0..ndim {
            let len = input.shape[d];
            let mut l = Loop { len, input: input.strides[d] / unit, mask: mask.map_or(0, |m| m.strides[d]), output: 0 };
            if reduced_axis[d] {
                if keepdims {
                    if output.shape[d] != 1 {
                        return Err(Status::OutputShape);
                    }
                    output_dim += 1;
                }
                plan.cell_len *= len;
                plan.empty_cells |= len == 0;
                if len > 1 && !(drop_broadcast && l.input == 0 && l.mask == 0) {
                    plan.flip_if_negative(&mut l, false);
                    plan.reduced.push(l);
                }
            } else {
                if output.shape[output_dim] != len {
                    return Err(Status::OutputShape);
                }
                l.output = output.strides[output_dim];
                output_dim += 1;
                if len != 1 {
                    plan.flip_if_negative(&mut l, true);
                    plan.kept.push(l);
                }
            }
        }
        plan.kept.order_and_coalesce();
        plan.reduced.order_and_coalesce();
        Ok(plan)
    }

    /// A loop with a negative input stride runs backward from its last element instead, and
    /// the starts move there: every input stride of a plan is then >= 0.
    fn flip_if_negative(&mut self, l: &mut Loop, kept: bool) {
        if l.input >= 0 {
            return;
        }
        let last = l.len as isize - 1;
        self.input_start += last * l.input;
        self.mask_start += last * l.mask;
        l.input = -l.input;
        l.mask = -l.mask;
        if kept {
            self.output_start += last * l.output;
            l.output = -l.output;
        }
    }

    /// Output elements.
    pub fn cells(&self) -> usize {
        self.kept.iterations()
    }
}

/// Calls `f(input, mask, output)` with the start of every iteration of `loops` from `start`,
/// outermost loop slowest: an odometer over fixed-size counters (no allocation).
#[inline]
pub fn for_each_start(loops: &[Loop], start: (isize, isize, isize), mut f: impl FnMut(isize, isize, isize)) {
    if loops.iter().any(|l| l.len == 0) {
        return;
    }
    let mut index = [0usize; MAX_DIMS];
    let (mut input, mut mask, mut output) = start;
    loop {
        f(input, mask, output);
        // Advance the innermost counter; carry outward.
        let mut d = loops.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            let l = &loops[d];
            index[d] += 1;
            input += l.input;
            mask += l.mask;
            output += l.output;
            if index[d] < l.len {
                break;
            }
            let back = l.len as isize;
            input -= l.input * back;
            mask -= l.mask * back;
            output -= l.output * back;
            index[d] = 0;
        }
    }
}
