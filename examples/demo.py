"""npmean.mean next to numpy.mean and the exact mean, on a few arrays, with timings."""

import sys
import timeit
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import npmean  # noqa: E402  (the source tree's copy, unless npmean is installed)


def exact(a) -> Fraction:
    """The exact mean, from integers: each float is an integer times a power of two."""
    flat = np.asarray(a, dtype=np.float64).ravel()
    mantissa, exponent = np.frexp(flat)
    ints = (mantissa * 2.0**53).astype(np.int64)
    total = Fraction(0)
    for e in np.unique(exponent):
        part = ints[exponent == e]
        total += Fraction(int(part.sum(dtype=object)), 1) * Fraction(2) ** (int(e) - 53)
    return total / flat.size


def best_time(f, a) -> float:
    number = max(1, int(2e6 // max(a.size, 1)))
    return min(timeit.repeat(lambda: f(a), number=number, repeat=5)) / number


def ulps_from(value, truth: Fraction) -> str:
    """Distance from the exact mean in units of the result's last place."""
    if not np.isfinite(value):
        return "inf ulp"
    distance = abs(Fraction(float(value)) - truth) / Fraction(float(np.spacing(np.abs(value))))
    return f"{float(distance):.2f} ulp" if distance < 10**6 else "> 1e6 ulp"


rng = np.random.default_rng(0)
cases = {
    "contiguous float32, 10^3": rng.standard_normal(1000).astype(np.float32),
    "sliced 2-D float32": rng.random((2000, 300)).astype(np.float32)[::3, 10:-10],
    "float64, 10^6, offset 1e6": 1e6 + rng.random(10**6),
    "float32 ones, 10^8": np.ones(10**8, np.float32),
    "float32 [3e38, 3e38]": np.array([3e38, 3e38], np.float32),
    "float64 [2^100, 1, -2^100]": np.array([2.0**100, 1.0, -(2.0**100)]),
}
print(f"library: {npmean.library().path}\n")
header = f"{'array':28} {'npmean.mean':>16} {'numpy.mean':>16} {'exact':>16} {'err npmean':>11} {'err numpy':>10} {'t npmean':>10} {'t numpy':>10}"
print(header)
print("-" * len(header))
for name, a in cases.items():
    with np.errstate(over="ignore"):
        ours, theirs = npmean.mean(a), np.mean(a)
        truth = exact(a)
        t_ours, t_theirs = best_time(npmean.mean, a), best_time(np.mean, a)
    print(
        f"{name:28} {float(ours):16.9g} {float(theirs):16.9g} {float(truth):16.9g} "
        f"{ulps_from(ours, truth):>11} {ulps_from(theirs, truth):>10}"
        f" {t_ours * 1e6:8.1f}us {t_theirs * 1e6:8.1f}us"
    )
print("\nerr: distance from the exact mean in units of the result's last place; at most 0.5 ulp")
print("means correctly rounded, which npmean.mean always is.")
