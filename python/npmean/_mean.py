"""``npmean.mean``: validate an array, pick the kernel, make one native call."""

from __future__ import annotations

import ctypes
import operator
import os
import warnings

import numpy as np

from ._lib import SIMD_ENV_VAR, SIMD_LEVELS, Library, find_library

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
# Native float32 and float64 go straight to their kernels. Everything else is converted first
# (exactly): bool and integers are averaged in float64, like numpy. float16 is returned as
# float16 like numpy, but averaged in float64 rather than float32: the float64 mean is correctly
# rounded, and rounding it once more to float16 cannot round twice wrongly (a float16 midpoint
# and an exact mean of float16 values differ by at least 2^-25/n, far above float64's
# resolution for any n below 2^43).
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_SUPPORTED = "float16, float32, float64, bool and integer dtypes"

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


def _plan(dtype: np.dtype):
    """(compute dtype, result type) for an input dtype, or a TypeError."""
    kind = dtype.kind
    if kind == "f":
        if dtype.itemsize == 2:
            return _F64, np.float16
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
    if flags & _ALIGNED and flags & _CONTIGUOUS:
        return a
    return np.array(a, dtype=compute, order="K", copy=True)


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


def mean(a, *, threads=None):
    """The mean of all elements of ``a``, like ``numpy.mean(a)`` but correctly rounded: the exact
    mean of the elements, rounded once to the result type.

    Accepts anything ``numpy.asarray`` accepts, of dtype float16/32/64, bool or integer. Returns
    ``np.float32`` for float32 input, ``np.float16`` for float16, ``np.float64`` otherwise. An empty
    array gives NaN with ``RuntimeWarning("Mean of empty slice")``, as numpy does.

    ``threads``: at most this many threads (default: ``NPMEAN_NUM_THREADS``, else every CPU).
    Arrays under 6 MiB per thread use fewer; small arrays never start a thread.
    """
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    dtype = arr.dtype
    # The common case in as few Python operations as each costs here (~20-80 ns, more on large
    # arrays: what Python touches evicts the array from cache): a small, aligned, contiguous
    # native float32/float64 array (too small for a second thread, so the thread count cannot
    # matter) passed to the two-argument kernel (each ctypes argument costs ~40 ns), which reads
    # the data pointer from the array object's field itself (~0.1-0.2 µs less than reading it
    # here). Builtin dtypes are singletons; another dtype object equal to these takes the
    # general path, which gives the same answer.
    if (dtype is _F32 or dtype is _F64) and _library is not None and (
        threads is None or (type(threads) is int and 0 < threads <= _SIZE_MAX)
    ):
        flags = arr.flags.num
        n = arr.size
        if flags & _ALIGNED and flags & _CONTIGUOUS and 0 < n < _single_thread_below and _DATA_OFFSET:
            if dtype is _F32:
                mean32 = _mean_f32_field(id(arr) + _DATA_OFFSET, n)
                return _F32_ONE * mean32 if _WEAK_PYTHON_FLOATS else np.float32(mean32)
            return np.float64(_mean_f64_field(id(arr) + _DATA_OFFSET, n))
    return _general(arr, _thread_count(threads))


def _general(arr: np.ndarray, count: int):
    if _library is None:
        library()
    compute, result_type = _plan(arr.dtype)
    if arr.size == 0:
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
        return result_type(np.nan)
    dense = _dense(arr, compute)
    kernel = _mean_f32 if compute is _F32 else _mean_f64
    # `dense` is a local: it (and any converted copy) stays alive until the call returns.
    return result_type(kernel(_data_pointer(dense), dense.size, count))
