"""Benchmark: npmean.mean (one thread and all) against numpy.mean, the classic float loop, and
what the machine can read, side by side in one run.

    make bench                      # all sizes, writes bench-results/{results.md,gbps.png}
    NPMEAN_BENCH_SIZES=1,1000 make bench
    .venv/bin/python examples/bench.py --out DIR --rounds N

Contenders are interleaved (a shuffled order in every round) and each is timed over a batch of
calls long enough to measure; the table reports the median over rounds. Ratios are numpy.mean's
time over the contender's (higher is faster). Only same-run ratios mean anything: this machine's
memory bandwidth moves from run to run.
"""

from __future__ import annotations

import argparse
import math
import ctypes
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import npmean  # noqa: E402

DEFAULT_SIZES = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 50_000_000, 100_000_000]


def classic_library() -> ctypes.CDLL:
    """The tutorial's loop, compiled here with plain -O2."""
    out = ROOT / "build" / "libclassic.so"
    source = ROOT / "examples" / "classic_mean.c"
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        out.parent.mkdir(exist_ok=True)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    lib = ctypes.CDLL(str(out))
    for name, restype in (("classic_mean_f32", ctypes.c_float), ("classic_mean_f64", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, [ctypes.c_void_p, ctypes.c_long]
    return lib


def read_limit_library() -> ctypes.CDLL:
    """examples/read_limit.c: plain passes that only load, convert and add (no kernel code)."""
    out = ROOT / "build" / "libreadlimit.so"
    source = ROOT / "examples" / "read_limit.c"
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        out.parent.mkdir(exist_ok=True)
        subprocess.run(["cc", "-O3", "-shared", "-fPIC", "-pthread", "-o", str(out), str(source)], check=True)
    lib = ctypes.CDLL(str(out))
    lib.read_limit.restype = ctypes.c_double
    lib.read_limit.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
    lib.read_limit_passes.restype = ctypes.c_int
    lib.read_limit_name.restype = ctypes.c_char_p
    lib.read_limit_name.argtypes = [ctypes.c_int]
    return lib


# Contender names of the plain passes: "limit <threads> <pass>"; collapsed after measuring into
# "read limit (1 thread)" and "read limit (N threads)", the fastest pass of each (the N-thread
# limit is the fastest with up to N threads: one thread wins on small arrays).
LIMIT_PREFIX = "limit "


def mean_one_thread(a):
    """npmean.mean(a, threads=1). A function, not functools.partial: partial's keyword handling
    costs ~110 ns more per call (measured), which a caller writing mean(a, threads=1) does not pay."""
    return npmean.mean(a, threads=1)


def contenders(dtype, classic, limits):
    """name -> function of the array, for one dtype. The native baselines get the data pointer
    the way npmean does, so that every contender pays the same small-array overhead."""
    all_threads = os.cpu_count() or 1
    pointer = npmean._mean._data_pointer
    found = {
        "numpy.mean": np.mean,
        "npmean.mean (1 thread)": mean_one_thread,
        f"npmean.mean (default: {all_threads} threads)": npmean.mean,
    }
    if dtype == np.float32:
        found["classic float loop"] = lambda a: classic.classic_mean_f32(pointer(a), a.size)
    else:
        found["classic double loop"] = lambda a: classic.classic_mean_f64(pointer(a), a.size)
    size = np.dtype(dtype).itemsize
    for threads in sorted({1, all_threads}):
        for k in range(limits.read_limit_passes()):
            found[f"{LIMIT_PREFIX}{threads} {k}"] = (
                lambda a, k=k, t=threads: limits.read_limit(k, size, pointer(a), a.size, t))
    return found


def collapse_limits(medians: dict, limits, all_threads: int) -> tuple[dict, dict]:
    """The plain passes' medians replaced by the two read limits; also which pass won each."""
    out = {k: v for k, v in medians.items() if not k.startswith(LIMIT_PREFIX)}
    winners = {}
    passes = {k[len(LIMIT_PREFIX):]: v for k, v in medians.items() if k.startswith(LIMIT_PREFIX)}
    groups = {"read limit (1 thread)": ["1"], f"read limit ({all_threads} threads)": ["1", str(all_threads)]}
    for label, thread_counts in groups.items():
        best = min((v, key) for key, v in passes.items() if key.split()[0] in thread_counts)
        out[label] = best[0]
        threads, k = best[1].split()
        winners[label] = f"{limits.read_limit_name(int(k)).decode()}, {threads} thread{'s' * (threads != '1')}"
    return out, winners


def time_batch(fn, a, number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn(a)
    return (time.perf_counter_ns() - start) / number / 1e9


def measure(fns: dict, a: np.ndarray, rounds: int) -> dict[str, float]:
    """Median seconds per call of each function, interleaved in shuffled order every round."""
    # Calls per batch: enough for ~2 ms, judged from the slowest contender's first call.
    probe = max(time_batch(fn, a, 1) for fn in fns.values())
    number = max(1, min(100_000, int(2e-3 / max(probe, 1e-9))))
    samples = {name: [] for name in fns}
    names = list(fns)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            samples[name].append(time_batch(fns[name], a, number))
    return {name: statistics.median(times) for name, times in samples.items()}


# The sections after the speed table (always run: the floors need it).
SECTIONS = ("breadth", "exact", "peers", "nan", "dask", "cli")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("NPMEAN_BENCH_ROUNDS", 11)))
    parser.add_argument("--sections", default=os.environ.get("NPMEAN_BENCH_SECTIONS", ",".join(SECTIONS)),
                        help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args()
    sections = set(filter(None, args.sections.split(",")))
    if not sections <= set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(sections - set(SECTIONS)))}")
    env_sizes = os.environ.get("NPMEAN_BENCH_SIZES")
    sizes = [int(float(s)) for s in env_sizes.split(",")] if env_sizes else DEFAULT_SIZES
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    classic, limits = classic_library(), read_limit_library()
    rng = np.random.default_rng(0)
    # The first long input measures the host's prefetch choice (src/kernels/host.rs): made here,
    # so that the header reports the choice the whole run uses.
    npmean.mean(rng.standard_normal(1 << 24).astype(np.float32))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {cpu_name()}; numpy {np.__version__}; "
        f"npmean SIMD level {npmean.simd_level()}, software prefetch {prefetch_state()}; "
        f"median of {args.rounds} interleaved rounds.",
        "",
        "Read limit: the fastest of plain passes that only load, convert (float32) and add —"
        " 128-, 256- and 512-bit loads, each with and without software prefetch"
        " (examples/read_limit.c) — on one thread, and on up to all threads.",
        "",
    ]
    curves, table = {}, {}
    all_threads = os.cpu_count() or 1
    winners_by_row = {}
    for dtype in (np.float32, np.float64):
        fns = contenders(dtype, classic, limits)
        shown = [k for k in fns if not k.startswith(LIMIT_PREFIX)]
        shown += ["read limit (1 thread)", f"read limit ({all_threads} threads)"]
        lines += [f"### {np.dtype(dtype).name}", "",
                  "| n | " + " | ".join(shown) + " |", "|---:|" + "---:|" * len(shown)]
        for n in sizes:
            a = rng.standard_normal(n).astype(dtype)
            medians, winners = collapse_limits(measure(fns, a, args.rounds), limits, all_threads)
            winners_by_row[(np.dtype(dtype).name, n)] = winners
            table[(np.dtype(dtype).name, n)] = medians
            base = medians["numpy.mean"]
            cells = []
            for name, seconds in medians.items():
                gbps = a.nbytes / seconds / 1e9
                curves.setdefault((np.dtype(dtype).name, name), []).append((n, gbps))
                ratio = "" if name == "numpy.mean" else f", {base / seconds:.2f}×"
                cells.append(f"{format_time(seconds)}, {gbps:.1f} GB/s{ratio}")
            lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
            del a
        lines.append("")
    lines.append("Each cell: median time per call, throughput, and numpy.mean's time / this time.")
    lines += ["", "Fastest plain pass per row (the read limit): " + "; ".join(
        f"{d} {n:,}: {' / '.join(w.values())}" for (d, n), w in winners_by_row.items() if n >= 100_000)]
    lines += ["", *floors(table, os.cpu_count() or 1)]
    from bench_beyond_ram import cli_rows, dask_rows  # (examples/, beside this file)

    for name, section in (("breadth", breadth), ("exact", exact_path), ("peers", exact_peers), ("nan", nan_and_sums),
                          ("dask", dask_rows), ("cli", cli_rows)):
        if name in sections:
            lines += ["", *section(args.rounds)]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    plot(curves, out / "gbps.png")
    print(f"\nwrote {out / 'results.md'} and {out / 'gbps.png'}")


