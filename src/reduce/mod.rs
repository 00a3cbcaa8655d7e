//! The reduction engine: the mean (or sum, either skipping NaNs or not) over any set of axes of
//! a strided view of any numpy element type, each output element the exact mean or sum of its
//! sub-array rounded once to the output type (integer sums: exact, or refused when they do not
//! fit), read in place (no copy of the input; a few KiB of stack per call).
//!
//! - [`element`]: element types, byte orders, decoding (float16 included);
//! - [`layout`]: checked views and the plan of loops (axes, coalescing, memory order);
//! - [`cells`]: the per-cell chain (fast pass, rounding test, exact pass) and the two
//!   traversals (horizontal, vertical).
//!
//! Complex reductions are two real reductions, one per component. Results are correctly rounded,
//! so they do not depend on the SIMD level, the layout or the traversal.

pub mod cells;
pub mod element;
pub mod layout;

use cells::{Initial, Input, IntegerRange, Output, Task};
use element::{ByteOrder, Decode, ElementType, Native, Swapped, cast_slice};
use layout::{Layout, Plan, Status, for_each_start};

use crate::exact::{ExactSum, SERIALIZED_LEN};
use crate::kernels::Level;
use crate::rounding::{self, Format};

/// A checked view to read: its memory and its layout.
pub struct ArrayRef<'a> {
    pub bytes: &'a [u8],
    pub layout: Layout,
}

/// A checked view to write.
pub struct ArrayMut<'a> {
    pub bytes: &'a mut [u8],
    pub layout: Layout,
}

/// The reductions the engine runs (`mean_operation` in mean.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Operation {
    Mean = 0,
    /// The mean of the values that are not NaN.
    NanMean = 1,
    Sum = 2,
    /// The sum of the values that are not NaN.
    NanSum = 3,
}

impl Operation {
    pub fn from_code(code: i32) -> Option<Operation> {
        [Operation::Mean, Operation::NanMean, Operation::Sum, Operation::NanSum].into_iter().find(|&o| o as i32 == code)
    }

    pub fn is_sum(self) -> bool {
        matches!(self, Operation::Sum | Operation::NanSum)
    }

    pub fn skips_nan(self) -> bool {
        matches!(self, Operation::NanMean | Operation::NanSum)
    }
}

/// Writes into `output` the `operation` over `axes` of `input`, counting only the elements
/// where `mask` (bool, of the input's shape) is true, if given. Empty cells get NaN (means) or
/// the initial value (sums). `initial`, for sums only, is one element of the output's type,
/// added once to every cell's sum.
///
/// Refused with [`Status::Overflow`] if an integer sum does not fit the output type; cells
/// before it may have been written.
pub fn reduce(
    operation: Operation,
    input: &ArrayRef,
    mask: Option<&ArrayRef>,
    output: &mut ArrayMut,
    axes: &[i32],
    initial: Option<&ArrayRef>,
) -> Result<(), Status> {
    let (in_ty, out_ty) = (input.layout.ty, output.layout.ty);
    // (bool is an integer input, not an integer output: numpy's bool sums are logical ors.)
    let integer_sum = operation.is_sum() && in_ty.is_integer() && out_ty.integer_range().is_some();
    if !(out_ty.is_result_type() || integer_sum) || (in_ty.is_complex() && !out_ty.is_complex()) {
        return Err(Status::Type);
    }
    if initial.is_some() && !operation.is_sum() {
        return Err(Status::Operation);
    }
    let initials = match initial {
        Some(initial) => read_initial(initial, out_ty)?,
        None => [Initial::default(); 2],
    };
    // A sum counts every copy of a broadcast value; a mean is the mean of one copy.
    let plan = Plan::new(&input.layout, mask.map(|m| &m.layout), &output.layout, axes, !operation.is_sum())?;
    if plan.cells() == 0 {
        return Ok(());
    }
    let format = match out_ty.component() {
        ElementType::Float16 => Format::Binary16,
        ElementType::Float32 => Format::Binary32,
        _ => Format::Binary64,
    };
    let integer = out_ty.integer_range().map(|(min, max)| IntegerRange { size: out_ty.size(), min, max });
    let swapped = output.layout.swapped;
    let mut out = Output { bytes: output.bytes, format, integer, swapped, overflowed: false, states: false };
    let out_component = out_ty.component().size() as isize;
    let components = if in_ty.is_complex() { 2 } else { 1 };
    for (component, &initial) in initials.iter().enumerate().take(components) {
        let mut part = plan;
        part.input_start += component as isize;
        part.output_start += component as isize * out_component;
        let task = Task { skip_nan: operation.skips_nan(), sum: operation.is_sum(), initial };
        run_typed(input, mask, &part, &mut out, &task);
    }
    if out_ty.is_complex() && !in_ty.is_complex() {
        // A real input's imaginary part: zero, plus a sum's initial value's.
        let start = (0, 0, plan.output_start + out_component);
        for_each_start(plan.kept.as_slice(), start, |_, _, o| out.write(o, initials[1].float));
    }
    if out.overflowed { Err(Status::Overflow) } else { Ok(()) }
}

