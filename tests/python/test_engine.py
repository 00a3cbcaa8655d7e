"""npmean.mean over axes, dtypes and layouts (the reduction engine): every output element is the
exact mean of its values rounded once (the integer oracle of exact.py, cell by cell), with
numpy.mean's result shape, dtype and scalar-or-array type; no input is copied or modified."""

import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npmean
from exact import exact_sum, round_rational

REAL = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
        np.float16, np.float32, np.float64]
COMPLEX = [np.complex64, np.complex128]
ALL = REAL + COMPLEX


def exact_cell_mean(values: np.ndarray, result: np.dtype):
    """The correctly rounded mean of one cell's values (a 1-d array), NaN if it has none."""
    if values.size == 0:
        return result.type(complex(np.nan, np.nan) if result.kind == "c" else np.nan)
    if values.dtype.kind == "c":
        real = exact_cell_mean(values.real.copy(), np.dtype(result.type(0).real.dtype))
        imag = exact_cell_mean(values.imag.copy(), np.dtype(result.type(0).real.dtype))
        return result.type(complex(real, imag))
    if values.dtype.kind in "biu":
        total = sum(int(v) for v in values.tolist())  # Python ints: exact beyond 2^53
        return round_rational(total, values.size, result)
    num, exp = exact_sum(values)
    n = values.size
    return round_rational(num << exp, n, result) if exp >= 0 else round_rational(num, n << -exp, result)


def oracle(a: np.ndarray, axes: tuple, keepdims: bool, where, result: np.dtype, cell=None) -> np.ndarray:
    """The mean over `axes` of `a`, cell by cell, from the exact oracle (or `cell(values,
    result)` of each cell's values, where given)."""
    cell = cell or exact_cell_mean
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = np.moveaxis(a, kept + list(axes), range(a.ndim))
    mask = None if where is None else np.moveaxis(np.broadcast_to(where, a.shape), kept + list(axes), range(a.ndim))
    kept_shape = moved.shape[: len(kept)]
    out = np.empty(kept_shape, result)
    for index in np.ndindex(*kept_shape):
        values = moved[index].ravel()
        if mask is not None:
            values = values[mask[index].ravel()]
        out[index] = cell(values, result)
    if keepdims:
        out = out.reshape([1 if d in axes else n for d, n in enumerate(a.shape)])
    return out


