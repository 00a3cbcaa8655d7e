"""``npmean.MeanAccumulator``: an exact running mean that can be added to, merged and pickled."""

from __future__ import annotations

import ctypes
import threading
import warnings

import numpy as np

from . import _mean
from ._mean import _F32, _F64, _data_pointer

_SUPPORTED = "float16, float32, float64, bool and integer dtypes"
_C_CONTIGUOUS, _F_CONTIGUOUS, _ALIGNED = 0x1, 0x2, 0x100  # numpy's NPY_ARRAY_* flag bits


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype values are added in (exactly), or a TypeError."""
    if dtype.kind == "f" and dtype.itemsize in (2, 4):
        return _F32  # float16 is exact in float32, and half the memory of float64
    if (dtype.kind == "f" and dtype.itemsize == 8) or dtype.kind in "biu":
        return _F64
    raise TypeError(f"MeanAccumulator cannot add dtype {dtype}; it accepts {_SUPPORTED}")


def _dense(a: np.ndarray, compute: np.dtype) -> np.ndarray:
    """`a` as an aligned, contiguous array of `compute` (native byte order), copying only if needed."""
    if 0 in a.strides and a.size > 0:
        # A broadcast axis repeats the same elements: they are added once per repetition.
        a = np.ascontiguousarray(a)
    if a.dtype != compute:
        return a.astype(compute, order="K")
    flags = a.flags.num
    if flags & _ALIGNED and flags & (_C_CONTIGUOUS | _F_CONTIGUOUS):
        return a
    return np.array(a, dtype=compute, order="K", copy=True)


class MeanAccumulator:
    """The exact sum and count of every value added, in any number of chunks.

    ``mean()`` is the exact mean of everything added, rounded once (to nearest, ties to even)
    to float64 or float32, whatever the chunking, merge order or machine: chunked file reads,
    streams and partial results from other processes give the mean of the whole.

    Accepts what :func:`npmean.mean` accepts. float16 values are added exactly; integers are
    converted to float64 first (exact up to 2^53 in magnitude, rounded beyond, as numpy does).
    An accumulator may be shared between threads (calls are serialized by a lock). It holds at
    most 2^64 - 1 values: an add or merge past that raises ``OverflowError`` and changes nothing.
    """

    #: The most values one accumulator holds (its count is a C uint64_t).
    MAX_COUNT = 2**64 - 1

    __slots__ = ("_handle", "_lib", "_lock", "__weakref__")

    def __init__(self):
        self._lib = _mean.library()
        self._lock = threading.Lock()
        self._handle = self._lib.mean_acc_new()
        if not self._handle:
            raise MemoryError("mean_acc_new failed")

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle:
            self._lib.mean_acc_free(handle)
            self._handle = None

    def add(self, a, skipna: bool = False) -> MeanAccumulator:
        """Adds every element of ``a`` (with ``skipna``, every element that is not NaN: the
        chunks of a ``nanmean`` or ``nansum``). Returns the accumulator, so calls can be chained."""
        arr = a if isinstance(a, np.ndarray) else np.asarray(a)
        compute = _compute_dtype(arr.dtype)
        if skipna and arr.dtype.kind == "f":
            arr = arr[~np.isnan(arr)]  # a copy, as the conversions below may make
        if arr.size == 0:
            return self
        dense = _dense(arr, compute)
        add = self._lib.mean_acc_add_f32 if compute is _F32 else self._lib.mean_acc_add_f64
        with self._lock:
            # `dense` is a local: it stays alive until the call returns. The handle and the
            # dense, aligned array are valid, so a refusal can only be the count limit.
            status = add(self._handle, _data_pointer(dense), dense.size)
        if status != 0:
            raise OverflowError(f"the accumulator would hold more than {self.MAX_COUNT} values")
        return self

    def merge(self, other: MeanAccumulator) -> MeanAccumulator:
        """Adds everything ``other`` holds (``other`` is unchanged). Returns this accumulator."""
        if not isinstance(other, MeanAccumulator):
            raise TypeError(f"can only merge a MeanAccumulator, not {type(other).__name__}")
        if other is self:
            with self._lock:
                status = self._lib.mean_acc_merge(self._handle, self._handle)
        else:
            # A fixed lock order (by id) so that a.merge(b) and b.merge(a) cannot deadlock.
            first, second = sorted((self, other), key=id)
            with first._lock, second._lock:
                status = self._lib.mean_acc_merge(self._handle, other._handle)
        if status != 0:  # both handles are live: the count limit
            raise OverflowError(f"the merged accumulator would hold more than {self.MAX_COUNT} values")
        return self

    @property
    def count(self) -> int:
        """How many values were added."""
        with self._lock:
            return int(self._lib.mean_acc_count(self._handle))

    def mean(self, dtype=np.float64):
        """The exact mean rounded once to ``dtype`` (float64 or float32). NaN, with numpy's
        "Mean of empty slice" warning, if nothing was added."""
        dtype = np.dtype(dtype)
        if dtype == _F64:
            fn, result_type = self._lib.mean_acc_mean_f64, np.float64
        elif dtype == _F32:
            fn, result_type = self._lib.mean_acc_mean_f32, np.float32
        else:
            raise TypeError(f"MeanAccumulator.mean rounds to float64 or float32, not {dtype}")
        with self._lock:
            if self._lib.mean_acc_count(self._handle) == 0:
                warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
                return result_type(np.nan)
            return result_type(fn(self._handle))

    def sum(self, dtype=np.float64):
        """The exact sum of everything added, rounded once to ``dtype`` (float64 or float32):
        ±inf only if the exact sum is beyond its range; 0 if nothing was added."""
        dtype = np.dtype(dtype)
        if dtype == _F64:
            fn, result_type = self._lib.mean_acc_sum_f64, np.float64
        elif dtype == _F32:
            fn, result_type = self._lib.mean_acc_sum_f32, np.float32
        else:
            raise TypeError(f"MeanAccumulator.sum rounds to float64 or float32, not {dtype}")
        with self._lock:
            return result_type(fn(self._handle))

    def to_bytes(self) -> bytes:
        """The state, as bytes that :meth:`from_bytes` (in any process, on any machine) restores."""
        size = self._lib.mean_acc_serialized_size()
        buffer = ctypes.create_string_buffer(size)  # writable memory the library fills
        with self._lock:
            status = self._lib.mean_acc_serialize(self._handle, ctypes.addressof(buffer), size)
        if status != 0:
            raise RuntimeError("mean_acc_serialize failed")
        return buffer.raw

    @classmethod
    def from_bytes(cls, data: bytes) -> MeanAccumulator:
        """An accumulator with the state :meth:`to_bytes` wrote; ``ValueError`` for anything else
        (other lengths, versions or checksums: every flipped bit is caught)."""
        data = bytes(data)
        acc = cls.__new__(cls)
        acc._lib = _mean.library()
        acc._lock = threading.Lock()
        acc._handle = acc._lib.mean_acc_deserialize(data, len(data))
        if not acc._handle:
            raise ValueError(
                "not a serialized MeanAccumulator of this version: wrong length, format version "
                "or checksum, or fields no accumulator holds"
            )
        return acc

    def __reduce__(self):
        return (MeanAccumulator.from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        return f"<npmean.MeanAccumulator count={self.count}>"
