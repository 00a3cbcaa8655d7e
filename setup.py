"""Build hook: everything else is in pyproject.toml.

setuptools-rust names a library like a Python extension module
(libmean.cpython-311-x86_64-linux-gnu.so). libmean is a plain C library loaded with ctypes, so
it is installed under its own name, npmean/libmean.so, where npmean/_lib.py looks for it.
"""

import os
import sys

from setuptools import setup
from setuptools_rust import build_rust

LIBRARY_FILE = {"darwin": "libmean.dylib", "win32": "mean.dll"}.get(sys.platform, "libmean.so")


class build_plain_library(build_rust):
    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIBRARY_FILE)


setup(cmdclass={"build_rust": build_plain_library})
