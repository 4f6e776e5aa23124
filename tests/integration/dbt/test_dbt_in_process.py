"""dbt's parse in the run's own process (orchestration/dbt_in_process.py): parsed once while
nothing it reads changes (where the files are aside), and a build's parse never rewrites the
manifest Dagster loaded.

The builds on that parse are the pipeline runs' own dbt steps, checked end to end (the clean
run's every asset and check, the bad-data cases' failing dbt tests, a kill during dbt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration import dbt_in_process
from orchestration.dbt_cli import target_dir


def test_a_parse_is_kept_across_warehouse_folders_and_written_beside_the_build(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
):
    loaded = target_dir() / "manifest.json"
    before = loaded.stat().st_mtime_ns if loaded.exists() else None
    # Whatever this worker parsed before (a pipeline run of another test) is forgotten.
    monkeypatch.setattr(dbt_in_process, "_parsed", None)

    first = dbt_in_process.parse(isolated_env / "build-1")
    assert (isolated_env / "build-1" / "manifest.json").exists()
    assert {node.name for node in first.nodes.values()} >= {"fct_orders", "kpi_monthly"}
    # The same settings: the same manifest, and nothing written for the second build; so
    # too on another warehouse file of the same name (DuckDB's database name, in every node).
    assert dbt_in_process.parse(isolated_env / "build-2") is first
    assert not (isolated_env / "build-2" / "manifest.json").exists()
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(isolated_env / "elsewhere" / "clm.duckdb"))
    monkeypatch.setenv("CLM_LANDING_DIR", str(isolated_env / "other-landing"))
    assert dbt_in_process.parse(isolated_env / "build-2") is first
    # Another name is another database: parsed again.
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(isolated_env / "elsewhere" / "shop.duckdb"))
    renamed = dbt_in_process.parse(isolated_env / "build-renamed")
    assert renamed is not first
    assert {node.database for node in renamed.nodes.values()} == {"shop"}
    assert {node.database for node in first.nodes.values()} == {"clm"}
    # (The settings a parse reads key it too: tests/unit/dbt/test_parse_inputs.py.)

    # The manifest Dagster's definitions load from was left alone.
    after = loaded.stat().st_mtime_ns if loaded.exists() else None
    assert after == before
