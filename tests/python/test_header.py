"""include/mean.h agrees with the code: the same functions as src/ffi.rs exports, each with the
C types its Rust signature has, and as the built library's dynamic symbols; the ABI version
macro is the library's."""

import re
import shutil
import subprocess

import pytest

import npmean
from conftest import ROOT

HEADER = (ROOT / "include" / "mean.h").read_text()
FFI = (ROOT / "src" / "ffi.rs").read_text()

# Rust types of the C ABI -> their C spelling (pointers written as the header writes them).
C_TYPES = {
    "c_float": "float", "c_double": "double", "c_int": "int", "size_t": "size_t", "u64": "uint64_t",
    "u32": "uint32_t", "u8": "uint8_t", "c_char": "char", "MeanAcc": "mean_acc", "()": "void",
    "MeanArray": "struct mean_array", "MeanCall": "struct mean_call",
}


def c_type(rust: str) -> str:
    """`*const *const c_float` -> `const float *const *`; `*mut MeanAcc` -> `mean_acc *`."""
    rust = rust.strip()
    pointers = []
    while rust.startswith("*"):
        qualifier, rust = rust[1:].split(None, 1)
        pointers.append(qualifier)
    # The innermost pointer's qualifier applies to the pointee; outer ones to the pointers.
    base = C_TYPES[rust]
    if not pointers:
        return base
    text = ("const " if pointers[-1] == "const" else "") + base + " *"
    for qualifier in reversed(pointers[:-1]):
        text += "const *" if qualifier == "const" else "*"
    return text


def normalise(c: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*\*\s*", " * ", c)).replace("* *", "**").strip()


def exported_by_ffi_rs() -> dict[str, tuple[str, list[str]]]:
    """name -> (C return type, C parameter types) for every #[no_mangle] fn built by default."""
    functions = {}
    pattern = re.compile(
        r"((?:#\[[^\]]*\]\s*)+)pub (?:unsafe )?extern \"C\" fn (\w+)\(([^)]*)\)\s*(?:->\s*([^{]+?))?\s*\{")
    for attributes, name, params, ret in pattern.findall(FFI):
        if "no_mangle" not in attributes or "cfg(feature" in attributes:
            continue
        types = [c_type(p.split(":", 1)[1]) for p in params.split(",") if p.strip()]
        functions[name] = (c_type(ret or "()"), types)
    return functions


def declared_in_header() -> dict[str, tuple[str, list[str]]]:
    functions = {}
    for ret, name, params in re.findall(r"^([\w ]+?\s*\**)\s*(\w+)\(([^)]*)\);", HEADER, re.M):
        params = [] if params.strip() == "void" else params.split(",")
        # Drop each parameter's name: the last identifier.
        types = [re.sub(r"\w+\s*$", "", p).strip() for p in params]
        functions[name] = (ret.strip(), types)
    return functions


def test_the_header_declares_exactly_what_ffi_rs_exports_with_the_same_types():
    code, header = exported_by_ffi_rs(), declared_in_header()
    assert sorted(code) == sorted(header)
    assert len(code) == FFI.count("#[unsafe(no_mangle)]")  # the parse found every one
    for name, (ret, params) in code.items():
        h_ret, h_params = header[name]
        assert normalise(h_ret) == normalise(ret), name
        assert [normalise(p) for p in h_params] == [normalise(p) for p in params], name


def test_the_doc_comment_of_each_function_quotes_its_header_prototype():
    header = {normalise(m) for m in re.findall(r"^[\w ]+?\s*\**\s*\w+\([^)]*\)", HEADER, re.M)}
    for name in exported_by_ffi_rs():
        quoted = re.search(r"/// `([^`]*\b" + name + r"\([^`]*\))`", FFI)
        assert quoted, f"{name}: no quoted C prototype in its doc comment"
        assert normalise(quoted.group(1)) in header, name


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs nm (binutils)")
def test_the_library_exports_exactly_the_header_functions():
    lines = subprocess.run(["nm", "-D", "--defined-only", str(npmean.library().path)], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    symbols = {line.split()[-1] for line in lines if line.strip()}
    ours = {s for s in symbols if s.startswith("mean_") or s == "compute_mean"}
    assert ours == set(declared_in_header())


def test_the_abi_version_macro_is_the_librarys():
    (macro,) = re.findall(r"#define MEAN_ABI_VERSION (\d+)", HEADER)
    assert int(macro) == npmean.library().cdll.mean_abi_version() == npmean._lib.ABI_VERSION
    assert f"pub const ABI_VERSION: u32 = {macro};" in FFI
