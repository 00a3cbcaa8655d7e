"""npmean.dask: a mean of a dask array that does not depend on how it is chunked, and its use
from xarray. Needs the dask extra (`pip install 'npmean[dask]'`); the xarray part runs if
xarray is installed.

    .venv/bin/python examples/dask_xarray.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import dask.array as da  # noqa: E402

import npmean  # noqa: E402
import npmean.dask as nd  # noqa: E402

values = (1 + np.random.default_rng(0).random(10**7, dtype=np.float32)).astype(np.float32)
exact = npmean.mean(values)  # the correctly rounded mean, of the array in memory
print(f"npmean.mean in memory:      {exact!r}")
for chunks in (10**5, 333_333, 10**6):
    x = da.from_array(values, chunks=chunks)
    dask_mean, our_mean = x.mean().compute(), nd.mean(x).compute()
    print(f"{values.size // chunks:>4} chunks: dask.array.mean {dask_mean!r:<12} npmean.dask.mean {our_mean!r}"
          f"{'' if our_mean == exact else '  (NOT the exact mean!)'}")

# numpy issue #22956 inside a chunk: float32 rows added in float32 along an outer axis.
ones = da.ones((2**25, 2), dtype=np.float32, chunks=-1)
print(f"ones (2**25, 2) float32 in one chunk, mean(axis=0): dask {ones.mean(axis=0).compute()}, "
      f"npmean.dask {nd.mean(ones, axis=0).compute()}")

try:
    import xarray as xr
except ImportError:
    print("(xarray is not installed: `data_array.reduce(npmean.dask.mean, dim=...)` is the call)")
else:
    field = xr.DataArray(da.from_array(values.reshape(1000, 100, 100), chunks=(100, 50, 100)),
                         dims=("time", "lat", "lon"))
    # DataArray.reduce passes axis= (dask-backed data stays lazy; numpy-backed data works too).
    climatology = field.reduce(nd.mean, dim="time")
    # Or apply_ufunc, with the core dimension moved last.
    same = xr.apply_ufunc(nd.mean, field, input_core_dims=[["time"]], kwargs={"axis": -1}, dask="allowed")
    print(f"xarray: {type(climatology.data).__name__} of dims {climatology.dims}; "
          f"reduce and apply_ufunc agree bit for bit: {bool((climatology == same).all())}; "
          f"equal to npmean.mean(axis=0) in memory: "
          f"{np.array_equal(climatology.values, npmean.mean(values.reshape(1000, 100, 100), axis=0))}")
