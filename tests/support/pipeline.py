"""Running the pipeline in tests: environment handling and the shared clean run's shape."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from orchestration.pipeline import PipelineOutcome
from orchestration.settings import environment  # noqa: F401 - the tests import it from here


@dataclass(frozen=True)
class CleanRun:
    root: Path
    env: dict[str, str]
    outcome: PipelineOutcome
    # Every landing file (relative path -> size, mtime) before the run.
    landing_before: dict[str, tuple[int, int]]
    # What the Spark run observed of its one Spark (tests/e2e/conftest.py: _spark_run).
    probe: dict[str, Any] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["CLM_DUCKDB_PATH"])

    @property
    def bi_file(self) -> Path:
        return Path(self.env["CLM_BI_DUCKDB_PATH"])


T = TypeVar("T")


def once_per_session(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]
) -> T:
    """``build(folder)`` once per test session, shared by every xdist worker.

    The first worker that asks builds it in a folder of the session's temporary directory
    (common to the workers) and leaves the result there (pickled); the others wait for it on a
    file lock, then read the same result and folder. So a session-scoped fixture that costs a
    pipeline run is paid once however xdist spreads its tests. A build that raises leaves no
    result: the next worker that asks builds again (and fails the same way).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-<n>/: this session's, shared by its workers
    folder, result = base / name, base / f"{name}.pickle"
    with (base / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if result.exists():
                return pickle.loads(result.read_bytes())
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            built = build(folder)
            result.write_bytes(pickle.dumps(built))
            return built
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def warehouse_env(root: Path) -> dict[str, str]:
    return {
        "CLM_LANDING_DIR": str(root / "landing"),
        "CLM_DUCKDB_PATH": str(root / "warehouse" / "clm.duckdb"),
        "CLM_BI_DUCKDB_PATH": str(root / "warehouse" / "bi.duckdb"),
        "CLM_ALERT_LOG_PATH": str(root / "warehouse" / "alerts.jsonl"),
    }


# Settings a developer's shell may hold that would change what the runs compute or where
# alerts go.
FOREIGN_SETTINGS = (
    "CLM_AS_OF_DATE",
    "CLM_ALERT_WEBHOOK_URL",
    "CLM_ALERT_SMTP_HOST",
    "DAGSTER_HOME",
    "DBT_TARGET_PATH",
    # A shell set for Spark would move the DuckDB runs onto Spark (docs/spark.md).
    "CLM_ENGINE",
    "CLM_SPARK_WAREHOUSE_DIR",
    # What a run's dbt builds leave out: the tests count the checks of a default run.
    "CLM_RUN_UNIT_TESTS",
    "CLM_RUN_BUILTIN_TESTS",
)


def landing_listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: relative path -> (size, mtime in ns)."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def sample_landing(folder: Path) -> None:
    """The end-to-end runs' landing files: the xs sample, clean, seed 7 (deterministic)."""
    from tools.generator import generate

    generate(folder, scale="xs", seed=7, dirty=False, progress=lambda _line: None)


def landing_digest(folder: Path) -> dict[str, str]:
    """Every landing file's relative path -> sha256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def dbt_run_results(run_id: str) -> dict[str, str]:
    """unique_id -> status of every node of a pipeline run's dbt invocations."""
    from orchestration.dbt_cli import run_target_dirs

    statuses: dict[str, str] = {}
    for folder in run_target_dirs(run_id):
        results = folder / "run_results.json"
        if results.exists():
            for result in json.loads(results.read_text(encoding="utf-8"))["results"]:
                statuses[result["unique_id"]] = result["status"]
    return statuses
