"""Every mean (npmean.mean, MeanAccumulator) is correctly rounded: equal to the exact mean
rounded once, bit for bit, on hard cases and ordinary data alike."""

import pickle
import threading

import numpy as np
import pytest

import npmean
from data import KINDS, make
from exact import exact_mean, exact_sum, round_rational
from hard import hard_float32_cases, hard_float64_cases

HARD64 = hard_float64_cases()
HARD32 = hard_float32_cases()


def same(a, b) -> bool:
    """Bit-identical (so -0.0 != 0.0 and NaN == NaN)."""
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("name, x", HARD64, ids=[n for n, _ in HARD64])
def test_float64_hard_cases(name, x):
    with np.errstate(over="ignore"):
        assert same(npmean.mean(x), exact_mean(x, np.float64))


@pytest.mark.parametrize("name, x", HARD32, ids=[n for n, _ in HARD32])
def test_float32_hard_cases(name, x):
    assert same(npmean.mean(x), exact_mean(x, np.float32))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_float64_hard_cases_on_threads(threads):
    for name, x in HARD64:
        big = np.tile(x, max(1, 3_000_000 // x.size))  # large enough for threads to start
        assert same(npmean.mean(big, threads=threads), exact_mean(big, np.float64)), name


@pytest.mark.parametrize("name, x", HARD64 + [(n, x.astype(np.float64)) for n, x in HARD32],
                         ids=[n for n, _ in HARD64] + [f"f32 {n}" for n, _ in HARD32])
def test_accumulator_hard_cases_both_precisions(name, x):
    acc = npmean.MeanAccumulator().add(x)
    assert same(acc.mean(np.float64), exact_mean(x, np.float64))
    if np.all(np.abs(x) <= np.finfo(np.float32).max):
        assert same(acc.mean(np.float32), exact_mean(x, np.float32))


@pytest.mark.parametrize("name, x", HARD32, ids=[n for n, _ in HARD32])
def test_accumulator_float32_input(name, x):
    acc = npmean.MeanAccumulator().add(x)
    assert same(acc.mean(np.float32), exact_mean(x, np.float32))
    assert same(acc.mean(), exact_mean(x, np.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_chunks_merges_and_pickles_equal_the_whole(kind):
    x = make(kind, 100_003, np.float64, seed=3)
    whole = npmean.MeanAccumulator().add(x)
    parts = [npmean.MeanAccumulator().add(chunk) for chunk in np.array_split(x, 7)]
    merged = npmean.MeanAccumulator()
    for part in reversed(parts):  # any order
        merged.merge(pickle.loads(pickle.dumps(part)))
    restored = npmean.MeanAccumulator.from_bytes(merged.to_bytes())
    for acc in (whole, merged, restored):
        assert acc.count == x.size
        assert same(acc.mean(), exact_mean(x, np.float64))
        assert same(acc.mean(np.float32), exact_mean(x, np.float32))
    assert same(npmean.mean(x), whole.mean())


def test_mixed_dtypes_in_one_accumulator():
    parts = [np.arange(10, dtype=np.int32), np.linspace(0, 1, 7, dtype=np.float32),
             np.array([0.5, 1.5], np.float16), [1.25, 2.5]]
    acc = npmean.MeanAccumulator()
    for p in parts:
        acc.add(p)
    everything = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
    assert acc.count == everything.size
    assert same(acc.mean(), exact_mean(everything, np.float64))


def test_empty_accumulator_warns_like_numpy():
    acc = npmean.MeanAccumulator()
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(acc.mean())
    acc.add(np.array([], np.float32))
    assert acc.count == 0


def test_accumulator_rejects_what_it_cannot_hold():
    with pytest.raises(TypeError):
        npmean.MeanAccumulator().add(np.array([1j]))
    with pytest.raises(TypeError):
        npmean.MeanAccumulator().mean(np.float16)
    with pytest.raises(TypeError):
        npmean.MeanAccumulator().merge([1.0])
    with pytest.raises(ValueError):
        npmean.MeanAccumulator.from_bytes(b"not a state")
    good = npmean.MeanAccumulator().add([1.0]).to_bytes()
    with pytest.raises(ValueError):
        npmean.MeanAccumulator.from_bytes(good[:-1])


def test_merging_into_itself_doubles_the_count():
    acc = npmean.MeanAccumulator().add([1.0, 2.0, 4.0])
    acc.merge(acc)
    assert acc.count == 6 and acc.mean() == np.float64(7 / 3)


def test_one_accumulator_shared_by_threads():
    x = make("wide", 400_000, np.float64, seed=8)
    acc = npmean.MeanAccumulator()
    chunks = np.array_split(x, 16)
    threads = [threading.Thread(target=lambda c=c: acc.add(c)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert acc.count == x.size
    assert same(acc.mean(), exact_mean(x, np.float64))


def test_special_values_in_the_accumulator():
    acc = npmean.MeanAccumulator().add([1.0, np.inf])
    assert acc.mean() == np.inf
    acc.add([-np.inf])
    assert np.isnan(acc.mean())
    assert np.isnan(npmean.MeanAccumulator().add([np.nan, 1.0]).mean())


@pytest.mark.parametrize("kind", ["uniform", "cancel"])
def test_accumulator_sums_and_nan_skipping_chunks_equal_the_whole(kind):
    # sum(dtype): the exact sum rounded once; add(skipna=True): a chunked nanmean and nansum,
    # equal to npmean.nanmean / nansum of the whole array, bit for bit, whatever the chunks.
    rng = np.random.default_rng(8)
    x = rng.random(10_007) if kind == "uniform" else np.repeat([1e300, 1.0, -1e300, 2.0**-60], 2_500)
    x[rng.random(x.size) < 0.1] = np.nan
    acc = npmean.MeanAccumulator()
    for chunk in np.array_split(x, 13):
        acc.add(chunk, skipna=True)
    restored = pickle.loads(pickle.dumps(acc))
    kept = x[~np.isnan(x)]
    assert restored.count == kept.size
    for dtype in (np.float64, np.float32):
        assert restored.mean(dtype) == npmean.nanmean(x, dtype=dtype)
        assert restored.sum(dtype) == npmean.nansum(x, dtype=dtype)
        num, exp = exact_sum(kept)
        want = round_rational(num, 1 << -exp, dtype) if exp < 0 else round_rational(num << exp, 1, dtype)
        assert restored.sum(dtype) == want
    assert npmean.MeanAccumulator().sum() == 0.0
    assert np.isnan(npmean.MeanAccumulator().add([1.0, np.nan]).sum())  # NaNs count unless skipped
    assert npmean.MeanAccumulator().add(np.float32([3e38, 3e38])).sum(np.float32) == np.inf
    with pytest.raises(TypeError):
        npmean.MeanAccumulator().sum(np.int64)
