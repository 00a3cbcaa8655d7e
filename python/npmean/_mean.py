"""``npmean.mean``, ``nanmean``, ``sum`` and ``nansum``: validate an array, pick the kernel,
make one native call."""

from __future__ import annotations

import ctypes
import math
import operator
import os
import warnings

import numpy as np

from ._lib import SIMD_ENV_VAR, SIMD_LEVELS, Library, find_library
from ._reduce import MEAN, NANMEAN, NANSUM, SUM, reduce, reduce_cached, type_code

_library: Library | None = None


def library() -> Library:
    """The library in use, found by :func:`npmean._lib.find_library` on first use."""
    return _library or _use(find_library())


def load_library(path) -> Library:
    """Use the ``libmean`` at ``path`` from now on (instead of searching for one)."""
    return _use(Library(path))


def _use(lib: Library) -> Library:
    global _library, _mean_f32, _mean_f64, _mean_f32_field, _mean_f64_field, _single_thread_below
    requested = os.environ.get(SIMD_ENV_VAR, "").strip().lower()
    if requested and requested not in SIMD_LEVELS:
        raise ValueError(f"{SIMD_ENV_VAR}={requested!r} is not one of {', '.join(SIMD_LEVELS)}")
    if requested and lib.simd_level() != requested:
        warnings.warn(
            f"{SIMD_ENV_VAR}={requested} is not available on this CPU; running {lib.simd_level()}",
            RuntimeWarning,
            stacklevel=3,
        )
    _library, _mean_f32, _mean_f64 = lib, lib.mean_f32_threads, lib.mean_f64_threads
    _mean_f32_field, _mean_f64_field = lib.mean_f32_indirect, lib.mean_f64_indirect
    # Below this many elements (counted as float64, so it holds for float32 too) no thread would
    # start, and the one-thread entry points give the same answer with one argument less.
    _single_thread_below = 2 * lib.mean_min_bytes_per_thread() // 8
    return lib


def simd_level() -> str:
    """The SIMD level the kernels run: ``scalar``, ``sse2``, ``avx2`` or ``avx512``."""
    return library().simd_level()


def available_simd_levels() -> list[str]:
    """The levels this CPU can run, lowest first; ``NPMEAN_SIMD`` may force any of them."""
    return library().available_simd_levels()


def config() -> dict:
    """What npmean runs on: the library file and its ABI version, the SIMD level, whether the
    inexact-flag certificate is trusted there, whether the kernels prefetch, and the ``NPMEAN_*``
    variables set."""
    lib = library()
    return {
        "npmean": _version(),
        "library": str(lib.path),
        "abi_version": int(lib.cdll.mean_abi_version()),
        "simd_level": lib.simd_level(),
        "available_simd_levels": lib.available_simd_levels(),
        # False under emulators that do not keep the CPU's inexact flag (valgrind), with
        # NPMEAN_CERTIFICATE=off, and off x86_64: means are the same, exact ties slower.
        "certificate_trusted": lib.certificate_trusted(),
        # Whether the kernels prefetch in software on this host (off on AMD Zen 4, measured).
        "software_prefetch": bool(lib.mean_software_prefetch()),
        "NPMEAN_SIMD": os.environ.get(SIMD_ENV_VAR),
        "NPMEAN_NUM_THREADS": os.environ.get("NPMEAN_NUM_THREADS"),
        "NPMEAN_CERTIFICATE": os.environ.get("NPMEAN_CERTIFICATE"),
        "NPMEAN_PREFETCH": os.environ.get("NPMEAN_PREFETCH"),
    }


def show_config() -> None:
    """Prints :func:`config`, one item a line."""
    for key, value in config().items():
        print(f"{key}: {value}")


def _version() -> str:
    from . import __version__

    return __version__


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
# The result dtype is numpy's: bool and integers average to float64; float16, float32,
# float64, complex64 and complex128 to themselves; `dtype=` (a float or complex type) or, when
# it is not given, `out=`'s dtype chooses it instead. The engine rounds the exact mean once to
# that type: float16 results are not computed in float32 and rounded again as numpy does.
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_ENGINE_RESULTS = frozenset(("f", n) for n in (2, 4, 8)) | frozenset(("c", n) for n in (8, 16))

