"""``run_in_spark`` starts its child process wherever the pipeline runs, a pytest-xdist worker
included (whose ``__main__`` the child re-runs: tests/conftest.py names an empty module)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")

from orchestration.engines.spark import run_in_spark  # noqa: E402
from orchestration.engines.spark_child import SPARK_LOG  # noqa: E402

pytestmark = pytest.mark.spark


def test_a_step_runs_in_a_child_process_and_returns_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(tmp_path / "clm.duckdb"))
    child = run_in_spark(os.getpid)
    assert isinstance(child, int)
    assert child != os.getpid()
    # the child's output went to the Spark log beside the working file, not the terminal
    assert (tmp_path / "logs" / SPARK_LOG).exists()
