"""The classic ctypes tutorial, unchanged, against our libmean.so: it now gets the right answer."""

import os
import shutil
import subprocess
import sys
import textwrap

from conftest import ROOT

CLASSIC = textwrap.dedent(
    """
    import ctypes
    from ctypes import c_float, c_int, c_void_p
    import numpy as np

    lib = ctypes.cdll.LoadLibrary('./libmean.so')
    lib.compute_mean.restype = c_float

    for n in (1, 7, 1000, 10**8):
        A = np.ones(n, dtype=np.float32) * np.float32(0.1)
        assert A.flags['C_CONTIGUOUS']
        got = lib.compute_mean(c_void_p(A.ctypes.data), c_int(n))
        print(n, repr(got), repr(float(np.mean(A))))
    A = np.array([3e38, 3e38], dtype=np.float32)
    print("overflow", lib.compute_mean(c_void_p(A.ctypes.data), c_int(2)))
    print("empty", lib.compute_mean(c_void_p(A.ctypes.data), c_int(0)))
    print("null", lib.compute_mean(c_void_p(None), c_int(5)))
    """
)


def test_the_tutorial_script_works_from_a_directory_with_libmean(tmp_path):
    shutil.copy(ROOT / "target" / "release" / "libmean.so", tmp_path / "libmean.so")
    (tmp_path / "classic.py").write_text(CLASSIC)
    env = {k: v for k, v in os.environ.items() if k != "NPMEAN_LIBRARY"}
    result = subprocess.run([sys.executable, "classic.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # restype c_float hands back a Python float holding float32(0.1), the exact mean's rounding.
    tenth = float(__import__("numpy").float32(0.1))
    for line in lines[:4]:
        n, got, numpy_mean = line.split()
        assert float(got) == tenth, line
        assert abs(float(numpy_mean) - tenth) <= 1e-6, line  # numpy agrees to float32 precision
    assert lines[4] == f"overflow {float(__import__('numpy').float32(3e38))}"
    assert lines[5] == "empty nan" and lines[6] == "null nan"
