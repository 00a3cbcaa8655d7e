"""npmean.nanmean, sum and nansum against the exact oracle, cell by cell: every output element
is the exact mean (of the values that are not NaN) or the exact sum rounded once, integer sums
exact or OverflowError; numpy's result types, shapes and warnings; one pass, no copy."""

import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npmean
from exact import exact_sum, round_rational
from test_engine import ALL, exact_cell_mean, normalized_axes, same_bits, views
from test_engine import oracle as engine_oracle

OPERATIONS = {
    "nanmean": (npmean.nanmean, np.nanmean),
    "sum": (npmean.sum, np.sum),
    "nansum": (npmean.nansum, np.nansum),
}


class Overflow(Exception):
    """The oracle's integer sum does not fit the result type: npmean must raise OverflowError."""


def exact_cell_sum(values: np.ndarray, result: np.dtype):
    """The exact sum of one cell's values rounded once to `result` (exact for integer results)."""
    if result.kind == "c":
        part = np.dtype(result.type(0).real.dtype)
        real = exact_cell_sum(values.real.copy(), part) if values.dtype.kind == "c" else exact_cell_sum(values, part)
        imag = exact_cell_sum(values.imag.copy(), part) if values.dtype.kind == "c" else part.type(0)
        return result.type(complex(real, imag))
    if values.dtype.kind in "biu":
        total = sum(int(v) for v in values.tolist())  # Python ints: exact
        if result.kind in "iu":
            info = np.iinfo(result)
            if not info.min <= total <= info.max:
                raise Overflow
            return result.type(total)
        return round_rational(total, 1, result)
    if np.isnan(values).any():
        return result.type(np.nan)
    num, exp = exact_sum(values)
    return round_rational(num << exp, 1, result) if exp >= 0 else round_rational(num, 1 << -exp, result)


def without_nans(values: np.ndarray) -> np.ndarray:
    """numpy's nan functions leave out an element with a NaN in either part."""
    return values[~np.isnan(values)] if values.dtype.kind in "fc" else values


def oracle(name: str, a: np.ndarray, axes: tuple, keepdims: bool, where, result: np.dtype) -> np.ndarray:
    def cell(values, result):
        if name.startswith("nan"):
            values = without_nans(values)
        if name.endswith("sum"):
            return exact_cell_sum(values, result)
        return exact_cell_mean(values, result)  # nanmean: values are finite, or none

    return engine_oracle(a, axes, keepdims, where, result, cell)