/// Writes into `states` the exact state of every cell of the `operation` over `axes` of `input`
/// (its elements where `mask` is true, if given): per cell and component, the serialized
/// [`ExactSum`] ([`SERIALIZED_LEN`] bytes) of the values the operation counts, cells in C order
/// of the kept axes, components innermost. States of parts of an array merge
/// ([`merge_states`]) into the states of the whole, and [`finish_states`] rounds them: the
/// result is the one [`reduce`] gives, however the array was cut.
pub fn reduce_states(
    operation: Operation,
    input: &ArrayRef,
    mask: Option<&ArrayRef>,
    states: &mut [u8],
    axes: &[i32],
) -> Result<(), Status> {
    let in_layout = &input.layout;
    let ndim = in_layout.ndim;
    let mut reduced = [false; layout::MAX_DIMS];
    for &axis in axes {
        match usize::try_from(axis) {
            Ok(axis) if axis < ndim && !reduced[axis] => reduced[axis] = true,
            _ => return Err(Status::Axes),
        }
    }
    let components = if in_layout.ty.is_complex() { 2 } else { 1 };
    // The cells' layout: the kept axes, C order, one state per component.
    let mut cells =
        Layout { ty: ElementType::Float64, swapped: false, offset: 0, ndim: 0, shape: [0; _], strides: [0; _] };
    for d in (0..ndim).filter(|&d| !reduced[d]) {
        cells.shape[cells.ndim] = in_layout.shape[d];
        cells.ndim += 1;
    }
    let mut stride = (components * SERIALIZED_LEN) as isize;
    for d in (0..cells.ndim).rev() {
        cells.strides[d] = stride;
        stride = stride.saturating_mul(cells.shape[d] as isize);
    }
    let count: usize = cells.shape[..cells.ndim].iter().product();
    if count.checked_mul(components * SERIALIZED_LEN) != Some(states.len()) {
        return Err(Status::OutputShape);
    }
    // Every copy of a broadcast value counts: a state's count weighs it in merges.
    let plan = Plan::new(in_layout, mask.map(|m| &m.layout), &cells, axes, false)?;
    let mut out = Output {
        bytes: states,
        format: Format::Binary64,
        integer: None,
        swapped: false,
        overflowed: false,
        states: true,
    };
    for component in 0..components {
        let mut part = plan;
        part.input_start += component as isize;
        part.output_start += (component * SERIALIZED_LEN) as isize;
        let task = Task { skip_nan: operation.skips_nan(), sum: operation.is_sum(), initial: Initial::default() };
        run_typed(input, mask, &part, &mut out, &task);
    }
    Ok(())
}

/// Merges each state of `from` (`None`: of `into` itself, doubling it) into the state at the
/// same place of `into` (both whole numbers of states, as many of them). Refused with
/// [`Status::State`] if a state is not one this library wrote, [`Status::Overflow`] if a count
/// would pass `u64::MAX`; states before the refused one are merged.
pub fn merge_states(into: &mut [u8], from: Option<&[u8]>) -> Result<(), Status> {
    if from.is_some_and(|from| from.len() != into.len()) || !into.len().is_multiple_of(SERIALIZED_LEN) {
        return Err(Status::Shape);
    }
    for (k, target) in into.chunks_exact_mut(SERIALIZED_LEN).enumerate() {
        let mut sum = ExactSum::from_bytes(target).ok_or(Status::State)?;
        let other = match from {
            Some(from) => ExactSum::from_bytes(&from[k * SERIALIZED_LEN..(k + 1) * SERIALIZED_LEN]),
            None => Some(sum.clone()),
        };
        sum.merge(&other.ok_or(Status::State)?).map_err(|_| Status::Overflow)?;
        target.copy_from_slice(&sum.to_bytes());
    }
    Ok(())
}

