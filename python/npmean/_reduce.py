"""The reduction engine's call: numpy arrays described as ``struct mean_array`` (in place, no
copy), and ``mean_reduce``'s status turned into exceptions."""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ._lib import MAX_DIMS, STATUS_NAMES, Library, MeanArray

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
MEAN = 0  # enum mean_operation

_Dims = ctypes.c_int64 * MAX_DIMS


class _Descriptor:
    """One reusable ``struct mean_array`` with room for every dimension, and a pointer to it:
    filling fields costs ~1 µs where building new ctypes objects costs ~3.5 µs a call."""

    __slots__ = ("array", "pointer", "shape", "strides")

    def __init__(self):
        self.array = MeanArray()
        self.shape, self.strides = _Dims(), _Dims()
        self.array.shape = ctypes.cast(self.shape, ctypes.POINTER(ctypes.c_int64))
        self.array.strides = ctypes.cast(self.strides, ctypes.POINTER(ctypes.c_int64))
        self.pointer = ctypes.pointer(self.array)


class _PerThread(threading.local):
    """Descriptors for input, mask and output, one set per thread (calls on other threads
    run at the same time; a thread makes one call at a time)."""

    def __init__(self):
        self.input, self.mask, self.output = _Descriptor(), _Descriptor(), _Descriptor()
        self.axes = (ctypes.c_int * MAX_DIMS)()


_per_thread = _PerThread()


def type_code(dtype: np.dtype) -> int | None:
    """The engine's code for ``dtype``, or None if the engine does not read it."""
    return TYPE_CODES.get((dtype.kind, dtype.itemsize))


def describe(a: np.ndarray, data: int, into: _Descriptor):
    """Fills ``into`` with ``a`` (whose data pointer is ``data``): its memory is exactly the
    bytes its elements span. Returns the pointer to pass."""
    shape, strides = a.shape, a.strides
    ndim = len(shape)
    low = high = 0
    if a.size:
        for n, s in zip(shape, strides):
            if s < 0:
                low += (n - 1) * s
            else:
                high += (n - 1) * s
        high += a.itemsize
    array = into.array
    array.memory = data + low
    array.len = high - low
    array.offset = -low
    array.type_code = type_code(a.dtype)
    array.swapped = not a.dtype.isnative
    array.ndim = ndim
    into.shape[:ndim] = shape
    into.strides[:ndim] = strides
    return into.pointer


def reduce(lib: Library, a, where, out, axes: tuple, threads: int, data_pointer) -> None:
    """Writes into ``out`` the mean of ``a`` over ``axes`` (counting only where ``where`` is
    true), each element correctly rounded to ``out``'s dtype. ``data_pointer(array)`` gives an
    array's data address."""
    slots = _per_thread
    source = describe(a, data_pointer(a), slots.input)
    target = describe(out, data_pointer(out), slots.output)
    mask = describe(where, data_pointer(where), slots.mask) if where is not None else None
    slots.axes[: len(axes)] = axes
    status = lib.mean_reduce(MEAN, source, mask, target, slots.axes, len(axes), threads)
    if status != 0:
        # Every argument was built here from valid arrays: a refusal is a bug, never data.
        raise RuntimeError(f"libmean refused the reduction: {STATUS_NAMES.get(status, status)}")
