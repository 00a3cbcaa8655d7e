"""How npmean finds libmean: NPMEAN_LIBRARY, the installed copy, target/release, or a clear error."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import npmean
from conftest import ROOT

BUILT = ROOT / "target" / "release" / npmean._lib.LIBRARY_FILE


def run_python(code: str, cwd, env_extra=None, path=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NPMEAN_LIBRARY"}
    env["PYTHONPATH"] = str(path or ROOT / "python")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_source_tree_build_is_found(tmp_path):
    result = run_python("import npmean; print(npmean.library().path)", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == BUILT


def test_env_var_comes_first(tmp_path):
    copy = tmp_path / "elsewhere.so"
    shutil.copy(BUILT, copy)
    code = "import npmean, numpy as np; print(npmean.library().path); print(npmean.mean(np.arange(5.0)))"
    result = run_python(code, cwd=tmp_path, env_extra={"NPMEAN_LIBRARY": str(copy)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(copy), "2.0"]


def test_env_var_naming_a_missing_file_is_an_error(tmp_path):
    missing = tmp_path / "nope.so"
    result = run_python("import npmean; npmean.mean([1.0])", cwd=tmp_path,
                        env_extra={"NPMEAN_LIBRARY": str(missing)})
    assert result.returncode != 0
    assert "NPMEAN_LIBRARY" in result.stderr and str(missing) in result.stderr


def test_installed_copy_beside_the_package_is_used(tmp_path):
    package = tmp_path / "site" / "npmean"
    shutil.copytree(ROOT / "python" / "npmean", package, ignore=shutil.ignore_patterns("*.so"))
    shutil.copy(BUILT, package / npmean._lib.LIBRARY_FILE)
    result = run_python("import npmean; print(npmean.library().path)", cwd=tmp_path, path=package.parent)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == package / npmean._lib.LIBRARY_FILE


def test_no_library_anywhere_names_every_path_and_the_build_command(tmp_path):
    package = tmp_path / "site" / "npmean"
    shutil.copytree(ROOT / "python" / "npmean", package, ignore=shutil.ignore_patterns("*.so"))
    result = run_python("import npmean; npmean.mean([1.0])", cwd=tmp_path, path=package.parent)
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr
    assert str(package / npmean._lib.LIBRARY_FILE) in result.stderr
    assert "target" in result.stderr and "cargo build --release" in result.stderr


def test_load_library_explicitly(tmp_path):
    copy = tmp_path / "mine.so"
    shutil.copy(BUILT, copy)
    previous = npmean.library()
    try:
        lib = npmean.load_library(copy)
        assert npmean.library() is lib and lib.path == copy
        assert npmean.mean(np.array([1.0, 2.0], np.float32)) == np.float32(1.5)
    finally:
        npmean.load_library(previous.path)


def test_load_library_with_a_bad_path_raises():
    with pytest.raises(OSError):
        npmean.load_library("/nonexistent/libmean.so")
