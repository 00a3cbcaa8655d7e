"""The ``npmean`` command line: exact means and sums of ``.npy`` / ``.npz`` files of any size.

Files are read in chunks of about :data:`CHUNK_BYTES` along their outermost axis in memory
order: ``.npy`` files through a read-only memory map (file pages, not anonymous memory),
``.npz`` members through a reused buffer (they may be compressed). Each chunk becomes exact
states (``npmean._states``), merged in any order, so the result is the one ``npmean.mean`` gives
for the whole array in memory, and states saved here (``--save-state``) merge with states
saved elsewhere (``--merge``). Exit codes: 0 success, 1 a file that cannot be read as such an
array (missing, truncated, corrupt, object or unsupported dtype), 2 a usage error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import mmap
import os
import sys
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from . import _states

CHUNK_BYTES = 16 << 20
STATE_FORMAT = "npmean-states"
STATE_VERSION = 1
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux 5.14


class FileError(Exception):
    """A file that cannot be read as an array (exit code 1)."""


class UsageError(Exception):
    """Arguments that do not fit the files (exit code 2)."""


@dataclass
class Partial:
    """The states of one or more files' reduction, and what they were made of."""

    states: np.ndarray  # keepdims shape
    dtype: np.dtype  # the input's dtype (the result's default dtype depends on it)
    axis: tuple | None
    skipna: bool
    ndim: int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="npmean",
        description="Exact mean or sum of the arrays in .npy / .npz files, each result rounded once.",
    )
    parser.add_argument("operation", choices=("mean", "sum"))
    parser.add_argument("files", nargs="*", metavar="FILE", help=".npy or .npz files (several: all their values together)")
    parser.add_argument("--axis", help="axes to reduce, comma separated (default: all)")
    parser.add_argument("--nan", action="store_true", help="leave NaNs out (nanmean / nansum)")
    parser.add_argument("--dtype", choices=("float16", "float32", "float64"), help="the result's dtype")
    parser.add_argument("--threads", type=int, default=None, help="threads reading chunks (default: all CPUs)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--key", help="the array of a .npz file (needed when it holds several)")
    parser.add_argument("--each", action="store_true", help="one result per file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--save-state", metavar="STATE", help="write the exact partial result to STATE (.npz)")
    parser.add_argument("--merge", nargs="+", default=[], metavar="STATE", help="partial results to merge in")
    return parser