def floors(table, all_threads: int) -> list[str]:
    """The performance issues' floors, read off this run's medians (sizes not run are skipped)."""
    one, every = "npmean.mean (1 thread)", f"npmean.mean (default: {all_threads} threads)"
    read_one, read_all = "read limit (1 thread)", f"read limit ({all_threads} threads)"

    def speedup(dtype, n, name):
        row = table[(dtype, n)]
        return row["numpy.mean"] / row[name]

    def of_limit(dtype, n, name, limit):
        row = table[(dtype, n)]
        return row[limit] / row[name]

    checks = [
        ("float32, n = 1: npmean.mean time / numpy.mean time", ("float32", 1),
         lambda: 1 / speedup("float32", 1, every), "<= 0.35"),
        ("float32, n = 10^5, one thread: speed-up", ("float32", 100_000),
         lambda: speedup("float32", 100_000, one), ">= 4.0"),
        ("float64, n = 10^5, one thread: speed-up", ("float64", 100_000),
         lambda: speedup("float64", 100_000, one), ">= 2.5"),
    ]
    for dtype in ("float32", "float64"):
        checks.append((f"{dtype}, n = 10^5, one thread: fraction of the in-cache read limit", (dtype, 100_000),
                       lambda d=dtype: of_limit(d, 100_000, one, read_one), ">= 0.85"))
    for dtype in ("float32", "float64"):
        for n, label in ((50_000_000, "5*10^7"), (100_000_000, "10^8")):
            checks += [
                (f"{dtype}, n = {label}, one thread: speed-up", (dtype, n),
                 lambda d=dtype, n=n: speedup(d, n, one), ">= 1.0"),
                (f"{dtype}, n = {label}, one thread: fraction of the read limit", (dtype, n),
                 lambda d=dtype, n=n: of_limit(d, n, one, read_one), ">= 0.9"),
                (f"{dtype}, n = {label}, all threads: fraction of the all-thread read limit", (dtype, n),
                 lambda d=dtype, n=n: of_limit(d, n, every, read_all), ">= 0.9"),
            ]
    out = ["### Floors (this run)", "", "| case | measured | floor | met |", "|---|---:|---:|---|"]
    for label, key, value, floor in checks:
        if key not in table:
            continue
        v = value()
        op, target = floor.split()
        met = v <= float(target) if op == "<=" else v >= float(target)
        out.append(f"| {label} | {v:.2f} | {floor} | {'yes' if met else 'no'} |")
    return out


