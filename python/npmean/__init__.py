"""npmean: the mean of a numpy array, computed by ``libmean`` (Rust) through ctypes.

Public API: :func:`mean`, :class:`MeanAccumulator`, :func:`simd_level`,
:func:`available_simd_levels`, :func:`load_library`, :func:`library`. Everything in underscore
modules is internal.
"""

from ._accumulator import MeanAccumulator
from ._lib import Library, LibraryNotFoundError
from ._mean import available_simd_levels, library, load_library, mean, simd_level

__all__ = [
    "Library",
    "LibraryNotFoundError",
    "MeanAccumulator",
    "available_simd_levels",
    "library",
    "load_library",
    "mean",
    "simd_level",
]
__version__ = "0.1.0"