# Flag bits of ndarray.flags.num (numpy's NPY_ARRAY_* constants).
_C_CONTIGUOUS, _F_CONTIGUOUS, _ALIGNED = 0x1, 0x2, 0x100
_CONTIGUOUS = _C_CONTIGUOUS | _F_CONTIGUOUS

# np.float32(x) costs ~130 ns; multiplying a float32 one by the Python float costs ~40 ns and
# is exact (x is a float32 value held in a double), where Python floats are "weak" in numpy's
# promotion (numpy >= 2, NEP 50). Checked, not assumed: numpy 1.x would promote to float64.
_F32_ONE = np.float32(1.0)
_WEAK_PYTHON_FLOATS = type(_F32_ONE * 1.5) is np.float32

# The declared kernels (set when the library is loaded): with a thread count, and one-thread
# reading the data pointer from the array object's field themselves (see `mean`).
_mean_f32 = _mean_f64 = _mean_f32_field = _mean_f64_field = None
_single_thread_below = 0

# Input dtype -> the result dtype when no dtype= or out= says otherwise (numpy's rule), for
# every dtype the engine reads, in both byte orders.
_DEFAULT_RESULT = {}
for _char in "?bBhHiIlLqQefdFD":
    _native = np.dtype(_char)
    _result = _F64 if _native.kind in "biu" else _native
    _DEFAULT_RESULT[_native] = _DEFAULT_RESULT[_native.newbyteorder()] = _result

# The same for sums (numpy's add.reduce): bool and integers narrower than the default integer
# sum in it (int64, or uint64 for unsigned), other types in themselves.
_INT, _UINT = np.dtype(np.int_), np.dtype(np.uint)
_DEFAULT_SUM_RESULT = {}
for _char in "?bBhHiIlLqQefdFD":
    _native = np.dtype(_char)
    # (int64 and longlong are equal dtypes, one dict key: both sum to int64, numpy's long.)
    if _native.kind == "b" or (_native.kind == "i" and _native.itemsize <= _INT.itemsize):
        _result = _INT
    elif _native.kind == "u" and _native.itemsize <= _UINT.itemsize:
        _result = _UINT
    else:
        _result = _native
    _DEFAULT_SUM_RESULT[_native] = _DEFAULT_SUM_RESULT[_native.newbyteorder()] = _result

try:  # numpy >= 2
    from numpy.lib.array_utils import normalize_axis_tuple as _normalize_axis_tuple
except ImportError:  # numpy 1.x
    from numpy.core.numeric import normalize_axis_tuple as _normalize_axis_tuple


def _result_dtype(in_dtype: np.dtype, dtype, out) -> np.dtype | None:
    """The dtype the engine rounds to, or None when numpy itself must compute the mean (a
    dtype the engine does not read or write: object, longdouble, timedelta, integer results)."""
    if type_code(in_dtype) is None:
        return None
    if dtype is not None:
        wanted = np.dtype(dtype)
    elif out is not None and isinstance(out, np.ndarray):
        wanted = out.dtype
    elif in_dtype.kind in "biu":
        return _F64
    else:
        wanted = in_dtype
    if (wanted.kind, wanted.itemsize) not in _ENGINE_RESULTS:
        return None
    if in_dtype.kind == "c" and wanted.kind != "c":
        return None  # numpy drops the imaginary part with a ComplexWarning: numpy's to do
    return wanted.newbyteorder("=")


def _sum_result_dtype(in_dtype: np.dtype, dtype, out) -> np.dtype | None:
    """As `_result_dtype`, for sums: integer results too, from bool and integer input (exact
    sums); None for what numpy must compute (object, float input summed into integers, ...)."""
    if type_code(in_dtype) is None:
        return None
    if dtype is not None:
        wanted = np.dtype(dtype)
    elif out is not None and isinstance(out, np.ndarray):
        wanted = out.dtype
    else:
        return _DEFAULT_SUM_RESULT[in_dtype]
    if wanted.kind in "iu" and in_dtype.kind in "biu" and wanted.itemsize in (1, 2, 4, 8):
        return wanted.newbyteorder("=")
    if (wanted.kind, wanted.itemsize) not in _ENGINE_RESULTS:
        return None
    if in_dtype.kind == "c" and wanted.kind != "c":
        return None
    return wanted.newbyteorder("=")


