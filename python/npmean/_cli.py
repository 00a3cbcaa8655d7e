"""The ``npmean`` command line: exact means and sums of ``.npy`` / ``.npz`` files of any size.

Files are read in chunks of about :data:`CHUNK_BYTES`: ``.npy`` files through a read-only
memory map (file pages, not anonymous memory), ``.npz`` members through a reused buffer (they
may be compressed). Chunks are cut along the outermost axis in memory order, read sequentially;
each becomes exact states (``npmean._states``, 596 bytes per output element), merged in any
order, so the result is the one ``npmean.mean`` gives for the whole array in memory, and states
saved here (``--save-state``) merge with states saved elsewhere (``--merge``). Where that axis is
reduced and the output is large (states beyond :data:`STATE_BYTES`), a ``.npy`` file is cut
along its outermost kept axis instead, so that every output element is finished within one
chunk and only the results are kept. Exit codes: 0 success, 1 a file that cannot be read as such an
array (missing, truncated, corrupt, object or unsupported dtype), 2 a usage error.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys
from dataclasses import dataclass

import numpy as np

from . import _states

CHUNK_BYTES = 64 << 20
# The most memory the states of one chunk (or the states merged across chunks) may take.
STATE_BYTES = 32 << 20
STATE_FORMAT = "npmean-states"
STATE_VERSION = 1
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux 5.14


class FileError(Exception):
    """A file that cannot be read as an array (exit code 1)."""


class UsageError(Exception):
    """Arguments that do not fit the files (exit code 2)."""


@dataclass
class Partial:
    """The states of one or more files' reduction (or, where nothing is merged, its results),
    and what they were made of."""

    states: np.ndarray | None  # keepdims shape
    dtype: np.dtype  # the input's dtype (the result's default dtype depends on it)
    axis: tuple | None
    skipna: bool
    ndim: int
    count: int  # values counted (for nan operations, those that are not NaN)
    result: np.ndarray | None = None  # keepdims shape, when there are no states


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
    # States are kept where something is merged or saved; else each file's results suffice.
    keep_states = bool(args.save_state) or (not args.each and len(args.files) + len(args.merge) > 1)
    job = Job(operation, axis, threads, progress, keep_states, args.dtype)
    partials = []
    try:
        for path in args.files:
            partials.append((path, reduce_file(path, args.key, job)))
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
    dtype = np.result_type(total.dtype, partial.dtype)
    return Partial(states, dtype, total.axis, total.skipna, total.ndim, total.count + partial.count)


def emit(args, operation: str, paths: list, partial: Partial) -> None:
    result = partial.result
    if result is None:
        dtype = result_dtype(", ".join(paths), operation, partial.dtype, args.dtype)
        result = finish(", ".join(paths), partial.states, operation, dtype)
    if partial.axis is None:
        result = result.reshape(())
    else:
        result = result.squeeze(axis=_states.normalized_axes(partial.axis, partial.ndim))
    if args.json:
        import json

        record = {
            "operation": operation,
            "files": paths,
            "axis": None if partial.axis is None else list(partial.axis),
            "dtype": str(result.dtype),
            "count": partial.count,
            "result": to_json(result),
        }
        print(json.dumps(record))
    else:
        text = format_value(result)
        print(f"{paths[0]}: {text}" if args.each else text)


def result_dtype(name: str, operation: str, in_dtype, dtype) -> np.dtype:
    try:
        return _states.result_dtype(operation, in_dtype, dtype)
    except TypeError as error:
        raise FileError(f"{name}: {error}") from None


def finish(name: str, states: np.ndarray, operation: str, dtype) -> np.ndarray:
    """The results of ``states``; an empty mean is NaN, printed as such (no warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return _states.finish(states, operation, dtype)
        except ValueError as error:
            raise FileError(f"{name}: {error}") from None
        except OverflowError as error:
            raise FileError(f"{name}: {error} (--dtype float64 gives it rounded)") from None


def counted(states: np.ndarray) -> int:
    """How many values ``states`` counted (for complex states, those of the real parts)."""
    if states.dtype.names[0] == "real":
        states = states["real"]
    return int(states["count"].sum(dtype=np.uint64))


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
        return float(str(x))  # numpy's shortest repr for the dtype, written back as such by json

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


@dataclass
class Job:
    """What each file is reduced to."""

    operation: str
    axis: tuple | None
    threads: int
    progress: Progress
    keep_states: bool  # (else each file's results: nothing is merged with them)
    dtype: str | None  # the result's, as --dtype


def reduce_file(path: str, key, job: Job) -> Partial:
    if path.endswith(".npz") or _starts_with(path, b"PK\x03\x04"):  # (a zip archive's magic)
        return reduce_npz(path, key, job)
    return reduce_npy(path, job)


def _starts_with(path: str, magic: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return False  # (reported as the .npy it is then read as)


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


class Plan:
    """How an array of ``shape`` is cut: along ``axis`` (None: one chunk), ``rows`` of it per
    chunk; chunks of a reduced axis merge their states, chunks of a kept one fill their part of
    the output."""

    def __init__(self, shape, fortran: bool, dtype: np.dtype, axes: tuple, seekable: bool):
        ndim = len(shape)
        memory_order = list(range(ndim))[::-1] if fortran else list(range(ndim))
        kept_cells = int(np.prod([n for d, n in enumerate(shape) if d not in axes], dtype=np.int64))
        state_size = _states.state_dtype(dtype.kind == "c").itemsize
        self.axis = memory_order[0] if ndim else None
        if self.axis in axes and kept_cells * state_size > STATE_BYTES and seekable:
            # Merged states would be large: cut a kept axis (the outermost in memory order).
            self.axis = next(d for d in memory_order if d not in axes)
        if self.axis is None:
            self.rows, self.length = 1, 1
            return
        self.length = shape[self.axis]
        row_bytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64)) // max(self.length, 1)
        rows = CHUNK_BYTES // max(row_bytes, 1)
        if self.axis not in axes:  # each row of the chunk has states of its own
            row_states = state_size * kept_cells // max(self.length, 1)
            rows = min(rows, STATE_BYTES // max(row_states, 1))
        self.rows = max(1, rows)

    def starts(self):
        return range(0, max(self.length, 1), self.rows)

    def chunk(self, array: np.ndarray, start: int) -> np.ndarray:
        if self.axis is None:
            return array
        index = [slice(None)] * array.ndim
        index[self.axis] = slice(start, start + self.rows)
        return array[tuple(index)]


class Accumulated:
    """The states (or results) of a whole array, built from its chunks' states."""

    def __init__(self, path: str, shape, axes, dtype: np.dtype, plan: Plan, job: Job):
        self.path, self.axes, self.plan, self.job, self.dtype = path, axes, plan, job, dtype
        self.merging = plan.axis is None or plan.axis in axes
        self.kept = _states.kept_shape(shape, axes)
        self.count = 0
        self.states = self.result = None
        if self.merging:
            return  # the first chunk's states, then merged into
        if job.keep_states:
            self.states = np.empty(self.kept, _states.state_dtype(dtype.kind == "c"))
        else:
            self.result_dtype = result_dtype(path, job.operation, dtype, job.dtype)
            self.result = np.empty(self.kept, self.result_dtype)

    def add(self, start: int, states: np.ndarray) -> None:
        self.count += counted(states)
        if self.merging:
            if self.states is None:
                self.states = np.ascontiguousarray(states).copy()
            else:
                _states.merge_into(self.states, states)
            return
        index = [slice(None)] * len(self.kept)
        index[self.plan.axis] = slice(start, start + states.shape[self.plan.axis])
        if self.result is not None:
            self.result[tuple(index)] = finish(self.path, states, self.job.operation, self.result_dtype)
        else:
            self.states[tuple(index)] = states

    def partial(self) -> Partial:
        states = self.states
        if states is None and self.result is None:  # no chunk: an empty array
            empty = np.empty((0,) + self.kept, _states.state_dtype(self.dtype.kind == "c"))
            states = _states.merge_states(empty, axis=0)[0]
        result = self.result
        if result is None and not self.job.keep_states:
            result = finish(self.path, states, self.job.operation, result_dtype(
                self.path, self.job.operation, self.dtype, self.job.dtype))
            states = None
        skipna = self.job.operation.startswith("nan")
        return Partial(states, self.dtype, self.job.axis, skipna, len(self.kept), self.count, result)


def reduce_npy(path: str, job: Job) -> Partial:
    with open_file(path) as handle:
        shape, fortran, dtype = read_header(path, handle)
        offset = handle.tell()
        size = os.fstat(handle.fileno()).st_size
        count = int(np.prod(shape, dtype=np.int64))
        needed = count * dtype.itemsize
        if size - offset < needed:
            raise FileError(f"{path}: truncated: {size - offset} bytes of data, the header describes {needed}")
        axes = check_axis(path, job.axis, len(shape))
        plan = Plan(shape, fortran, dtype, axes, seekable=True)
        accumulated = Accumulated(path, shape, axes, dtype, plan, job)
        if needed == 0:
            array = np.empty(shape, dtype, order="F" if fortran else "C")
            accumulated.add(0, _states.reduce_states(array, job.operation, axes))
            return accumulated.partial()
        # The data through a read-only map from its page: file pages, never anonymous memory.
        page = mmap.ALLOCATIONGRANULARITY
        start = offset // page * page
        mapped = mmap.mmap(handle.fileno(), offset - start + needed, access=mmap.ACCESS_READ, offset=start)
    try:
        array = np.frombuffer(mapped, dtype, count, offset - start).reshape(shape, order="F" if fortran else "C")
        populate = populator(mapped, offset - start, array, plan)
        reduce_chunks(array, axes, plan, job, accumulated, populate)
        del array
    finally:
        try:
            mapped.close()
        except BufferError:  # a view still alive (an exception's traceback): the map closes with it
            pass
    return accumulated.partial()


def populator(mapped: mmap.mmap, data_at: int, array: np.ndarray, plan: Plan):
    """Maps the pages of a chunk in one call (no fault per page), for chunks that are one run of
    the file (cut along the outermost axis in memory order); else nothing."""
    if not hasattr(mapped, "madvise") or plan.axis is None or not (array.flags.c_contiguous or array.flags.f_contiguous):
        return lambda start, chunk: None
    outermost = array.ndim - 1 if array.flags.f_contiguous and not array.flags.c_contiguous else 0
    if plan.axis != outermost:
        return lambda start, chunk: None
    row_bytes = array.nbytes // max(array.shape[plan.axis], 1)

    def populate(start: int, chunk: np.ndarray) -> None:
        low = data_at + start * row_bytes
        aligned = low // mmap.PAGESIZE * mmap.PAGESIZE
        try:
            mapped.madvise(_MADV_POPULATE_READ, aligned, low - aligned + chunk.nbytes)
        except OSError:
            pass  # an older kernel: the pages fault in as they are read

    return populate


def reduce_chunks(array, axes, plan: Plan, job: Job, accumulated: Accumulated, populate=None):
    """Each chunk's states into ``accumulated``, by ``job.threads`` threads (the library's calls
    release the GIL), a bounded number of chunks in flight."""

    def work(start):
        chunk = plan.chunk(array, start)
        if populate is not None:
            populate(start, chunk)
        return start, _states.reduce_states(chunk, job.operation, axes), chunk.nbytes

    def done(result):
        start, states, nbytes = result
        accumulated.add(start, states)
        job.progress.update(nbytes)

    starts = plan.starts()
    if job.threads == 1 or len(starts) == 1:
        for start in starts:
            done(work(start))
        return
    import concurrent.futures  # (here: the module takes a few ms to import, and one thread needs none)

    with concurrent.futures.ThreadPoolExecutor(job.threads) as pool:
        pending = set()
        for start in starts:
            if len(pending) >= 2 * job.threads:
                finished, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    done(future.result())
            pending.add(pool.submit(work, start))
        for future in concurrent.futures.as_completed(pending):
            done(future.result())


def reduce_npz(path: str, key, job: Job) -> Partial:
    import zipfile
    import zlib

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
        name = f"{path}[{key}]"
        try:
            with archive.open(info) as member:
                shape, fortran, dtype = read_header(name, member)
                axes = check_axis(path, job.axis, len(shape))
                # A compressed stream is read in order: chunks along the outermost axis only.
                plan = Plan(shape, fortran, dtype, axes, seekable=False)
                accumulated = Accumulated(name, shape, axes, dtype, plan, job)
                row_shape = list(shape)
                buffer = bytearray()
                for start in plan.starts():
                    if plan.axis is not None:
                        row_shape[plan.axis] = min(plan.rows, plan.length - start)
                    nbytes = int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
                    if len(buffer) < nbytes:
                        buffer = bytearray(nbytes)  # one buffer, reused: bounded memory
                    view = memoryview(buffer)[:nbytes]
                    got = member.readinto(view) if nbytes else 0
                    while got < nbytes:
                        more = member.readinto(view[got:])
                        if not more:
                            raise FileError(f"{name}: truncated: the data ends before the {shape} array the header describes")
                        got += more
                    chunk = np.frombuffer(view, dtype).reshape(row_shape, order="F" if fortran else "C")
                    accumulated.add(start, _states.reduce_states(chunk, job.operation, axes))
                    job.progress.update(int(nbytes * compression))  # (the bar counts the file's bytes)
                    del chunk, view
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:  # CRC mismatches included
            raise FileError(f"{name}: corrupt ({error})") from None
    return accumulated.partial()


def save_state(path: str, partial: Partial) -> None:
    import json

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
    import json
    import zipfile

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
    return Partial(states, dtype, axis, skipna, int(meta["ndim"]), counted(states))
