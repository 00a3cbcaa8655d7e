"""npmean: the mean of a numpy array, computed by ``libmean`` (Rust) through ctypes.

Public API: :func:`mean`, :func:`load_library`, :func:`library`. Everything in underscore
modules is internal.
"""

from ._lib import Library, LibraryNotFoundError
from ._mean import library, load_library, mean

__all__ = ["Library", "LibraryNotFoundError", "library", "load_library", "mean"]
__version__ = "0.1.0"
