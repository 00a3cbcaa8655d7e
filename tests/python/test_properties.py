"""Property tests: for any finite array, npmean.mean is within 1 ulp of the exact mean."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npmean
from exact import exact_mean, ulps


def finite_arrays(dtype):
    return hnp.arrays(
        dtype=dtype,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8),
    )


@settings(max_examples=300, deadline=None)
@given(finite_arrays(np.float32))
def test_float32_within_one_ulp(x):
    got = npmean.mean(x)
    assert type(got) is np.float32
    assert ulps(got, exact_mean(x, np.float32)) <= 1


@settings(max_examples=300, deadline=None)
@given(finite_arrays(np.float64))
def test_float64_within_one_ulp(x):
    got = npmean.mean(x)
    assert type(got) is np.float64
    assert ulps(got, exact_mean(x, np.float64)) <= 1


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(dtype=hnp.integer_dtypes(endianness="=", sizes=(8, 16, 32)),
                  shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=50)))
def test_integers_exactly_representable_average_within_one_ulp(x):
    got = npmean.mean(x)
    assert type(got) is np.float64
    assert ulps(got, exact_mean(x.astype(np.float64), np.float64)) <= 1


@settings(max_examples=200, deadline=None)
@given(finite_arrays(np.float32), st.sampled_from(["T", "reversed", "strided", "big-endian"]))
def test_layout_does_not_change_the_answer_beyond_the_bound(x, layout):
    view = {"T": lambda a: a.T, "reversed": lambda a: a[::-1], "strided": lambda a: a[::2],
            "big-endian": lambda a: a.astype(a.dtype.newbyteorder(">"))}[layout](x)
    got = npmean.mean(view)
    assert ulps(got, exact_mean(np.ascontiguousarray(view).astype(np.float32), np.float32)) <= 1
