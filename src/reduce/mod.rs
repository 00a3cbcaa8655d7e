//! The reduction engine: the mean over any set of axes of a strided view of any numpy element
//! type, each output element the exact mean of its sub-array rounded once to the output type,
//! read in place (no copy of the input; a few KiB of stack per call).
//!
//! - [`element`]: element types, byte orders, decoding (float16 included);
//! - [`layout`]: checked views and the plan of loops (axes, coalescing, memory order);
//! - [`cells`]: the per-cell chain (fast pass, rounding test, exact pass) and the two
//!   traversals (horizontal, vertical).
//!
//! Complex means are two real reductions, one per component. Results are correctly rounded,
//! so they do not depend on the SIMD level, the layout or the traversal.

pub mod cells;
pub mod element;
pub mod layout;

use cells::{Input, Output};
use element::{ByteOrder, Decode, ElementType, Native, Swapped, cast_slice};
use layout::{Layout, Plan, Status, for_each_start};

use crate::kernels::Level;
use crate::rounding::Format;

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
}

impl Operation {
    pub fn from_code(code: i32) -> Option<Operation> {
        (code == 0).then_some(Operation::Mean)
    }
}

/// Writes into `output` the mean over `axes` of `input`, counting only the elements where
/// `mask` (bool, of the input's shape) is true, if given. Empty cells get NaN.
pub fn reduce(
    _operation: Operation,
    input: &ArrayRef,
    mask: Option<&ArrayRef>,
    output: &mut ArrayMut,
    axes: &[i32],
) -> Result<(), Status> {
    let (in_ty, out_ty) = (input.layout.ty, output.layout.ty);
    if !out_ty.is_result_type() || (in_ty.is_complex() && !out_ty.is_complex()) {
        return Err(Status::Type);
    }
    let plan = Plan::new(&input.layout, mask.map(|m| &m.layout), &output.layout, axes, true)?;
    if plan.cells() == 0 {
        return Ok(());
    }
    let format = match out_ty.component() {
        ElementType::Float16 => Format::Binary16,
        ElementType::Float32 => Format::Binary32,
        _ => Format::Binary64,
    };
    let mut out = Output { bytes: output.bytes, format, swapped: output.layout.swapped };
    let out_component = out_ty.component().size() as isize;
    let components = if in_ty.is_complex() { 2 } else { 1 };
    for component in 0..components {
        let mut part = plan;
        part.input_start += component;
        part.output_start += component * out_component;
        run_typed(input, mask, &part, &mut out);
    }
    if out_ty.is_complex() && !in_ty.is_complex() {
        let start = (0, 0, plan.output_start + out_component);
        for_each_start(plan.kept.as_slice(), start, |_, _, o| out.write(o, 0.0));
    }
    Ok(())
}

/// [`cells::run`] for the input's component type and byte order.
fn run_typed(input: &ArrayRef, mask: Option<&ArrayRef>, plan: &Plan, out: &mut Output) {
    macro_rules! typed {
        ($decode:ty) => {
            if input.layout.swapped {
                run_with::<$decode, Swapped>(input, mask, plan, out)
            } else {
                run_with::<$decode, Native>(input, mask, plan, out)
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

fn run_with<D: Decode, O: ByteOrder>(input: &ArrayRef, mask: Option<&ArrayRef>, plan: &Plan, out: &mut Output) {
    // The memory as a slice of the component's raw type, from its first aligned byte: every
    // element of a checked layout is aligned, so its byte offset minus this skip is a whole
    // number of elements (the plan's units).
    let bytes = input.bytes;
    let size = size_of::<D::Raw>();
    let skip = bytes.as_ptr().align_offset(size).min(bytes.len());
    let whole = (bytes.len() - skip) / size * size;
    let data = cast_slice::<D::Raw>(&bytes[skip..skip + whole]).unwrap_or(&[]);
    let input = Input::<D> { data, mask: mask.map(|m| m.bytes) };
    cells::run::<D, O>(&input, plan, out, Level::selected());
}
