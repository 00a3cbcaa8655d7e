"""Finding, loading and declaring ``libmean.so``.

Every native symbol is declared here once (argument and result types); the rest of the package
calls the declared functions and never touches ``ctypes`` types itself.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

ENV_VAR = "NPMEAN_LIBRARY"
SIMD_ENV_VAR = "NPMEAN_SIMD"
SIMD_LEVELS = ("scalar", "sse2", "avx2", "avx512")  # lowest first, as in src/kernels/mod.rs
BUILD_COMMAND = "cargo build --release"
# The C ABI this package is written for: `mean_abi_version()` of the library must return it
# (`ABI_VERSION` in src/ffi.rs, `MEAN_ABI_VERSION` in include/mean.h).
ABI_VERSION = 6

if sys.platform == "darwin":
    LIBRARY_FILE = "libmean.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "mean.dll"
else:
    LIBRARY_FILE = "libmean.so"


MAX_DIMS = 32  # MEAN_MAX_DIMS


class MeanArray(ctypes.Structure):
    """``struct mean_array`` of ``include/mean.h``: a strided view into described memory."""

    _fields_ = [
        ("memory", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("offset", ctypes.c_size_t),
        ("type_code", ctypes.c_int32),
        ("swapped", ctypes.c_int32),
        ("ndim", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
    ]


class MeanCall(ctypes.Structure):
    """``struct mean_call`` of ``include/mean.h``: ``mean_reduce``'s arguments in one struct."""

    _fields_ = [
        ("operation", ctypes.c_int32),
        ("naxes", ctypes.c_int32),
        ("input", ctypes.c_void_p),
        ("where", ctypes.c_void_p),
        ("output", ctypes.c_void_p),
        ("axes", ctypes.c_void_p),
        ("initial", ctypes.c_void_p),
        ("threads", ctypes.c_size_t),
    ]


# `mean_status` codes of mean_reduce (src/reduce/layout.rs, `Status`).
STATUS_NAMES = {
    -1: "a NULL pointer",
    -2: "too many dimensions",
    -3: "a negative or overflowing shape",
    -4: "an element outside the described memory",
    -5: "misaligned data",
    -6: "an unsupported element type",
    -7: "an invalid axis",
    -8: "an output of the wrong shape",
    -9: "an output overlapping the input",
    -10: "an unknown operation",
    -11: "a mask that is not bool or not of the input's shape",
    -12: "an integer sum too large for the output type",
    -13: "bytes that are not an exact state of this library",
}


class LibraryNotFoundError(OSError):
    """No usable ``libmean`` was found; the message lists every path tried."""


class IncompatibleLibraryError(LibraryNotFoundError):
    """A file was found but is not a ``libmean`` of the ABI version this npmean needs."""