class _Operation:
    """One of the engine's reductions, and how numpy names and computes it."""

    __slots__ = ("name", "code", "numpy", "is_sum", "skips_nan", "defaults")

    def __init__(self, name, code, numpy_function, is_sum, skips_nan):
        self.name, self.code, self.numpy = name, code, numpy_function
        self.is_sum, self.skips_nan = is_sum, skips_nan
        self.defaults = _DEFAULT_SUM_RESULT if is_sum else _DEFAULT_RESULT

    def result_dtype(self, in_dtype, dtype, out):
        return (_sum_result_dtype if self.is_sum else _result_dtype)(in_dtype, dtype, out)


_MEAN = _Operation("mean", MEAN, np.mean, False, False)
_NANMEAN = _Operation("nanmean", NANMEAN, np.nanmean, False, True)
_SUM = _Operation("sum", SUM, np.sum, True, False)
_NANSUM = _Operation("nansum", NANSUM, np.nansum, True, True)


# The largest thread count the C side's size_t holds: ctypes would silently truncate more.
_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1


def _thread_count(threads) -> int:
    """The native convention: 0 for the default, else a cap on the number of threads.

    ``threads`` must be None or a positive integer (Python or numpy, not bool) that fits a C
    ``size_t``: else TypeError, ValueError or OverflowError, never a silent reinterpretation.
    """
    if threads is None:
        return 0
    if isinstance(threads, (bool, np.bool_)):
        raise TypeError(f"threads must be None or a positive integer, not {threads!r}")
    try:
        count = operator.index(threads)
    except TypeError:
        raise TypeError(
            f"threads must be None or a positive integer, not {type(threads).__name__}"
        ) from None
    if count < 1:
        raise ValueError(f"threads must be None or a positive integer, not {threads!r}")
    if count > _SIZE_MAX:
        raise OverflowError(f"threads={count} does not fit a C size_t (at most {_SIZE_MAX})")
    return count


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True, threads=None):
    """The arithmetic mean along the given axes, as ``numpy.mean``, but every element of the
    result is the exact mean of its values rounded once to the result type (ties to even).

    Same signature, result types, errors and warnings as ``numpy.mean``: ``axis`` (None, an int
    or a tuple, negative allowed), ``dtype`` (the result type: a float or complex type),
    ``out`` (returned), ``keepdims``, ``where`` (a bool array broadcast to ``a``), masked arrays
    (masked elements do not count) and ``np.matrix``. bool and integer input averages to
    float64 (the exact mean of the integers, even beyond 2^53), float16/32/64 and complex to
    themselves. An empty slice gives NaN with ``RuntimeWarning("Mean of empty slice")``. Types
    the engine does not read (object, longdouble, timedelta64, integer ``dtype=`` or ``out=``)
    get numpy's own mean.

    ``threads``: at most this many threads (default: ``NPMEAN_NUM_THREADS``, else every CPU)
    for whole-array means; means along axes run on one thread.
    """
    arr = a if isinstance(a, np.ndarray) else np.asanyarray(a)
    dtype_in = arr.dtype
    # The common case in as few Python operations as each costs here (~20-80 ns, more on large
    # arrays: what Python touches evicts the array from cache): a small, aligned, contiguous
    # native float32/float64 array (too small for a second thread, so the thread count cannot
    # matter) passed to the two-argument kernel (each ctypes argument costs ~40 ns), which reads
    # the data pointer from the array object's field itself (~0.1-0.2 µs less than reading it
    # here). Builtin dtypes are singletons; another dtype object equal to these takes the
    # general path, which gives the same answer.
    if (
        (dtype_in is _F32 or dtype_in is _F64)
        and axis is None
        and dtype is None
        and out is None
        and keepdims is False
        and where is True
        and type(arr) is np.ndarray
        and _library is not None
        and (threads is None or (type(threads) is int and 0 < threads <= _SIZE_MAX))
    ):
        flags = arr.flags.num
        n = arr.size
        if flags & _ALIGNED and flags & _CONTIGUOUS and n > 0:
            if n < _single_thread_below and _DATA_OFFSET:
                if dtype_in is _F32:
                    mean32 = _mean_f32_field(id(arr) + _DATA_OFFSET, n)
                    return _F32_ONE * mean32 if _WEAK_PYTHON_FLOATS else np.float32(mean32)
                return np.float64(_mean_f64_field(id(arr) + _DATA_OFFSET, n))
            # A whole array large enough for threads: the whole-array kernels split it (the
            # engine runs on one thread).
            kernel = _mean_f32 if dtype_in is _F32 else _mean_f64
            return dtype_in.type(kernel(_data_pointer(arr), n, 0 if threads is None else threads))
    # The common axis mean: a plain ndarray along one int axis with no other argument, in as
    # few Python operations as possible (numpy.mean's own overhead is ~5 µs; this path's ~3).
    if (
        type(axis) is int
        and type(arr) is np.ndarray
        and dtype is None
        and out is None
        and keepdims is False
        and where is True
        and threads is None
        and _library is not None
    ):
        result_dtype = _DEFAULT_RESULT.get(dtype_in)
        ndim = arr.ndim
        if result_dtype is not None and -ndim <= axis < ndim and arr.size and arr.flags.num & _ALIGNED:
            target = reduce_cached(_library, arr, (axis % ndim,), result_dtype, _data_pointer)
            return target if ndim > 1 else target[()]
    return _general(arr, axis, dtype, out, keepdims, where, _thread_count(threads))


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True, threads=None):
    """The mean along the given axes leaving NaNs out, as ``numpy.nanmean``, but every element
    of the result is the exact mean of its non-NaN values rounded once to the result type.

    Arguments, result types, errors and warnings as ``numpy.nanmean`` (a slice of NaNs only, or
    an empty one, gives NaN with ``RuntimeWarning("Mean of empty slice")``; integer input is
    averaged as by :func:`mean`). One pass over the data, no mask or copy of it. ``threads`` is
    accepted for :func:`mean`'s sake: NaN-skipping means run on one thread.
    """
    arr = a if isinstance(a, np.ndarray) else np.asanyarray(a)
    if dtype is None and out is None and keepdims is False and where is True and threads is None:
        result = _plain(arr, axis, _NANMEAN)
        if result is not None:
            return result
    return _general(arr, axis, dtype, out, keepdims, where, _thread_count(threads), _NANMEAN)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, *, where=True, threads=None):  # noqa: A001
    """The sum along the given axes, as ``numpy.sum``, but exact: every float or complex element
    of the result is the exact sum rounded once to the result type (±inf only if the exact
    sum is beyond its range), every integer element the exact sum.

    Arguments and result types as ``numpy.sum``: bool and integers narrower than int64 sum in
    int64 (unsigned: uint64), other types in themselves; ``initial`` is added once to every
    element. Where an integer sum does not fit the result type, ``OverflowError`` (numpy wraps
    around silently). ``threads`` is accepted for :func:`mean`'s sake: sums run on one thread.
    """
    return _sum(_SUM, a, axis, dtype, out, keepdims, initial, where, threads)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, *, where=True, threads=None):
    """:func:`sum` leaving NaNs out (as ``numpy.nansum``, which counts them as zero): a slice of
    NaNs only sums to ``initial``."""
    return _sum(_NANSUM, a, axis, dtype, out, keepdims, initial, where, threads)


