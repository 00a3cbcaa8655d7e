"""npmean.mean against the exact, correctly rounded mean, and against numpy.mean."""

import numpy as np
import pytest

import npmean
from data import KINDS, SIZES, make
from exact import exact_mean, ulps

# Every mean is correctly rounded: 0 ulp from the exact mean rounded once.
OUR_MAX_ULPS = {np.float32: 0, np.float64: 0}


def numpy_tolerance(x: np.ndarray, exact) -> float:
    """How far numpy.mean may be from the exact mean: its pairwise sum (blocks of 128 over 8
    accumulators, then halving) rounds each value at most 16 + 3 + log2(n) times, each by
    u * (partial sum), so |error| <= depth * u * sum|x|; its mean rounds twice more."""
    u = np.finfo(x.dtype).eps / 2
    depth = 20 + np.log2(x.size)
    return float(depth * u * np.mean(np.abs(x.astype(np.float64))) + 2 * np.spacing(abs(exact)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", SIZES)
def test_within_one_ulp_of_exact_and_close_to_numpy(n, kind, dtype):
    x = make(kind, n, dtype)
    got = npmean.mean(x)
    exact = exact_mean(x, dtype)
    assert type(got) is np.dtype(dtype).type
    assert ulps(got, exact) <= OUR_MAX_ULPS[dtype], (got, exact)
    reference = np.mean(x)
    assert abs(float(got) - float(reference)) <= numpy_tolerance(x, exact), (got, reference)


@pytest.mark.parametrize("kind", KINDS)
def test_float16_is_correctly_rounded(kind):
    x = make(kind, 10_001, np.float16) if kind != "wide" else make("normal", 10_001, np.float16)
    got = npmean.mean(x)
    assert type(got) is np.float16
    # Averaged in float64 (correctly rounded), then rounded once more to float16: no double
    # rounding error is possible at this size (see npmean/_mean.py).
    assert got.tobytes() == exact_mean(x, np.float16).tobytes()


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                   np.uint32, np.int64, np.uint64])
def test_integers_and_bool_average_in_float64(dtype):
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    rng = np.random.default_rng(5)
    if info is None:
        x = rng.random(100_003) < 0.3
    else:
        # int64 values beyond 2^53 round when converted, as in numpy; stay below to test exactly.
        hi = min(int(info.max), 2**53)
        lo = max(int(info.min), -(2**53))
        x = rng.integers(lo, hi, 100_003, dtype=dtype, endpoint=False)
    got = npmean.mean(x)
    assert type(got) is np.float64
    assert got == exact_mean(x.astype(np.float64), np.float64)
    assert got == pytest.approx(np.mean(x), rel=1e-12)


def test_the_tutorials_failure_is_fixed():
    # A float32 accumulator stops at 2^24: the classic mean of 10^8 ones is 0.168.
    ones = np.ones(10**8, dtype=np.float32)
    assert npmean.mean(ones) == np.float32(1.0)


@pytest.mark.parametrize(
    "values, dtype",
    [
        ([3e38, 3e38], np.float32),  # numpy.mean overflows to inf
        ([np.finfo(np.float64).max] * 3, np.float64),
        ([2.0**100, 1.0, -(2.0**100)], np.float32),  # numpy.mean gives 0.0
        ([2.0**100, 1.0, -(2.0**100)], np.float64),
        ([1e308, -1e308, 1e308, 3.0], np.float64),
    ],
)
def test_better_than_numpy_on_hard_cases(values, dtype):
    x = np.array(values, dtype=dtype)
    assert npmean.mean(x) == exact_mean(x, dtype)


def test_subnormal_means():
    tiny = np.float64(5e-324)
    assert npmean.mean(np.array([tiny, 3 * tiny])) == 2 * tiny
    tiny32 = np.float32(1e-45)
    assert npmean.mean(np.array([tiny32, 3 * tiny32], np.float32)) == 2 * tiny32
