# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
OUT    ?= demo_out

.PHONY: demo test bench lint clean install install-test install-bench fuzz

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[plots]"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[test,plots]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[bench,plots]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

demo: $(VENV)/.installed
	$(PY) -m minigrad demo --out $(OUT)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q --cov=minigrad --cov-report=term

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache

# The differential fuzzer (eager vs mg.jit vs PyTorch), long runs: make fuzz N=20000 SEED=7
N    ?= 2000
SEED ?= random
fuzz: $(VENV)/.installed-test
	$(PY) -m minigrad.testing.fuzz --n $(N) --seed $(SEED)
