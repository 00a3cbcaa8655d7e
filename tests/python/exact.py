"""An exact oracle for the mean: integer arithmetic, rounded once, ties to even.

The sum is computed as an integer multiple of 2^-1126 (below the smallest subnormal's
frexp exponent), vectorised by grouping values by exponent; the mean is then rounded from
the exact rational sum / n to the target format with integer division, never through another
float (which would round twice).
"""

from __future__ import annotations

import math

import numpy as np

_BASE_EXP = -1126  # frexp exponents reach -1073; mantissas are scaled by 2^53
_FORMATS = {
    np.dtype(np.float16): (11, -14),
    np.dtype(np.float32): (24, -126),
    np.dtype(np.float64): (53, -1022),
}


def exact_sum(a) -> tuple[int, int]:
    """(numerator, exponent): the exact sum of the finite array `a` is numerator * 2^exponent."""
    x = np.asarray(a, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("exact_sum takes finite values only")
    x = x[x != 0]
    if x.size == 0:
        return 0, 0
    mantissa, exponent = np.frexp(x)  # x = mantissa * 2^exponent, 0.5 <= |mantissa| < 1
    ints = (mantissa * 2.0**53).astype(np.int64)  # exact: 53-bit integers
    shift = exponent.astype(np.int64) - 53 - _BASE_EXP  # >= 0
    order = np.argsort(shift, kind="stable")
    ints, shift = ints[order], shift[order]
    starts = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]])
    # Split 53-bit integers in halves so that per-exponent sums cannot overflow int64 (n < 2^36).
    high = np.add.reduceat(ints >> 26, starts)
    low = np.add.reduceat(ints & ((1 << 26) - 1), starts)
    total = 0
    for h, l, s in zip(high.tolist(), low.tolist(), shift[starts].tolist()):
        total += ((h << 26) + l) << s
    return total, _BASE_EXP


def round_rational(num: int, den: int, dtype) -> float:
    """num / den (den > 0) rounded once to the nearest value of `dtype`, ties to even."""
    dtype = np.dtype(dtype)
    precision, min_exp = _FORMATS[dtype]
    if num == 0:
        return dtype.type(0.0)
    negative, num = num < 0, abs(num)
    # e = floor(log2(num / den))
    e = num.bit_length() - den.bit_length()
    if (num << -e if e < 0 else num) < (den << e if e >= 0 else den):
        e -= 1
    lsb = max(e - precision + 1, min_exp - precision + 1)
    n2, d2 = (num, den << lsb) if lsb >= 0 else (num << -lsb, den)
    m, r = divmod(n2, d2)
    if 2 * r > d2 or (2 * r == d2 and m & 1):
        m += 1
    try:
        value = math.ldexp(m, lsb)  # exact: m has at most `precision` + 1 bits
    except OverflowError:
        value = math.inf
    with np.errstate(over="ignore"):
        result = dtype.type(value)  # exact, or inf past the format's largest value
    return -result if negative else result


def exact_mean(a, dtype) -> float:
    """The mean of the finite array `a`, correctly rounded to `dtype`."""
    a = np.asarray(a)
    num, exp = exact_sum(a)
    n = a.size
    if exp >= 0:
        return round_rational(num << exp, n, dtype)
    return round_rational(num, n << -exp, dtype)


def ulps(a, b) -> int:
    """Distance in units in the last place between two floats of the same dtype."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    width = 8 * a.dtype.itemsize
    utype = {16: np.uint16, 32: np.uint32, 64: np.uint64}[width]

    def ordered(v):
        bits = int(v.view(utype))
        magnitude = bits & ((1 << (width - 1)) - 1)
        return -magnitude if bits >> (width - 1) else magnitude

    return abs(ordered(a) - ordered(b))
