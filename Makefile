# ar — accounts receivable service.
# A fresh clone needs no manual setup: every target depends on the venv stamp.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV      := .venv
PYTHON    := python3
STAMP     := $(VENV)/.installed
BIN       := $(VENV)/bin

HOST      ?= 127.0.0.1
PORT      ?= 8000
PYTEST_WORKERS ?= 2
PYTEST_ARGS    ?=
AR_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

# Lint only the directories that exist (bench/ is optional).
LINT_DIRS := $(wildcard services tests bench migrations)

.PHONY: help run test lint bench clean docker fuzz soak

help:
	@echo "make run     - migrate and serve on http://$(HOST):$(PORT) (SQLite)"
	@echo "make test    - ruff + mypy + import contracts + pytest (needs local PostgreSQL and chromium; installed"
	@echo "               and started if needed)"
	@echo "make lint    - ruff + mypy + import contracts"
	@echo "make bench   - run benchmarks against local PostgreSQL"
	@echo "make fuzz    - contract fuzzing (schemathesis), FUZZ_SECONDS per backend"
	@echo "make soak    - fault-injection soak, SOAK_SECONDS of chaos (a private PostgreSQL cluster)"
	@echo "make docker  - build the ar image"
	@echo "make clean   - remove var/ and caches (keeps $(VENV))"

# (Re)install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $@

run: $(STAMP)
	mkdir -p var
	$(BIN)/ar migrate
	$(BIN)/ar serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/mypy services
	$(BIN)/lint-imports

# pytest exits 5 when no tests were collected; any non-zero status fails make.
test: $(STAMP)
	scripts/ensure_postgres.sh
	scripts/ensure_chromium.sh  # Debian's chromium, for the admin page's browser test (tests/e2e/test_admin_page.py)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/mypy services
	$(BIN)/lint-imports  # the layering of ARCHITECTURE.md, contracts in pyproject.toml
	AR_TEST_POSTGRES_URL='$(AR_TEST_POSTGRES_URL)' $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(STAMP)
	scripts/ensure_postgres.sh
	AR_TEST_POSTGRES_URL='$(AR_TEST_POSTGRES_URL)' $(BIN)/python -m bench.run

# The soak makes its own PostgreSQL cluster (initdb); its ~60 s version runs inside `make test`.
SOAK_SECONDS ?= 300
SOAK_DAYS    ?= 300
soak: $(STAMP)
	scripts/ensure_postgres.sh  # the soak makes its own cluster, with the initdb this installs where missing
	mkdir -p var
	AR_SOAK_SECONDS=$(SOAK_SECONDS) AR_SOAK_DAYS=$(SOAK_DAYS) AR_SOAK_FIGURES=var/soak-figures.json AR_SOAK_LOGS=var/soak-logs \
		$(BIN)/pytest -n 0 -p no:randomly -s tests/soak

# Contract fuzzing over the whole OpenAPI, SQLite and PostgreSQL side by side; `make test` runs it for ~50 s
# per backend (tests/fuzz), this for FUZZ_SECONDS each.
FUZZ_SECONDS  ?= 300
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	scripts/ensure_postgres.sh
	AR_TEST_POSTGRES_URL='$(AR_TEST_POSTGRES_URL)' AR_FUZZ_SECONDS=$(FUZZ_SECONDS) AR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest -n 2 -p no:randomly -s tests/fuzz

clean:
	rm -rf var build dist bench/out .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

docker:
	docker build -t ar .