def _sum(op, a, axis, dtype, out, keepdims, initial, where, threads):
    arr = a if isinstance(a, np.ndarray) else np.asanyarray(a)
    if initial is np._NoValue or (type(initial) is int and initial == 0):
        initial = None
    if dtype is None and out is None and keepdims is False and where is True and threads is None and initial is None:
        result = _plain(arr, axis, op)
        if result is not None:
            return result
    return _general(arr, axis, dtype, out, keepdims, where, _thread_count(threads), op, initial)


def _plain(arr, axis, op):
    """The common call in few Python operations: a plain, aligned ndarray reduced over every
    axis or one int axis, no other argument. None where the general path must run (it gives
    the same answer, and the warnings of empty slices)."""
    result_dtype = op.defaults.get(arr.dtype)
    if result_dtype is None or type(arr) is not np.ndarray or _library is None or not arr.flags.num & _ALIGNED:
        return None
    shape = arr.shape
    ndim = len(shape)
    if axis is None:
        if not arr.size:
            return None
        axes, kept = tuple(range(ndim)), ()
    elif type(axis) is int and -ndim <= axis < ndim:
        axis %= ndim
        if not shape[axis]:
            return None
        axes, kept = (axis,), shape[:axis] + shape[axis + 1 :]
    else:
        return None
    if op.skips_nan and arr.dtype.kind not in "fc":
        op = _SUM if op.is_sum else _MEAN
    elif op.skips_nan and arr.dtype.kind == "c":
        return None  # a mask of whole elements (see `_general`)
    target = reduce_cached(_library, arr, axes, result_dtype, _data_pointer, op.code)
    if op.skips_nan and not op.is_sum:
        _warn_if_all_nan(arr, None, target, axes, stacklevel=4)
    elif op.is_sum and result_dtype.kind in "fc":
        _signal_overflow(arr, None, target, axes)
    return target if kept else target[()]


