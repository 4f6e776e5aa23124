"""Fixtures shared by every test folder.

Tests never touch the repository's own landing/ or warehouse/: `isolated_env` points every
CLM_ path at a temporary folder, and dbt/Dagster/GE read those paths when they run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT


def _main_module_for_pyspark() -> None:
    """With pyspark installed (`make spark`), Great Expectations imports pyspark's Spark Connect
    client, which takes a ``__main__`` without ``__spec__`` or ``__file__`` (pytest-xdist's
    workers) for its doctest runner and calls ``sys.exit(0)`` when Spark Connect's own packages
    are missing. A spec names an empty module as the main module instead: ``spawn`` children
    (the Spark steps) run it as their ``__mp_main__``. (Naming the ``orchestration`` package
    killed every such child at start-up: a package without ``__main__.py`` cannot be run.)"""
    import importlib.util
    import sys

    main = sys.modules.get("__main__")
    if (
        main is not None
        and getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
        and not hasattr(sys, "ps1")
    ):
        main.__spec__ = importlib.util.find_spec("support.worker_main")


_main_module_for_pyspark()

ISOLATED_VARIABLES = (
    "CLM_LANDING_DIR",
    "CLM_DUCKDB_PATH",
    "CLM_BI_DUCKDB_PATH",
    "CLM_ALERT_LOG_PATH",
    "CLM_AS_OF_DATE",
    "CLM_ALERT_WEBHOOK_URL",
    "CLM_ALERT_SMTP_HOST",
    "CLM_TOMBSTONE_PATH",
    "CLM_ERASURE_SALT",
    "CLM_CSV_ENCODING",
    "CLM_CURRENCY_RATE_FALLBACK",
    "CLM_MAX_TEXT_LENGTH",
    "CLM_ENGINE",
    "CLM_SPARK_WAREHOUSE_DIR",
    "CLM_DUCKDB_MEMORY_LIMIT",
    "CLM_RUN_UNIT_TESTS",
    "CLM_RUN_BUILTIN_TESTS",
)


# The longest work first, so the two xdist workers end together (`--no-loadscope-reorder`
# keeps this order; each worker takes the next test or group as it frees up). Earlier patterns
# run first; what matches none (the unit tests) comes last, in collection order.
LONG_FIRST = (
    # starts the session's shared clean run (tests/e2e/conftest.py), which most e2e tests read
    "tests/e2e/test_pipeline_end_to_end.py::test_the_run_succeeds",
    # the Spark pipeline run (the longest work, the Spark history's builds first on its Spark)
    # on the other worker from the start, while this one runs the clean run
    "tests/e2e/test_spark_pipeline.py",
    "tests/e2e/test_spark_history.py",
    "tests/integration/spark/",
    # meanwhile, on the other worker, the work that has its own files
    "tests/faults/test_runtime.py::test_two_runs_at_once",
    "tests/e2e/test_erasure_end_to_end.py",
    "tests/e2e/test_bad_files_and_old_history.py",
    "tests/e2e/test_bad_data_alerts.py",
    "tests/integration/",
    "tests/e2e/",
    "tests/faults/",
)


def _rank(nodeid: str) -> int:
    return next(
        (rank for rank, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)),
        len(LONG_FIRST),
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest work first (``LONG_FIRST``), and make `--dist loadgroup` group again.

    pytest-xdist 3.8 tags a grouped test by setting ``item._nodeid`` (``…@group``), which
    pytest 9 no longer reads (the id is ``item._id``), so every `xdist_group` was silently
    ignored and a group's tests ran on both workers (its session fixture built twice).
    """
    items.sort(key=lambda item: _rank(item.nodeid))
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        tagged = getattr(item, "_nodeid", None)
        if tagged and tagged != item.nodeid:
            item._id = NodeId.parse(tagged)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """target/manifest.json, parsed once per session if `make test` has not done it."""
    from orchestration.dbt_cli import prepare_manifest, target_dir

    path = target_dir() / "manifest.json"
    if not path.exists():
        prepare_manifest()
    return path


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every CLM_ path under tmp_path; returns tmp_path. No run is stored in DAGSTER_HOME."""
    for name in ISOLATED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("CLM_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(tmp_path / "warehouse" / "clm.duckdb"))
    monkeypatch.setenv("CLM_BI_DUCKDB_PATH", str(tmp_path / "warehouse" / "bi.duckdb"))
    monkeypatch.setenv("CLM_ALERT_LOG_PATH", str(tmp_path / "warehouse" / "alerts.jsonl"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(REPO_ROOT))
    (tmp_path / "warehouse").mkdir()
    assert os.environ["CLM_DUCKDB_PATH"].startswith(str(tmp_path))
    return tmp_path
