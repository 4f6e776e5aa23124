# Everything a user or CI runs goes through here. The first target that needs Python creates
# .venv from requirements.lock, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# SQL that sqlfluff checks (folders that exist in this checkout).
SQL_DIRS := $(wildcard models macros snapshots data-tests analyses)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DBT_PROFILES_DIR ?= $(CURDIR)
export DBT_PROJECT_DIR ?= $(CURDIR)
# The venv first on PATH, so every tool (dagster-dbt looks up `dbt`) is the pinned one.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test dev lint format manifest docs generate clean lock help bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	@echo ">> creating $(VENV) (first run only, about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	@touch $(STAMP)

$(DAGSTER_HOME):
	@mkdir -p $(DAGSTER_HOME)

manifest: $(STAMP)  ## parse the dbt project (target/manifest.json) for Dagster
	@$(BIN)/dbt parse --quiet

run: $(STAMP) $(DAGSTER_HOME) manifest  ## the main job end to end: sample data if landing/ is empty, load, build, validate, predict, publish
	$(BIN)/clm run

test: $(STAMP)  ## the whole test suite: lint, dbt parse, pytest (unit, integration, end to end)
	$(BIN)/ruff check orchestration tools benchmarks tests
	$(BIN)/ruff format --check orchestration tools benchmarks tests
	$(BIN)/sqlfluff lint $(SQL_DIRS)
	$(BIN)/dbt parse --quiet
	$(BIN)/pytest

dev: $(STAMP) $(DAGSTER_HOME) manifest  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

lint: $(STAMP)  ## ruff and sqlfluff
	$(BIN)/ruff check orchestration tools benchmarks tests
	$(BIN)/sqlfluff lint $(SQL_DIRS)

format: $(STAMP)  ## format Python and fix SQL style
	$(BIN)/ruff format orchestration tools benchmarks tests
	$(BIN)/ruff check --fix orchestration tools benchmarks tests
	$(BIN)/sqlfluff fix $(SQL_DIRS)

docs: $(STAMP)  ## dbt docs and the README's generated sections
	$(BIN)/clm docs

generate: $(STAMP)  ## sample data into $$CLM_LANDING_DIR (default landing/), scale s
	$(BIN)/clm generate --scale s --seed 42

# Tiers to benchmark and those that also get a daily incremental run (make bench TIERS="xs s").
TIERS ?= xs s m l
INCREMENT_TIERS ?= m l
bench: $(STAMP) manifest  ## benchmark each tier (TIERS="xs s m l"): benchmarks/results/<date>-<machine>.json + .md
	nice -n 10 $(BIN)/python -m benchmarks.bench --tiers $(TIERS) --increment-tiers $(INCREMENT_TIERS)

lock: $(STAMP)  ## rewrite requirements.lock from the current environment
	@{ echo "# Exact versions that install together offline on Python 3.11 (pip freeze of a clean install)."; \
	   echo "# Regenerate with: make lock   (see README, 'Dependencies')"; \
	   $(BIN)/pip freeze --exclude-editable; } > requirements.lock

clean:  ## remove build output (keeps .venv, landing/ and warehouse/)
	rm -rf target logs .pytest_cache .ruff_cache expectations/gx/uncommitted
