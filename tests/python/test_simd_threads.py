"""SIMD levels, thread counts and memory: what the performance work must not change."""

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import npmean
from conftest import ROOT
from data import make
from exact import exact_mean

LEVELS = ("scalar", "sse2", "avx2", "avx512")


def test_available_levels_are_a_prefix_of_all_levels():
    available = npmean.available_simd_levels()
    assert available == list(LEVELS[: len(available)])
    assert npmean.simd_level() in available


def test_a_forced_level_is_in_effect():
    # `make test` runs this file once per level with NPMEAN_SIMD set.
    forced = os.environ.get("NPMEAN_SIMD")
    if forced:
        assert npmean.simd_level() == forced
    else:
        assert npmean.simd_level() == npmean.available_simd_levels()[-1]


def _level_in_subprocess(value):
    env = {k: v for k, v in os.environ.items() if k not in ("NPMEAN_SIMD", "NPMEAN_LIBRARY")}
    env["NPMEAN_SIMD"] = value
    env["PYTHONPATH"] = str(ROOT / "python")
    code = "import npmean; print(npmean.simd_level())"
    return subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("level", LEVELS)
def test_npmean_simd_selects_each_available_level(level):
    result = _level_in_subprocess(level)
    if level in npmean.available_simd_levels():
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == level
    else:
        # Documented fallback: the best level below it runs, and npmean says so.
        assert "not available on this CPU" in result.stderr


def test_an_unknown_level_name_is_a_clear_error():
    result = _level_in_subprocess("avx1024")
    assert result.returncode != 0
    assert "NPMEAN_SIMD" in result.stderr and "avx512" in result.stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_thread_count_gives_the_correctly_rounded_mean(dtype):
    per_thread = npmean.library().mean_min_bytes_per_thread()
    n = 4 * per_thread // np.dtype(dtype).itemsize + 12_345  # enough for four threads
    x = make("normal", n, dtype)
    exact = exact_mean(x, dtype)
    results = {threads: npmean.mean(x, threads=threads) for threads in (None, 1, 2, 3, 4)}
    for threads, got in results.items():
        assert got == exact, threads
        assert npmean.mean(x, threads=threads) == got  # repeatable for a given count


@pytest.mark.parametrize("threads, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_invalid_thread_counts(threads, error):
    with pytest.raises(error):
        npmean.mean(np.ones(10, np.float32), threads=threads)
    with pytest.raises(error):
        npmean.mean(np.ones(10**7, np.float32), threads=threads)


@pytest.mark.parametrize("make_array", [
    lambda: np.ones(10**7, np.float32),
    lambda: np.asfortranarray(np.ones((1000, 10_000), np.float64)),
    lambda: np.ones((5000, 2000), np.float32).T,
])
def test_contiguous_input_is_not_copied(make_array):
    a = make_array()
    a.flags.writeable = False
    npmean.mean(a)  # load the library outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        for threads in (None, 1, 2):
            npmean.mean(a, threads=threads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # numpy reports its data allocations to tracemalloc: a copy would add a.nbytes.
    assert peak - base < 64 * 1024, peak - base


def test_a_copy_would_be_seen_by_the_memory_check():
    # The check above can fail: a converted copy (what npmean once made of int8) is seen.
    a = np.ones(10**6, np.int8)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        np.mean(a.astype(np.float64))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base >= a.nbytes
