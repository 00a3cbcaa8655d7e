"""npmean: the mean of a numpy array, computed by ``libmean`` (Rust) through ctypes.

Public API: :func:`mean`, :class:`MeanAccumulator`, :func:`simd_level`,
:func:`available_simd_levels`, :func:`config`, :func:`show_config`, :func:`load_library`,
:func:`library`. Everything in underscore modules is internal.
"""

from ._accumulator import MeanAccumulator
from ._lib import IncompatibleLibraryError, Library, LibraryNotFoundError
from ._mean import available_simd_levels, config, library, load_library, mean, show_config, simd_level

__all__ = [
    "IncompatibleLibraryError",
    "Library",
    "LibraryNotFoundError",
    "MeanAccumulator",
    "available_simd_levels",
    "config",
    "library",
    "load_library",
    "mean",
    "show_config",
    "simd_level",
]
__version__ = "0.2.0"