def parse_axis(text: str | None) -> tuple | None:
    if text is None or text.strip().lower() == "none":
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--axis takes integers separated by commas, not {text!r}") from None


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.files and not args.merge:
        parser.error("give at least one FILE or --merge STATE")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads takes a positive number")
    if args.each and (args.merge or args.save_state):
        parser.error("--each gives one result per file: it cannot be combined with --merge or --save-state")
    try:
        return run(args)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"npmean: error: {error}", file=sys.stderr)
        return 2
    except FileError as error:
        print(f"npmean: {error}", file=sys.stderr)
        return 1
    except OverflowError as error:
        print(f"npmean: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): no traceback, and none at exit when Python flushes.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run(args) -> int:
    axis = parse_axis(args.axis)
    operation = ("nan" if args.nan else "") + args.operation
    threads = args.threads or os.cpu_count() or 1
    progress = Progress(args.files, enabled=not args.no_progress)
    partials = []
    try:
        for path in args.files:
            partials.append((path, reduce_file(path, args.key, operation, axis, threads, progress)))
    finally:
        progress.close()
    for path in args.merge:
        partials.append((path, load_state(path, args.nan)))
    if args.each:
        for path, partial in partials:
            emit(args, operation, [path], partial)
        return 0
    total = partials[0][1]
    for path, partial in partials[1:]:
        total = merge(total, partial, path)
    if args.save_state:
        save_state(args.save_state, total)
    emit(args, operation, [path for path, _ in partials], total)
    return 0


def merge(total: Partial, partial: Partial, path: str) -> Partial:
    if partial.skipna != total.skipna:
        raise UsageError(f"{path}: a state {'with' if partial.skipna else 'without'} --nan cannot merge with the others")
    if partial.axis != total.axis or partial.states.shape != total.states.shape:
        raise UsageError(
            f"{path}: its result has shape {partial.states.shape} (axis {partial.axis}), the others "
            f"{total.states.shape} (axis {total.axis}): only like results merge"
        )
    states = np.ascontiguousarray(total.states).copy()
    try:
        _states.merge_into(states, partial.states)
    except ValueError as error:
        raise FileError(f"{path}: {error}") from None
    return Partial(states, np.result_type(total.dtype, partial.dtype), total.axis, total.skipna, total.ndim)


def emit(args, operation: str, paths: list, partial: Partial) -> None:
    try:
        dtype = _states.result_dtype(operation, partial.dtype, args.dtype)
    except TypeError as error:
        raise FileError(f"{', '.join(paths)}: {error}") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty mean is NaN, printed as such
        try:
            result = _states.finish(partial.states, operation, dtype)
        except ValueError as error:
            raise FileError(f"{', '.join(paths)}: {error}") from None
    if partial.axis is None:
        result = result.reshape(())
    else:
        result = result.squeeze(axis=_states.normalized_axes(partial.axis, partial.ndim))
    states = partial.states["real"] if partial.states.dtype.names[0] == "real" else partial.states
    count = int(states["count"].sum(dtype=np.uint64))
    if args.json:
        record = {
            "operation": operation,
            "files": paths,
            "axis": None if partial.axis is None else list(partial.axis),
            "dtype": str(dtype),
            "count": count,
            "result": to_json(result),
        }
        print(json.dumps(record))
    else:
        text = format_value(result)
        print(f"{paths[0]}: {text}" if args.each else text)


def format_value(result: np.ndarray) -> str:
    if result.ndim == 0:
        return str(result[()])
    return np.array2string(result, threshold=sys.maxsize, max_line_width=sys.maxsize)


def to_json(result: np.ndarray):
    """Numbers as the shortest text that reads back to the same value of the result's dtype;
    NaN and infinities, which JSON lacks, as the strings "nan", "inf", "-inf"."""
    def real(x):
        if result.dtype.kind in "iub":
            return int(x)
        if not np.isfinite(x):
            return str(float(x))
        return json.loads(str(x))  # numpy's shortest repr for the dtype

    def scalar(x):
        return [real(x.real), real(x.imag)] if result.dtype.kind == "c" else real(x)

    if result.ndim == 0:
        return scalar(result[()])
    return [to_json(part) for part in result]


class Progress:
    """A tqdm bar of bytes read, on stderr when it is a terminal (and tqdm is installed)."""

    def __init__(self, paths, enabled: bool):
        self.bar = None
        if not (enabled and paths and sys.stderr.isatty()):
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        total = 0
        for path in paths:
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
        self.bar = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr, desc="npmean")

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def reduce_file(path: str, key, operation: str, axis, threads: int, progress: Progress) -> Partial:
    if path.endswith(".npz") or (zipfile.is_zipfile(path) if os.path.isfile(path) else False):
        return reduce_npz(path, key, operation, axis, progress)
    return reduce_npy(path, operation, axis, threads, progress)


def open_file(path: str):
    try:
        return open(path, "rb")
    except OSError as error:
        raise FileError(f"{path}: {error.strerror or error}") from None