class Library:
    """``libmean`` loaded from one path, with every symbol declared."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        try:
            self.cdll = ctypes.CDLL(str(self.path))  # CDLL releases the GIL around every call
        except OSError as error:
            raise IncompatibleLibraryError(f"{self.path} could not be loaded: {error}") from None
        self._check_abi_version()
        # Pointers travel as plain integers (c_size_t): ctypes converts an int to size_t faster
        # than to c_void_p, and the C side receives the same bits.
        pointer, size = ctypes.c_size_t, ctypes.c_size_t
        self.compute_mean = self._declare("compute_mean", ctypes.c_float, ctypes.c_void_p, ctypes.c_int)
        self.mean_f32 = self._declare("mean_f32", ctypes.c_float, pointer, size)
        self.mean_f64 = self._declare("mean_f64", ctypes.c_double, pointer, size)
        self.mean_f32_indirect = self._declare("mean_f32_indirect", ctypes.c_float, pointer, size)
        self.mean_f64_indirect = self._declare("mean_f64_indirect", ctypes.c_double, pointer, size)
        self.mean_f32_threads = self._declare("mean_f32_threads", ctypes.c_float, pointer, size, size)
        self.mean_f64_threads = self._declare("mean_f64_threads", ctypes.c_double, pointer, size, size)
        self.mean_simd_level = self._declare("mean_simd_level", ctypes.c_char_p)
        self.mean_simd_best = self._declare("mean_simd_best", ctypes.c_char_p)
        self.mean_certificate_trusted = self._declare("mean_certificate_trusted", ctypes.c_int)
        self.mean_min_bytes_per_thread = self._declare("mean_min_bytes_per_thread", ctypes.c_size_t)
        self.mean_software_prefetch = self._declare("mean_software_prefetch", ctypes.c_int)
        array = ctypes.POINTER(MeanArray)
        self.mean_reduce = self._declare(
            "mean_reduce", ctypes.c_int, ctypes.c_int, array, array, array,
            ctypes.POINTER(ctypes.c_int), ctypes.c_int, array, size,
        )
        # The same with its arguments in a `struct mean_call` kept between calls (ctypes costs
        # ~80 ns per argument): see `_reduce.reduce_cached`.
        self.mean_reduce_call = self._declare("mean_reduce_call", ctypes.c_int, ctypes.c_void_p)
        states = ctypes.c_void_p  # addresses of arrays of serialized states
        self.mean_reduce_states = self._declare(
            "mean_reduce_states", ctypes.c_int, ctypes.c_int, array, array,
            ctypes.POINTER(ctypes.c_int), ctypes.c_int, states, size, size,
        )
        self.mean_states_merge = self._declare("mean_states_merge", ctypes.c_int, states, states, size)
        self.mean_states_finish = self._declare(
            "mean_states_finish", ctypes.c_int, ctypes.c_int, states, size, array,
        )
        # The exact accumulator: handles are opaque pointers.
        handle, status = ctypes.c_void_p, ctypes.c_int
        self.mean_acc_new = self._declare("mean_acc_new", handle)
        self.mean_acc_free = self._declare("mean_acc_free", None, handle)
        self.mean_acc_add_f32 = self._declare("mean_acc_add_f32", status, handle, pointer, size)
        self.mean_acc_add_f64 = self._declare("mean_acc_add_f64", status, handle, pointer, size)
        self.mean_acc_merge = self._declare("mean_acc_merge", status, handle, handle)
        self.mean_acc_count = self._declare("mean_acc_count", ctypes.c_uint64, handle)
        self.mean_acc_mean_f32 = self._declare("mean_acc_mean_f32", ctypes.c_float, handle)
        self.mean_acc_mean_f64 = self._declare("mean_acc_mean_f64", ctypes.c_double, handle)
        self.mean_acc_sum_f32 = self._declare("mean_acc_sum_f32", ctypes.c_float, handle)
        self.mean_acc_sum_f64 = self._declare("mean_acc_sum_f64", ctypes.c_double, handle)
        self.mean_acc_serialized_size = self._declare("mean_acc_serialized_size", size)
        # `out` is a writable buffer's address (never a bytes object: those are immutable);
        # `bytes` is only read, so a bytes object may be passed as c_char_p.
        self.mean_acc_serialize = self._declare("mean_acc_serialize", status, handle, pointer, size)
        self.mean_acc_deserialize = self._declare("mean_acc_deserialize", handle, ctypes.c_char_p, size)

    def _check_abi_version(self) -> None:
        """Refuses a file that is not libmean (no version symbol) or is of another ABI version."""
        try:
            version_symbol = self.cdll.mean_abi_version
        except AttributeError:
            raise IncompatibleLibraryError(
                f"{self.path} is not libmean: it has no mean_abi_version symbol"
            ) from None
        version_symbol.restype = ctypes.c_uint32
        version_symbol.argtypes = []
        version = version_symbol()
        if version != ABI_VERSION:
            raise IncompatibleLibraryError(
                f"{self.path} is libmean of C ABI version {version}; this npmean needs version "
                f"{ABI_VERSION}. Rebuild it with `{BUILD_COMMAND}` (or reinstall npmean)."
            )

    def _declare(self, name: str, restype, *argtypes):
        # A CFUNCTYPE prototype is checked once, here, instead of on every call.
        prototype = ctypes.CFUNCTYPE(restype, *argtypes)
        return prototype((name, self.cdll))

    def simd_level(self) -> str:
        """The SIMD level the library runs: scalar, sse2, avx2 or avx512."""
        return self.mean_simd_level().decode()

    def certificate_trusted(self) -> bool:
        """Whether the level in use certifies sums exact by the CPU's inexact flag (its
        self-test passed); if not, the kernels run without it: the same means, slower on ties."""
        return bool(self.mean_certificate_trusted())

    def available_simd_levels(self) -> list[str]:
        """Every level this CPU can run, lowest first (each includes the ones before it)."""
        return list(SIMD_LEVELS[: SIMD_LEVELS.index(self.mean_simd_best().decode()) + 1])

    def __repr__(self) -> str:
        return f"<npmean.Library {str(self.path)!r}>"


def candidate_paths() -> list[Path]:
    """Where the library is looked for, in order."""
    package_dir = Path(__file__).resolve().parent
    paths = []
    env = os.environ.get(ENV_VAR)
    if env:
        paths.append(Path(env))
    paths.append(package_dir / LIBRARY_FILE)  # installed by `pip install .`
    # A source checkout: python/npmean/ -> the repository root.
    paths.append(package_dir.parent.parent / "target" / "release" / LIBRARY_FILE)
    return paths


def find_library() -> Library:
    """Loads the first library that exists among :func:`candidate_paths`.

    If ``NPMEAN_LIBRARY`` is set, that path must load: a wrong setting is an error, not a reason
    to quietly use another copy.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        if not Path(env).is_file():
            raise LibraryNotFoundError(f"{ENV_VAR}={env!r} does not name a file")
        return Library(env)
    tried = []
    for path in candidate_paths():
        if not path.is_file():
            tried.append(f"{path} (no such file)")
            continue
        try:
            return Library(path)
        except IncompatibleLibraryError as error:  # a stale build: try the next place
            tried.append(str(error))
    raise LibraryNotFoundError(
        "no usable libmean was found. Tried:\n  "
        + "\n  ".join(tried)
        + f"\nBuild it with `{BUILD_COMMAND}` in the source tree, install npmean with"
        f" `pip install .`, or set {ENV_VAR} to its path."
    )
