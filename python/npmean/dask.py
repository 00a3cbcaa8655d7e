"""Exact means and sums of dask arrays: ``npmean.dask.mean``, ``nanmean``, ``sum``, ``nansum``.

Each chunk is reduced to the exact states of its output elements (``npmean._states``: a
structured ndarray, one fixed-size state per element); states are merged up dask's reduction
tree and rounded once at the end. The result is bit-identical to ``npmean.mean`` (...) of the
whole array in memory, for every chunking, ``split_every``, scheduler and number of workers:
exact sums do not depend on the order they are added in.

Needs the ``dask`` extra: ``pip install 'npmean[dask]'``. From xarray::

    data_array.reduce(npmean.dask.mean, dim="time")   # dask-backed DataArray, lazily
"""

from __future__ import annotations

import functools

import numpy as np

try:
    import dask.array as da
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError("npmean.dask needs dask: pip install 'npmean[dask]'") from error

from . import _states


def mean(a, axis=None, dtype=None, keepdims=False, split_every=None):
    """The exact mean of a dask array over ``axis``, each element rounded once (as
    :func:`npmean.mean`; ``dask.array.mean``'s signature without ``out``), as a dask array."""
    return _reduction(a, "mean", axis, dtype, keepdims, split_every)


def nanmean(a, axis=None, dtype=None, keepdims=False, split_every=None):
    """As :func:`mean`, leaving NaNs out (:func:`npmean.nanmean`)."""
    return _reduction(a, "nanmean", axis, dtype, keepdims, split_every)


def sum(a, axis=None, dtype=None, keepdims=False, split_every=None):  # noqa: A001 (numpy's name)
    """The exact sum, rounded once (integer sums exact, or OverflowError when computed)."""
    return _reduction(a, "sum", axis, dtype, keepdims, split_every)


def nansum(a, axis=None, dtype=None, keepdims=False, split_every=None):
    """As :func:`sum`, leaving NaNs out (:func:`npmean.nansum`)."""
    return _reduction(a, "nansum", axis, dtype, keepdims, split_every)


def _reduction(a, operation: str, axis, dtype, keepdims: bool, split_every):
    # xarray's DataArray.reduce passes numpy arrays for numpy-backed data: those are reduced
    # in memory, with the same result.
    if not isinstance(a, da.Array):
        a = np.asarray(a)
        result = _states.finish(_states.reduce_states(a, operation, axis), operation,
                                _states.result_dtype(operation, a.dtype, dtype))
        return result if keepdims else _squeeze(result, axis, a.ndim)
    result_dtype = _states.result_dtype(operation, a.dtype, dtype)
    out_ndim = a.ndim if keepdims else a.ndim - len(_states.normalized_axes(axis, a.ndim))
    return da.reduction(
        a,
        chunk=functools.partial(_chunk, operation=operation),
        combine=_combine,
        aggregate=functools.partial(_aggregate, operation=operation, result_dtype=result_dtype),
        axis=axis,
        keepdims=keepdims,
        # The intermediates' dtype (dask checks the chunks' against it); `meta` gives the result's.
        dtype=_states.state_dtype(a.dtype.kind == "c"),
        split_every=split_every or _split_every(a, axis),
        concatenate=True,
        meta=np.empty((0,) * out_ndim, result_dtype),
    )


# States (596 bytes per output element and chunk) merge fastest in few, wide steps while they
# are small: up to this many bytes of states go into one combine task (dask's default fan-in,
# 4, makes a task per 4 chunks, and each task costs the scheduler more than such a merge).
_COMBINE_BYTES = 4 << 20


def _split_every(a, axis):
    """The fan-in of the reduction tree: as many chunks' states as fit :data:`_COMBINE_BYTES`
    (at least dask's own 4, at most 64)."""
    axes = _states.normalized_axes(axis, a.ndim)
    # The largest chunk's output elements (kept axes' chunk sizes).
    cells = int(np.prod([max(c) if c else 0 for d, c in enumerate(a.chunks) if d not in axes], dtype=np.int64))
    fan_in = _COMBINE_BYTES // max(1, cells * _states.state_dtype(a.dtype.kind == "c").itemsize)
    return int(min(64, max(4, fan_in)))


def _squeeze(result: np.ndarray, axis, ndim: int):
    squeezed = result.squeeze(axis=_states.normalized_axes(axis, ndim))
    return squeezed[()] if squeezed.ndim == 0 else squeezed


def _chunk(x, axis, keepdims, operation, computing_meta=False):
    # (keepdims is always True here: dask keeps the reduced axes until the aggregate.)
    return _states.reduce_states(x, operation, axis)


def _combine(states, axis, keepdims, computing_meta=False):
    return _states.merge_states(states, axis)


def _aggregate(states, axis, keepdims, operation, result_dtype, computing_meta=False):
    if computing_meta:
        return np.empty((0,) * (states.ndim if keepdims else 0), result_dtype)
    result = _states.finish(_states.merge_states(states, axis), operation, result_dtype)
    if keepdims:
        return result
    result = result.squeeze(axis=axis)
    return result[()] if result.ndim == 0 else result  # a numpy scalar, as dask's own mean


__all__ = ["mean", "nanmean", "nansum", "sum"]
