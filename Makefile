# Everything a user or CI runs goes through here. The first target that needs Python creates
# .venv from requirements.lock, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed
# The venv with the pinned pip; the stamp names the pin, so a new pin makes a new venv stamp.
PIP_VERSION := 26.3
VENV_STAMP := $(VENV)/.pip-$(PIP_VERSION)
SPARK_WHEELS := $(VENV)/wheels
# The installed packages' bytecode, written after each install on every core (files already
# compiled are skipped). pip would compile file by file while it installs (over half of a fresh
# install's time), and without .pyc files every process would compile what it imports again
# (environments with PYTHONDONTWRITEBYTECODE never write them back).
COMPILE_BYTECODE = $(BIN)/python -m compileall -q -j 0 $$($(BIN)/python -c "import sysconfig; print(sysconfig.get_path('purelib'))")
# SQL that sqlfluff checks (folders that exist in this checkout), one process per core: linting
# is CPU-bound (57 core-s with sqlfluff's Rust parser, 102 without, on a 2-core machine).
SQL_DIRS := $(wildcard models macros snapshots data-tests analyses)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DBT_PROFILES_DIR ?= $(CURDIR)
export DBT_PROJECT_DIR ?= $(CURDIR)
# The venv first on PATH, so every tool (dagster-dbt looks up `dbt`) is the pinned one.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-spark dev lint format manifest docs generate clean lock help bench browser spark java

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	@echo ">> creating $(VENV) (first run only, a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==$(PIP_VERSION)"
	@touch $@

$(STAMP): $(VENV_STAMP) requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --no-compile --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-compile --no-deps -e .
	$(COMPILE_BYTECODE)
	$(BIN)/pip check
	@touch $(STAMP)

# pyspark is a ~456 MB source archive that pip builds into a wheel (~45 s of one core when pip's
# cache does not hold it yet). `make test` builds it while the main install runs (make -j2: it
# writes only into $(SPARK_WHEELS), never into the venv), and the Spark install takes it there.
$(SPARK_WHEELS)/.built: $(VENV_STAMP) requirements-spark.lock
	@echo ">> building pyspark's wheel (first time only)"
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(SPARK_WHEELS) $$(grep '^pyspark==' requirements-spark.lock)
	@touch $@

# Spark (docs/spark.md): Java 17 when missing, then requirements-spark.lock into the same .venv.
$(SPARK_STAMP): $(STAMP) $(SPARK_WHEELS)/.built requirements-spark.lock
	@$(MAKE) --no-print-directory java
	@echo ">> installing Spark's packages (requirements-spark.lock; first time only)"
	$(BIN)/pip install --quiet --no-compile --no-deps --find-links $(SPARK_WHEELS) -r requirements-spark.lock
	$(COMPILE_BYTECODE)
	$(BIN)/pip check
	@touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)  ## Spark for CLM_ENGINE=spark and its tests: Java 17 (apt-get, when missing), dbt-spark, pyspark

java:  ## Java 17 for Spark (openjdk-17-jre-headless via apt-get; only when java is missing or older)
	@version=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1); \
	if [ -z "$$version" ] || [ "$$version" -lt 17 ]; then \
	  echo ">> installing Java 17 (openjdk-17-jre-headless; apt-get, needs root)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless; \
	fi

# Dagster's home with a dagster.yaml (telemetry off), written once.
$(DAGSTER_HOME)/dagster.yaml: | $(STAMP)
	@$(BIN)/python -c "from orchestration.preflight import prepare_dagster_home; prepare_dagster_home()"

# Spark's packages only when the pipeline runs on Spark (CLM_ENGINE=spark, docs/spark.md).
ENGINE_DEPS := $(if $(filter spark,$(CLM_ENGINE)),$(SPARK_STAMP))

manifest: $(STAMP) $(ENGINE_DEPS)  ## parse the dbt project (target/manifest.json) for Dagster, with the settings in force
	@$(BIN)/python -m orchestration.dbt_cli

# `clm run` checks the settings, takes the run lock and parses the dbt project itself (once).
run: $(STAMP) $(ENGINE_DEPS) $(DAGSTER_HOME)/dagster.yaml  ## the main job end to end: sample data if the default landing/ is empty, load, build, validate, predict, publish
	@$(BIN)/clm run

# The whole suite includes the Spark tests (marker spark: a Spark pipeline run compared with the
# DuckDB one, snapshots and incremental staging on Spark), so `make test` installs Spark too.
# The installs first: the main one and pyspark's wheel side by side, then Chromium and Spark.
test:  ## the whole test suite: lint, dbt parse, pytest (unit, integration, faults, end to end, Spark parity)
	@$(MAKE) --no-print-directory -j2 $(STAMP) $(SPARK_WHEELS)/.built
	@$(MAKE) --no-print-directory browser spark
	$(BIN)/ruff check orchestration tools benchmarks tests
	$(BIN)/ruff format --check orchestration tools benchmarks tests
	$(BIN)/sqlfluff lint --processes 0 $(SQL_DIRS)
	$(BIN)/python -m orchestration.dbt_cli
	$(BIN)/pytest

test-spark: $(STAMP) spark  ## only the Spark engine's tests (marker spark)
	$(BIN)/python -m orchestration.dbt_cli
	$(BIN)/pytest -m spark

dev: $(STAMP) $(ENGINE_DEPS) $(DAGSTER_HOME)/dagster.yaml manifest  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

lint: $(STAMP)  ## ruff and sqlfluff
	$(BIN)/ruff check orchestration tools benchmarks tests
	$(BIN)/sqlfluff lint --processes 0 $(SQL_DIRS)

format: $(STAMP)  ## format Python and fix SQL style
	$(BIN)/ruff format orchestration tools benchmarks tests
	$(BIN)/ruff check --fix orchestration tools benchmarks tests
	$(BIN)/sqlfluff fix --processes 0 $(SQL_DIRS)

docs: $(STAMP)  ## dbt docs and the generated sections of README.md and docs/kpis.md
	$(BIN)/clm docs

generate: $(STAMP)  ## sample data into $$CLM_LANDING_DIR (default landing/), scale s
	$(BIN)/clm generate --scale s --seed 42

# Tiers to benchmark and those that also get a daily incremental run (make bench TIERS="xs s").
TIERS ?= xs s m l
INCREMENT_TIERS ?= xs s m l
bench: $(STAMP) manifest  ## benchmark each tier (TIERS="xs s m l"): benchmarks/results/<date>-<machine>.json + .md
	nice -n 10 $(BIN)/python -m benchmarks.bench --tiers $(TIERS) --increment-tiers $(INCREMENT_TIERS)

lock: $(STAMP)  ## rewrite requirements.lock from the current environment (Spark's packages stay in requirements-spark.lock)
	@{ echo "# Exact versions that install together offline on Python 3.11 (pip freeze of a clean install)."; \
	   echo "# Regenerate with: make lock   (see README, 'Dependencies')"; \
	   $(BIN)/pip freeze --exclude-editable | grep -v -x -F -f <(grep -v '^#' requirements-spark.lock); } > requirements.lock

clean:  ## remove build output (keeps .venv, landing/ and warehouse/)
	rm -rf target logs .pytest_cache .ruff_cache expectations/gx/uncommitted

browser:  ## Debian's headless Chromium for the report's browser test (installed only when missing)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo ">> installing chromium and chromium-driver (apt-get; needs root)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi
