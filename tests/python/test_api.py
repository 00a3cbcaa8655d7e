"""What npmean.mean accepts and returns: dtypes, layouts, special values, errors, threads."""

import ctypes
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import npmean
from data import make
from exact import exact_mean, round_rational


def layouts(base: np.ndarray):
    """(name, array) pairs: the same data in every layout numpy can give it."""
    grid = base.reshape(10, -1)
    yield "contiguous", base
    yield "2-D", grid
    yield "fortran", np.asfortranarray(grid)
    yield "transpose", grid.T
    yield "row slice", grid[2:7]
    yield "column slice", grid[:, 1:-1]
    yield "step", base[::3]
    yield "negative stride", base[::-1]
    yield "negative 2-D", grid[::-2, ::-1]
    yield "0-d", base[5:6].reshape(())
    yield "read-only", _read_only(base)
    yield "big-endian", base.astype(base.dtype.newbyteorder(">"))
    yield "misaligned", _misaligned(base)
    yield "broadcast", np.broadcast_to(base[:7], (1000, 7))
    yield "list", base[:50].tolist()


def _read_only(a):
    b = a.copy()
    b.flags.writeable = False
    return b


def _misaligned(a):
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
    b = np.frombuffer(raw.data, dtype=a.dtype, count=a.size, offset=1)
    assert not b.flags.aligned
    b[...] = a  # frombuffer over a writable buffer stays writable
    return b


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_every_layout_gives_the_mean_of_its_elements(dtype):
    base = make("mixed_sign", 1000, np.float64).astype(dtype)
    for name, a in layouts(base):
        # A list holds Python numbers: numpy reads it back as float64 or int64.
        expected_type = np.float64 if isinstance(a, list) or dtype == np.int32 else dtype
        got = npmean.mean(a)
        assert type(got) is expected_type, name
        elements = np.asarray(a).ravel()
        exact = exact_mean(elements.astype(np.float64), expected_type) if expected_type is np.float64 \
            else exact_mean(elements, expected_type)
        assert got.tobytes() == np.asarray(exact).tobytes(), (name, got, exact)


def test_input_is_not_modified():
    for dtype in (np.float16, np.float32, np.float64, np.int64):
        for name, a in layouts(make("normal", 1000, np.float64).astype(dtype)):
            if isinstance(a, list):
                continue
            before = a.copy()
            npmean.mean(a)
            assert np.array_equal(a, before), name
            assert a.dtype == before.dtype


def test_memmap(tmp_path):
    path = tmp_path / "data.f32"
    x = make("uniform", 100_000, np.float32)
    x.tofile(path)
    m = np.memmap(path, dtype=np.float32, mode="r")
    assert npmean.mean(m) == exact_mean(x, np.float32)
    assert npmean.mean(m) == npmean.mean(x)


def test_scalars_and_lists_like_numpy():
    for value in (3, 2.5, True, np.float32(1.5), np.float16(2), [1, 2, 4], [[1.0], [2.0]], (1, 2)):
        got, want = npmean.mean(value), np.mean(value)
        assert type(got) is type(want), value
        assert got == want, value


def test_the_data_field_holds_the_data_pointer_of_every_array():
    # The one-thread fast path passes the address id(a) + offset for the library to read the data
    # pointer from: it must hold a.ctypes.data for views, slices and fresh arrays alike.
    offset = npmean._mean._DATA_OFFSET
    assert offset is not None, "CPython with numpy's public struct layout: the offset is found"
    base = np.arange(1000, dtype=np.float64)
    for a in (base, base[17:], base[::-1][::-1], base.reshape(10, 100)[3], base.astype(np.float32), np.ones(1)):
        assert ctypes.c_size_t.from_address(id(a) + offset).value == a.ctypes.data


def test_without_the_data_field_offset_the_general_path_gives_the_same_means(monkeypatch):
    arrays = [make(kind, n, dtype) for kind in ("normal", "mixed_sign") for n in (1, 2, 1000, 100_003)
              for dtype in (np.float32, np.float64)]
    fast = [npmean.mean(a) for a in arrays]
    monkeypatch.setattr(npmean._mean, "_DATA_OFFSET", None)  # another Python: a.ctypes.data
    for a, want in zip(arrays, fast):
        got = npmean.mean(a)
        assert type(got) is type(want) and got.tobytes() == want.tobytes()


def test_empty_arrays_warn_and_give_nan_like_numpy():
    for dtype, result_type in ((np.float32, np.float32), (np.float64, np.float64),
                               (np.float16, np.float16), (np.int8, np.float64)):
        for shape in ((0,), (3, 0)):
            with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
                got = npmean.mean(np.zeros(shape, dtype))
            assert type(got) is result_type and np.isnan(got)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(npmean.mean([]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    inf, nan = dtype(np.inf), dtype(np.nan)
    assert np.isnan(npmean.mean(np.array([1, nan, 2], dtype)))
    assert np.isnan(npmean.mean(np.array([inf, 1, -inf], dtype)))
    assert npmean.mean(np.array([inf, 1, 2], dtype)) == inf
    assert npmean.mean(np.array([-inf, 1, 2], dtype)) == -inf
    big = np.finfo(dtype).max
    assert npmean.mean(np.array([inf, -big, -big], dtype)) == inf
    assert npmean.mean(np.array([big, big], dtype)) == big


@pytest.mark.parametrize(
    "value",
    [
        np.array(["a", "b"]),
        np.array([b"a"]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),
        np.array([None, 1], dtype=object),
    ],
    ids=["str", "bytes", "datetime64", "structured", "object-with-None"],
)
def test_dtypes_numpy_cannot_average_raise_type_error_as_in_numpy(value):
    with pytest.raises(TypeError):
        np.mean(value)
    with pytest.raises(TypeError):
        npmean.mean(value)


@pytest.mark.parametrize(
    "value",
    [
        np.array([1, 2, 4], dtype=object),
        np.array([1, 2, 4], dtype="timedelta64[s]"),
        np.array([1, 2, 4], dtype=np.longdouble),
        np.array([1 + 2j], np.clongdouble),
    ],
    ids=["object", "timedelta64", "longdouble", "clongdouble"],
)
def test_dtypes_the_engine_does_not_read_get_numpys_own_mean(value):
    got, want = npmean.mean(value), np.mean(value)
    assert type(got) is type(want)
    assert got == want


def test_ragged_lists_raise_like_numpy():
    with pytest.raises(ValueError):
        np.mean([[1, 2], [3]])
    with pytest.raises(ValueError):
        npmean.mean([[1, 2], [3]])


def test_concurrent_calls_from_threads_agree():
    arrays = [make(kind, 200_000 + i, dtype, seed=i)
              for i, (kind, dtype) in enumerate([("normal", np.float32), ("wide", np.float64),
                                                 ("offset", np.float32), ("uniform", np.float64)] * 4)]
    expected = [npmean.mean(a) for a in arrays]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            got = list(pool.map(npmean.mean, arrays))
            assert [g.tobytes() for g in got] == [e.tobytes() for e in expected]


def test_more_than_2_pow_31_elements_are_all_counted():
    # np.zeros maps untouched pages lazily: 8.6 GB of address space, two pages of memory.
    n = 2**31 + 9
    x = np.zeros(n, dtype=np.float32)
    x[-1] = 3.0
    x[0] = 1.0
    # A length truncated to 32 bits (9 elements) would give 4/9; a skipped tail would give 1/n.
    assert npmean.mean(x) == round_rational(4, n, np.float32)