def same_bits(got, want) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind == "c":
        return same_bits(got.real, want.real) and same_bits(got.imag, want.imag)
    both_nan = np.isnan(got) & np.isnan(want)
    return got.dtype == want.dtype and got.shape == want.shape and bool(
        np.all(both_nan | (got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}"))))


@st.composite
def values_of(draw, dtype, size):
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "b":
        return rng.random(size) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        style = draw(st.sampled_from(["full", "small", "extremes"]))
        if style == "full":
            return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)
        if style == "small":
            return rng.integers(max(info.min, -3), 4, size).astype(dtype)
        return rng.choice(np.array([info.min, info.max, 0, 1], dtype=dtype), size)
    real = np.dtype(dtype.type(0).real.dtype)
    finfo = np.finfo(real)

    def floats():
        style = draw(st.sampled_from(["uniform", "wide", "ties", "cancel", "huge"]))
        if style == "uniform":
            x = rng.random(size)
        elif style == "wide":
            x = rng.standard_normal(size) * 2.0 ** rng.integers(finfo.minexp, finfo.maxexp - 4, size)
        elif style == "ties":
            x = rng.integers(-3, 4, size) * float(finfo.eps) + 1.0  # means near midpoints
        elif style == "cancel":
            x = rng.choice([1.0, -1.0, float(finfo.eps), -float(finfo.eps) / 2], size)
        else:
            x = rng.choice([float(finfo.max), float(-finfo.max), float(finfo.tiny)], size)
        with np.errstate(over="ignore"):
            return x.astype(real)

    if dtype.kind == "c":
        return (floats() + 1j * floats()).astype(dtype)
    return floats()


@st.composite
def views(draw, dtypes=ALL, nans=False):
    """An array of a drawn dtype (maybe byte-swapped) as a view: sliced with random steps,
    negative ones included, transposed, or broadcast along an axis. With ``nans``, float and
    complex values are NaN at a drawn density (0, 1e-6, 0.5 or 1) at random positions."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if dtype.itemsize > 1 and draw(st.booleans()):
        dtype = dtype.newbyteorder()
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=4)))
    steps = [draw(st.sampled_from([1, 1, 2, -1, -2])) for _ in shape]
    base_shape = tuple(n * abs(s) for n, s in zip(shape, steps))
    size = int(np.prod(base_shape))
    base = draw(values_of(dtype.newbyteorder("="), size)).astype(dtype).reshape(base_shape)
    if nans and dtype.kind in "fc":
        density = draw(st.sampled_from([0.0, 1e-6, 0.5, 1.0]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        base[rng.random(base_shape) < density] = np.nan
    view = base[tuple(slice(None, None, s) for s in steps)]
    if view.ndim > 1 and draw(st.booleans()):
        view = view.transpose(draw(st.permutations(range(view.ndim))))
    if view.ndim and draw(st.booleans()):
        d = draw(st.integers(0, view.ndim - 1))
        if view.shape[d] == 1:
            view = np.broadcast_to(view, view.shape[:d] + (3,) + view.shape[d + 1:])
    return view


@st.composite
def reductions(draw):
    a = draw(views())
    axis = draw(st.one_of(st.none(), st.lists(st.integers(0, max(a.ndim - 1, 0)), unique=True).map(tuple)))
    if axis is not None and a.ndim == 0:
        axis = ()
    if axis is not None and len(axis) == 1 and draw(st.booleans()):
        axis = axis[0] - a.ndim if draw(st.booleans()) else axis[0]  # an int, maybe negative
    keepdims = draw(st.booleans())
    where = None
    if draw(st.integers(0, 3)) == 0:
        rng = np.random.default_rng(draw(st.integers(0, 1000)))
        where = rng.random(a.shape) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    return a, axis, keepdims, where


def normalized_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim if ndim else a for a in axes))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reductions())
def test_every_output_element_is_the_exact_mean_rounded_once(case):
    a, axis, keepdims, where = case
    before = a.copy()
    kwargs = {} if where is None else {"where": where}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_type = np.mean(a, axis=axis, keepdims=keepdims, **kwargs)
        got = npmean.mean(a, axis=axis, keepdims=keepdims, **kwargs)
    assert type(got) is type(want_type)
    assert np.shape(got) == np.shape(want_type)
    assert np.asarray(got).dtype == np.asarray(want_type).dtype
    want = oracle(a, normalized_axes(axis, a.ndim), keepdims, where, np.asarray(want_type).dtype)
    assert same_bits(got, want), (got, want)
    assert same_bits(a, before)  # the input is untouched


@pytest.mark.parametrize("dtype", ALL)
def test_outer_axis_means_are_exact_where_numpy_adds_rows_in_the_input_type(dtype):
    # numpy issue #22956: np.ones((2**25, 2), np.float32).mean(axis=0) is [0.5, 0.5].
    rows = 2**25 if dtype == np.float32 else 4096
    a = np.ones((rows, 2), dtype)
    got = npmean.mean(a, axis=0)
    assert got.dtype == np.mean(a[:1], axis=0).dtype
    assert np.all(got == 1)


def test_the_numpy_issue_case_itself():
    assert np.all(npmean.mean(np.ones((2**25, 2), np.float32), axis=0) == np.float32(1))


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_64_bit_integers_beyond_2_53_average_exactly(dtype):
    big = np.iinfo(dtype).max
    a = np.array([big, big - 1, big - 2], dtype)
    assert npmean.mean(a) == round_rational(3 * int(big) - 3, 3, np.float64)
    a2 = np.array([[2**53 + 1, 2**53 + 3], [1, 1]], dtype)
    assert npmean.mean(a2, axis=1)[0] == np.float64(2**53 + 2)  # numpy: 2**53 + 2 too, by luck
    assert npmean.mean(np.array([2**53 + 1, 2**53 + 2], dtype)) == round_rational(2**54 + 3, 2, np.float64)


def test_float16_results_are_rounded_once_not_through_float32():
    # Values whose float32 mean lands exactly on a float16 midpoint: rounding that float32 again
    # goes to even; the exact mean is just above the midpoint.
    a = np.array([1.0, 1.0 + 2**-10, 2**-24 * 3], np.float16)
    want = exact_cell_mean(a, np.dtype(np.float16))
    assert npmean.mean(a) == want


def test_special_values_per_cell_follow_ieee_rules():
    inf, nan = np.inf, np.nan
    a = np.array([[1.0, inf, 2.0], [inf, -inf, 0.0], [nan, 1.0, 1.0], [1e308, 1e308, 1e308]])
    got = npmean.mean(a, axis=1)
    assert got[0] == inf and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == 1e308
    got0 = npmean.mean(a.T.copy(), axis=0)
    assert got0[0] == inf and np.isnan(got0[1]) and np.isnan(got0[2]) and got0[3] == 1e308


def test_zero_means_are_positive_zero_as_numpy_gives():
    for dtype in (np.float16, np.float32, np.float64):
        for a in (np.array([-0.0], dtype), np.array([-0.0, -0.0], dtype), np.array([1.0, -1.0], dtype)):
            got = npmean.mean(a)
            assert got == 0 and not np.signbit(got), (dtype, a)
            assert np.signbit(got) == np.signbit(np.mean(a))
    tiny = np.finfo(np.float64).smallest_subnormal
    assert np.signbit(npmean.mean(np.array([-tiny, 0.0])))  # a negative mean that rounds to -0


@pytest.mark.parametrize("make", [
    lambda: np.ones(4 * 10**6, np.float32)[::2],
    lambda: np.ones(2 * 10**6, np.float32)[::-1],
    lambda: np.ones(2 * 10**6, ">f4"),
    lambda: np.ones(2 * 10**6, np.int8),
    lambda: np.ones(2 * 10**6, np.uint64),
    lambda: np.ones(2 * 10**6, np.float16),
    lambda: np.ones((2000, 1000), np.float64)[:, :500],
    lambda: np.ones(10**6, np.complex64),
])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_no_layout_or_dtype_is_copied(make, axis):
    a = make()
    npmean.mean(a[:10], axis=axis)  # load everything outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        npmean.mean(a, axis=axis)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    output = 0 if axis is None or a.ndim == 1 else np.mean(a[..., :1], axis=axis).itemsize * a.shape[1 - axis % 2]
    assert peak - base < 64 * 1024 + 2 * output, peak - base


def test_out_receives_the_result_rounded_to_its_dtype_and_is_returned():
    a = np.array([[1, 2, 2**24 + 2], [3, 4, 5]], np.float32)
    out = np.empty(2, np.float64)
    assert npmean.mean(a, axis=1, out=out) is out
    assert out[0] == round_rational(2**24 + 5, 3, np.float64)  # computed in out's dtype, as numpy
    out32 = np.empty(3, np.float32)
    npmean.mean(a, axis=0, out=out32)
    assert np.array_equal(out32, [2, 3, round_rational(2**24 + 7, 2, np.float32)])  # a tie, to even
    strided = np.zeros(6)[::2]
    npmean.mean(a, axis=0, out=strided)
    assert np.array_equal(strided, [2, 3, (2**24 + 7) / 2])
    swapped = np.zeros(3, ">f8")
    npmean.mean(a, axis=0, out=swapped)
    assert np.array_equal(swapped, [2, 3, (2**24 + 7) / 2])


def test_out_overlapping_the_input_gets_the_right_values():
    a = np.arange(12.0).reshape(3, 4)
    want = np.mean(a, axis=0)
    npmean.mean(a, axis=0, out=a[0])
    assert np.array_equal(a[0], want)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64, np.complex128])
def test_dtype_chooses_the_type_rounded_to(dtype):
    a = np.arange(7, dtype=np.int8).reshape(7, 1)
    got = npmean.mean(a, axis=0, dtype=dtype)
    assert got.dtype == np.dtype(dtype)
    assert got[0] == 3


def test_dtype_float32_on_float64_rounds_the_exact_mean_of_the_float64_values_once():
    a = np.array([1.0, 2.0**-30, 0.0])  # float32(2**-30)/3 would differ from the exact mean
    assert npmean.mean(a, dtype=np.float32) == round_rational(2**30 + 1, 3 * 2**30, np.float32)


def test_errors_like_numpy():
    a = np.arange(10.0)
    with pytest.raises(np.exceptions.AxisError):
        npmean.mean(a, axis=2)
    with pytest.raises(ValueError):
        npmean.mean(np.ones((2, 2)), axis=(0, 0))
    with pytest.raises(ValueError):
        npmean.mean(np.eye(3), axis=1, out=np.empty(2))
    with pytest.raises(TypeError):
        npmean.mean(np.eye(3), axis=1, out=[0, 0, 0])


def test_empty_slices_warn_and_give_nan_like_numpy():
    a = np.zeros((0, 3))
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        got = npmean.mean(a, axis=0)
    assert got.shape == (3,) and np.all(np.isnan(got))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert npmean.mean(a, axis=1).shape == (0,)  # no cell: no warning
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(npmean.mean(np.arange(4.0), where=False))


def test_masked_arrays_ignore_masked_elements():
    m = np.ma.array([1.0, 2.0, 1000.0], mask=[0, 0, 1])
    assert npmean.mean(m) == 1.5
    assert npmean.mean(np.ma.array([1.0], mask=[1])) is np.ma.masked
    m2 = np.ma.array([[1.0, 5.0], [3.0, 7.0]], mask=[[0, 1], [0, 1]])
    got = npmean.mean(m2, axis=0)
    assert isinstance(got, np.ma.MaskedArray)
    assert got[0] == 2.0 and got.mask.tolist() == [False, True]
    assert np.ma.allequal(got, m2.mean(axis=0))


def test_matrix_means_are_matrices_like_numpy():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    for axis in (None, 0, 1):
        got, want = npmean.mean(m, axis=axis), np.mean(m, axis=axis)
        assert type(got) is type(want)
        assert np.array_equal(got, want)


def zoo():
    """A bottleneck-style array zoo (bottleneck/tests/util.py's idea): every dtype, shapes from
    0-d to 3-d with empty axes, NaN and infinities, byte-swapped, sliced and transposed."""
    rng = np.random.default_rng(7)
    shapes = [(), (0,), (1,), (2,), (5,), (0, 3), (3, 0), (2, 3), (4, 1), (1, 2, 3), (2, 0, 2), (3, 4, 2)]
    for dtype in ALL:
        for shape in shapes:
            size = int(np.prod(shape))
            base = _zoo_values(rng, dtype, size)
            a = base.reshape(shape)
            yield a
            if a.ndim >= 2:
                yield a.T
                yield a[::-1]
            if np.dtype(dtype).itemsize > 1:
                yield a.astype(np.dtype(dtype).newbyteorder())
            if np.dtype(dtype).kind in "fc" and size:
                special = a.copy()
                special.flat[rng.integers(0, size)] = rng.choice([np.nan, np.inf, -np.inf])
                yield special


def _zoo_values(rng, dtype, size):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(size) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)
    values = rng.standard_normal(size) * 10.0 ** rng.integers(-3, 4, size)
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(size)
    return values.astype(dtype)


def test_the_zoo_behaves_like_numpy_and_is_exact():
    checked = 0
    for a in zoo():
        for axis in [None, *range(-a.ndim - 1, a.ndim + 1)]:
            with warnings.catch_warnings(record=True) as numpy_warnings:
                warnings.simplefilter("always")
                try:
                    want = np.mean(a, axis=axis)
                except Exception as error:  # both raise, or neither
                    with pytest.raises(type(error)):
                        npmean.mean(a, axis=axis)
                    continue
            with warnings.catch_warnings(record=True) as our_warnings:
                warnings.simplefilter("always")
                got = npmean.mean(a, axis=axis)
            assert type(got) is type(want), (a.dtype, a.shape, axis)
            assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
            empty = any("empty slice" in str(w.message) for w in numpy_warnings)
            assert empty == any("empty slice" in str(w.message) for w in our_warnings), (a.shape, axis)
            if np.all(np.isfinite(a)):
                axes = normalized_axes(axis, a.ndim)
                assert same_bits(got, oracle(a, axes, False, None, np.asarray(want).dtype))
            else:  # NaN and infinities: IEEE rules per cell and per component
                parts = [(np.real, a.real), (np.imag, a.imag)] if a.dtype.kind == "c" else [(np.real, a)]
                for part, values in parts:
                    # numpy divides a complex sum by a complex count, which makes an infinite
                    # component's partner NaN: each component's own mean is the reference.
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        reference = np.asarray(np.mean(values, axis=axis))
                    mine = np.asarray(part(got))
                    assert np.array_equal(np.isnan(mine), np.isnan(reference)), (a, axis)
                    assert np.array_equal(np.isinf(mine) & (mine > 0), np.isinf(reference) & (reference > 0))
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("width", [2, 3, 5, 8, 9, 17])
def test_tall_narrow_and_wide_outer_axis_means_against_the_oracle(dtype, width):
    # Row blocks of the narrow path (256 rows) and of the tiles' certificate (32 rows), with
    # blocks whose plain sums must round (a huge value among small ones) next to ones that do not.
    rng = np.random.default_rng(width)
    if dtype == np.int64:
        a = rng.integers(-(2**40), 2**40, (1000, width))
        a[rng.integers(0, 1000, 5), rng.integers(0, width, 5)] = 2**62
    else:
        a = rng.standard_normal((1000, width)) * 100
        a[rng.integers(0, 1000, 5), rng.integers(0, width, 5)] = 6e4 if dtype == np.float16 else 1e30
        a = a.astype(dtype)
    # (and the passes of 64 rows that contiguous float64 rows take as lanes, with leftovers)
    for view in (a, a[::-1], a[::3], a[:64], a[:127]):
        got = npmean.mean(view, axis=0)
        assert same_bits(got, oracle(view, (0,), False, None, got.dtype))


@pytest.mark.parametrize("dtype,result", [(np.float32, None), (np.float64, np.float32), (np.float64, None)])
def test_outer_axis_means_of_cancelling_columns_against_the_oracle(dtype, result):
    # A tile's means are rounded together where its lanes decide them: float32 ones only from
    # lanes holding exact sums. Columns where ±1e30 cancel leave the small values' sum in the
    # low part (the high part alone would give 0), next to columns whose plain sums are exact.
    rng = np.random.default_rng(7)
    a = rng.standard_normal((40, 300)).astype(dtype)
    cancelling = rng.integers(0, 300, 60)
    a[3, cancelling] = 1e30
    a[30, cancelling] = -1e30
    got = npmean.mean(a, axis=0, dtype=result)
    assert got.dtype == (result or dtype)
    assert same_bits(got, oracle(a, (0,), False, None, got.dtype))
    assert np.all(got[cancelling] != 0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, ">f4", ">f8"])
@pytest.mark.parametrize("width", [1, 2, 3, 5, 16, 17, 100])
def test_short_row_means_against_the_oracle(dtype, width):
    # Batches of short rows (256 rows of up to 16 values, 32 longer ones) under one certificate
    # or rounded together: float32 rows of 3 whose means are exact float32 midpoints (ties to
    # even), rows a hair off them, rows whose sums must round (a huge value among small ones),
    # and rows that cancel to zero, next to ordinary ones.
    rng = np.random.default_rng(width)
    a = rng.standard_normal((700, width)) * 100
    a[rng.integers(0, 700, 5), rng.integers(0, width, 5)] = 6e4 if dtype == np.float16 else 1e30
    a[10] = 0.0
    if width >= 2:
        a[11, :2] = [6e4, -6e4] if dtype == np.float16 else [1e20, -1e20]
    if width == 3 and np.dtype(dtype).itemsize >= 4:
        a[20:40] = [2.0**25, 2.0**24, 3.0]  # mean 2^24 + 1: a float32 midpoint
        a[40:60] = [2.0**25, 2.0**24, 5.0]  # mean 2^24 + 5/3
    a = a.astype(dtype)
    for view in (a, a[::-1], a[::2], a[:, ::-1]):
        got = npmean.mean(view, axis=1)
        assert same_bits(got, oracle(view, (1,), False, None, got.dtype))
        if np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize == 8:
            got = npmean.mean(view, axis=1, dtype=np.float32)
            assert same_bits(got, oracle(view, (1,), False, None, np.dtype(np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [2, 3, 4, 7, 16, 17, 32])
def test_tiny_rows_across_lanes_round_their_ties_like_the_oracle(dtype, width):
    # The tiny-rows kernels (a lane per row, blocks of 256 rows): full-precision values of
    # spread magnitudes, whose float64 means are often exact ties (one row in twenty of three
    # such values; the Rust tests count them), few-bit ones (float32 midpoints), rows at
    # regular strides of 2-d and 3-d arrays, every block boundary, a row that overflows the
    # sum's range and a zero row among them.
    rng = np.random.default_rng(100 + width)
    a = rng.standard_normal((3, 700, width)) * 2.0 ** rng.integers(-20, 20, (3, 700, width))
    a[2, 300:] = np.round(a[2, 300:] * 2.0**12) / 2.0**12
    a[1, 5, 0] = 1e300 if dtype == np.float64 else 1e38
    a[2, 6] = 0.0
    a = a.astype(dtype)
    for view in (a, a[:, ::2], a[1], a[:, 3:600:5]):
        got = npmean.mean(view, axis=-1)
        assert same_bits(got, oracle(view, (view.ndim - 1,), False, None, got.dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f4", ">f8", np.float16])
@pytest.mark.parametrize("n", [255, 256, 1023, 1024, 1025, 5000])
@pytest.mark.parametrize("step", [1, 2, 3, -2])
def test_long_strided_and_byte_swapped_runs_against_the_oracle(dtype, n, step):
    # Gathered a chunk at a time for the kernels: lengths around the threshold and the chunk,
    # with values whose plain sums must round (wide magnitudes) and ones that cancel.
    rng = np.random.default_rng(n + step)
    wide = np.dtype(dtype).itemsize > 2  # (float16's range is 2^-24 to 65504)
    spread = 40 if wide else 5
    base = rng.standard_normal(n * abs(step)) * 2.0 ** rng.integers(-spread, spread, n * abs(step))
    base[::7] *= -1e10 if wide else -1.0
    base = base.astype(dtype)
    view = base[::step]
    got = npmean.mean(view)
    assert same_bits(got, oracle(view, (0,), False, None, np.asarray(got).dtype))
    two_d = base[: (n * abs(step)) // 8 * 8].reshape(8, -1)[:, ::step]
    got = npmean.mean(two_d, axis=1)
    assert same_bits(got, oracle(two_d, (1,), False, None, got.dtype))


def test_a_thread_with_a_256_kib_stack_runs_every_traversal():
    # The engine's buffers live on the stack (up to ~160 KiB, README): a thread made with a
    # small stack must still run the vertical tiles (float and integer), the narrow path and
    # the horizontal buffer.
    import threading

    cases = [(np.ones((50, 5000), np.float32), 0), (np.ones((50, 5000)), 0), (np.ones((50, 5000), np.int64), 0),
             (np.ones((1000, 3)), 0), (np.ones((100, 1000), ">f8"), 1),
             (np.ones((1000, 3), np.float32), 1), (np.ones((1000, 3)), 1), (np.ones((1000, 100)), 1)]
    results = []
    previous = threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=lambda: results.extend(npmean.mean(a, axis=ax) for a, ax in cases))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    assert len(results) == len(cases) and all(np.all(r == 1) for r in results)


@pytest.mark.parametrize("func", [npmean.mean, npmean.nanmean, npmean.sum, npmean.nansum])
def test_repeated_calls_of_one_layout_read_each_array_not_the_first(func):
    # Plain calls keep their descriptors per (dtype, shape, strides, axes) and only the data
    # addresses change (`_reduce.reduce_cached`): arrays of one layout with other values, at
    # other addresses (negative strides too), must each give their own oracle's result.
    rng = np.random.default_rng(11)
    for _ in range(3):
        for dtype in (np.float32, np.float64, np.int16):
            base = (rng.standard_normal((6, 10)) * 100).astype(dtype)
            for view in (base, base[::-1, ::-2], base[1:, 3:]):
                for axis in (0, 1, None):
                    got = func(view, axis=axis)
                    axes = (0, 1) if axis is None else (axis,)
                    if func in (npmean.sum, npmean.nansum):
                        if view.dtype.kind == "f":  # the exact sum rounded once
                            want = oracle(view, axes, False, None, np.asarray(got).dtype, cell=exact_cell_sum)
                        else:  # Python ints: exact
                            want = np.asarray(np.sum(view.astype(object), axis=axis)).astype(np.asarray(got).dtype)
                    else:
                        want = oracle(view, axes, False, None, np.asarray(got).dtype)
                    assert same_bits(got, want), (dtype, view.strides, axis)


def exact_cell_sum(values: np.ndarray, result: np.dtype):
    num, exp = exact_sum(values)
    return round_rational(num << exp, 1, result) if exp >= 0 else round_rational(num, 1 << -exp, result)


def test_more_layouts_than_the_kept_descriptors_and_threads_at_once():
    # Beyond the descriptors kept per thread (they are then built again), and two threads
    # reducing arrays of one layout at the same time (each thread keeps its own).
    import threading

    from npmean import _reduce

    arrays = [np.full((2, k + 1), float(k)) for k in range(_reduce._PLANS_KEPT + 10)]
    assert all(np.all(npmean.mean(a, axis=0) == k) for k, a in enumerate(arrays))
    failures = []

    def worker(value):
        a = np.full((3, 7), value)
        for _ in range(2000):
            if not np.all(npmean.mean(a, axis=1) == value):
                failures.append(value)
                return

    threads = [threading.Thread(target=worker, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
