"""Benchmark rows for data beyond one array in memory (sections "dask" and "cli" of
examples/bench.py): npmean.dask.mean against dask.array.mean on a LocalCluster of processes,
and the npmean command line on a ~3 GB .npy file against numpy reading it through a memory map.

    .venv/bin/python examples/bench.py --sections dask,cli
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import npmean  # noqa: E402


def interleaved(fns: dict, rounds: int) -> dict:
    """Each call's wall times over ``rounds`` rounds, in a shuffled order every round."""
    samples = {name: [] for name in fns}
    names = list(fns)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            start = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def dask_rows(rounds: int) -> list[str]:
    """10^8 float32 values in 16 chunks, persisted on a LocalCluster of 2 worker processes (one
    thread each): the time of `.compute()` of each mean (median of interleaved rounds), whether
    it is the correctly rounded mean (npmean.mean of the whole array in memory is the reference:
    exact, and tested against the integer oracle), and whether it is the same for 7, 16 and 64 chunks."""
    try:
        import dask.array as da
        from distributed import Client, LocalCluster, wait
    except ImportError:
        return ["### npmean.dask", "", "(dask and distributed are not installed: `pip install npmean[dask]`)"]
    import npmean.dask as nd

    n = int(os.environ.get("NPMEAN_BENCH_DASK_N", 10**8))
    rng = np.random.default_rng(21)
    # Uniform values around 1: float32 chunk sums round (many times, as dask adds them).
    values = (1 + rng.random(n, dtype=np.float32)).astype(np.float32)
    reference = npmean.mean(values)
    out = [f"### npmean.dask.mean vs dask.array.mean ({n:,} float32, LocalCluster of 2 processes × 1 thread)", ""]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        arrays = {}
        for chunks in (7, 16, 64):
            x = da.from_array(values, chunks=-(-n // chunks))
            arrays[chunks] = client.persist(x)
            wait(arrays[chunks])
        contenders = {"dask.array.mean": lambda x: x.mean(), "npmean.dask.mean": nd.mean}
        results = {name: {c: fn(x).compute() for c, x in arrays.items()} for name, fn in contenders.items()}
        samples = interleaved({name: lambda fn=fn: fn(arrays[16]).compute() for name, fn in contenders.items()},
                              max(5, rounds))
    times = {name: statistics.median(s) for name, s in samples.items()}
    out += ["| contender | time (16 chunks) | GB/s | × dask | correctly rounded (16 chunks) | same for 7 / 16 / 64 chunks |",
            "|---|---:|---:|---:|---|---|"]
    for name in contenders:
        by_chunks = results[name]
        same = len({np.float32(v).tobytes() for v in by_chunks.values()}) == 1
        exact = np.float32(by_chunks[16]).tobytes() == np.float32(reference).tobytes()
        error = abs(float(by_chunks[16]) - float(reference)) / float(np.spacing(np.float32(reference)))
        out.append(f"| {name} | {times[name] * 1e3:.0f} ms | {values.nbytes / times[name] / 1e9:.1f} | "
                   f"{times['dask.array.mean'] / times[name]:.2f}× | {'yes' if exact else f'no ({error:.0f} ulp)'} | "
                   f"{'yes' if same else 'no: ' + ', '.join(repr(float(v)) for v in by_chunks.values())} |")
        print(out[-1], flush=True)
    ratio = times["dask.array.mean"] / times["npmean.dask.mean"]
    out += ["", f"Floor (npmean.dask.mean ≥ 1.0× dask.array.mean's speed, and correctly rounded): "
            f"{ratio:.2f}×, {'met' if ratio >= 1.0 else 'NOT met'}."]
    return out


def peak_anonymous_memory(argv: list, env: dict) -> tuple[float, int]:
    """(seconds, peak RssAnon in KiB) of a command, its RssAnon sampled every millisecond."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    peak = 0
    while child.poll() is None:
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
            peak = max(peak, int(status.split("RssAnon:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.001)
    return time.perf_counter() - start, peak


def cli_rows(rounds: int) -> list[str]:
    """A ~3 GB float32 .npy file (page cache warm): the whole command `npmean mean FILE` (all CPUs
    and one thread) against `python -c "np.load(FILE, mmap_mode='r').mean()"`, interleaved, median
    wall time; then the same reductions inside one process (the commands' start-up, importing
    numpy, left out); and the command's peak anonymous memory."""
    gib = float(os.environ.get("NPMEAN_BENCH_CLI_GIB", 3))
    block = np.random.default_rng(5).standard_normal(4 << 20).astype(np.float32)  # 16 MiB
    repeats = max(1, int(gib * 1024 / 16))
    out = [f"### npmean command line on a {repeats * block.nbytes / 2**30:.1f} GiB float32 .npy (page cache warm)", ""]
    with tempfile.TemporaryDirectory(dir=os.environ.get("NPMEAN_BENCH_TMP")) as tmp:
        path = Path(tmp) / "big.npy"
        np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(repeats * block.size,)).flush()
        with open(path, "r+b") as handle:
            handle.seek(-repeats * block.nbytes, os.SEEK_END)
            for _ in range(repeats):
                handle.write(block.tobytes())
        expected = npmean.mean(block)  # copies of a block have the block's exact mean
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
        python = sys.executable
        # Byte-compiled, as an installed npmean is (pip compiles it; numpy's is too): without, an
        # environment with PYTHONDONTWRITEBYTECODE would compile npmean's source at every start.
        import compileall

        compileall.compile_dir(str(ROOT / "python" / "npmean"), quiet=1)
        commands = {
            "python -c \"np.load(f, mmap_mode='r').mean()\"":
                [python, "-c", "import sys, numpy as np; print(np.load(sys.argv[1], mmap_mode='r').mean())", str(path)],
            f"npmean mean FILE ({os.cpu_count()} threads)": [python, "-m", "npmean", "mean", str(path)],
            "npmean mean FILE --threads 1": [python, "-m", "npmean", "mean", str(path), "--threads", "1"],
            "python -c 'import numpy' (start-up alone)": [python, "-c", "import numpy"],
        }
        got = subprocess.run(commands[f"npmean mean FILE ({os.cpu_count()} threads)"], capture_output=True,
                             text=True, env=env, check=True).stdout.strip()
        numpy_got = subprocess.run(next(iter(commands.values())), capture_output=True, text=True, check=True).stdout.strip()
        samples = interleaved({name: lambda argv=argv: subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
                               for name, argv in commands.items()}, max(5, rounds))
        from npmean import _cli

        def in_process_cli(threads):
            job = _cli.Job("mean", None, threads, _cli.Progress([], False), keep_states=False, dtype=None)
            return lambda: _cli.reduce_npy(str(path), job)

        inner = {
            "np.load(f, mmap_mode='r').mean()": lambda: np.load(path, mmap_mode="r").mean(),
            f"npmean CLI's reduction ({os.cpu_count()} threads)": in_process_cli(os.cpu_count()),
            "npmean CLI's reduction (1 thread)": in_process_cli(1),
        }
        inner_samples = interleaved(inner, max(5, rounds))
        _, peak_kib = peak_anonymous_memory(commands[f"npmean mean FILE ({os.cpu_count()} threads)"], env)
        nbytes = path.stat().st_size
    base = statistics.median(samples[next(iter(commands))])
    out += ["| whole command | median time | GB/s | × numpy |", "|---|---:|---:|---:|"]
    for name, s in samples.items():
        t = statistics.median(s)
        out.append(f"| `{name}` | {t * 1e3:.0f} ms | {nbytes / t / 1e9:.1f} | {base / t:.2f}× |")
    inner_base = statistics.median(inner_samples[next(iter(inner))])
    out += ["", "| inside one process | median time | GB/s | × numpy |", "|---|---:|---:|---:|"]
    for name, s in inner_samples.items():
        t = statistics.median(s)
        out.append(f"| `{name}` | {t * 1e3:.0f} ms | {nbytes / t / 1e9:.1f} | {inner_base / t:.2f}× |")
    whole = base / statistics.median(samples[f"npmean mean FILE ({os.cpu_count()} threads)"])
    correct = np.float32(got) == expected
    out += ["", f"Results: npmean {got} ({'the correctly rounded mean' if correct else 'NOT the exact mean'}), "
            f"numpy {numpy_got}.",
            f"Peak anonymous memory of `npmean mean FILE` (RssAnon, sampled every ms): {peak_kib / 1024:.0f} MiB "
            f"(floor ≤ 256 MiB: {'met' if peak_kib < 256 * 1024 else 'NOT met'}).",
            f"Floor (whole command ≥ 1.5× numpy's): {whole:.2f}×, {'met' if whole >= 1.5 else 'NOT met'}."]
    for line in out:
        print(line, flush=True)
    return out
