"""npmean.dask: bit-identical to npmean of the whole array in memory, for every chunking,
split_every and scheduler (threads, and a LocalCluster of processes), correctly rounded where
dask's own mean is not, and unchanged when a worker dies mid-computation."""

import os
import signal
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npmean

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import npmean.dask as nd  # noqa: E402

from exact import exact_mean  # noqa: E402

OPERATIONS = ("mean", "nanmean", "sum", "nansum")
DTYPES = ("float32", "float64", "float16", ">f8", "int8", "uint16", "int64", "bool", "complex64")


def same(result, expected) -> bool:
    """Same dtype, shape and bits (NaNs included)."""
    result, expected = np.asarray(result), np.asarray(expected)
    return result.dtype == expected.dtype and result.shape == expected.shape and result.tobytes() == expected.tobytes()


def values(rng, shape, dtype, nans: bool) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        if info is None:
            return rng.integers(0, 2, shape).astype(bool)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    # Magnitudes over many binades, so that float sums round and chunked float sums differ.
    a = rng.standard_normal(shape) * np.exp2(rng.integers(-30, 30, shape))
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    with np.errstate(over="ignore"):
        a = a.astype(dtype)  # (float16: the largest magnitudes become infinities)
    if nans and a.size:
        a.flat[rng.integers(0, a.size, max(1, a.size // 7))] = np.nan
    return a


@st.composite
def cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    axis = draw(st.one_of(st.none(), st.sets(st.integers(-ndim, ndim - 1), max_size=ndim).map(
        lambda s: tuple(sorted({a % ndim for a in s})) or None)))
    return {
        "shape": shape,
        "chunks": chunks,
        "axis": axis,
        "operation": draw(st.sampled_from(OPERATIONS)),
        "dtype": draw(st.sampled_from(DTYPES)),
        "keepdims": draw(st.booleans()),
        "split_every": draw(st.sampled_from([None, 2, 3, 8])),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "nans": draw(st.booleans()),
    }


def expected_and_dask(case):
    rng = np.random.default_rng(case["seed"])
    a = values(rng, case["shape"], case["dtype"], case["nans"])
    op = case["operation"]
    kwargs = {"axis": case["axis"], "keepdims": case["keepdims"]}
    with np.errstate(all="ignore"), _no_warning_check():
        try:
            expected = getattr(npmean, op)(a, **kwargs)
        except OverflowError:
            expected = OverflowError
        lazy = getattr(nd, op)(da.from_array(a, chunks=case["chunks"]), split_every=case["split_every"], **kwargs)
    return a, expected, lazy


class _no_warning_check:
    """Warnings ("Mean of empty slice") are not what these tests are about."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def check(case, compute):
    a, expected, lazy = expected_and_dask(case)
    with _no_warning_check():
        if expected is OverflowError:
            with pytest.raises(OverflowError):
                compute(lazy)
            return
        result = compute(lazy)
    assert same(result, expected), (case, result, expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_threaded_scheduler_matches_npmean_in_memory(case):
    check(case, lambda lazy: lazy.compute(scheduler="threads"))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_synchronous_scheduler_matches_npmean_in_memory(case):
    check(case, lambda lazy: lazy.compute(scheduler="synchronous"))


def test_result_is_a_dask_array_like_dask_mean():
    x = da.ones((10, 4), chunks=3, dtype=np.float32)
    for fn, theirs in ((nd.mean, da.mean), (nd.sum, da.sum), (nd.nanmean, da.nanmean), (nd.nansum, da.nansum)):
        ours = fn(x, axis=0)
        assert isinstance(ours, da.Array)
        assert ours.shape == theirs(x, axis=0).shape and ours.dtype == theirs(x, axis=0).dtype
        assert isinstance(fn(x).compute(), np.generic)  # a numpy scalar for a whole-array result


def test_chunking_independence_where_dask_depends_on_it():
    rng = np.random.default_rng(7)
    a = (rng.standard_normal(200_000) * 1e4 + 1e4).astype(np.float32)
    exact = exact_mean(a, np.float32)  # the integer oracle
    ours = {float(nd.mean(da.from_array(a, chunks=c)).compute()) for c in (1000, 4096, 33_333, 200_000)}
    theirs = {float(da.from_array(a, chunks=c).mean().compute()) for c in (1000, 4096, 33_333, 200_000)}
    assert ours == {float(exact)}
    # dask's own result is not one answer (float32 partial sums): the property is not trivial.
    assert len(theirs) > 1 or theirs != {float(exact)}


def test_outer_axis_of_float32_ones_is_one():
    # numpy issue #22956: float32 rows added in float32 stop growing at 2^24.
    x = da.ones((2**25, 2), dtype=np.float32, chunks=(2**23, 2))
    assert nd.mean(x, axis=0).compute().tolist() == [1.0, 1.0]


def test_numpy_input_is_reduced_in_memory():
    # xarray's DataArray.reduce passes numpy data for numpy-backed arrays.
    a = np.arange(12.0).reshape(3, 4)
    assert same(nd.mean(a, axis=1), npmean.mean(a, axis=1))
    assert same(nd.sum(a), npmean.sum(a))


def misaligned_copy(a: np.ndarray) -> np.ndarray:
    """``a``'s values (and layout) in memory one byte off alignment, as dask's workers often
    get chunks unpickled from network frames."""
    raw = np.empty(a.nbytes + 1, np.uint8)
    order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
    shifted = raw[1:].view(a.dtype).reshape(a.shape, order=order)
    shifted[...] = a
    return shifted


@pytest.mark.parametrize("dtype", ["float32", ">f8", "float16", "int16", "complex64", "bool"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("piece_bytes", [64, 1 << 20])
def test_misaligned_chunks_give_the_results_of_aligned_ones(monkeypatch, dtype, order, piece_bytes):
    from npmean import _states

    monkeypatch.setattr(_states, "_PIECE_BYTES", piece_bytes)  # 64: pieces of a row or two
    monkeypatch.setattr(_states._buffers, "piece", None, raising=False)
    rng = np.random.default_rng(9)
    a = np.asarray(values(rng, (19, 7, 3), dtype, nans=True), order=order)
    shifted = misaligned_copy(a)
    if np.dtype(dtype).itemsize > 1:
        assert not shifted.flags.aligned
    for axis in (None, 0, 1, 2, (0, 2), (1, 2)):
        for operation in OPERATIONS:
            result_dtype = _states.result_dtype(operation, a.dtype)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                got = _states.finish(_states.reduce_states(shifted, operation, axis), operation, result_dtype)
                expected = _states.finish(_states.reduce_states(a, operation, axis), operation, result_dtype)
            assert same(got, expected), (axis, operation)
    assert same(shifted, a)  # (read, not modified)


def test_unsupported_dtype_is_a_type_error():
    x = da.from_array(np.array(["a", "b"]), chunks=1)
    with pytest.raises(TypeError):
        nd.mean(x)


@pytest.fixture(scope="module")
def cluster():
    # Worker processes import this npmean (and find its library) as the tests do.
    package_parent = os.path.dirname(os.path.dirname(npmean.__file__))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = package_parent + (os.pathsep + old if old else "")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client, cluster
    client.close()
    cluster.close()
    if old is None:
        del os.environ["PYTHONPATH"]
    else:
        os.environ["PYTHONPATH"] = old


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_local_cluster_of_processes_matches_npmean_in_memory(cluster, case):
    client, _ = cluster
    check(case, lambda lazy: client.compute(lazy).result())


def test_a_worker_killed_mid_computation_changes_nothing(cluster):
    client, _ = cluster
    rng = np.random.default_rng(11)
    a = rng.standard_normal((64, 1000)).astype(np.float32) * 1e6

    def slowly(block):  # (a closure: pickled by value, nothing for the workers to import)
        time.sleep(0.15)
        return block

    x = da.from_array(a, chunks=(4, 1000)).map_blocks(slowly)
    expected = npmean.mean(a, axis=0)
    future = client.compute(nd.mean(x, axis=0))
    deadline = time.monotonic() + 10
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    victim = next(address for address, tasks in client.processing().items() if tasks)
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; dask reruns the lost tasks
    assert same(future.result(timeout=60), expected)
    assert victim not in client.scheduler_info()["workers"]  # it did die


def test_xarray_reduce_and_apply_ufunc_give_npmeans_result():
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(4)
    a = values(rng, (60, 5, 4), "float32", nans=False)
    field = xr.DataArray(da.from_array(a, chunks=(7, 2, 4)), dims=("time", "lat", "lon"))
    reduced = field.reduce(nd.mean, dim="time")
    assert isinstance(reduced.data, da.Array) and reduced.dims == ("lat", "lon")  # still lazy
    assert same(reduced.values, npmean.mean(a, axis=0))
    applied = xr.apply_ufunc(nd.mean, field, input_core_dims=[["time"]], kwargs={"axis": -1}, dask="allowed")
    assert same(applied.values, npmean.mean(a, axis=0))
    in_memory = xr.DataArray(a, dims=("time", "lat", "lon")).reduce(nd.nanmean, dim=("time", "lon"))
    assert same(in_memory.values, npmean.nanmean(a, axis=(0, 2)))
