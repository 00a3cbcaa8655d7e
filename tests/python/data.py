"""Test arrays: the kinds of data and the sizes every accuracy test runs on."""

import numpy as np

KINDS = ("uniform", "normal", "offset", "mixed_sign", "wide")
# Around every SIMD width and unroll (16 f32 / 8 f64 lanes per register, several registers),
# block boundaries, and up to 10^7.
SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256,
         257, 511, 512, 513, 1000, 2047, 2048, 2049, 4095, 4096, 4097, 65537, 10**6, 10**7)


def make(kind: str, n: int, dtype, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng([seed, n, KINDS.index(kind)])
    if kind == "uniform":
        x = rng.random(n)
    elif kind == "normal":
        x = rng.standard_normal(n)
    elif kind == "offset":
        x = 1e4 + rng.random(n)
    elif kind == "mixed_sign":
        x = (rng.random(n) - 0.5) * 1e3
    elif kind == "wide":
        # Values of random sign over 2^-40 .. 2^40 (inside float32 and float16-free range).
        x = rng.choice([-1.0, 1.0], n) * 2.0 ** rng.uniform(-40, 40, n)
    else:
        raise ValueError(kind)
    return x.astype(dtype)
