"""Property tests: float64 means are correctly rounded; float32 means within 1 ulp of the exact
mean on ordinary data."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npmean
from exact import exact_mean, ulps


def finite_arrays(dtype, max_magnitude=None):
    width = np.dtype(dtype).itemsize * 8
    if max_magnitude is None:
        elements = st.floats(allow_nan=False, allow_infinity=False, width=width)
    else:
        # Within [-max, max], and no nonzero value below 1/max in magnitude.
        elements = st.floats(-max_magnitude, max_magnitude, width=width).map(
            lambda v: 0.0 if abs(v) < 1 / max_magnitude else v
        )
    return hnp.arrays(
        dtype=dtype,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
        elements=elements,
    )


# The float32 kernels add in plain f64 lanes between double-double folds, so the 1-ulp bound
# holds when no lane loses a value to cancellation against one 2^29 times larger: "ordinary"
# data, here values within 2^-20 .. 2^20 (and zero). Values over the whole float32 range are
# summed without overflow and within the stated error bound, FOLD_EVERY * 2^-53 * sum(|x|).
ORDINARY_F32 = 2.0**20


@settings(max_examples=300, deadline=None)
@given(finite_arrays(np.float32, ORDINARY_F32))
def test_float32_within_one_ulp_on_ordinary_data(x):
    got = npmean.mean(x)
    assert type(got) is np.float32
    assert ulps(got, exact_mean(x, np.float32)) <= 1


@settings(max_examples=300, deadline=None)
@given(finite_arrays(np.float32))
def test_float32_within_the_error_bound_on_any_finite_data(x):
    got = npmean.mean(x)
    assert type(got) is np.float32 and np.isfinite(got)
    # |error| <= 256 * 2^-53 * mean(|x|) for the sum, plus the final rounding's half ulp, and
    # one more ulp for the conversion of the f64 mean to float32.
    bound = 256 * 2.0**-53 * np.mean(np.abs(x.astype(np.float64)))
    exact = exact_mean(x, np.float32)
    assert abs(float(got) - float(exact)) <= bound + 2 * float(np.spacing(np.abs(exact)))


@settings(max_examples=300, deadline=None)
@given(finite_arrays(np.float64))
def test_float64_is_correctly_rounded(x):
    got = npmean.mean(x)
    assert type(got) is np.float64
    assert got == exact_mean(x, np.float64)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(dtype=hnp.integer_dtypes(endianness="=", sizes=(8, 16, 32)),
                  shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=50)))
def test_integers_exactly_representable_are_correctly_rounded(x):
    got = npmean.mean(x)
    assert type(got) is np.float64
    assert got == exact_mean(x.astype(np.float64), np.float64)


@settings(max_examples=200, deadline=None)
@given(finite_arrays(np.float32, ORDINARY_F32), st.sampled_from(["T", "reversed", "strided", "big-endian"]))
def test_layout_does_not_change_the_answer_beyond_the_bound(x, layout):
    view = {"T": lambda a: a.T, "reversed": lambda a: a[::-1], "strided": lambda a: a[::2],
            "big-endian": lambda a: a.astype(a.dtype.newbyteorder(">"))}[layout](x)
    got = npmean.mean(view)
    assert ulps(got, exact_mean(np.ascontiguousarray(view).astype(np.float32), np.float32)) <= 1