def peak_extra_memory(fn, a) -> int:
    """Bytes numpy (and Python) allocated beyond the result during one call (tracemalloc)."""
    import tracemalloc

    fn(a)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(0, peak - base - np.asarray(result).nbytes)


def breadth(rounds: int) -> list[str]:
    """The reduction engine's cases (the N-d engine issue's table and floors): layouts, dtypes
    and axes numpy users reach for, npmean.mean against numpy.mean on the same arrays, one
    thread, with GB/s of the input and the extra memory each allocates beyond the result."""
    n = int(os.environ.get("NPMEAN_BENCH_BREADTH_N", 10**7))
    rng = np.random.default_rng(5)
    x32 = rng.standard_normal(2 * n).astype(np.float32)
    m32 = rng.standard_normal((4000, n // 2000)).astype(np.float32)
    cases = [
        ("float32 contiguous", x32[:n], None, None),
        ("float32 a[::2]", x32[::2], None, 1.5),
        ("float32 m[:, :half] of (4000, n/2000)", m32[:, : m32.shape[1] // 2], None, 1.5),
        ("float32 a[::-1] (2n)", x32[::-1], None, 1.5),
        ("float32 byte-swapped >f4", x32[:n].astype(">f4"), None, 1.5),
        ("float16", x32[:n].astype(np.float16), None, 1.5),
        ("float64 a[::3]", rng.standard_normal(3 * n)[::3], None, 1.5),
    ]
    for dtype in (np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64, np.bool_):
        if dtype is np.bool_:
            a = x32[:n] > 0
        else:
            info = np.iinfo(dtype)
            a = rng.integers(max(info.min, -1000), min(info.max, 1000), n).astype(dtype)
        cases.append((np.dtype(dtype).name, a, None, 3.0))
    for shape in [(10**5, 100), (100, 10**5), (1000, 1000), (3333333, 3)]:
        for dtype in (np.float32, np.float64):
            a = rng.standard_normal(shape).astype(dtype)
            floor = 5.0 if shape[1] == 3 else 1.5
            for axis in (0, 1):
                cases.append((f"{np.dtype(dtype).name} {shape} axis={axis}", a, axis, floor))
    cube = rng.standard_normal((100, 1000, 100)).astype(np.float32)
    cases.append(("float32 (100, 1000, 100) axis=(0, 2)", cube, (0, 2), None))
    small = np.ones((3, 4))
    out = [f"### Breadth: the reduction engine (one thread; n = {n:,} unless the shape says)", "",
           "| case | numpy.mean | npmean.mean | ratio | npmean GB/s | extra memory numpy / npmean | floor | met |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for label, a, axis, floor in cases:
        fns = {"numpy.mean": lambda v, axis=axis: np.mean(v, axis=axis),
               "npmean": lambda v, axis=axis: npmean.mean(v, axis=axis, threads=1)}
        medians = measure(fns, a, max(3, rounds // 2))
        ratio = medians["numpy.mean"] / medians["npmean"]
        memory = f"{peak_extra_memory(fns['numpy.mean'], a) / 2**20:.1f} / {peak_extra_memory(fns['npmean'], a) / 2**20:.2f} MiB"
        met = "" if floor is None else ("yes" if ratio >= floor else "no")
        out.append(f"| {label} | {format_time(medians['numpy.mean'])} | {format_time(medians['npmean'])} | "
                   f"{ratio:.2f}× | {a.nbytes / medians['npmean'] / 1e9:.1f} | {memory} | "
                   f"{'' if floor is None else f'>= {floor}'} | {met} |")
        print(out[-1], flush=True)
    fns = {"numpy.mean": lambda v: np.mean(v, axis=0), "npmean": lambda v: npmean.mean(v, axis=0)}
    medians = measure(fns, small, rounds)
    share = medians["npmean"] / medians["numpy.mean"]
    out.append(f"| mean(a, axis=0) of a (3, 4) float64 (call overhead) | {format_time(medians['numpy.mean'])} | "
               f"{format_time(medians['npmean'])} | time {share:.2f}× numpy's | | | <= 0.5× | {'yes' if share <= 0.5 else 'no'} |")
    return out


def exact_path(rounds: int) -> list[str]:
    """Inputs that force the exact path, n = 10^7, one thread, against numpy.mean on the same
    arrays: the correctness issue's floors.

    An exact tie alone no longer does: the kernels certify the sums of such data exact and round
    them without a second pass. What forces the exact path is a tie (or a near-tie) together
    with a sum the kernels cannot certify: values 2^100 (float32) or 2^1200 (float64) apart in
    one lane make error terms round. The pattern's length, 7, is odd, so that every lane of every
    SIMD layout meets all of its values (tests/accuracy.rs checks that these inputs take the
    exact path)."""
    n = int(os.environ.get("NPMEAN_BENCH_EXACT_N", 10**7)) // 7 * 7
    cases = [
        # (4 + 2.5 + (0.5 + 7 ulp)) / 7 = 1 + ulp/2, with +-2^40 and +-2^-60 that cancel.
        ("float32, tie among wide magnitudes", np.resize(np.array(
            [2.0**40, -(2.0**40), 2.0**-60, -(2.0**-60), 4, 2.5, 0.5 + 7 * 2.0**-24], np.float32), n), 1.0),
        ("float64, tie among wide magnitudes", np.resize(np.array(
            [2.0**600, -(2.0**600), 2.0**-600, -(2.0**-600), 4, 2.5, 0.5 + 7 * 2.0**-53]), n), 0.5),
        # Values near the largest double: the float sum overflows, the exact one does not.
        ("float64, overflowing sum", np.resize(np.array([1.7e308, -1.6e308, 1.5e308]), n), 0.5),
    ]
    out = ["### Exact path (one thread, n = %s)" % f"{n:,}", "",
           "| input | numpy.mean | npmean.mean | ratio | floor | met |", "|---|---:|---:|---:|---:|---|"]
    with np.errstate(over="ignore", invalid="ignore"):
        for label, a, floor in cases:
            medians = measure({"numpy.mean": np.mean, "npmean": mean_one_thread}, a, rounds)
            ratio = medians["numpy.mean"] / medians["npmean"]
            out.append(f"| {label} | {format_time(medians['numpy.mean'])} | {format_time(medians['npmean'])} "
                       f"| {ratio:.2f}× | >= {floor} | {'yes' if ratio >= floor else 'no'} |")
            print(out[-1], flush=True)
    return out


def exact_peers(rounds: int) -> list[str]:
    """The exact path against exact-sum packages, ns per value, one thread: the `xsum` package
    (Neal's large superaccumulator, then its exact division by n) and `uniaccurate.exact_sum / n`
    (a sum rounded once, then a division: not a correctly rounded mean, shown for speed). Data
    sets of the exact-path issue; "same bits" compares npmean.mean with xsum's mean."""
    try:
        import uniaccurate
        import xsum
    except ImportError:
        return ["(xsum / uniaccurate not installed: pip install -r requirements-bench.txt)"]
    n = int(os.environ.get("NPMEAN_BENCH_EXACT_N", 10**7))
    rng = np.random.default_rng(11)

    def cancelling(lo, hi, dtype=np.float64):
        big = 10.0 ** rng.uniform(lo, hi, n // 4) * rng.choice([-1.0, 1.0], n // 4)
        values = np.concatenate([big, -big, rng.standard_normal(n - 2 * (n // 4))])
        rng.shuffle(values)
        return values.astype(dtype)

    def xsum_mean(a):
        acc = xsum.xsum_large_accumulator()
        xsum.xsum_add(acc, a)
        return xsum.xsum_large_div_int(acc, a.size)

    cases = [
        ("float64 uniform [0, 1)", rng.random(n)),
        ("float64 ±10^150…10^300 cancelling, plus normal", cancelling(150, 300)),
        ("float64 ±10^8…10^16 cancelling, plus normal", cancelling(8, 16)),
        ("float64 normal × 10^(−300…300)", rng.standard_normal(n) * 10.0 ** rng.uniform(-300, 300, n)),
        ("float64 normal × 2^k, k over the whole range", rng.standard_normal(n) * np.exp2(rng.integers(-1070, 1020, n).astype(float))),
        ("float32 ±10^15…10^30 cancelling, plus normal", cancelling(15, 30, np.float32)),
    ]
    out = [f"### Exact path against exact sums (one thread, n = {n:,}, ns per value)", "",
           "| data | numpy.mean | npmean.mean | xsum large + division | uniaccurate.exact_sum / n |"
           " npmean vs numpy.mean | npmean vs xsum | same bits as xsum |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    with np.errstate(over="ignore", invalid="ignore"):
        for label, a in cases:
            fns = {"numpy": np.mean, "npmean": mean_one_thread}
            if a.dtype == np.float64:
                fns["xsum"] = xsum_mean
                fns["uniaccurate"] = lambda a: uniaccurate.exact_sum(a) / a.size
            ns = {k: v / a.size * 1e9 for k, v in measure(fns, a, max(3, rounds // 2)).items()}
            cells = [f"{ns[k]:.2f}" if k in ns else "—" for k in ("numpy", "npmean", "xsum", "uniaccurate")]
            vs_xsum = f"{ns['xsum'] / ns['npmean']:.2f}×" if "xsum" in ns else "—"
            same = str(float(npmean.mean(a)) == xsum_mean(a)) if "xsum" in ns else "—"
            out.append(f"| {label} | " + " | ".join(cells) + f" | {ns['numpy'] / ns['npmean']:.2f}× | {vs_xsum} | {same} |")
            print(out[-1], flush=True)
    return out


def nan_and_sums(rounds: int) -> list[str]:
    """nanmean, sum and nansum (the nan-and-sum issue's rows and floors), one thread, against
    numpy, bottleneck, math.fsum and the xsum package on the same arrays; whole arrays and
    axis=0 / axis=1, NaN densities 0, 1% and 50%; extra memory beyond the result."""
    try:
        import bottleneck as bn
    except ImportError:
        bn = None
    try:
        import xsum
    except ImportError:
        xsum = None
    n = int(os.environ.get("NPMEAN_BENCH_NAN_N", 10**7))
    rng = np.random.default_rng(13)

    def xsum_sum(a):
        acc = xsum.xsum_large_accumulator()
        xsum.xsum_add(acc, a)
        return xsum.xsum_round(acc)

    out = [f"### nanmean, sum, nansum (one thread, n = {n:,} unless the shape says)", "",
           "| case | peer | peer time | npmean | × peer | floor | met | extra memory peer / npmean |",
           "|---|---|---:|---:|---:|---:|---|---:|"]

    def row(label, a, ours, peers, floors=None):
        fns = {"npmean": ours, **peers}
        medians = measure(fns, a, max(3, rounds // 2))
        for peer in peers:
            ratio = medians[peer] / medians["npmean"]
            floor = (floors or {}).get(peer)
            met = "" if floor is None else ("yes" if ratio >= floor else "no")
            memory = f"{peak_extra_memory(peers[peer], a) / 2**20:.1f} / {peak_extra_memory(ours, a) / 2**20:.2f} MiB"
            out.append(f"| {label} | {peer} | {format_time(medians[peer])} | {format_time(medians['npmean'])} | "
                       f"{ratio:.2f}× | {'' if floor is None else f'>= {floor}'} | {met} | {memory} |")
            print(out[-1], flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for dtype in (np.float32, np.float64):
            name = np.dtype(dtype).name
            for density in (0.0, 0.01, 0.5):
                a = rng.random(n).astype(dtype)
                a[rng.random(n) < density] = np.nan
                peers = {"numpy.nanmean": np.nanmean}
                floors = {"numpy.nanmean": 3.0}
                if bn is not None:
                    peers["bottleneck.nanmean"], floors["bottleneck.nanmean"] = bn.nanmean, 1.0
                row(f"nanmean {name}, {density:.0%} NaN", a, npmean.nanmean, peers, floors)
                peers = {"numpy.nansum": np.nansum, **({"bottleneck.nansum": bn.nansum} if bn else {})}
                row(f"nansum {name}, {density:.0%} NaN", a, npmean.nansum, peers)
            a = rng.random(n).astype(dtype)
            row(f"sum {name}", a, npmean.sum, {"numpy.sum": np.sum}, {"numpy.sum": 1.0})
            if dtype is np.float64:
                peers = {"math.fsum": math.fsum}
                if xsum is not None:
                    peers["xsum large (1-d float64)"] = xsum_sum
                row(f"sum {name}, n/10 (exact peers)", a[: n // 10], npmean.sum, peers)
        m = rng.random((10**5, 100)).astype(np.float32)
        m[rng.random(m.shape) < 0.01] = np.nan
        for axis in (0, 1):
            peers = {"numpy.nanmean": lambda v, axis=axis: np.nanmean(v, axis=axis)}
            if bn is not None:
                peers["bottleneck.nanmean"] = lambda v, axis=axis: bn.nanmean(v, axis=axis)
            row(f"nanmean (10^5, 100) float32 axis={axis}, 1% NaN", m, lambda v, axis=axis: npmean.nanmean(v, axis=axis),
                peers, {"numpy.nanmean": 3.0})
            row(f"nansum (10^5, 100) float32 axis={axis}, 1% NaN", m, lambda v, axis=axis: npmean.nansum(v, axis=axis),
                {"numpy.nansum": lambda v, axis=axis: np.nansum(v, axis=axis)})
    out += ["", "Extra memory: beyond the result, peak traced by tracemalloc during one call "
            "(floor for npmean.nanmean: 1 MiB)."]
    return out


def format_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.0f} ns"


def cpu_name() -> str:
    """The CPU's name, family and model (as lscpu shows them)."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def prefetch_state() -> str:
    return "on" if npmean.library().mean_software_prefetch() else "off"


def plot(curves, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted({dtype for dtype, _ in curves})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(7 * len(dtypes), 5), sharey=True)
    for ax, dtype in zip(np.atleast_1d(axes), dtypes):
        for (d, name), points in curves.items():
            if d != dtype:
                continue
            ns, gbps = zip(*points)
            style = "--" if name.startswith("read limit") else "-"
            ax.plot(ns, gbps, style, marker="o", markersize=3, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("n (elements)")
        ax.set_title(dtype)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    np.atleast_1d(axes)[0].set_ylabel("GB/s (input bytes / time)")
    fig.suptitle("npmean.mean vs numpy.mean, throughput (higher is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
