# Everything a user or CI runs goes through here. The first target that needs Python creates
# .venv from requirements.lock, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed
SPARK_BUILT := $(VENV)/.spark-built
# The installer: uv (pinned; the stamp names the pin, so a new pin makes a new venv), put into
# the venv by Python's own pip. uv installs the locks in seconds where pip took a minute and a
# half (parallel downloads and unpacking), the same pinned versions. Every uv command names the
# venv's Python, so an activated other environment (VIRTUAL_ENV) is never the one installed into.
UV_VERSION := 0.13.9
VENV_STAMP := $(VENV)/.uv-$(UV_VERSION)
UV = $(BIN)/uv
UV_OPTIONS = --quiet --python $(BIN)/python
# uv reads no pip configuration: where pip is pointed (an index, a mirror, a certificate) through
# the environment, uv is pointed too, unless uv's own variables already say. With extra indexes,
# uv takes each package's best match across them all, as pip does (uv's default stops at the
# first index that knows the name).
comma := ,
empty :=
space := $(empty) $(empty)
ifdef PIP_INDEX_URL
export UV_DEFAULT_INDEX ?= $(PIP_INDEX_URL)
endif
ifdef PIP_EXTRA_INDEX_URL
export UV_INDEX ?= $(PIP_EXTRA_INDEX_URL)
export UV_INDEX_STRATEGY ?= unsafe-best-match
endif
ifdef PIP_FIND_LINKS
export UV_FIND_LINKS ?= $(subst $(space),$(comma),$(strip $(PIP_FIND_LINKS)))
endif
ifdef PIP_CERT
export SSL_CERT_FILE ?= $(PIP_CERT)
endif
# The installed packages' bytecode, written after each install on every core (files already
# compiled are skipped), except the test folders that packages ship (pandas', numpy's, scipy's:
# a fifth of the files, never imported here). Without .pyc files every process would compile
# what it imports again (environments with PYTHONDONTWRITEBYTECODE never write them back).
COMPILE_BYTECODE = $(BIN)/python -m compileall -q -j 0 -x 'site-packages/(pip/|.*/tests?/)' $$($(BIN)/python -c "import sysconfig; print(sysconfig.get_path('purelib'))")
# SQL that sqlfluff checks (folders that exist in this checkout), one process per core: linting
# is CPU-bound (57 core-s with sqlfluff's Rust parser, 102 without, on a 2-core machine).
SQL_DIRS := $(wildcard models macros snapshots data-tests analyses)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DBT_PROFILES_DIR ?= $(CURDIR)
export DBT_PROJECT_DIR ?= $(CURDIR)
# The venv first on PATH, so every tool (dagster-dbt looks up `dbt`) is the pinned one.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-spark dev lint lint-sql format manifest docs generate clean lock help bench browser spark java

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	@echo ">> creating $(VENV) (first run only, about a minute)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@touch $@

$(STAMP): $(VENV_STAMP) requirements.lock pyproject.toml
	$(UV) pip install $(UV_OPTIONS) --no-deps -r requirements.lock
	$(UV) pip install $(UV_OPTIONS) --no-deps -e .
	$(COMPILE_BYTECODE)
	$(UV) pip check $(UV_OPTIONS)
	@touch $(STAMP)

# pyspark is a ~456 MB source archive that is built into a wheel (~30 s of one core the first
# time). `make test` builds it into uv's cache while the main install runs (make -j2: into a
# throw-away folder, never into the venv), and the Spark install then takes it from the cache.
$(SPARK_BUILT): $(VENV_STAMP) requirements-spark.lock
	@echo ">> building pyspark's wheel (first time only)"
	rm -rf $(VENV)/spark-build
	$(UV) pip install $(UV_OPTIONS) --no-deps --target $(VENV)/spark-build $$(grep '^pyspark==' requirements-spark.lock)
	rm -rf $(VENV)/spark-build
	@touch $@

# Spark (docs/spark.md): Java 17 when missing, then requirements-spark.lock into the same .venv.
$(SPARK_STAMP): $(STAMP) $(SPARK_BUILT) requirements-spark.lock
	@$(MAKE) --no-print-directory java
	@echo ">> installing Spark's packages (requirements-spark.lock; first time only)"
	$(UV) pip install $(UV_OPTIONS) --no-deps -r requirements-spark.lock
	$(COMPILE_BYTECODE)
	$(UV) pip check $(UV_OPTIONS)
	@touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)  ## Spark for CLM_ENGINE=spark and its tests: Java 17 (apt-get, when missing), dbt-spark, pyspark

java:  ## Java 17 for Spark (openjdk-17-jre-headless via apt-get; only when java is missing or older)
	@version=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1); \
	if [ -z "$$version" ] || [ "$$version" -lt 17 ]; then \
	  echo ">> installing Java 17 (openjdk-17-jre-headless; apt-get, needs root)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless; \
	fi

# Dagster's home with our dagster.yaml (telemetry off, the event log of orchestration/
# dagster_event_log.py), written when missing; checked again when preflight.py changes, which
# replaces the file an earlier version wrote (a file you edited is kept; touched, not rewritten).
$(DAGSTER_HOME)/dagster.yaml: orchestration/preflight.py | $(STAMP)
	@$(BIN)/python -c "from orchestration.preflight import prepare_dagster_home; prepare_dagster_home()"
	@touch $@

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
	@$(MAKE) --no-print-directory -j2 $(STAMP) $(SPARK_BUILT)
	@$(MAKE) --no-print-directory browser spark
	$(BIN)/ruff check orchestration tools benchmarks tests
	$(BIN)/ruff format --check orchestration tools benchmarks tests
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint-sql manifest
	$(BIN)/pytest

test-spark: $(STAMP) spark  ## only the Spark engine's tests (marker spark)
	$(BIN)/python -m orchestration.dbt_cli
	$(BIN)/pytest -m spark

dev: $(STAMP) $(ENGINE_DEPS) $(DAGSTER_HOME)/dagster.yaml manifest  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

lint: $(STAMP) lint-sql  ## ruff and sqlfluff
	$(BIN)/ruff check orchestration tools benchmarks tests

# `make test` runs it beside the dbt parse (`make manifest`, one core): sqlfluff's two processes
# and the parse share the machine's two cores.
lint-sql: $(STAMP)  ## sqlfluff only
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
	@{ echo "# Exact versions that install together offline on Python 3.11 (uv pip freeze of a clean install)."; \
	   echo "# Regenerate with: make lock   (see README, 'Dependencies')"; \
	   $(UV) pip freeze $(UV_OPTIONS) --exclude-editable | grep -v -E '^(pip|setuptools|uv)==' | grep -v -x -F -f <(grep -v '^#' requirements-spark.lock); } > requirements.lock

clean:  ## remove build output (keeps .venv, landing/ and warehouse/)
	rm -rf target logs .pytest_cache .ruff_cache expectations/gx/uncommitted

browser:  ## Debian's headless Chromium for the report's browser test (installed only when missing)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo ">> installing chromium and chromium-driver (apt-get; needs root)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi
