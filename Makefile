# make demo      - build libmean.so, set up .venv, run the examples
# make test      - every test: cargo test, pytest, the C caller, `pip install .`, an sdist and a
#                  wheel each in a throwaway venv, and (with a nightly toolchain) a short fuzz run
# make bench     - the benchmark (npmean.mean vs numpy.mean)
# make fuzz      - each fuzz target for FUZZ_SECONDS (default 600) (nightly; installs cargo-fuzz)
# make test-asan - the Rust tests under AddressSanitizer (nightly)

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
LIB    := target/release/libmean.so
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find src -name '*.rs')

.PHONY: all build venv demo test test-rust test-python test-c test-install test-dist test-fuzz fuzz fuzz-tools test-asan bench clean

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
	$(VPY) examples/dask_xarray.py
	./examples/c_caller

# pytest last: its closing line is the run's.
test: test-rust test-c test-fuzz test-install test-dist test-python

test-rust:
	cargo test

# The whole suite at the best SIMD level, then the accuracy-bearing files once per other level
# this CPU has (NPMEAN_SIMD forces it; scalar is the portable fallback).
PER_LEVEL_TESTS := tests/python/test_accuracy.py tests/python/test_properties.py tests/python/test_simd_threads.py \
                   tests/python/test_correct_rounding.py tests/python/test_engine.py tests/python/test_nan_and_sum.py

test-python: build venv
	$(VPY) -m pytest -q tests/python
	levels=$$(PYTHONPATH=python $(VPY) -c "import npmean; print(*npmean.available_simd_levels()[:-1])"); \
	for level in $$levels; do \
	  echo "== NPMEAN_SIMD=$$level"; \
	  NPMEAN_SIMD=$$level $(VPY) -m pytest -q $(PER_LEVEL_TESTS) || exit 1; \
	done
	levels=$$(PYTHONPATH=python $(VPY) -c "import npmean; print(*npmean.available_simd_levels())"); \
	for level in $$levels; do \
	  echo "== NPMEAN_SIMD=$$level NPMEAN_CERTIFICATE=off (the paths taken where the inexact flag is not kept)"; \
	  NPMEAN_CERTIFICATE=off NPMEAN_SIMD=$$level $(VPY) -m pytest -q $(PER_LEVEL_TESTS) || exit 1; \
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
	# The console script of the install: the mean of a file, from another directory.
	cd /tmp && $(CURDIR)/build/install-venv/bin/python -c "import numpy as np; np.save('npmean-install-check.npy', np.arange(5.0))" \
	  && test "$$($(CURDIR)/build/install-venv/bin/npmean mean npmean-install-check.npy)" = 2.0 \
	  && rm npmean-install-check.npy && echo 'npmean console script ok'

bench: build venv
	$(VPY) -m pip install --quiet -r requirements-bench.txt
	$(VPY) examples/bench.py
	cargo bench --bench levels

# An sdist built in a clean directory, installed into a throwaway venv, used from another
# directory; and the wheel built from that sdist, the same way.
DIST := build/dist
test-dist: venv
	rm -rf $(DIST) build/sdist-venv build/wheel-venv
	$(VPY) -m build --outdir $(DIST) . > build/dist.log 2>&1 || (tail -40 build/dist.log; exit 1)
	for kind in sdist wheel; do \
	  file=$$(ls $(DIST)/*$$([ $$kind = sdist ] && echo .tar.gz || echo .whl)); \
	  $(PYTHON) -m venv build/$$kind-venv && \
	  build/$$kind-venv/bin/python -m pip install --quiet $$file && \
	  (cd /tmp && $(CURDIR)/build/$$kind-venv/bin/python -c "import npmean, numpy as np; \
	    path = npmean.library().path; assert 'site-packages' in str(path), path; \
	    m = npmean.mean(np.ones(10**7, np.float32)); assert m == 1.0, m; \
	    print('$$kind install ok:', '$$file', path)") || exit 1; \
	done

# Fuzzing needs a nightly toolchain and cargo-fuzz (installed here from crates.io if missing).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := means accumulator_bytes reduce
# Inputs up to 128 KiB: 16,384 doubles, enough for whole kernel blocks and the runs of blocks
# the exact path sends to the large superaccumulator.
FUZZ_MAX_LEN ?= 131072
NIGHTLY := $(shell rustup toolchain list 2>/dev/null | grep -q '^nightly' && echo yes)

fuzz-tools:
	@command -v cargo-fuzz > /dev/null || cargo install --locked cargo-fuzz

# Each target's output goes to build/fuzz-TARGET.log; its last line (runs, seconds) is shown,
# and on a finding the log's end, with the input that failed (under fuzz/artifacts/).
fuzz: fuzz-tools
	mkdir -p build
	for target in $(FUZZ_TARGETS); do \
	  log=build/fuzz-$$target.log; \
	  if (cd fuzz && cargo +nightly fuzz run $$target -- -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -rss_limit_mb=4096) > $$log 2>&1; \
	  then echo "fuzz $$target: $$(tail -n 1 $$log), no finding"; \
	  else tail -n 60 $$log; echo "fuzz $$target: FINDING (see $$log)"; exit 1; fi; \
	done

# A few seconds per target in `make test`, when nightly is there.
test-fuzz:
ifeq ($(NIGHTLY),yes)
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
else
	@echo "test-fuzz: skipped, no nightly toolchain (rustup toolchain install nightly)"
endif

# --target keeps the sanitizer off build scripts.
test-asan:
	RUSTFLAGS=-Zsanitizer=address RUSTDOCFLAGS=-Zsanitizer=address ASAN_OPTIONS=detect_leaks=1 \
	  cargo +nightly test --target $$(rustc -vV | sed -n 's/^host: //p') --target-dir target/asan --tests

clean:
	cargo clean
	rm -rf fuzz/target
	rm -rf $(VENV) build libmean.so examples/c_caller tests/c/fp_environment python/npmean.egg-info
