"""The reduction engine's call: numpy arrays described as ``struct mean_array`` (in place, no
copy), and ``mean_reduce``'s status turned into exceptions."""

from __future__ import annotations

import ctypes

import numpy as np

from ._lib import STATUS_NAMES, Library, MeanArray

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

_Int64s = [ctypes.c_int64 * n for n in range(33)]


def type_code(dtype: np.dtype) -> int | None:
    """The engine's code for ``dtype``, or None if the engine does not read it."""
    return TYPE_CODES.get((dtype.kind, dtype.itemsize))


def describe(a: np.ndarray) -> MeanArray:
    """``a`` as a ``struct mean_array``: its memory is exactly the bytes its elements span."""
    shape, strides, itemsize = a.shape, a.strides, a.itemsize
    data = a.__array_interface__["data"][0]
    ndim = len(shape)
    low = high = 0
    if a.size:
        for n, s in zip(shape, strides):
            if s < 0:
                low += (n - 1) * s
            else:
                high += (n - 1) * s
        high += itemsize
    return MeanArray(
        data + low,
        high - low,
        -low,
        type_code(a.dtype),
        0 if a.dtype.isnative else 1,
        ndim,
        _Int64s[ndim](*shape),
        _Int64s[ndim](*strides),
    )


def reduce(lib: Library, a: np.ndarray, where: np.ndarray | None, out: np.ndarray, axes: tuple, threads: int) -> None:
    """Writes into ``out`` the mean of ``a`` over ``axes`` (counting only where ``where`` is
    true), each element correctly rounded to ``out``'s dtype."""
    source, target = describe(a), describe(out)
    mask = describe(where) if where is not None else None
    axis_array = (ctypes.c_int * len(axes))(*axes)
    status = lib.mean_reduce(
        MEAN,
        ctypes.byref(source),
        ctypes.byref(mask) if mask is not None else None,
        ctypes.byref(target),
        axis_array,
        len(axes),
        threads,
    )
    if status != 0:
        # Every argument was built here from valid arrays: a refusal is a bug, never data.
        raise RuntimeError(f"libmean refused the reduction: {STATUS_NAMES.get(status, status)}")
