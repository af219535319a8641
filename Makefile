# Two commands for a newcomer: `make demo` (the pipeline end to end on the embedded
# PostgreSQL) and `make test` (lint + the test suite). Both create the virtual environment
# from the pinned lock on first use; nothing else needs to be installed but python3.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.8
export PYTHONPATH :=
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DO_NOT_TRACK := 1

.PHONY: venv demo test test-slow test-reliability lint test-fast lock seeds clean-state help bench bi-check bi-lock bi-venv data-docs-assets

help:
	@echo "make demo   - run the pipeline end to end on sample data (embedded PostgreSQL)"
	@echo "make test   - lint (ruff, sqlfluff) and run the test suite against real PostgreSQL"
	@echo "make lock   - re-resolve requirements.txt into requirements.lock"
	@echo "make seeds  - regenerate the reference seeds from the province packages"
	@echo "make bench  - the national-scale benchmark (BENCH_ARGS=\"--scale 0.05\" for a quick one)"
	@echo "make bi-check - the Superset dashboard imported, queried and screenshotted in a real Superset"

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/planwh demo

lint: venv
	$(BIN)/ruff check include dags tests
	$(BIN)/sqlfluff lint dbt_project --processes 2

test: lint
	$(BIN)/pytest -m "not slow"

# Tests marked slow: long runs kept out of `make test` (and so out of CI).
test-slow: venv
	$(BIN)/pytest -m slow

# The reliability and security suite alone (SECURITY.md); `make test` runs it too.
test-reliability: venv
	$(BIN)/pytest -q tests/reliability

test-fast: venv
	$(BIN)/pytest -x -q -m "not slow"

lock: venv
	$(BIN)/uv pip compile requirements.txt --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements.lock

seeds: venv
	$(BIN)/python -m planwh.reference.build_seeds

# The scripts, style sheets and fonts of GX Data Docs, fetched again from the npm registry into
# include/planwh/validate/data_docs_assets/ (committed: the pages are built offline).
data-docs-assets: venv
	$(BIN)/python -m planwh.validate.data_docs

# Issue #9: the pipeline at national scale (10 M portal rows), each figure against its baseline.
# The generated dataset is cached in .state/bench/ by its parameters; the run uses its own
# embedded PostgreSQL (port 54359) and drops its databases at the end.
bench: venv
	$(BIN)/python bench/national.py $(BENCH_ARGS)

# Superset, the version of the compose image, in its own virtual environment: its pins clash with
# Airflow's (Flask 2 against 3, SQLAlchemy 1.4 against 2), so it never shares .venv.
BI_VENV  := .venv-bi
BI_LOCK  := deploy/superset/requirements-check.lock
BI_STAMP := $(BI_VENV)/.installed

$(BI_STAMP): $(BI_LOCK) $(STAMP)
	test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	$(BIN)/uv pip sync --quiet --python $(BI_VENV)/bin/python --compile-bytecode $(BI_LOCK)
	touch $(BI_STAMP)

bi-venv: $(BI_STAMP)

# The dashboard bundle proved in that Superset against the demo's warehouse (planwh.bi); needs
# Debian's chromium and chromium-driver (.ci/run installs them).
bi-check: venv bi-venv
	$(BIN)/planwh bi check --superset-venv $(BI_VENV)

bi-lock: venv
	$(BIN)/uv pip compile deploy/superset/requirements-check.in --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o $(BI_LOCK)

clean-state: venv
	-$(BIN)/planwh db down
	rm -rf .state landing
