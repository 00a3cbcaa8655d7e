"""The reduction engine's call: numpy arrays described as ``struct mean_array`` (in place, no
copy), and ``mean_reduce``'s status turned into exceptions."""

from __future__ import annotations

import ctypes
import struct
import threading

import numpy as np

from ._lib import MAX_DIMS, STATUS_NAMES, Library, MeanArray, MeanCall

# enum mean_type of include/mean.h, by (dtype kind, itemsize).
TYPE_CODES = {
    ("b", 1): 1,
    ("i", 1): 2,
    ("u", 1): 3,
    ("i", 2): 4,
    ("u", 2): 5,
    ("i", 4): 6,
    ("u", 4): 7,
    ("i", 8): 8,
    ("u", 8): 9,
    ("f", 2): 10,
    ("f", 4): 11,
    ("f", 8): 12,
    ("c", 8): 13,
    ("c", 16): 14,
}
# enum mean_operation
MEAN, NANMEAN, SUM, NANSUM = 0, 1, 2, 3
_OVERFLOW = -12  # MEAN_E_OVERFLOW

_Dims = ctypes.c_int64 * MAX_DIMS


# struct mean_array's bytes (x86_64 and other LP64 ABIs): memory, len, offset, type, swapped,
# ndim, 4 bytes of padding, shape, strides. Packing them in one call costs ~0.3 µs where
# setting the ctypes fields one by one costs ~3 µs.
_LAYOUT = struct.Struct("@PNNiii4xPP")
assert _LAYOUT.size == ctypes.sizeof(MeanArray)
_pack_dims = [struct.Struct(f"@{n}q").pack_into for n in range(MAX_DIMS + 1)]


class _Descriptor:
    """One reusable ``struct mean_array`` with room for every dimension."""

    __slots__ = ("array", "pointer", "shape", "strides", "shape_address", "strides_address")

    def __init__(self):
        self.array = MeanArray()
        self.shape, self.strides = _Dims(), _Dims()
        self.shape_address = ctypes.addressof(self.shape)
        self.strides_address = ctypes.addressof(self.strides)
        self.pointer = ctypes.pointer(self.array)


class _PerThread(threading.local):
    """Descriptors for input, mask and output, one set per thread (calls on other threads
    run at the same time; a thread makes one call at a time)."""

    def __init__(self):
        self.input, self.mask, self.output = _Descriptor(), _Descriptor(), _Descriptor()
        self.initial = _Descriptor()
        self.axes = (ctypes.c_int * MAX_DIMS)()


_per_thread = _PerThread()


_CODE_BY_DTYPE: dict = {}


def type_code(dtype: np.dtype) -> int | None:
    """The engine's code for ``dtype``, or None if the engine does not read it."""
    code = _CODE_BY_DTYPE.get(dtype)
    if code is None:
        code = _CODE_BY_DTYPE[dtype] = TYPE_CODES.get((dtype.kind, dtype.itemsize))
    return code


def extent(a: np.ndarray) -> tuple[int, int]:
    """The bytes ``a``'s elements span, from ``low`` to ``high`` (exclusive) relative to its data
    address (``low`` is negative with negative strides; both 0 for an empty array)."""
    low = high = 0
    if a.size:
        for n, s in zip(a.shape, a.strides):
            if s < 0:
                low += (n - 1) * s
            else:
                high += (n - 1) * s
        high += a.itemsize
    return low, high


def describe(a: np.ndarray, data: int, into: _Descriptor):
    """Fills ``into`` with ``a`` (whose data pointer is ``data``): its memory is exactly the
    bytes its elements span. Returns the pointer to pass."""
    shape, strides = a.shape, a.strides
    ndim = len(shape)
    low, high = extent(a)
    dtype = a.dtype
    _LAYOUT.pack_into(
        into.array, 0, data + low, high - low, -low, type_code(dtype), not dtype.isnative, ndim,
        into.shape_address, into.strides_address,
    )
    _pack_dims[ndim](into.shape, 0, *shape)
    _pack_dims[ndim](into.strides, 0, *strides)
    return into.pointer


