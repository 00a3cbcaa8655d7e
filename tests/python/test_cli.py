"""The ``npmean`` command line: results bit-identical to npmean of the array in memory (and
exact by the oracle) for .npy and .npz files of every layout and byte order, chunked reading
of any size in bounded anonymous memory, partial states that merge, a progress bar on a
terminal only, and user errors as one line with the file's name and exit codes 1 / 2, never
a traceback."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

import npmean
from npmean import _cli

from exact import exact_mean

PACKAGE_PARENT = str(Path(npmean.__file__).resolve().parents[1])


def run(*args, stdin=None, **kwargs):
    """``python -m npmean ARGS`` in a child process: (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    done = subprocess.run(
        [sys.executable, "-m", "npmean", *map(str, args)], capture_output=True, text=True, env=env, timeout=120, **kwargs
    )
    return done.returncode, done.stdout, done.stderr


def cli(capsys, *args):
    """The command line in this process (fast): (exit code, stdout, stderr)."""
    try:
        code = _cli.main([str(a) for a in args])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def json_result(out: str, dtype) -> np.ndarray:
    """The "result" of a --json line, as an array of ``dtype`` (strings are non-finite values)."""
    value = np.array(json.loads(out)["result"], dtype=object)
    dtype = np.dtype(dtype)
    if dtype.kind == "c":  # [real, imaginary] pairs
        result = np.empty(value.shape[:-1], dtype)
        result.real, result.imag = value[..., 0].astype(result.real.dtype), value[..., 1].astype(result.real.dtype)
        return result
    return value.astype(dtype)


def same(result, expected) -> bool:
    result, expected = np.asarray(result), np.asarray(expected)
    return result.dtype == expected.dtype and result.shape == expected.shape and result.tobytes() == expected.tobytes()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 4 KiB, so that small files are read in many chunks (the default is 16 MiB)."""
    monkeypatch.setattr(_cli, "CHUNK_BYTES", 4096)


def values(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype.newbyteorder("="), endpoint=True).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    spread = 8 if dtype.itemsize == 2 else 20  # (float16 reaches 65504)
    a = rng.standard_normal(shape) * np.exp2(rng.integers(-spread, spread, shape))
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


LAYOUTS = [
    ("<f4", "C"), ("<f4", "F"), (">f4", "C"), (">f8", "F"), ("<f8", "C"), ("<f2", "C"), ("int8", "C"),
    (">i2", "F"), ("uint32", "C"), ("int64", "C"), (">u8", "C"), ("bool", "F"), ("complex64", "C"), (">c16", "F"),
]


# The default bound on states, and one so small that an array whose reduced axis is its
# outermost in memory is cut along a kept axis instead (each output element finished in a chunk).
STATE_BOUNDS = [_cli.STATE_BYTES, 1200]


@pytest.mark.parametrize("dtype,order", LAYOUTS)
@pytest.mark.parametrize("axis", [None, (0,), (1,), (0, 2), (2,)])
@pytest.mark.parametrize("state_bytes", STATE_BOUNDS)
def test_npy_files_give_npmeans_result_bit_for_bit(tmp_path, capsys, monkeypatch, dtype, order, axis, state_bytes):
    monkeypatch.setattr(_cli, "STATE_BYTES", state_bytes)
    rng = np.random.default_rng(abs(hash((dtype, order, axis))) % 2**32)
    a = np.asarray(values(rng, (37, 23, 5), dtype), order=order)
    path = tmp_path / "a.npy"
    np.save(path, a)
    argv = ["mean", path, "--json", "--threads", "2"] + ([] if axis is None else ["--axis", ",".join(map(str, axis))])
    code, out, err = cli(capsys, *argv)
    assert (code, err) == (0, "")
    expected = npmean.mean(a, axis=axis)
    assert same(json_result(out, expected.dtype), expected)
    record = json.loads(out)
    assert record["count"] == a.size and record["files"] == [str(path)] and record["dtype"] == str(expected.dtype)
    if dtype.endswith(("f2", "f4", "f8")) and axis is None:  # exact by the oracle, independently of npmean
        assert float(json_result(out, expected.dtype)) == exact_mean(a, expected.dtype)


@pytest.mark.parametrize("operation,nan", [("mean", False), ("mean", True), ("sum", False), ("sum", True)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("state_bytes", STATE_BOUNDS)
def test_every_operation_and_thread_count_agrees_with_npmean(tmp_path, capsys, monkeypatch, operation, nan, threads,
                                                             state_bytes):
    monkeypatch.setattr(_cli, "STATE_BYTES", state_bytes)
    rng = np.random.default_rng(7)
    a = values(rng, (301, 17), "float32")
    a[rng.random(a.shape) < 0.1] = np.nan
    np.save(tmp_path / "a.npy", a)
    function = getattr(npmean, ("nan" if nan else "") + operation)
    for axis in (None, 0, 1):
        argv = [operation, tmp_path / "a.npy", "--json", "--threads", threads] + (["--nan"] if nan else [])
        code, out, err = cli(capsys, *argv, *([] if axis is None else ["--axis", axis]))
        assert (code, err) == (0, "")
        expected = function(a, axis=axis)
        assert same(json_result(out, expected.dtype), expected)


def test_the_result_dtype_is_chosen_as_numpys_dtype_argument(tmp_path, capsys):
    a = np.arange(1000, dtype=np.int16)
    np.save(tmp_path / "a.npy", a)
    for dtype in ("float16", "float32", "float64"):
        code, out, _ = cli(capsys, "mean", tmp_path / "a.npy", "--dtype", dtype, "--json")
        assert code == 0 and json.loads(out)["dtype"] == dtype
        assert same(json_result(out, dtype), npmean.mean(a, dtype=dtype))


def test_several_files_give_the_mean_of_all_their_values_and_each_gives_one_per_file(tmp_path, capsys):
    rng = np.random.default_rng(3)
    parts = [values(rng, n, "float64") for n in (1000, 1, 777)]
    paths = []
    for i, part in enumerate(parts):
        paths.append(tmp_path / f"p{i}.npy")
        np.save(paths[-1], part)
    code, out, _ = cli(capsys, "mean", *paths, "--json")
    assert code == 0 and same(json_result(out, "float64"), npmean.mean(np.concatenate(parts)))
    code, out, _ = cli(capsys, "mean", *paths, "--each")
    assert code == 0
    lines = out.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(p) for p in paths]
    assert [np.float64(line.split(": ")[1]) for line in lines] == [npmean.mean(p) for p in parts]


def test_npz_members_are_read_compressed_or_not_with_key(tmp_path, capsys):
    rng = np.random.default_rng(5)
    a, b = values(rng, (400, 9), ">f4"), values(rng, (50,), "int32")
    np.savez_compressed(tmp_path / "z.npz", a=np.asfortranarray(a), b=b)
    np.savez(tmp_path / "one.npz", only=a)
    code, out, _ = cli(capsys, "mean", tmp_path / "z.npz", "--key", "a", "--axis", "1", "--json")
    assert code == 0 and same(json_result(out, "float32"), npmean.mean(a, axis=1))
    code, out, _ = cli(capsys, "sum", tmp_path / "z.npz", "--key", "b", "--json")
    assert code == 0 and same(json_result(out, "int64"), npmean.sum(b))
    code, out, _ = cli(capsys, "mean", tmp_path / "one.npz", "--json")  # one member: no --key needed
    assert code == 0 and same(json_result(out, "float32"), npmean.mean(a))
    code, _, err = cli(capsys, "mean", tmp_path / "z.npz")
    assert code == 2 and "z.npz holds 2 arrays" in err and "--key" in err
    code, _, err = cli(capsys, "mean", tmp_path / "z.npz", "--key", "c")
    assert code == 2 and "has no array 'c'" in err


@pytest.mark.parametrize("state_bytes", STATE_BOUNDS)
def test_states_saved_apart_merge_to_the_whole_arrays_result(tmp_path, capsys, monkeypatch, state_bytes):
    monkeypatch.setattr(_cli, "STATE_BYTES", state_bytes)
    rng = np.random.default_rng(11)
    a = values(rng, (90, 13), "float32")
    a[rng.random(a.shape) < 0.05] = np.nan
    pieces = np.split(a, [10, 55])
    for axis in ([], ["--axis", "0"], ["--axis", "1"]):
        states = []
        for i, piece in enumerate(pieces):
            np.save(tmp_path / f"piece{i}.npy", piece)
            if axis == ["--axis", "1"]:
                continue  # the rows' means are not of like shape: merged below as a usage error
            states.append(tmp_path / f"piece{i}.state")
            code, out, _ = cli(capsys, "mean", tmp_path / f"piece{i}.npy", "--nan", *axis, "--save-state", states[-1])
            assert code == 0
        if not states:
            continue
        code, out, _ = cli(capsys, "mean", "--nan", *axis, "--json", "--merge", *states)
        expected = npmean.nanmean(a, axis=None if not axis else 0)
        assert code == 0 and same(json_result(out, "float32"), expected)
        # A state and a file together, and a state merged into a state.
        code, out, _ = cli(capsys, "mean", tmp_path / "piece0.npy", "--nan", *axis, "--json", "--merge", *states[1:])
        assert code == 0 and same(json_result(out, "float32"), expected)
    np.save(tmp_path / "rows.npy", pieces[0])
    cli(capsys, "mean", tmp_path / "rows.npy", "--axis", "1", "--save-state", tmp_path / "rows.state")
    np.save(tmp_path / "other.npy", pieces[1])
    code, _, err = cli(capsys, "mean", tmp_path / "other.npy", "--axis", "1", "--merge", tmp_path / "rows.state")
    assert code == 2 and "rows.state" in err and "only like results merge" in err
    code, _, err = cli(capsys, "mean", "--nan", "--merge", tmp_path / "rows.state")
    assert code == 2 and "without --nan" in err


def test_a_corrupt_state_file_is_refused(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.ones(10, np.float32))
    cli(capsys, "mean", tmp_path / "a.npy", "--save-state", tmp_path / "good.state")
    with np.load(tmp_path / "good.state") as archive:
        states, meta = archive["states"].copy(), archive["meta"]
    raw = states.view(np.uint8)
    raw[40] ^= 1  # a digit: the CRC no longer matches
    np.savez(tmp_path / "bad.state", states=states, meta=meta)
    os.replace(tmp_path / "bad.state.npz", tmp_path / "bad.state")
    code, _, err = cli(capsys, "mean", "--merge", tmp_path / "bad.state")
    assert code == 1 and "bad.state" in err
    (tmp_path / "junk.state").write_bytes(b"not a state")
    code, _, err = cli(capsys, "mean", "--merge", tmp_path / "junk.state")
    assert code == 1 and "junk.state: not an npmean state file" in err


def test_json_writes_non_finite_values_as_strings_and_shortest_numbers(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.array([[1.0, np.inf, 0.1], [2.0, -np.inf, 0.2], [4.0, 5.0, np.nan]], np.float32))
    code, out, _ = cli(capsys, "mean", tmp_path / "a.npy", "--axis", "0", "--json")
    assert code == 0
    result = json.loads(out)["result"]
    assert np.float32(result[0]) == exact_mean(np.float32([1, 2, 4]), np.float32)
    assert result[1:] == ["nan", "nan"]  # inf + -inf; a NaN
    assert "2.3333333" in out and "2.33333333" not in out  # float32's shortest repr, not float64's


def test_empty_arrays_give_nan_means_and_zero_sums(tmp_path, capsys):
    np.save(tmp_path / "e.npy", np.zeros((0, 3), np.float64))
    code, out, _ = cli(capsys, "mean", tmp_path / "e.npy", "--json")
    assert code == 0 and json.loads(out)["result"] == "nan" and json.loads(out)["count"] == 0
    code, out, _ = cli(capsys, "sum", tmp_path / "e.npy", "--axis", "0", "--json")
    assert code == 0 and json.loads(out)["result"] == [0.0, 0.0, 0.0]


def write_truncated(path: Path):
    np.save(path, np.arange(1000, dtype=np.float64))
    path.write_bytes(path.read_bytes()[:-8])


def write_corrupt_header(path: Path):
    np.save(path, np.arange(10, dtype=np.float64))
    data = bytearray(path.read_bytes())
    data[20:30] = b"@@@@@@@@@@"
    path.write_bytes(bytes(data))


def write_object_array(path: Path):
    np.save(path, np.array([1, "two", None], dtype=object), allow_pickle=True)


def write_strings(path: Path):
    np.save(path, np.array(["a", "bc"]))


def write_corrupt_npz(path: Path):
    np.savez_compressed(path, a=np.arange(100000, dtype=np.float64))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the deflated member: a zlib or CRC error
    path.write_bytes(bytes(data))


def write_not_an_array(path: Path):
    path.write_text("hello\n")


BAD_FILES = {
    "truncated.npy": (write_truncated, "truncated"),
    "header.npy": (write_corrupt_header, "not a readable .npy array"),
    "object.npy": (write_object_array, "object array"),
    "strings.npy": (write_strings, "cannot be averaged"),
    "corrupt.npz": (write_corrupt_npz, "corrupt"),
    "text.npy": (write_not_an_array, "not a readable .npy array"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unreadable_files_exit_1_with_their_name(tmp_path, capsys, name):
    write, message = BAD_FILES[name]
    write(tmp_path / name)
    code, out, err = cli(capsys, "mean", tmp_path / name)
    assert code == 1 and out == ""
    assert err.startswith(f"npmean: {tmp_path / name}") and message in err and err.count("\n") == 1


def test_user_errors_in_a_child_process_are_one_line_never_a_traceback(tmp_path):
    write_truncated(tmp_path / "t.npy")
    write_object_array(tmp_path / "o.npy")
    np.save(tmp_path / "good.npy", np.ones((3, 4)))
    cases = [
        (1, ["mean", tmp_path / "missing.npy"], "missing.npy: No such file or directory"),
        (1, ["mean", tmp_path / "t.npy"], "t.npy: truncated"),
        (1, ["sum", tmp_path / "o.npy"], "o.npy: an object array"),
        (2, [], "usage:"),
        (2, ["median", tmp_path / "good.npy"], "invalid choice"),
        (2, ["mean"], "at least one FILE"),
        (2, ["mean", tmp_path / "good.npy", "--axis", "x"], "--axis takes integers"),
        (2, ["mean", tmp_path / "good.npy", "--axis", "2"], "good.npy"),
        (2, ["mean", tmp_path / "good.npy", "--threads", "0"], "--threads"),
        (2, ["mean", tmp_path / "good.npy", "--each", "--save-state", tmp_path / "s"], "--each"),
    ]
    for code, argv, message in cases:
        got, out, err = run(*argv)
        assert (got, out) == (code, ""), (argv, err)
        assert message in err and "Traceback" not in err, (argv, err)
    assert run("mean", tmp_path / "good.npy") == (0, "1.0\n", "")


def test_the_console_script_is_declared_for_the_same_main():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'npmean = "npmean.__main__:main"' in text
    from npmean import __main__

    assert __main__.main is _cli.main


def test_a_closed_pipe_is_not_a_traceback(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((20000, 2)))
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    child = subprocess.Popen(
        [sys.executable, "-m", "npmean", "mean", str(tmp_path / "a.npy"), "--axis", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    child.stdout.close()  # the reader is gone before the first line
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1 and "Traceback" not in err


def read_pty(master: int, child: subprocess.Popen) -> bytes:
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            output += chunk
        elif child.poll() is not None:
            break
    return output


def test_a_progress_bar_only_on_a_terminal(tmp_path):
    pytest.importorskip("tqdm")
    np.save(tmp_path / "a.npy", np.ones(4 << 20, np.float32))
    # A terminal of 80 columns (the pty's size below; COLUMNS, if inherited, would override it).
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT, "COLUMNS": "80", "LINES": "24"}
    argv = [sys.executable, "-m", "npmean", "mean", str(tmp_path / "a.npy")]
    for extra, bar in (([], True), (["--no-progress"], False)):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # (a new pty has 0 columns)
        child = subprocess.Popen(argv + extra, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        terminal = read_pty(master, child).decode(errors="replace")
        os.close(master)
        assert child.wait(timeout=60) == 0 and child.stdout.read() == b"1.0\n"
        assert ("npmean:" in terminal and "100%" in terminal and "16.8M" in terminal) is bar, terminal
    # Not a terminal: nothing on stderr.
    assert run("mean", tmp_path / "a.npy") == (0, "1.0\n", "")


def anonymous_kib(pid: int):
    """(RssAnon, VmRSS) of a process in KiB, or None once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    try:
        return int(fields["RssAnon"].split()[0]), int(fields["VmRSS"].split()[0])
    except KeyError:  # a zombie
        return None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="RssAnon is read from /proc")
