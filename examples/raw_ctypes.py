"""The classic ctypes call, as in the tutorial, on ./libmean.so (run from the repository root
after `make demo`, which copies the library there)."""

import ctypes
from ctypes import c_float, c_int, c_void_p

import numpy as np

lib = ctypes.cdll.LoadLibrary("./libmean.so")
lib.compute_mean.restype = c_float

A = np.ones(10**8, dtype=np.float32)
# compute_mean reads n consecutive float32 values: anything else must be converted first.
A = np.ascontiguousarray(A, dtype=np.float32)
assert A.flags["C_CONTIGUOUS"] and A.dtype == np.float32
n = A.size  # compute_mean takes a C int: above 2**31 - 1 elements use mean_f32 (size_t)

print("compute_mean of 10^8 ones:", lib.compute_mean(c_void_p(A.ctypes.data), c_int(n)))
print("(a float32 accumulator, as the tutorial's C code has, gives about 0.168)")
