"""The summary `clm run` prints: full error text, each failed check, skipped files, and no KPIs
under a failed run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.pipeline import CheckOutcome, PipelineOutcome
from orchestration.summary import build_summary, format_summary

DBT_ERROR = (
    "DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n"
    "`dbt build --vars {...}`\n\n"
    "failed with exit code `1`. Check the stdout in the Dagster compute logs for the full "
    "information about the error.\n\nErrors parsed from dbt logs:\n\n"
    "Runtime Error in model fct_orders (models/marts/core/fct_orders.sql)\n"
    "  Invalid Input Error: no exchange rate for EUR in 2019-03"
)


def _outcome(**fields) -> PipelineOutcome:
    return PipelineOutcome(run_id="r1", started_at=datetime(2026, 1, 1), **fields)


def _warehouse_with_kpis(root: Path) -> Path:
    path = root / "clm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_monthly as "
        "select date '2025-12-01' as month, 10 as orders, 123.45 as net_revenue"
    )
    con.close()
    return path


def test_a_failed_step_shows_its_whole_error_and_no_kpis(isolated_env: Path, monkeypatch):
    warehouse = _warehouse_with_kpis(isolated_env / "warehouse")
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(warehouse))
    outcome = _outcome(
        success=False,
        failed_steps=["dbt_warehouse"],
        errors=[f"dbt_warehouse: {DBT_ERROR}"],
    )
    text = format_summary(build_summary(outcome, elapsed_seconds=12))
    assert "FAILED" in text
    assert "no exchange rate for EUR in 2019-03" in text
    assert "Runtime Error in model fct_orders" in text
    assert "latest month" not in text and "123.45" not in text


def test_each_failed_check_is_named_and_skipped_files_are_counted(isolated_env: Path):
    checks = [
        CheckOutcome(f"marts/m{i}", f"ge_rule_{i}", passed=False, severity="WARN")
        for i in range(20)
    ]
    outcome = _outcome(
        success=True,
        checks=checks,
        metadata={
            "raw/shop__orders": {
                "files_loaded": 1,
                "files_skipped": 3,
                "files_rejected": 2,
                "rows_loaded": 7,
                "rows_rejected": 1,
            }
        },
    )
    text = format_summary(build_summary(outcome, elapsed_seconds=1))
    for i in range(20):
        assert f"marts/m{i} — ge_rule_{i}" in text
    assert "files loaded: 1   skipped (already loaded, empty or duplicate): 3   rejected: 2" in text
    assert "rows loaded: 7   rows rejected: 1" in text


def test_the_summary_never_raises_on_an_unreadable_warehouse(isolated_env: Path, monkeypatch):
    broken = isolated_env / "warehouse" / "clm.duckdb"
    broken.write_bytes(b"not a duckdb file")
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(broken))
    summary = build_summary(_outcome(success=True), elapsed_seconds=1)
    text = format_summary(summary)
    assert "the warehouse could not be read" in text
