"""Generators of hard cases for correct rounding: exact ties, near-ties closer than float64
can resolve, cancellation against huge values, subnormals only, sums that overflow, wide
exponent ranges."""

import numpy as np


def hard_float64_cases(seed: int = 0):
    """(name, array) pairs of float64 arrays whose correctly rounded mean is hard to get."""
    rng = np.random.default_rng(seed)
    tiny = np.float64(5e-324)
    big = np.finfo(np.float64).max
    one_up = np.nextafter(1.0, 2.0)
    cases = [
        ("tie to even (down)", [1.0, one_up]),
        ("tie to even (up)", [one_up, np.nextafter(one_up, 2.0)]),
        # (2 + 2^-52 + h) / 4 = 0.5 + 2^-54 + h/4: a hair above or below a rounding midpoint.
        ("near tie above", [1.0, one_up, 2.0**-1000, 0.0]),
        ("near tie below", [1.0, one_up, -(2.0**-1000), 0.0]),
        ("cancellation", [2.0**100, 1.0, -(2.0**100)]),
        ("huge cancellation", [1e308, 3.0, -1e308, 1e-300]),
        ("overflowing sum", [big, big, -big / 2]),
        ("all max", [big] * 7),
        ("subnormals only", rng.integers(0, 2**20, 1001) * tiny),
        ("subnormal tie", [tiny, 2 * tiny]),
    ]
    # Power-of-two counts: dividing by n is exact, so the mean's rounding is the sum's.
    for n in (2, 4, 8, 1024):
        cases.append((f"power-of-two count {n}", rng.random(n)))
    # Near-ties at scale: an array whose exact mean is a midpoint, then nudged by one tiny value.
    base = np.full(1000, 1.0)
    base[0] = one_up  # sum = 1000 + 2^-52: mean 1 + 2^-52/1000 (not a tie; ordinary rounding)
    cases.append(("thousand ones and one", base))
    for sign in (1, -1):
        nudged = np.array([1.0, one_up] * 500 + [sign * 2.0**-1070])
        cases.append((f"many ties nudged {'up' if sign > 0 else 'down'}", nudged))
    # Wide exponent ranges with cancellation.
    for k in range(5):
        exps = rng.integers(-300, 300, 2000)
        values = rng.choice([-1.0, 1.0], 2000) * rng.random(2000) * 2.0 ** exps.astype(float)
        values = np.concatenate([values, -values[:1000]])
        cases.append((f"wide range {k}", values))
    return [(name, np.asarray(v, dtype=np.float64)) for name, v in cases]


def hard_float32_cases(seed: int = 0):
    """The same kinds of difficulty for float32 values."""
    rng = np.random.default_rng(seed)
    f = np.float32
    one_up = np.nextafter(f(1), f(2))
    tiny = f(1e-45)
    cases = [
        ("tie to even", [f(1), one_up]),
        ("near tie above", [f(1), one_up, f(2.0**-140), f(0)]),
        ("near tie below", [f(1), one_up, f(-(2.0**-140)), f(0)]),
        ("cancellation", [f(2.0**100), f(1), f(-(2.0**100))]),
        ("overflowing sum", [f(3e38), f(3e38)]),
        ("max cancellation", [f(-3.4028235e38), f(3.4028235e38)] + [f(1)] * 7),
        ("subnormals only", (rng.integers(0, 2**10, 1001) * tiny).astype(np.float32)),
    ]
    for k in range(3):
        exps = rng.integers(-120, 120, 3000)
        values = (rng.choice([-1.0, 1.0], 3000) * rng.random(3000) * 2.0 ** exps.astype(float)).astype(np.float32)
        cases.append((f"wide range {k}", np.concatenate([values, -values[:1500]])))
    return [(name, np.asarray(v, dtype=np.float32)) for name, v in cases]