/// Writes the `operation`'s result of each state into `output` (one dimension, as many elements
/// as states; a real type: the components of a complex result are states of their own): a mean
/// (NaN for no values) or a sum rounded once to a float output, or a sum written exactly into
/// an integer output ([`Status::Type`] for a state that is not an integer, [`Status::Overflow`]
/// if it does not fit).
pub fn finish_states(operation: Operation, states: &[u8], output: &mut ArrayMut) -> Result<(), Status> {
    let ty = output.layout.ty;
    let integer = ty.integer_range().filter(|_| operation.is_sum());
    if ty.is_complex() || !(ty.is_result_type() || integer.is_some()) {
        return Err(Status::Type);
    }
    let layout = &output.layout;
    if !states.len().is_multiple_of(SERIALIZED_LEN)
        || layout.ndim != 1
        || layout.shape[0] * SERIALIZED_LEN != states.len()
    {
        return Err(Status::OutputShape);
    }
    let format = match ty {
        ElementType::Float16 => Format::Binary16,
        ElementType::Float32 => Format::Binary32,
        _ => Format::Binary64,
    };
    let integer = integer.map(|(min, max)| IntegerRange { size: ty.size(), min, max });
    let (offset, stride) = (layout.offset as isize, layout.strides[0]);
    let mut out =
        Output { bytes: output.bytes, format, integer, swapped: layout.swapped, overflowed: false, states: false };
    for (k, bytes) in states.chunks_exact(SERIALIZED_LEN).enumerate() {
        let state = ExactSum::from_bytes(bytes).ok_or(Status::State)?;
        let at = offset + k as isize * stride;
        if out.integer.is_some() {
            out.write_integer(at, state.to_i128().ok_or(Status::Type)?);
        } else if operation.is_sum() {
            out.write(at, rounding::exact_sum(&state, format));
        } else {
            out.write(at, rounding::exact_mean(&state, format));
        }
        if out.overflowed {
            return Err(Status::Overflow);
        }
    }
    Ok(())
}

/// The value of `initial`, one element of type `ty` (per component).
fn read_initial(initial: &ArrayRef, ty: ElementType) -> Result<[Initial; 2], Status> {
    let layout = &initial.layout;
    if layout.ty != ty {
        return Err(Status::Type);
    }
    if layout.shape[..layout.ndim].iter().product::<usize>() != 1 {
        return Err(Status::Shape);
    }
    let component = ty.component();
    let size = component.size();
    let mut initials = [Initial::default(); 2];
    for (k, slot) in initials.iter_mut().enumerate().take(if ty.is_complex() { 2 } else { 1 }) {
        let at = layout.offset + k * size;
        let mut bytes = [0u8; 8];
        bytes[..size].copy_from_slice(&initial.bytes[at..at + size]);
        if layout.swapped {
            bytes[..size].reverse();
        }
        *slot = element::decode_one(component, &bytes[..size]);
    }
    Ok(initials)
}

/// [`cells::run`] for the input's component type and byte order.
fn run_typed(input: &ArrayRef, mask: Option<&ArrayRef>, plan: &Plan, out: &mut Output, task: &Task) {
    macro_rules! typed {
        ($decode:ty) => {
            if input.layout.swapped {
                run_with::<$decode, Swapped>(input, mask, plan, out, task)
            } else {
                run_with::<$decode, Native>(input, mask, plan, out, task)
            }
        };
    }
    match input.layout.ty.component() {
        ElementType::Bool => typed!(element::Bool),
        ElementType::Int8 => typed!(element::Int8),
        ElementType::UInt8 => typed!(element::UInt8),
        ElementType::Int16 => typed!(element::Int16),
        ElementType::UInt16 => typed!(element::UInt16),
        ElementType::Int32 => typed!(element::Int32),
        ElementType::UInt32 => typed!(element::UInt32),
        ElementType::Int64 => typed!(element::Int64),
        ElementType::UInt64 => typed!(element::UInt64),
        ElementType::Float16 => typed!(element::Float16),
        ElementType::Float32 => typed!(element::Float32),
        _ => typed!(element::Float64),
    }
}

fn run_with<D: Decode, O: ByteOrder>(
    input: &ArrayRef,
    mask: Option<&ArrayRef>,
    plan: &Plan,
    out: &mut Output,
    task: &Task,
) {
    // The memory as a slice of the component's raw type, from its first aligned byte: every
    // element of a checked layout is aligned, so its byte offset minus this skip is a whole
    // number of elements (the plan's units).
    let bytes = input.bytes;
    let size = size_of::<D::Raw>();
    let skip = bytes.as_ptr().align_offset(size).min(bytes.len());
    let whole = (bytes.len() - skip) / size * size;
    let data = cast_slice::<D::Raw>(&bytes[skip..skip + whole]).unwrap_or(&[]);
    let input = Input::<D> { data, mask: mask.map(|m| m.bytes) };
    cells::run::<D, O>(&input, plan, out, task, Level::selected());
}