def _general(arr: np.ndarray, axis, dtype, out, keepdims, where, threads: int, op=_MEAN, initial=None):
    if _library is None:
        library()
    if isinstance(arr, np.ma.MaskedArray):
        return _masked(arr, axis, dtype, out, keepdims, where, threads, op, initial)
    if isinstance(arr, np.matrix):
        # As np.matrix.mean: the ndarray mean with dims kept, a matrix, collapsed for axis=None.
        result = _general(arr.view(np.ndarray), axis, dtype, out, True, where, threads, op, initial)
        if out is not None:
            return out
        result = result.view(np.matrix)
        return result[0, 0] if axis is None else result
    base = arr.view(np.ndarray) if type(arr) is not np.ndarray else arr
    result_dtype = op.result_dtype(base.dtype, dtype, out)
    if result_dtype is None:
        extra = {"initial": initial} if op.is_sum and initial is not None else {}
        return op.numpy(arr, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where, **extra)
    if op.skips_nan and base.dtype.kind not in "fc":
        op = _SUM if op.is_sum else _MEAN  # nothing to skip: numpy's nan functions do the same
    if op.skips_nan and base.dtype.kind == "c":
        # numpy leaves out a complex element with a NaN in either part, where the engine reduces
        # each part on its own: the elements to count become a mask (one bool per element).
        counted = ~np.isnan(base)
        where = counted if where is True else counted & np.broadcast_to(np.asarray(where, dtype=bool), base.shape)
        op = _SUM if op.is_sum else _MEAN
    axes = _normalize_axis_tuple(tuple(range(base.ndim)) if axis is None else axis, base.ndim)
    kept_shape = tuple(1 if d in axes else n for d, n in enumerate(base.shape) if keepdims or d not in axes)
    mask = None
    if where is not True:
        mask = np.broadcast_to(np.asarray(where, dtype=bool), base.shape)
        counts = np.count_nonzero(mask, axis=axes) if mask.size else np.zeros(kept_shape, np.intp)
        empty = np.any(counts == 0)
    else:
        empty = math.prod(base.shape[d] for d in axes) == 0
    if empty and not op.is_sum and (out is None or out.size) and math.prod(kept_shape):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError("output must be an array")
        if out.shape != kept_shape:
            raise ValueError(
                f"output parameter for reduction operation {'add' if op.is_sum else op.name} has the wrong shape: "
                f"found {out.shape}, expected {kept_shape}"
            )
    if not base.flags.aligned:
        base = base.copy()  # the engine reads aligned elements only; numpy makes these rarely
    direct = (
        out is not None
        and out.dtype == result_dtype
        and out.dtype.isnative
        and out.flags.aligned
        and not np.may_share_memory(out, base)
        and (mask is None or not np.may_share_memory(out, mask))
    )
    target = out if direct else np.empty(kept_shape, result_dtype)
    start = None
    if op.is_sum and initial is not None:
        start = np.asarray(initial).astype(result_dtype)  # numpy casts the initial value so
    reduce(_library, base, mask, target, axes, threads, _data_pointer, op.code, start)
    if op.skips_nan and not op.is_sum and not empty:
        _warn_if_all_nan(base, mask, target, axes, stacklevel=4)
    elif op.is_sum and result_dtype.kind in "fc":
        _signal_overflow(base, mask, target, axes)
    if out is not None:
        if not direct:
            np.copyto(out, target, casting="same_kind")
        return out
    if type(arr) is not np.ndarray:
        # As numpy's reductions: the input's __array_wrap__ makes the subclass (and its
        # __array_finalize__ sees the input, so attributes carry over); a whole-array result
        # too, which numpy asks for as a scalar (an ndarray subclass gives a 0-d subclass).
        try:
            return arr.__array_wrap__(target, None, target.ndim == 0)
        except TypeError:  # numpy 1.x: (array, context)
            return arr.__array_wrap__(target, None) if target.ndim else target[()]
    return target if target.ndim else target[()]