def test_a_3_gb_file_in_bounded_anonymous_memory(tmp_path):
    """The file's pages are page cache (RssFile): only the anonymous memory is bounded. The child's
    RssAnon is sampled every millisecond while it runs, from its first instruction to its exit."""
    block = np.random.default_rng(1).standard_normal(4 << 20).astype(np.float32)  # 16 MiB
    repeats = 3 * 1024 // 16
    path = tmp_path / "big.npy"
    header = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(repeats * block.size,))
    del header
    with open(path, "r+b") as handle:
        handle.seek(-repeats * block.nbytes, os.SEEK_END)
        for _ in range(repeats):
            handle.write(block.tobytes())
    assert path.stat().st_size > 3 << 30
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    child = subprocess.Popen(
        [sys.executable, "-m", "npmean", "mean", str(path), "--json"], stdout=subprocess.PIPE, env=env
    )
    peak_anon = peak_rss = 0
    while child.poll() is None:
        sample = anonymous_kib(child.pid)
        if sample:
            peak_anon, peak_rss = max(peak_anon, sample[0]), max(peak_rss, sample[1])
        time.sleep(0.001)
    out = child.stdout.read().decode()
    assert child.returncode == 0
    # The exact mean of copies of a block is the block's exact mean.
    assert same(json_result(out, "float32"), npmean.mean(block))
    assert float(json_result(out, "float32")) == exact_mean(block, np.float32)
    assert json.loads(out)["count"] == repeats * block.size
    print(f"peak RssAnon {peak_anon / 1024:.0f} MiB, peak VmRSS {peak_rss / 1024:.0f} MiB")
    assert 0 < peak_anon < 256 * 1024


