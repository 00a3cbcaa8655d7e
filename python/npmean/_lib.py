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
BUILD_COMMAND = "cargo build --release"

if sys.platform == "darwin":
    LIBRARY_FILE = "libmean.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "mean.dll"
else:
    LIBRARY_FILE = "libmean.so"


class LibraryNotFoundError(OSError):
    """No usable ``libmean`` was found; the message lists every path tried."""


class Library:
    """``libmean`` loaded from one path, with every symbol declared."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.cdll = ctypes.CDLL(str(self.path))  # CDLL releases the GIL around every call
        # Pointers travel as plain integers (c_size_t): ctypes converts an int to size_t faster
        # than to c_void_p, and the C side receives the same bits.
        pointer, size = ctypes.c_size_t, ctypes.c_size_t
        self.compute_mean = self._declare("compute_mean", ctypes.c_float, ctypes.c_void_p, ctypes.c_int)
        self.mean_f32 = self._declare("mean_f32", ctypes.c_float, pointer, size)
        self.mean_f64 = self._declare("mean_f64", ctypes.c_double, pointer, size)

    def _declare(self, name: str, restype, *argtypes):
        # A CFUNCTYPE prototype is checked once, here, instead of on every call.
        prototype = ctypes.CFUNCTYPE(restype, *argtypes)
        return prototype((name, self.cdll))

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
        if path.is_file():
            return Library(path)
        tried.append(str(path))
    raise LibraryNotFoundError(
        "libmean was not found. Tried:\n  "
        + "\n  ".join(tried)
        + f"\nBuild it with `{BUILD_COMMAND}` in the source tree, install npmean with"
        f" `pip install .`, or set {ENV_VAR} to its path."
    )
