"""numpy's own tests of ``mean``, ported to call ``npmean.mean``, assertions unchanged.

Sources (numpy 2.4): numpy/_core/tests/test_multiarray.py ``TestStats`` (the ``mean`` part;
var and std are not npmean's), numpy/_core/tests/test_numeric.py ``TestNonarrayArgs.test_mean``,
numpy/_core/tests/test_regression.py (subclass attributes through ``mean(1)``),
numpy/_core/tests/test_datetime.py ``test_timedelta_correct_mean``, and
numpy/ma/tests/test_core.py (``test_varmean_nomask``, ``test_mean_overflow``: the mean part).

Where numpy calls the method ``a.mean(...)``, the port calls ``npmean.mean(a, ...)``. No test
here depends on numpy's summation order: each compares with ``assert_almost_equal`` or with
values that are exact.
"""

import warnings
from decimal import Decimal

import numpy as np
import pytest
from numpy.testing import assert_, assert_allclose, assert_almost_equal, assert_array_equal, assert_equal, assert_raises

import npmean

_mean = npmean.mean


class TestStats:
    funcs = [_mean]

    def _create_data(self):
        rng = np.random.default_rng(range(3))
        rmat = rng.random((4, 5))
        cmat = rmat + 1j * rmat
        omat = np.array([Decimal(str(r)) for r in rmat.flat]).reshape(4, 5)
        return rmat, cmat, omat

    def test_python_type(self):
        for x in (np.float16(1.0), 1, 1.0, 1 + 0j):
            assert_equal(npmean.mean([x]), 1.0)

    def test_keepdims(self):
        mat = np.eye(3)
        for f in self.funcs:
            for axis in [0, 1]:
                res = f(mat, axis=axis, keepdims=True)
                assert_(res.ndim == mat.ndim)
                assert_(res.shape[axis] == 1)
            for axis in [None]:
                res = f(mat, axis=axis, keepdims=True)
                assert_(res.shape == (1, 1))

    def test_out(self):
        mat = np.eye(3)
        for f in self.funcs:
            out = np.zeros(3)
            tgt = f(mat, axis=1)
            res = f(mat, axis=1, out=out)
            assert_almost_equal(res, out)
            assert_almost_equal(res, tgt)
        out = np.empty(2)
        assert_raises(ValueError, f, mat, axis=1, out=out)
        out = np.empty((2, 2))
        assert_raises(ValueError, f, mat, axis=1, out=out)

    def test_dtype_from_input(self):
        icodes = np.typecodes["AllInteger"]
        fcodes = np.typecodes["AllFloat"]

        # object type
        for f in self.funcs:
            mat = np.array([[Decimal(1)] * 3] * 3)
            tgt = mat.dtype.type
            res = f(mat, axis=1).dtype.type
            assert_(res is tgt)
            # scalar case
            res = type(f(mat, axis=None))
            assert_(res is Decimal)

        # integer types
        for f in self.funcs:
            for c in icodes:
                mat = np.eye(3, dtype=c)
                tgt = np.float64
                res = f(mat, axis=1).dtype.type
                assert_(res is tgt)
                # scalar case
                res = f(mat, axis=None).dtype.type
                assert_(res is tgt)

        # mean for float types
        for f in [_mean]:
            for c in fcodes:
                mat = np.eye(3, dtype=c)
                tgt = mat.dtype.type
                res = f(mat, axis=1).dtype.type
                assert_(res is tgt)
                # scalar case
                res = f(mat, axis=None).dtype.type
                assert_(res is tgt)

    def test_dtype_from_dtype(self):
        mat = np.eye(3)
        for f in self.funcs:
            for c in np.typecodes["AllFloat"]:
                tgt = np.dtype(c).type
                res = f(mat, axis=1, dtype=c).dtype.type
                assert_(res is tgt)
                # scalar case
                res = f(mat, axis=None, dtype=c).dtype.type
                assert_(res is tgt)

    def test_empty(self):
        A = np.zeros((0, 3))
        for f in self.funcs:
            for axis in [0, None]:
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    assert_(np.isnan(f(A, axis=axis)).all())
                    assert_(len(w) > 0)
                    assert_(issubclass(w[0].category, RuntimeWarning))
            for axis in [1]:
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    assert_equal(f(A, axis=axis), np.zeros([]))

    def test_mean_values(self):
        rmat, cmat, omat = self._create_data()
        for mat in [rmat, cmat, omat]:
            for axis in [0, 1]:
                tgt = mat.sum(axis=axis)
                res = _mean(mat, axis=axis) * mat.shape[axis]
                assert_almost_equal(res, tgt)
            for axis in [None]:
                tgt = mat.sum(axis=axis)
                res = _mean(mat, axis=axis) * np.prod(mat.shape)
                assert_almost_equal(res, tgt)

    def test_mean_float16(self):
        # This fail if the sum inside mean is done in float16 instead
        # of float32.
        assert_(_mean(np.ones(100000, dtype="float16")) == 1)

    def test_mean_axis_error(self):
        # Ensure that AxisError is raised instead of IndexError when axis is
        # out of bounds, see gh-15817.
        with assert_raises(np.exceptions.AxisError):
            npmean.mean(np.arange(10), axis=2)

    def test_mean_where(self):
        a = np.arange(16).reshape((4, 4))
        wh_full = np.array(
            [[False, True, False, True], [True, False, True, False], [True, True, False, False], [False, False, True, True]]
        )
        wh_partial = np.array([[False], [True], [True], [False]])
        _cases = [
            (1, True, [1.5, 5.5, 9.5, 13.5]),
            (0, wh_full, [6.0, 5.0, 10.0, 9.0]),
            (1, wh_full, [2.0, 5.0, 8.5, 14.5]),
            (0, wh_partial, [6.0, 7.0, 8.0, 9.0]),
        ]
        for _ax, _wh, _res in _cases:
            assert_allclose(npmean.mean(a, axis=_ax, where=_wh), np.array(_res))
            assert_allclose(npmean.mean(a, axis=_ax, where=_wh), np.array(_res))

        a3d = np.arange(16).reshape((2, 2, 4))
        _wh_partial = np.array([False, True, True, False])
        _res = [[1.5, 5.5], [9.5, 13.5]]
        assert_allclose(npmean.mean(a3d, axis=2, where=_wh_partial), np.array(_res))
        assert_allclose(npmean.mean(a3d, axis=2, where=_wh_partial), np.array(_res))

        with pytest.warns(RuntimeWarning) as w:
            assert_allclose(npmean.mean(a, axis=1, where=wh_partial), np.array([np.nan, 5.5, 9.5, np.nan]))
        with pytest.warns(RuntimeWarning) as w:
            assert_equal(npmean.mean(a, where=False), np.nan)
        with pytest.warns(RuntimeWarning) as w:  # noqa: F841 (numpy's own)
            assert_equal(npmean.mean(a, where=False), np.nan)


