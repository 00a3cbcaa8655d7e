"""Exact partial states of reductions, for arrays cut into parts (dask chunks, files read in
pieces, results computed in other processes).

The state of one output element is the serialized exact accumulator of the values the
reduction counts for it (``mean_acc_serialized_size()`` bytes: README, "The accumulator's
bytes"); an array of them is a numpy structured array (:func:`state_dtype`), so it pickles,
saves to ``.npy`` without ``allow_pickle`` and concatenates like any other. States of the parts
of an array, merged, are the states of the whole: :func:`finish` gives the result
``npmean.mean`` (``nanmean``, ``sum``, ``nansum``) gives for the whole array, bit for bit,
however it was cut.
"""

from __future__ import annotations

import functools
import threading
import warnings

import numpy as np

from . import _mean
from ._mean import _MEAN, _NANMEAN, _NANSUM, _SUM, _data_pointer, _normalize_axis_tuple
from ._reduce import STATUS_NAMES, _OVERFLOW, _per_thread, describe, type_code

OPERATIONS = {"mean": _MEAN, "nanmean": _NANMEAN, "sum": _SUM, "nansum": _NANSUM}
_STATE_HEADER = 24  # magic, version, flags, count (src/exact/mod.rs)
_TYPE = -6  # MEAN_E_TYPE


@functools.cache
def state_dtype(complex_input: bool = False) -> np.dtype:
    """The structured dtype of one output element's state (two, ``real`` and ``imag``, for a
    complex input: each component is reduced on its own)."""
    size = _mean.library().mean_acc_serialized_size()
    digits = (size - _STATE_HEADER - 4) // 8
    state = np.dtype(
        [("magic", "V8"), ("version", "<u4"), ("flags", "<u4"), ("count", "<u8"),
         ("digits", "<i8", (digits,)), ("crc", "<u4")]
    )
    assert state.itemsize == size, (state.itemsize, size)
    return np.dtype([("real", state), ("imag", state)]) if complex_input else state


@functools.cache
def _empty_state() -> bytes:
    """The state of no values."""
    lib = _mean.library()
    handle = lib.mean_acc_new()
    if not handle:
        raise MemoryError("mean_acc_new failed")
    try:
        buffer = np.empty(lib.mean_acc_serialized_size(), np.uint8)
        if lib.mean_acc_serialize(handle, buffer.ctypes.data, buffer.size) != 0:
            raise RuntimeError("mean_acc_serialize refused a live accumulator")
        return buffer.tobytes()
    finally:
        lib.mean_acc_free(handle)


def supported(dtype) -> bool:
    """Whether states can be made of an array of ``dtype``."""
    return type_code(np.dtype(dtype)) is not None


