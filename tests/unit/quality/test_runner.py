"""The runner: severities, audit rows, Data Docs history, drift baselines, and the DuckDB lock."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.quality import data_docs_index, validate_suite
from orchestration.quality.results import accept_baseline


def _execute(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _failed(result) -> dict[str, tuple[str, int | None]]:
    return {o.rule: (o.severity, o.unexpected_count) for o in result.outcomes if not o.success}


def test_clean_tables_pass_every_rule(project: Path, warehouse: Path) -> None:
    for suite in ("reconciliation", "operations"):
        result = validate_suite(suite, warehouse, project=project, record=False)
        assert result.success, result.summary()
        assert all(o.rule and o.description for o in result.outcomes)


def test_unbalanced_table_fails_blocking_with_count_and_samples(
    project: Path, warehouse: Path
) -> None:
    _execute(
        warehouse,
        "insert into staging.stg_row_accounting values ('crm', 'contacts', 10, 7, 0, 1, false)",
    )
    result = validate_suite("reconciliation", warehouse, project=project, run_id="run-1")
    assert not result.blocking_passed
    assert _failed(result) == {"reconciliation:raw_equals_staged_plus_removed": ("blocking", 1)}
    (outcome,) = result.blocking_failures
    assert outcome.sample_values[0]["table_name"] == "contacts"

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select suite, asset, rule, severity, success, unexpected_count, sample_values "
        "from audit.validation_results where run_id = 'run-1'"
    ).fetchall()
    con.close()
    assert len(rows) == len(result.outcomes) == 1
    suite, asset, rule, severity, success, count, samples = rows[0]
    assert (suite, asset, rule, severity, success, count) == (
        "reconciliation",
        "staging.stg_row_accounting",
        "reconciliation:raw_equals_staged_plus_removed",
        "blocking",
        False,
        1,
    )
    assert json.loads(samples)[0]["raw_rows"] == 10


def test_volume_is_blocking_and_freshness_reads_dbt_as_of_date(
    project: Path, warehouse: Path
) -> None:
    _execute(
        warehouse,
        "delete from marts.fct_order_lines",
        # as dbt's int_as_of_date holds it when CLM_AS_OF_DATE is set to a later day
        "update intermediate.int_as_of_date set as_of_date = date '2026-06-30'",
    )
    result = validate_suite("operations", warehouse, project=project, record=False)
    assert _failed(result) == {
        "volume:fct_order_lines": ("blocking", 1),
        "freshness:newest_clean_order": ("warning", 1),
    }
    assert not result.blocking_passed


def test_missing_table_is_a_blocking_failure(project: Path, warehouse: Path) -> None:
    """A suite whose table does not exist fails, it never passes silently."""
    _execute(warehouse, "drop table staging.stg_row_accounting")
    result = validate_suite("reconciliation", warehouse, project=project, run_id="run-x")
    assert not result.blocking_passed
    assert result.outcomes and all(o.error and not o.success for o in result.outcomes)


def test_drift_baseline_comes_only_from_accepted_runs(project: Path, warehouse: Path) -> None:
    """Metrics of a run become the baseline only once it is accepted (clean and published);
    a run with warnings is never accepted, so the same bad data warns again next run."""
    first = validate_suite("operations", warehouse, project=project, run_id="clean")
    assert first.success, first.summary()
    _execute(warehouse, "update marts.fct_orders set net_revenue = net_revenue * 3")

    # No accepted run yet: nothing to compare with.
    unaccepted = validate_suite("operations", warehouse, project=project, run_id="bad-1")
    assert unaccepted.success, unaccepted.summary()

    con = duckdb.connect(str(warehouse))
    accept_baseline(con, "clean", datetime(2026, 1, 1))
    con.close()
    for run_id in ("bad-2", "bad-3"):  # bad-2 published with a warning: never accepted
        result = validate_suite("operations", warehouse, project=project, run_id=run_id)
        assert _failed(result) == {"drift:average_order_value": ("warning", 1)}, run_id
        (outcome,) = result.warning_failures
        assert outcome.sample_values[0]["previous_value"] == pytest.approx(50.0)
        assert outcome.sample_values[0]["current_value"] == pytest.approx(150.0)


def test_data_docs_keep_a_bounded_history_and_the_lock_is_released(
    project: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLM_DATA_DOCS_KEEP_RUNS", "2")
    for number in range(4):
        result = validate_suite("reconciliation", warehouse, project=project, run_id=f"r{number}")
        assert result.success, result.summary()
    assert data_docs_index(project).exists()
    assert result.data_docs_path and Path(result.data_docs_path).exists()
    uncommitted = project / "gx" / "uncommitted"
    stored = sorted(p.name for p in (uncommitted / "validations" / "reconciliation").iterdir())
    pages = uncommitted / "data_docs" / "local_site" / "validations" / "reconciliation"
    assert stored == ["r2", "r3"]
    assert sorted(p.name for p in pages.iterdir()) == ["r2", "r3"]
    index = data_docs_index(project).read_text(encoding="utf-8")
    assert "r3" in index and "r0" not in index

    code = f"import duckdb; duckdb.connect({str(warehouse)!r}).execute('select 1').close()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_pipeline_run_renders_its_data_docs_once_after_its_suites(
    project: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.quality.runner import build_data_docs

    monkeypatch.setenv("CLM_DATA_DOCS_KEEP_RUNS", "2")
    uncommitted = project / "gx" / "uncommitted"
    pages = uncommitted / "data_docs" / "local_site" / "validations"
    for number in range(3):
        for suite in ("reconciliation", "operations"):
            result = validate_suite(
                suite, warehouse, project=project, run_id=f"p{number}", data_docs=False
            )
            assert result.success, result.summary()
            # Recorded, and the page it will have is named, but nothing is rendered yet.
            assert result.data_docs_path and f"p{number}" in result.data_docs_path
            assert not Path(result.data_docs_path).exists()
        index = build_data_docs(warehouse, project=project, run_id=f"p{number}")
        assert index == data_docs_index(project) and index.exists()
        assert Path(result.data_docs_path).exists()
    for suite in ("reconciliation", "operations"):
        stored = sorted(p.name for p in (uncommitted / "validations" / suite).iterdir())
        assert stored == ["p1", "p2"]
        assert sorted(p.name for p in (pages / suite).iterdir()) == ["p1", "p2"]
    text = data_docs_index(project).read_text(encoding="utf-8")
    assert "p2" in text and "p0" not in text
