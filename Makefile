# make demo  - build libmean.so, set up .venv, run the examples
# make test  - every test: cargo test, pytest, the C caller, and `pip install .` in a throwaway venv
# make bench - the benchmark (npmean.mean vs numpy.mean)

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
LIB    := target/release/libmean.so
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find src -name '*.rs')

.PHONY: all build venv demo test test-rust test-python test-c test-install bench clean

all: build

build: libmean.so

$(LIB): $(RUST_SOURCES)
	cargo build --release
	@touch $@

# A copy at the repository root, so that the tutorial's ctypes.cdll.LoadLibrary('./libmean.so') works.
libmean.so: $(LIB)
	cp $(LIB) $@

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

examples/c_caller: examples/c_caller.c include/mean.h libmean.so
	cc -O2 -Wall -Wextra -std=c11 -Iinclude -o $@ $< -L. -lmean -lm -Wl,-rpath,'$$ORIGIN/..'

demo: build venv examples/c_caller
	$(VPY) examples/raw_ctypes.py
	$(VPY) examples/demo.py
	./examples/c_caller

test: test-rust test-python test-c test-install

test-rust:
	cargo test

# The whole suite at the best SIMD level, then the accuracy-bearing files once per other level
# this CPU has (NPMEAN_SIMD forces it; scalar is the portable fallback).
PER_LEVEL_TESTS := tests/python/test_accuracy.py tests/python/test_properties.py tests/python/test_simd_threads.py \
                   tests/python/test_correct_rounding.py

test-python: build venv
	$(VPY) -m pytest -q tests/python
	levels=$$(PYTHONPATH=python $(VPY) -c "import npmean; print(*npmean.available_simd_levels()[:-1])"); \
	for level in $$levels; do \
	  echo "== NPMEAN_SIMD=$$level"; \
	  NPMEAN_SIMD=$$level $(VPY) -m pytest -q $(PER_LEVEL_TESTS) || exit 1; \
	done

tests/c/fp_environment: tests/c/fp_environment.c include/mean.h libmean.so
	cc -O2 -Wall -Wextra -std=c11 -Iinclude -o $@ $< -L. -lmean -Wl,-rpath,'$$ORIGIN/../..'

# The C caller, and (x86_64) results under a caller's changed floating-point environment.
test-c: examples/c_caller
	./examples/c_caller
	if [ "$$(uname -m)" = x86_64 ]; then $(MAKE) --no-print-directory tests/c/fp_environment && ./tests/c/fp_environment; fi

# `pip install .` into a throwaway venv, then use npmean from another directory.
test-install: venv
	rm -rf build/install-venv build/lib* build/temp*
	$(PYTHON) -m venv build/install-venv
	build/install-venv/bin/python -m pip install --quiet .
	cd /tmp && $(CURDIR)/build/install-venv/bin/python -c "import npmean, numpy as np; \
	  path = npmean.library().path; assert 'site-packages' in str(path), path; \
	  m = npmean.mean(np.ones(10**7, np.float32)); assert m == 1.0, m; \
	  print('pip install . ok:', path)"

bench: build venv
	$(VPY) examples/bench.py
	cargo bench --bench levels

clean:
	cargo clean
	rm -rf $(VENV) build libmean.so examples/c_caller tests/c/fp_environment python/npmean.egg-info