def normalized_axes(axis, ndim: int) -> tuple:
    """``axis`` (None, an int or a tuple; negative allowed) as sorted axis numbers."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(_normalize_axis_tuple(axis, ndim)))


def kept_shape(shape, axes) -> tuple:
    """``shape`` with the (normalized) ``axes`` kept as length 1."""
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def reduce_states(a, operation, axis=None, where=None) -> np.ndarray:
    """The states of the ``operation`` (a name of :data:`OPERATIONS`) of ``a`` over ``axis``,
    with the reduced axes kept as length 1. ``a`` is read in place (any layout, byte order)."""
    op = OPERATIONS[operation]
    arr = np.asarray(a)
    if not supported(arr.dtype):
        raise TypeError(f"npmean cannot reduce dtype {arr.dtype} exactly")
    axes = normalized_axes(axis, arr.ndim)
    if not arr.flags.aligned:
        # Buffers unpickled from a network frame often are (dask's); the engine reads aligned data.
        pieces = _aligned_pieces(arr) if where is None else None
        if pieces is None:
            arr = arr.copy()
        else:
            return _reduce_pieces(arr, operation, axes, *pieces)
    states = np.empty(kept_shape(arr.shape, axes), state_dtype(arr.dtype.kind == "c"))
    mask = None
    if where is not None:
        mask = np.broadcast_to(np.asarray(where, dtype=bool), arr.shape)
    if op.skips_nan and arr.dtype.kind == "c":
        # As npmean.nanmean: an element with a NaN in either part is left out of both.
        finite = ~np.isnan(arr)
        mask = finite if mask is None else finite & mask
    slots = _per_thread
    source = describe(arr, _data_pointer(arr), slots.input)
    masked = describe(mask, _data_pointer(mask), slots.mask) if mask is not None else None
    slots.axes[: len(axes)] = axes
    lib = _mean.library()
    status = lib.mean_reduce_states(
        op.code, source, masked, slots.axes, len(axes), states.ctypes.data, states.nbytes, 1
    )
    if status != 0:  # every argument was built here: a refusal is a bug
        raise RuntimeError(f"libmean refused the states: {STATUS_NAMES.get(status, status)}")
    return states


# Misaligned arrays are reduced in pieces of at most this many bytes, each copied into an aligned
# buffer of the thread's (in cache, reused), rather than copied whole.
_PIECE_BYTES = 1 << 20
_buffers = threading.local()


def _aligned_pieces(arr: np.ndarray):
    """(outer axis, rows per piece) to cut a contiguous ``arr`` along its outermost axis in memory
    order into pieces of about :data:`_PIECE_BYTES`; None if it cannot be (then it is copied)."""
    if arr.ndim == 0 or arr.size == 0 or not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        return None
    outer = arr.ndim - 1 if not arr.flags.c_contiguous else 0
    row_bytes = arr.nbytes // arr.shape[outer]
    if row_bytes > _PIECE_BYTES:
        return None
    return outer, _PIECE_BYTES // row_bytes


def _reduce_pieces(arr, operation, axes, outer: int, rows: int) -> np.ndarray:
    buffer = getattr(_buffers, "piece", None)
    if buffer is None:
        buffer = _buffers.piece = np.empty(_PIECE_BYTES, np.uint8)
    order = "C" if outer == 0 else "F"
    merged = None
    placed = None if outer in axes else np.empty(kept_shape(arr.shape, axes), state_dtype(arr.dtype.kind == "c"))
    index = [slice(None)] * arr.ndim
    for start in range(0, arr.shape[outer], rows):
        index[outer] = slice(start, start + rows)
        piece = arr[tuple(index)]
        aligned = buffer[: piece.nbytes].view(arr.dtype).reshape(piece.shape, order=order)
        np.copyto(aligned, piece)
        states = reduce_states(aligned, operation, axes)
        if placed is not None:
            placed[tuple(index)] = states
        elif merged is None:
            merged = states
        else:
            _merge(merged, states)
    return merged if placed is None else placed


def merge_states(states, axis=None) -> np.ndarray:
    """The states merged along ``axis`` (kept as length 1): as if the parts had been one."""
    states = np.asarray(states)
    _check_states(states)
    axes = normalized_axes(axis, states.ndim)
    merged_shape = kept_shape(states.shape, axes)
    parts = int(np.prod([states.shape[d] for d in axes], dtype=np.int64))
    if parts == 1:
        return np.ascontiguousarray(states).reshape(merged_shape)
    # (parts, cells): each part's states contiguous, merged in order into the first.
    kept = [d for d in range(states.ndim) if d not in axes]
    stacked = np.ascontiguousarray(np.transpose(states, list(axes) + kept)).reshape(parts, -1)
    if parts == 0:
        empty = np.frombuffer(_empty_state(), state_dtype())
        merged = np.empty(merged_shape, states.dtype)
        merged.view(state_dtype()).reshape(-1)[...] = empty[0]
        return merged
    merged = stacked[0].copy()
    for part in stacked[1:]:
        _merge(merged, part)
    return merged.reshape(merged_shape)


def merge_into(into: np.ndarray, other) -> None:
    """Merges ``other`` (states of ``into``'s shape and dtype) into ``into`` (contiguous), in place."""
    other = np.ascontiguousarray(other)
    _check_states(other)
    if other.dtype != into.dtype or other.shape != into.shape or not into.flags.c_contiguous:
        raise ValueError(f"cannot merge states of shape {other.shape} into states of shape {into.shape}")
    _merge(into, other)


def _merge(into: np.ndarray, other: np.ndarray) -> None:
    count = into.nbytes // state_dtype().itemsize
    status = _mean.library().mean_states_merge(into.ctypes.data, other.ctypes.data, count)
    if status == _OVERFLOW:
        raise OverflowError("a merged state would count more than 2**64 - 1 values")
    if status != 0:
        raise ValueError(f"cannot merge: {STATUS_NAMES.get(status, status)}")


def finish(states, operation, dtype) -> np.ndarray:
    """The ``operation``'s result of each state, as an array of ``dtype`` of the states' shape:
    the exact mean (or sum) rounded once; integer sums exact, or OverflowError. A mean of no
    values is NaN, with numpy's "Mean of empty slice" warning."""
    op = OPERATIONS[operation]
    states = np.ascontiguousarray(states)
    _check_states(states)
    dtype = np.dtype(dtype)
    complex_states = states.dtype == state_dtype(True)
    if complex_states != (dtype.kind == "c"):
        raise TypeError(f"states of {'complex' if complex_states else 'real'} values cannot finish to {dtype}")
    out = np.empty(states.shape, dtype.newbyteorder("="))
    if out.size:
        flat = out.reshape(-1)
        components = flat.view(flat.real.dtype) if complex_states else flat
        slots = _per_thread
        target = describe(components, _data_pointer(components), slots.output)
        lib = _mean.library()
        status = lib.mean_states_finish(op.code, states.ctypes.data, components.size, target)
        if status == _OVERFLOW:
            raise OverflowError(f"the sum does not fit {dtype}")
        if status == _TYPE:
            raise TypeError(f"the {operation} of these states is not a {dtype} value")
        if status != 0:
            raise ValueError(f"cannot finish: {STATUS_NAMES.get(status, status)}")
    if not op.is_sum:
        counts = (states["real"] if complex_states else states)["count"]
        if (counts == 0).any():
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    return out


def _check_states(states: np.ndarray) -> None:
    if states.dtype not in (state_dtype(), state_dtype(True)):
        raise TypeError(f"not an array of npmean states: dtype {states.dtype}")


def result_dtype(operation, in_dtype, dtype=None) -> np.dtype:
    """The dtype ``npmean.<operation>`` gives for input ``in_dtype`` and ``dtype=``; TypeError
    for what states cannot give (dtypes numpy alone computes)."""
    op = OPERATIONS[operation]
    in_dtype = np.dtype(in_dtype)
    result = op.result_dtype(in_dtype, dtype, None) if supported(in_dtype) else None
    if result is None:
        raise TypeError(f"npmean cannot give the exact {operation} of {in_dtype} as {dtype or 'its default dtype'}")
    return result


__all__ = ["OPERATIONS", "finish", "merge_into", "merge_states", "kept_shape", "normalized_axes", "reduce_states", "result_dtype", "state_dtype"]

