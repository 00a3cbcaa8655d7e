"""Property tests: every mean equals the exact mean rounded once (correct rounding)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npmean
from exact import exact_mean


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


# Values within 2^-20 .. 2^20 (and zero): typical data, for the layout test.
ORDINARY_F32 = 2.0**20


@settings(max_examples=500, deadline=None)
@given(finite_arrays(np.float32))
def test_float32_is_correctly_rounded(x):
    got = npmean.mean(x)
    assert type(got) is np.float32
    assert got == exact_mean(x, np.float32)


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
    assert got == exact_mean(np.ascontiguousarray(view).astype(np.float32), np.float32)
