"""bottleneck's own tests of ``nanmean`` and ``nansum``, ported to call npmean, assertions
unchanged.

Sources (bottleneck 1.3): bottleneck/tests/reduce_test.py (``unit_maker``,
``unit_maker_argparse``, ``unit_maker_argparse_raises``) and its array generator,
bottleneck/tests/util.py (``array_generator``, ``array_iter``, ``array_order``). bottleneck
compares each of its functions with ``bn.slow``, which calls numpy's function of the same
name; here npmean is compared with numpy directly (``numpy.nanmean``, ``numpy.nansum``). The
nose-style generators (``yield unit_maker, func``) are pytest parametrizations, and nose's
``ok_(False, msg)`` is ``assert False, msg``. The generator's ``func_name`` branches for
functions other than these two are kept, as in the source.
"""

import traceback
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_almost_equal, assert_equal, assert_raises

import npmean

INT_DTYPES = [np.int64, np.int32]
FLOAT_DTYPES = [np.float64, np.float32]
DTYPES = tuple(FLOAT_DTYPES + INT_DTYPES)

FUNCTIONS = [npmean.nanmean, npmean.nansum]
SLOW = {"nanmean": np.nanmean, "nansum": np.nansum}


def arrays(func_name, dtypes=DTYPES):
    return array_iter(array_generator, func_name, dtypes)


def array_iter(arrays_func, *args):
    for a in arrays_func(*args):
        if a.ndim < 2:
            yield a
        else:
            yield a
            yield a.T


def array_generator(func_name, dtypes):
    """Iterator that yields arrays to use for unit testing."""

    f_dtypes = list(set(dtypes) & set(FLOAT_DTYPES))

    # define nan and inf
    if func_name in ("partition", "argpartition"):
        nan = 0
    else:
        nan = np.nan
    if func_name in ("move_sum", "move_mean", "move_std", "move_var"):
        # these functions can't handle inf
        inf = 8
    else:
        inf = np.inf

    # nan and inf
    for dtype in f_dtypes:
        yield np.array([inf, nan], dtype=dtype)
        yield np.array([inf, -inf], dtype=dtype)
        yield np.array([nan, 2, 3], dtype=dtype)
        yield np.array([-inf, 2, 3], dtype=dtype)
        if func_name != "nanargmin":
            yield np.array([nan, inf], dtype=dtype)

    # byte swapped
    yield np.array([1, 2, 3], dtype=">f4")
    yield np.array([1, 2, 3], dtype="<f4")

    # make sure slow is callable
    yield np.array([1, 2, 3], dtype=np.float16)

    # regression tests
    for dtype in dtypes:
        yield np.array([1, 2, 3], dtype=dtype) + 1e9  # check that move_std is robust
        yield np.array([0, 0, 0], dtype=dtype)  # nanargmax/nanargmin

    for dtype in f_dtypes:
        yield np.array([1, nan, nan, 2], dtype=dtype)  # nanmedian

    yield np.array([2 ** 31], dtype=np.int64)  # overflows on windows

    for dtype in dtypes:
        yield np.array([[1, 2], [3, 4]], dtype=dtype)[..., np.newaxis]  # issue #183

    # ties
    for dtype in dtypes:
        yield np.array([0, 0, 0], dtype=dtype)
        yield np.array([1, 1, 1], dtype=dtype)

    # 0d input
    if not func_name.startswith("move"):
        for dtype in dtypes:
            yield np.array(-9, dtype=dtype)
            yield np.array(0, dtype=dtype)
            yield np.array(9, dtype=dtype)
            if dtype in f_dtypes:
                yield np.array(-inf, dtype=dtype)
                yield np.array(inf, dtype=dtype)
                yield np.array(nan, dtype=dtype)

    # automate a bunch of arrays to test
    ss = {}
    ss[0] = {"size": 0, "shapes": [(0,), (0, 0), (2, 0), (2, 0, 1)]}
    ss[1] = {"size": 8, "shapes": [(8,)]}
    ss[2] = {"size": 12, "shapes": [(2, 6), (3, 4)]}
    ss[3] = {"size": 16, "shapes": [(2, 2, 4)]}
    ss[4] = {"size": 24, "shapes": [(1, 2, 3, 4)]}
    for seed in (1, 2):
        rs = np.random.RandomState(seed)
        for ndim in ss:
            size = ss[ndim]["size"]
            shapes = ss[ndim]["shapes"]
            for dtype in dtypes:
                a = np.arange(size, dtype=dtype)
                if issubclass(a.dtype.type, np.inexact):
                    if func_name not in ("nanargmin", "nanargmax"):
                        # numpy can't handle eg np.nanargmin([np.nan, np.inf])
                        idx = rs.rand(*a.shape) < 0.2
                        a[idx] = inf
                    idx = rs.rand(*a.shape) < 0.2
                    a[idx] = nan
                    idx = rs.rand(*a.shape) < 0.2
                    a[idx] *= -1
                rs.shuffle(a)
                for shape in shapes:
                    yield a.reshape(shape)

    # non-contiguous arrays
    for dtype in dtypes:
        yield np.array([[1, 2], [3, 4]], dtype=dtype)[:, [1]]  # gh 161

    for dtype in dtypes:
        # 1d
        a = np.arange(12).astype(dtype)
        for start in range(3):
            for step in range(1, 3):
                yield a[start::step]  # don't use astype here; copy created
    for dtype in dtypes:
        # 2d
        a = np.arange(12).reshape(4, 3).astype(dtype)
        yield a[::2]
        yield a[:, ::2]
        yield a[::2][:, ::2]
    for dtype in dtypes:
        # 3d
        a = np.arange(24).reshape(2, 3, 4).astype(dtype)
        for start in range(2):
            for step in range(1, 2):
                yield a[start::step]
                yield a[:, start::step]
                yield a[:, :, start::step]
                yield a[start::step][::2]
                yield a[start::step][::2][:, ::2]