class TestNonarrayArgs:
    def test_mean(self):
        A = [[1, 2, 3], [4, 5, 6]]
        assert_(npmean.mean(A) == 3.5)
        assert_(np.all(npmean.mean(A, 0) == np.array([2.5, 3.5, 4.5])))
        assert_(np.all(npmean.mean(A, 1) == np.array([2.0, 5.0])))

        with warnings.catch_warnings(record=True) as w:
            warnings.filterwarnings("always", "", RuntimeWarning)
            assert_(np.isnan(npmean.mean([])))
            assert_(w[0].category is RuntimeWarning)


def test_subclass_attributes_survive_mean_along_an_axis():
    # test_regression.py, test_method_args / gh: the "jubba" subclass.
    class TestArray(np.ndarray):
        def __new__(cls, data, info):
            result = np.array(data)
            result = result.view(cls)
            result.info = info
            return result

        def __array_finalize__(self, obj):
            self.info = getattr(obj, "info", "")

    dat = TestArray([[1, 2, 3, 4], [5, 6, 7, 8]], "jubba")
    assert_(npmean.mean(dat, 1).info == "jubba")


def test_timedelta_correct_mean():
    # test_datetime.py: numpy's own result (the engine does not read timedelta64).
    a = np.arange(1000, dtype="m8[s]")
    assert_array_equal(npmean.mean(a), a.sum() / len(a))


def test_varmean_nomask():
    # numpy/ma/tests/test_core.py, gh-5769 (the mean part).
    array, empty = np.ma.array, np.ma.empty
    foo = array([1, 2, 3, 4], dtype="f8")
    bar = array([1, 2, 3, 4], dtype="f8")
    assert_equal(type(npmean.mean(foo)), np.float64)
    assert (npmean.mean(foo) == npmean.mean(bar)) is np.bool(True)

    # check array type is preserved and out works
    foo = array(np.arange(16).reshape((4, 4)), dtype="f8")
    bar = empty(4, dtype="f4")
    assert_equal(type(npmean.mean(foo, axis=1)), np.ma.MaskedArray)
    assert_(npmean.mean(foo, axis=1, out=bar) is bar)


def test_mean_overflow():
    # numpy/ma/tests/test_core.py, gh-20272 (a tenth of numpy's size: the same overflow risk
    # for a float32 or uint16 accumulator, 10^7 values of 65535).
    a = np.ma.masked_array(np.full((1000, 10000), 65535, dtype=np.uint16), mask=np.zeros((1000, 10000)))
    assert_equal(npmean.mean(a), 65535.0)


