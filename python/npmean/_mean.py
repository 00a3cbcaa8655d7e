"""``npmean.mean``: validate an array, pick the kernel, make one native call."""

from __future__ import annotations

import ctypes
import warnings

import numpy as np

from ._lib import Library, find_library

_library: Library | None = None


def library() -> Library:
    """The library in use, found by :func:`npmean._lib.find_library` on first use."""
    global _library
    if _library is None:
        _library = find_library()
    return _library


def load_library(path) -> Library:
    """Use the ``libmean`` at ``path`` from now on (instead of searching for one)."""
    global _library
    _library = Library(path)
    return _library


# --- The data pointer -------------------------------------------------------------------------
# `a.ctypes.data` costs ~0.7 us, more than the whole native call on a small array. In CPython,
# id(a) is the address of the array object, and numpy's PyArrayObject starts with the object
# header followed by `char *data` (numpy's public C struct, the same in numpy 1.x and 2.x).
# The offset is not assumed: it is found at import by comparing with `ctypes.data` on probe
# arrays, and if no offset matches (another Python implementation or header layout) every call
# falls back to `a.ctypes.data`.
def _find_data_offset() -> int | None:
    probes = [np.empty(n, dtype) for n, dtype in ((3, np.float64), (17, np.float32), (1, np.int8))]
    for offset in (16, 32):
        if all(ctypes.c_void_p.from_address(id(p) + offset).value == p.ctypes.data for p in probes):
            return offset
    return None


_DATA_OFFSET = _find_data_offset()
_read_pointer = ctypes.c_size_t.from_address


def _data_pointer(a: np.ndarray) -> int:
    if _DATA_OFFSET is None:
        return a.ctypes.data
    return _read_pointer(id(a) + _DATA_OFFSET).value


# --- dtype rules ------------------------------------------------------------------------------
# Native float32 and float64 go straight to their kernels. Everything else is converted first,
# following numpy.mean: float16 is averaged in float32 and returned as float16; bool and integers
# are averaged in float64.
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_SUPPORTED = "float16, float32, float64, bool and integer dtypes"

# Flag bits of ndarray.flags.num (numpy's NPY_ARRAY_* constants).
_C_CONTIGUOUS, _F_CONTIGUOUS, _ALIGNED = 0x1, 0x2, 0x100


def _plan(dtype: np.dtype):
    """(compute dtype, result type) for an input dtype, or a TypeError."""
    kind = dtype.kind
    if kind == "f":
        if dtype.itemsize == 2:
            return _F32, np.float16
        if dtype.itemsize == 4:
            return _F32, np.float32
        if dtype.itemsize == 8:
            return _F64, np.float64
        raise TypeError(
            f"npmean.mean cannot average dtype {dtype} (extended precision would be rounded); "
            f"it accepts {_SUPPORTED}"
        )
    if kind in "biu":
        return _F64, np.float64
    raise TypeError(f"npmean.mean cannot average dtype {dtype}; it accepts {_SUPPORTED}")


def _dense(a: np.ndarray, compute: np.dtype) -> np.ndarray:
    """`a` as an aligned, contiguous array of `compute` (native byte order), copying only if needed."""
    if 0 in a.strides and a.size > 0:
        # A broadcast axis repeats the same elements; the mean over it is the mean of one copy.
        a = a[tuple(0 if s == 0 else slice(None) for s in a.strides)]
    if a.dtype != compute:
        # Covers other dtypes and non-native byte order; the result is dense and aligned.
        return a.astype(compute, order="K")
    flags = a.flags.num
    if flags & _ALIGNED and flags & (_C_CONTIGUOUS | _F_CONTIGUOUS):
        return a
    return np.array(a, dtype=compute, order="K", copy=True)


def _empty(result_type):
    warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    return result_type(np.nan)


def mean(a, *, threads=None):
    """The mean of all elements of ``a``, like ``numpy.mean(a)`` but correctly summed.

    Accepts anything ``numpy.asarray`` accepts, of dtype float16/32/64, bool or integer. Returns
    ``np.float32`` for float32 input, ``np.float16`` for float16, ``np.float64`` otherwise. An empty
    array gives NaN with ``RuntimeWarning("Mean of empty slice")``, as numpy does.
    """
    lib = library()
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    compute, result_type = _plan(arr.dtype)
    n = arr.size
    if n == 0:
        return _empty(result_type)
    arr = _dense(arr, compute)
    n = arr.size
    kernel = lib.mean_f32 if compute is _F32 else lib.mean_f64
    # `arr` is a local: it (and any converted copy) stays alive until the call returns.
    return result_type(kernel(_data_pointer(arr), n))