def _warn_if_all_nan(base, mask, result, axes, stacklevel):
    """numpy.nanmean's warning for a slice of NaNs only. Only a NaN result can be one (a NaN
    mean of non-NaN values comes from infinities), so only then are the NaNs counted."""
    if not np.isnan(result).any():
        return
    nans = np.isnan(base) if mask is None else np.isnan(base) | ~mask
    if np.all(nans, axis=axes).any():
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=stacklevel)


def _signal_overflow(base, mask, result, axes):
    """numpy's floating-point overflow signal (``np.errstate(over=...)``: a RuntimeWarning by
    default) for a sum of finite values that is beyond the result type's range. Only an
    infinite result can be one, so only then are the values checked."""
    if not np.isinf(result).any():
        return
    finite = np.isfinite(base) if mask is None else np.isfinite(base) | ~mask
    if (np.isinf(result) & np.all(finite, axis=axes).reshape(np.shape(result))).any():
        mode = np.geterr()["over"]
        if mode == "raise":
            raise FloatingPointError("overflow encountered in reduce")
        if mode != "ignore":
            # The caller's line: here, _plain or _general, _sum, sum, the caller.
            warnings.warn("overflow encountered in reduce", RuntimeWarning, stacklevel=5)


def _masked(arr, axis, dtype, out, keepdims, where, threads, op=_MEAN, initial=None):
    """A masked array's reduction: masked elements do not count; a result with no element is
    masked (``np.ma.masked`` for a scalar result), as ``np.ma.MaskedArray.mean`` and ``sum`` give."""
    mask = np.ma.getmask(arr)
    data = arr.view(np.ndarray)
    if mask is np.ma.nomask:
        counted = where
    else:
        counted = ~mask if where is True else (~mask & np.broadcast_to(np.asarray(where, bool), mask.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty cells become masked instead
        values = _general(data, axis, dtype, None, keepdims, counted, threads, op, initial)
    axes = _normalize_axis_tuple(tuple(range(data.ndim)) if axis is None else axis, data.ndim)
    counts = np.count_nonzero(np.broadcast_to(counted, data.shape), axis=axes, keepdims=keepdims)
    if np.ndim(values) == 0:
        result = np.ma.masked if counts == 0 else values
    else:
        result = np.ma.array(values, mask=counts == 0)
    if out is not None:
        out[...] = result
        if isinstance(out, np.ma.MaskedArray):
            out.mask = np.ma.getmaskarray(result) if np.ndim(result) else result is np.ma.masked
        return out
    return result