def test_the_cut_follows_memory_order_and_keeps_merged_states_bounded(monkeypatch):
    f4 = np.dtype(np.float32)
    assert _cli.Plan((1000, 30), False, f4, (0,), seekable=True).axis == 0  # small output: rows, merged
    assert _cli.Plan((1000, 30), True, f4, (0,), seekable=True).axis == 1  # Fortran order: columns first
    monkeypatch.setattr(_cli, "STATE_BYTES", 30 * 596 - 1)  # 30 merged states no longer fit
    assert _cli.Plan((1000, 30), False, f4, (0,), seekable=True).axis == 1  # each column finished in a chunk
    assert _cli.Plan((1000, 30), False, f4, (0,), seekable=False).axis == 0  # (a compressed stream: in order)
    plan = _cli.Plan((1000, 30), False, f4, (1,), seekable=True)  # rows kept: their states bound the chunk
    assert plan.axis == 0 and plan.rows * 596 <= _cli.STATE_BYTES


def test_an_integer_sum_beyond_its_type_exits_1(tmp_path, capsys):
    np.save(tmp_path / "big.npy", np.full(4, 2**62, np.int64))
    code, out, err = cli(capsys, "sum", tmp_path / "big.npy")
    assert code == 1 and out == "" and "npmean:" in err
    code, out, _ = cli(capsys, "sum", tmp_path / "big.npy", "--dtype", "float64", "--json")
    assert code == 0 and json.loads(out)["result"] == 2.0**64