def read_header(path: str, handle) -> tuple:
    """(shape, fortran_order, dtype) of the .npy stream at ``handle``, which is left at the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(handle)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(handle)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, SyntaxError, EOFError, OSError) as error:
        raise FileError(f"{path}: not a readable .npy array ({error})") from None
    if dtype.hasobject:
        raise FileError(f"{path}: an object array (reading it would need pickle, which npmean never allows)")
    if not _states.supported(dtype):
        raise FileError(f"{path}: dtype {dtype} cannot be averaged exactly by npmean")
    return shape, fortran, dtype


def check_axis(path: str, axis, ndim: int) -> tuple:
    try:
        return _states.normalized_axes(axis, ndim)
    except (np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError, ValueError) as error:
        raise UsageError(f"{path}: {error}") from None


def chunk_plan(shape: tuple, fortran: bool, itemsize: int):
    """(axis, rows per chunk): chunks cut along the outermost axis in memory order."""
    if not shape:
        return None, 1
    outer = len(shape) - 1 if fortran else 0
    row_bytes = itemsize * int(np.prod(shape, dtype=np.int64)) // max(shape[outer], 1)
    return outer, max(1, CHUNK_BYTES // max(row_bytes, 1))


class Accumulated:
    """The states of a whole array, built from its chunks along ``outer``."""

    def __init__(self, shape, axes, dtype, outer):
        self.axes, self.outer = axes, outer
        self.merging = outer is None or outer in axes
        kept = tuple(1 if d in axes else n for d, n in enumerate(shape))
        complex_input = dtype.kind == "c"
        if self.merging:
            self.states = None
            self.shape = kept
            self.complex = complex_input
        else:
            self.states = np.empty(kept, _states.state_dtype(complex_input))

    def add(self, start: int, states: np.ndarray) -> None:
        if self.merging:
            if self.states is None:
                self.states = np.ascontiguousarray(states).copy()
            else:
                _states.merge_into(self.states, states)
        else:
            index = [slice(None)] * self.states.ndim
            index[self.outer] = slice(start, start + states.shape[self.outer])
            self.states[tuple(index)] = states

    def result(self) -> np.ndarray:
        if self.states is None:  # no chunk: an empty array
            empty = np.empty((0,) + self.shape, _states.state_dtype(self.complex))
            return _states.merge_states(empty, axis=0)[0]
        return self.states


def reduce_npy(path: str, operation: str, axis, threads: int, progress: Progress) -> Partial:
    with open_file(path) as handle:
        shape, fortran, dtype = read_header(path, handle)
        offset = handle.tell()
        size = os.fstat(handle.fileno()).st_size
        count = int(np.prod(shape, dtype=np.int64))
        needed = count * dtype.itemsize
        if size - offset < needed:
            raise FileError(f"{path}: truncated: {size - offset} bytes of data, the header describes {needed}")
        axes = check_axis(path, axis, len(shape))
        outer, rows = chunk_plan(shape, fortran, dtype.itemsize)
        accumulated = Accumulated(shape, axes, dtype, outer)
        if needed == 0:
            array = np.empty(shape, dtype, order="F" if fortran else "C")
            accumulated.add(0, _states.reduce_states(array, operation, axes))
            return Partial(accumulated.result(), dtype, axis, operation.startswith("nan"), len(shape))
        # The data through a read-only map from its page: file pages, never anonymous memory.
        page = mmap.ALLOCATIONGRANULARITY
        start = offset // page * page
        mapped = mmap.mmap(handle.fileno(), offset - start + needed, access=mmap.ACCESS_READ, offset=start)
    try:
        array = np.frombuffer(mapped, dtype, count, offset - start).reshape(shape, order="F" if fortran else "C")
        reduce_chunks(array, operation, axes, outer, rows, threads, accumulated, progress, mapped, offset - start)
        del array
    finally:
        try:
            mapped.close()
        except BufferError:  # a view still alive (an exception's traceback): the map closes with it
            pass
    return Partial(accumulated.result(), dtype, axis, operation.startswith("nan"), len(shape))


def chunk_of(array: np.ndarray, outer, start: int, rows: int) -> np.ndarray:
    if outer is None:
        return array
    index = [slice(None)] * array.ndim
    index[outer] = slice(start, start + rows)
    return array[tuple(index)]


def reduce_chunks(array, operation, axes, outer, rows, threads, accumulated, progress, mapped=None, data_at=0):
    length = 1 if outer is None else array.shape[outer]
    starts = range(0, max(length, 1), rows)
    row_bytes = array.nbytes // max(length, 1)

    def work(start):
        chunk = chunk_of(array, outer, start, rows)
        if mapped is not None and hasattr(mapped, "madvise"):
            # Map the chunk's pages in one call (no fault per 4 KiB page).
            low = data_at + start * row_bytes
            aligned = low // mmap.PAGESIZE * mmap.PAGESIZE
            try:
                mapped.madvise(_MADV_POPULATE_READ, aligned, low - aligned + chunk.nbytes)
            except OSError:
                pass  # an older kernel: the pages fault in as they are read
        return start, _states.reduce_states(chunk, operation, axes), chunk.nbytes

    if threads == 1 or len(starts) == 1:
        for start in starts:
            _, states, nbytes = work(start)
            accumulated.add(start, states)
            progress.update(nbytes)
        return
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        pending = set()
        for start in starts:
            if len(pending) >= 2 * threads:  # bounded: a few chunks' states in flight
                done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    finished_start, states, nbytes = future.result()
                    accumulated.add(finished_start, states)
                    progress.update(nbytes)
            pending.add(pool.submit(work, start))
        for future in concurrent.futures.as_completed(pending):
            finished_start, states, nbytes = future.result()
            accumulated.add(finished_start, states)
            progress.update(nbytes)


def reduce_npz(path: str, key, operation: str, axis, progress: Progress) -> Partial:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileError(f"{path}: No such file or directory") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise FileError(f"{path}: not a readable .npz file ({error})") from None
    with archive:
        names = [name for name in archive.namelist() if name.endswith(".npy")]
        keys = [name[: -len(".npy")] for name in names]
        if key is None:
            if len(keys) != 1:
                raise UsageError(f"{path} holds {len(keys)} arrays: choose one with --key (keys: {', '.join(keys)})")
            key = keys[0]
        if key not in keys:
            raise UsageError(f"{path} has no array {key!r} (keys: {', '.join(keys)})")
        info = archive.getinfo(key + ".npy")
        compression = info.compress_size / max(info.file_size, 1)
        try:
            with archive.open(info) as member:
                shape, fortran, dtype = read_header(f"{path}[{key}]", member)
                axes = check_axis(path, axis, len(shape))
                outer, rows = chunk_plan(shape, fortran, dtype.itemsize)
                accumulated = Accumulated(shape, axes, dtype, outer)
                length = 1 if outer is None else shape[outer]
                row_shape = list(shape)
                buffer = bytearray()
                for start in range(0, max(length, 1), rows):
                    n = 1 if outer is None else min(rows, length - start)
                    if outer is not None:
                        row_shape[outer] = n
                    nbytes = int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
                    if len(buffer) < nbytes:
                        buffer = bytearray(nbytes)  # one buffer, reused: bounded memory
                    view = memoryview(buffer)[:nbytes]
                    got = member.readinto(view) if nbytes else 0
                    while got < nbytes:
                        more = member.readinto(view[got:])
                        if not more:
                            raise FileError(
                                f"{path}[{key}]: truncated: the data ends before the {shape} array the header describes"
                            )
                        got += more
                    chunk = np.frombuffer(view, dtype).reshape(row_shape, order="F" if fortran else "C")
                    accumulated.add(start, _states.reduce_states(chunk, operation, axes))
                    progress.update(int(nbytes * compression))  # (the bar counts the file's bytes)
                    del chunk, view
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:  # CRC mismatches included
            raise FileError(f"{path}[{key}]: corrupt ({error})") from None
    return Partial(accumulated.result(), dtype, axis, operation.startswith("nan"), len(shape))


def save_state(path: str, partial: Partial) -> None:
    meta = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "dtype": partial.dtype.str,
        "axis": None if partial.axis is None else list(partial.axis),
        "skipna": partial.skipna,
        "ndim": partial.ndim,
    }
    try:
        with open(path, "wb") as handle:
            np.savez(handle, states=partial.states, meta=np.array(json.dumps(meta)))
    except OSError as error:
        raise FileError(f"{path}: {error.strerror or error}") from None


def load_state(path: str, skipna: bool) -> Partial:
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"][()]))
            states = archive["states"]
    except FileNotFoundError:
        raise FileError(f"{path}: No such file or directory") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise FileError(f"{path}: not an npmean state file ({error})") from None
    if meta.get("format") != STATE_FORMAT or meta.get("version") != STATE_VERSION:
        raise FileError(f"{path}: not an npmean state file of version {STATE_VERSION}")
    try:
        _states.merge_states(states, axis=())  # checks the dtype
        dtype = np.dtype(meta["dtype"])
    except (TypeError, ValueError) as error:
        raise FileError(f"{path}: not an npmean state file ({error})") from None
    if bool(meta["skipna"]) != skipna:
        raise UsageError(f"{path} was saved {'with' if meta['skipna'] else 'without'} --nan")
    axis = None if meta["axis"] is None else tuple(meta["axis"])
    return Partial(states, dtype, axis, skipna, int(meta["ndim"]))
