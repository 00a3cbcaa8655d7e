"""npmean: the mean of a numpy array, computed by ``libmean`` (Rust) through ctypes.

Public API: :func:`mean`, :func:`nanmean`, :func:`sum`, :func:`nansum`, :class:`MeanAccumulator`, :func:`simd_level`,
:func:`available_simd_levels`, :func:`config`, :func:`show_config`, :func:`load_library`,
:func:`library`. Everything in underscore modules is internal.
"""

from ._accumulator import MeanAccumulator
from ._lib import IncompatibleLibraryError, Library, LibraryNotFoundError
from ._mean import (
    available_simd_levels,
    config,
    library,
    load_library,
    mean,
    nanmean,
    nansum,
    show_config,
    simd_level,
    sum,  # noqa: A004 (numpy's name, as numpy.sum shadows the builtin)
)

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
    "nanmean",
    "nansum",
    "show_config",
    "simd_level",
    "sum",
]
__version__ = "0.2.0"