# --- The common call, with descriptors built once --------------------------------------------
# A small array's reduction is mostly Python: describing input and output costs ~1 µs of the
# ~3. A program reduces arrays of the same shape, strides and dtype again and again, so the
# descriptors of each such call (all but the two data addresses) are kept, per thread, with a
# `struct mean_call` pointing to them: a call then writes two addresses and passes one pointer
# (each ctypes argument costs ~80 ns; `mean_reduce`'s eight, more than the engine's work).
_pack_address = struct.Struct("@P").pack_into
_PLANS_KEPT = 256  # per thread; then the kept plans are forgotten and built again as needed


class _Plan:
    """The descriptors of one reduction of arrays of one dtype, shape and strides over some
    axes: input, output (a new C-contiguous array of `kept` shape) and the axes."""

    __slots__ = ("input", "output", "axes", "kept", "low", "call", "call_address")

    def __init__(self, a: np.ndarray, axes: tuple, result_dtype: np.dtype, operation: int):
        self.kept = tuple(n for d, n in enumerate(a.shape) if d not in axes)
        self.input, self.output = _Descriptor(), _Descriptor()
        self.low = extent(a)[0]
        describe(a, -self.low, self.input)  # memory at 0: set to the data address + low per call
        describe(np.empty(self.kept, result_dtype), 0, self.output)
        self.axes = (ctypes.c_int * MAX_DIMS)(*axes)
        self.call = MeanCall(
            operation, len(axes), ctypes.addressof(self.input.array), None, ctypes.addressof(self.output.array),
            ctypes.addressof(self.axes), None, 0,
        )
        self.call_address = ctypes.addressof(self.call)


class _Plans(threading.local):
    def __init__(self):
        self.by_key = {}


_plans = _Plans()


def reduce_cached(lib: Library, a: np.ndarray, axes: tuple, result_dtype: np.dtype, data_pointer, operation=MEAN):
    """``operation`` of the aligned ndarray ``a`` over ``axes`` (normalized, in increasing
    order; no reduced axis empty) into a new array of ``result_dtype`` (native), returned:
    :func:`reduce` with the descriptors of each (dtype, shape, strides, axes, result) built once."""
    key = (a.dtype, a.shape, a.strides, axes, result_dtype, operation)
    plans = _plans.by_key
    plan = plans.get(key)
    if plan is None:
        if len(plans) >= _PLANS_KEPT:
            plans.clear()
        plan = plans[key] = _Plan(a, axes, result_dtype, operation)
    out = np.empty(plan.kept, result_dtype)
    _pack_address(plan.input.array, 0, data_pointer(a) + plan.low)
    _pack_address(plan.output.array, 0, data_pointer(out))
    status = lib.mean_reduce_call(plan.call_address)
    if status != 0:
        _raise(status, out)
    return out


def _raise(status: int, out: np.ndarray):
    if status == _OVERFLOW:
        raise OverflowError(f"the sum does not fit {out.dtype} (numpy would wrap around silently)")
    # Every argument was built here from valid arrays: a refusal is a bug, never data.
    raise RuntimeError(f"libmean refused the reduction: {STATUS_NAMES.get(status, status)}")


def reduce(lib: Library, a, where, out, axes: tuple, threads: int, data_pointer, operation=MEAN, initial=None) -> None:
    """Writes into ``out`` the ``operation`` (mean, nanmean, sum, nansum) of ``a`` over ``axes``
    (counting only where ``where`` is true), each element correctly rounded to ``out``'s dtype;
    sums start from ``initial`` (a 0-d array of ``out``'s dtype) if given. ``data_pointer(array)``
    gives an array's data address. OverflowError if an integer sum does not fit ``out``."""
    slots = _per_thread
    source = describe(a, data_pointer(a), slots.input)
    target = describe(out, data_pointer(out), slots.output)
    mask = describe(where, data_pointer(where), slots.mask) if where is not None else None
    start = describe(initial, data_pointer(initial), slots.initial) if initial is not None else None
    slots.axes[: len(axes)] = axes
    status = lib.mean_reduce(operation, source, mask, target, slots.axes, len(axes), start, threads)
    if status != 0:
        _raise(status, out)