def array_order(a):
    f = a.flags
    string = []
    if f.c_contiguous:
        string.append("C")
    if f.f_contiguous:
        string.append("F")
    if len(string) == 0:
        string.append("N")
    return ",".join(string)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_reduce(func, decimal=5):
    "Test that bn.xxx gives the same output as bn.slow.xxx."
    fmt = '\nfunc %s | input %s (%s) | shape %s | axis %s | order %s\n'
    fmt += '\nInput array:\n%s\n'
    name = func.__name__
    func0 = SLOW[name]
    for i, a in enumerate(arrays(name)):
        if a.ndim == 0:
            axes = [None]  # numpy can't handle e.g. np.nanmean(9, axis=-1)
        else:
            axes = list(range(-1, a.ndim)) + [None]
        for axis in axes:
            actual = 'Crashed'
            desired = 'Crashed'
            actualraised = False
            try:
                # do not use a.copy() here because it will C order the array
                actual = func(a, axis=axis)
            except Exception:
                actualraised = True
            desiredraised = False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    desired = func0(a, axis=axis)
            except Exception:
                desiredraised = True
            if actualraised and desiredraised:
                pass
            else:
                tup = (name, 'a'+str(i), str(a.dtype), str(a.shape),
                       str(axis), array_order(a), a)
                err_msg = fmt % tup
                if actualraised != desiredraised:
                    if actualraised:
                        fmt2 = '\nbn.%s raised\nbn.slow.%s ran\n\n%s'
                    else:
                        fmt2 = '\nbn.%s ran\nbn.slow.%s raised\n\n%s'
                    msg = fmt2 % (name, name, traceback.format_exc())
                    err_msg += msg
                    assert False, err_msg
                assert_array_almost_equal(actual, desired, decimal, err_msg)
                err_msg += '\n dtype mismatch %s %s'
                if hasattr(actual, 'dtype') and hasattr(desired, 'dtype'):
                    da = actual.dtype
                    dd = desired.dtype
                    assert_equal(da, dd, err_msg % (da, dd))


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_arg_parsing(func, decimal=5):
    "test argument parsing."

    name = func.__name__
    func0 = SLOW[name]

    a = np.array([1., 2, 3])

    fmt = '\n%s' % func
    fmt += '%s\n'
    fmt += '\nInput array:\n%s\n' % a

    actual = func(a)
    desired = func0(a)
    err_msg = fmt % "(a)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    actual = func(a, 0)
    desired = func0(a, 0)
    err_msg = fmt % "(a, 0)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    actual = func(a, None)
    desired = func0(a, None)
    err_msg = fmt % "(a, None)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    actual = func(a, axis=0)
    desired = func0(a, axis=0)
    err_msg = fmt % "(a, axis=0)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    actual = func(a, axis=None)
    desired = func0(a, axis=None)
    err_msg = fmt % "(a, axis=None)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    actual = func(a=a)
    desired = func0(a=a)
    err_msg = fmt % "(a)"
    assert_array_almost_equal(actual, desired, decimal, err_msg)

    # regression test: make sure len(kwargs) == 0 doesn't raise
    args = (a, 0)
    kwargs = {}
    func(*args, **kwargs)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_arg_parse_raises(func):
    "test argument parsing raises in reduce"
    a = np.array([1., 2, 3])
    assert_raises(TypeError, func)
    assert_raises(TypeError, func, axis=a)
    assert_raises(TypeError, func, a, axis=0, extra=0)
    assert_raises(TypeError, func, a, axis=0, a=a)
    assert_raises(TypeError, func, a, 0, 0, 0, 0, 0)
    assert_raises(TypeError, func, a, axis='0')
    if func.__name__ not in ('nanstd', 'nanvar'):
        assert_raises(TypeError, func, a, ddof=0)
    assert_raises(TypeError, func, a, a)
    # assert_raises(TypeError, func, None) results vary