# --- sum -------------------------------------------------------------------------------------
# numpy/_core/tests/test_ufunc.py ``TestUfunc``: test_sum_stability, test_sum, test_sum_complex,
# test_sum_initial, test_sum_where, with ``np.sum`` (and ``.sum()``) calling ``npmean.sum``; the
# lines that test numpy's in-place add (``d += d``) are numpy's, kept as they are. np.longdouble
# and np.clongdouble are summed by numpy itself (npmean hands them over). test_sum counts the
# overflow warnings of float16 sums beyond 65504: npmean signals the overflow of the exact sum
# as numpy signals its own (np.errstate(over=...)). From numpy/_core/tests/test_numeric.py
# ``TestNonarrayArgs.test_sum``.
_sum = npmean.sum


class TestSumFromTestUfunc:
    def test_sum_stability(self):
        a = np.ones(500, dtype=np.float32)
        assert_almost_equal(_sum(a / 10.) - a.size / 10., 0, 4)

        a = np.ones(500, dtype=np.float64)
        assert_almost_equal(_sum(a / 10.) - a.size / 10., 0, 13)

    def test_sum(self):
        for dt in (int, np.float16, np.float32, np.float64, np.longdouble):
            for v in (0, 1, 2, 7, 8, 9, 15, 16, 19, 127,
                      128, 1024, 1235):
                # warning if sum overflows, which it does in float16
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always", RuntimeWarning)

                    tgt = dt(v * (v + 1) / 2)
                    overflow = not np.isfinite(tgt)
                    assert_equal(len(w), 1 * overflow)

                    d = np.arange(1, v + 1, dtype=dt)

                    assert_almost_equal(_sum(d), tgt)
                    assert_equal(len(w), 2 * overflow)

                    assert_almost_equal(_sum(d[::-1]), tgt)
                    assert_equal(len(w), 3 * overflow)

            d = np.ones(500, dtype=dt)
            assert_almost_equal(_sum(d[::2]), 250.)
            assert_almost_equal(_sum(d[1::2]), 250.)
            assert_almost_equal(_sum(d[::3]), 167.)
            assert_almost_equal(_sum(d[1::3]), 167.)
            assert_almost_equal(_sum(d[::-2]), 250.)
            assert_almost_equal(_sum(d[-1::-2]), 250.)
            assert_almost_equal(_sum(d[::-3]), 167.)
            assert_almost_equal(_sum(d[-1::-3]), 167.)
            # sum with first reduction entry != 0
            d = np.ones((1,), dtype=dt)
            d += d
            assert_almost_equal(d, 2.)

    def test_sum_complex(self):
        for dt in (np.complex64, np.complex128, np.clongdouble):
            for v in (0, 1, 2, 7, 8, 9, 15, 16, 19, 127,
                      128, 1024, 1235):
                tgt = dt(v * (v + 1) / 2) - dt((v * (v + 1) / 2) * 1j)
                d = np.empty(v, dtype=dt)
                d.real = np.arange(1, v + 1)
                d.imag = -np.arange(1, v + 1)
                assert_almost_equal(_sum(d), tgt)
                assert_almost_equal(_sum(d[::-1]), tgt)

            d = np.ones(500, dtype=dt) + 1j
            assert_almost_equal(_sum(d[::2]), 250. + 250j)
            assert_almost_equal(_sum(d[1::2]), 250. + 250j)
            assert_almost_equal(_sum(d[::3]), 167. + 167j)
            assert_almost_equal(_sum(d[1::3]), 167. + 167j)
            assert_almost_equal(_sum(d[::-2]), 250. + 250j)
            assert_almost_equal(_sum(d[-1::-2]), 250. + 250j)
            assert_almost_equal(_sum(d[::-3]), 167. + 167j)
            assert_almost_equal(_sum(d[-1::-3]), 167. + 167j)
            # sum with first reduction entry != 0
            d = np.ones((1,), dtype=dt) + 1j
            d += d
            assert_almost_equal(d, 2. + 2j)

    def test_sum_initial(self):
        # Integer, single axis
        assert_equal(_sum([3], initial=2), 5)

        # Floating point
        assert_almost_equal(_sum([0.2], initial=0.1), 0.3)

        # Multiple non-adjacent axes
        assert_equal(_sum(np.ones((2, 3, 5), dtype=np.int64), axis=(0, 2), initial=2),
                     [12, 12, 12])

    def test_sum_where(self):
        # More extensive tests done in test_reduction_with_where.
        assert_equal(_sum([[1., 2.], [3., 4.]], where=[True, False]), 4.)
        assert_equal(_sum([[1., 2.], [3., 4.]], axis=0, initial=5.,
                          where=[True, False]), [9., 5.])


def test_sum_from_test_numeric():
    m = [[1, 2, 3],
         [4, 5, 6],
         [7, 8, 9]]
    tgt = [[6], [15], [24]]
    out = _sum(m, axis=1, keepdims=True)

    assert_equal(tgt, out)