@st.composite
def reductions(draw):
    a = draw(views(nans=True))
    axis = draw(st.one_of(st.none(), st.lists(st.integers(0, max(a.ndim - 1, 0)), unique=True).map(tuple)))
    if axis is not None and a.ndim == 0:
        axis = ()
    if axis is not None and len(axis) == 1 and draw(st.booleans()):
        axis = axis[0] - a.ndim if draw(st.booleans()) else axis[0]
    keepdims = draw(st.booleans())
    where = None
    if draw(st.integers(0, 3)) == 0:
        rng = np.random.default_rng(draw(st.integers(0, 1000)))
        where = rng.random(a.shape) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    return draw(st.sampled_from(sorted(OPERATIONS))), a, axis, keepdims, where


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reductions())
def test_every_output_element_is_exact_rounded_once(case):
    name, a, axis, keepdims, where = case
    ours, theirs = OPERATIONS[name]
    before = a.copy()
    kwargs = {} if where is None else {"where": where}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_type = theirs(a, axis=axis, keepdims=keepdims, **kwargs)
    result = np.asarray(want_type).dtype
    try:
        want = oracle(name, a, normalized_axes(axis, a.ndim), keepdims, where, result)
    except Overflow:
        with pytest.raises(OverflowError):
            ours(a, axis=axis, keepdims=keepdims, **kwargs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = ours(a, axis=axis, keepdims=keepdims, **kwargs)
    # A scalar or an array, as numpy gives (numpy itself names int64 longlong or long by the
    # path taken: equal dtypes, different classes, so classes are compared as dtypes).
    assert isinstance(got, np.ndarray) == isinstance(want_type, np.ndarray)
    if not isinstance(got, np.ndarray):
        assert np.dtype(type(got)) == np.dtype(type(want_type))
    assert np.shape(got) == np.shape(want_type)
    assert np.asarray(got).dtype == result
    assert same_bits(got, want), (got, want)
    assert same_bits(a, before)


@pytest.mark.parametrize("level", npmean.available_simd_levels())
def test_nan_densities_layouts_and_axes_at_every_simd_level(level):
    # Long enough for every kernel (whole-array, short runs, columns, the buffer): the results
    # are correctly rounded, so identical at every level (the oracle checks them elsewhere).

    script = f"""
import hashlib, numpy as np, npmean, warnings
warnings.simplefilter("ignore", RuntimeWarning)
rng = np.random.default_rng(5)
out = []
for density in (0.0, 1e-6, 0.01, 0.5, 1.0):
    for dtype in (np.float16, np.float32, np.float64):
        a = (rng.standard_normal((300, 70)) * 1e3).astype(dtype)
        a[rng.random(a.shape) < density] = np.nan
        a[:, 3] = np.nan  # an all-NaN column
        a[7] = np.nan     # and row
        for view in (a, a.T, a[::-1, ::2], a.astype(a.dtype.newbyteorder()), np.asfortranarray(a)):
            for axis in (None, 0, 1, (0, 1)):
                for f in (npmean.nanmean, npmean.nansum):
                    out.append(np.asarray(f(view, axis=axis)).tobytes())
print(hashlib.sha256(b"".join(out)).hexdigest())
"""
    package = os.path.dirname(os.path.dirname(npmean.__file__))  # this npmean, in the child too

    def run(simd):
        env = {**os.environ, "NPMEAN_SIMD": simd, "PYTHONPATH": package}
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)

    here, scalar = run(level), run("scalar")
    assert here.stdout == scalar.stdout


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.5, 1.0])
def test_long_arrays_with_nans_against_the_oracle(dtype, density):
    rng = np.random.default_rng(int(density * 100) + np.dtype(dtype).itemsize)
    a = (rng.standard_normal((64, 1500)) * 10.0 ** rng.integers(-3, 4, (64, 1500))).astype(dtype)
    a[rng.random(a.shape) < density] = np.nan
    a[5] = np.nan
    for axis in (None, 0, 1):
        for name in ("nanmean", "nansum"):
            ours, theirs = OPERATIONS[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                got = ours(a, axis=axis)
                result = np.asarray(theirs(a[:2, :2], axis=axis)).dtype
            want = oracle(name, a, normalized_axes(axis, 2), False, None, result)
            assert same_bits(got, want), (name, axis)


def test_all_nan_slices_warn_as_numpy_and_give_nan():
    a = np.array([[np.nan, np.nan], [1.0, np.nan]])
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        got = npmean.nanmean(a, axis=1)
    assert np.isnan(got[0]) and got[1] == 1.0
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(npmean.nanmean(np.full(10, np.nan, np.float32)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(npmean.nanmean(np.array([np.inf, -np.inf, np.nan])))  # NaN, but not empty: no warning
        assert npmean.nansum(a, axis=1).tolist() == [0.0, 1.0]  # sums of nothing: 0, no warning
        assert npmean.nanmean(np.array([np.inf, np.nan])) == np.inf


def test_the_bottleneck_accuracy_case_is_exact():
    # bottleneck issues #193 and #462: float32 nanmean accumulated in float32.
    a = np.full(10**8 // 8, 0.5, np.float32)
    a[::1000] = np.nan
    assert npmean.nanmean(a) == np.float32(0.5)
    assert npmean.nanmean(np.ones((2**25, 2), np.float32), axis=0).tolist() == [1.0, 1.0]


def test_exact_sums_where_numpy_rounds_or_overflows():
    assert npmean.sum(np.array([1e16, 1.0, -1e16])) == 1.0  # numpy: 0.0
    assert npmean.sum(np.float32([3e38, 3e38, -3e38])) == np.float32(3e38)  # numpy: inf
    assert npmean.sum(np.float32([3e38, 3e38])) == np.float32(np.inf)  # the exact sum is beyond float32
    ones = np.ones(2**25, np.float32)
    assert npmean.sum(ones) == 2**25 and npmean.sum(ones.reshape(-1, 2), axis=0).tolist() == [2**24, 2**24]
    assert npmean.sum(np.array([2**53, 1, 1], np.int64), dtype=np.float64) == 2**53 + 2


def test_integer_sums_are_exact_or_raise_overflow_error():
    big = np.iinfo(np.int64).max
    assert npmean.sum(np.array([big, 1, -1])) == big
    with pytest.raises(OverflowError):
        npmean.sum(np.array([big, 1]))
    with pytest.raises(OverflowError):
        npmean.sum(np.array([100, 100], np.int8), dtype=np.int8)
    assert npmean.sum(np.array([100, 100], np.int8)) == 200  # int8 sums in int64, as numpy
    assert npmean.sum(np.array([2**63, 2**63 - 1], np.uint64)) == 2**64 - 1
    assert npmean.sum(np.ones(5, bool)).dtype == np.int64
    with pytest.raises(OverflowError):
        npmean.sum(np.array([[big], [big]]), axis=0)


def test_initial_is_added_once_exactly_and_cast_as_numpy_casts_it():
    a = np.array([1.0, 2.0**-60])
    assert npmean.sum(a, initial=2.0**60) == 2.0**60  # one rounding of 2^60 + 1 + 2^-60
    assert npmean.sum(a, initial=-1.0) == 2.0**-60
    assert npmean.sum(np.array([1, 2]), initial=0.5) == np.sum(np.array([1, 2]), initial=0.5)
    assert npmean.sum(np.zeros((0, 3)), axis=0, initial=5.0).tolist() == [5.0, 5.0, 5.0]
    assert npmean.nansum(np.array([np.nan]), initial=2.0) == 2.0
    assert npmean.sum(np.array([1, 2], np.int8), initial=np.int64(2**62)) == 2**62 + 3


def test_out_dtype_keepdims_and_where_as_numpy():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    a[1, 1] = np.nan
    out = np.empty(4, np.float64)
    assert npmean.nanmean(a, axis=0, out=out) is out
    assert np.array_equal(out, np.nanmean(a, axis=0, dtype=np.float64))
    assert npmean.nansum(a, axis=1, keepdims=True).shape == (3, 1)
    where = np.array([True, False, True, True])
    assert np.array_equal(npmean.nanmean(a, axis=1, where=where), np.nanmean(a, axis=1, where=where))
    assert np.array_equal(npmean.sum(a, axis=1, where=where), np.sum(a, axis=1, where=where))
    assert npmean.sum(a, dtype=np.complex128).dtype == np.complex128
    with pytest.raises(TypeError):
        npmean.nanmean(a, dtype=int)  # numpy: "If a is inexact, then dtype must be inexact"
    assert npmean.nanmean(np.arange(4)) == 1.5  # integers: as mean


def test_complex_nan_skips_the_whole_element_as_numpy():
    a = np.array([1 + 1j, complex(np.nan, 5), complex(7, np.nan), 3 + 3j], np.complex128)
    assert npmean.nanmean(a) == np.nanmean(a) == 2 + 2j
    assert npmean.nansum(a) == np.nansum(a) == 4 + 4j


@pytest.mark.parametrize("name", ["nanmean", "nansum", "sum"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_no_mask_or_copy_is_made(name, axis):
    rng = np.random.default_rng(3)
    a = rng.random((2000, 1000))
    a[rng.random(a.shape) < 0.01] = np.nan
    ours = OPERATIONS[name][0]
    ours(a[:10], axis=axis)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        ours(a, axis=axis)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    output = 0 if axis is None else 8 * a.shape[1 - axis]
    assert peak - base < 64 * 1024 + 2 * output, peak - base


@pytest.mark.parametrize("dtype", ALL)
def test_every_dtype_sums_with_numpys_result_type(dtype):
    a = np.ones((3, 4), dtype)
    for ours, theirs in OPERATIONS.values():
        for axis in (None, 0, 1):
            got, want = ours(a, axis=axis), theirs(a, axis=axis)
            assert type(got) is type(want) and np.asarray(got).dtype == np.asarray(want).dtype
            assert np.array_equal(got, want)
