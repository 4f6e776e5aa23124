"""The runner: severities, audit rows, Data Docs, drift, and the DuckDB lock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.quality import data_docs_index, validate_all, validate_suite
from orchestration.quality.project import suites_dir


def _set_severity(project: Path, suite: str, keys: set[str], severity: str) -> None:
    """Edit the suite JSON the way a reviewer would."""
    path = suites_dir(project / "gx") / f"{suite}.json"
    data = json.loads(path.read_text())
    for entry in data["expectations"]:
        if entry["meta"].get("key") in keys:
            entry["meta"]["severity"] = severity
    path.write_text(json.dumps(data, indent=2))


def test_violations_fail_with_counts_and_samples(project: Path, warehouse: Path) -> None:
    """NULL key, unknown status, orphan customer, implausible subtotal: each counted."""
    result = validate_suite("stg_shop__orders", warehouse, project=project)
    assert result.error is None
    failed = {
        (o.expectation_type, o.column, o.unexpected_count) for o in result.outcomes if not o.success
    }
    assert ("expect_column_values_to_not_be_null", "order_id", 1) in failed
    assert ("expect_column_values_to_be_in_set", "financial_status", 1) in failed
    orphan = next(o for o in result.outcomes if "relationships" in (o.description or ""))
    assert (orphan.success, orphan.unexpected_count) == (False, 1)
    assert orphan.sample_values == [{"shop_customer_id": "c9"}]
    unique = next(o for o in result.outcomes if o.expectation_type.endswith("to_be_unique"))
    assert unique.success and unique.unexpected_count == 0
    assert all(o.description for o in result.outcomes)  # descriptions come from the suite


def test_severity_split(project: Path, warehouse: Path) -> None:
    """Failing warnings leave the suite blocking-passed; one failing blocking one does not."""
    blocking = validate_suite("stg_shop__orders", warehouse, project=project, record=False)
    assert not blocking.blocking_passed
    assert {o.column for o in blocking.blocking_failures} >= {"order_id"}
    assert {o.column for o in blocking.warning_failures} >= {"financial_status"}

    _set_severity(
        project,
        "stg_shop__orders",
        {
            "dbt:not_null:order_id",
            "dbt:relationships:shop_customer_id->stg_shop__customers.shop_customer_id",
        },
        "warning",
    )
    warned = validate_suite("stg_shop__orders", warehouse, project=project, record=False)
    assert warned.blocking_passed and not warned.success
    assert not warned.blocking_failures


def test_results_written_to_audit(project: Path, warehouse: Path) -> None:
    """One row per expectation in audit.validation_results, with counts and samples."""
    result = validate_suite("stg_shop__orders", warehouse, project=project, run_id="run-1")
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        'select suite, asset, expectation_type, "column", severity, success, unexpected_count,'
        " sample_values from audit.validation_results where run_id = 'run-1'"
    ).fetchall()
    con.close()
    assert len(rows) == len(result.outcomes)
    not_null = next(r for r in rows if r[2] == "expect_column_values_to_not_be_null")
    assert not_null[:7] == (
        "stg_shop__orders",
        "staging.stg_shop__orders",
        "expect_column_values_to_not_be_null",
        "order_id",
        "blocking",
        False,
        1,
    )
    assert json.loads(not_null[7]) == [None]


def test_data_docs_and_lock_released(project: Path, warehouse: Path) -> None:
    """Data Docs exist after validation, and another process can open the file read-write."""
    result = validate_suite("stg_shop__customers", warehouse, project=project)
    assert result.success, result.summary()
    assert data_docs_index(project).exists()
    assert result.data_docs_path and Path(result.data_docs_path).exists()
    code = f"import duckdb; duckdb.connect({str(warehouse)!r}).execute('select 1').close()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_missing_table_is_a_blocking_failure(project: Path, warehouse: Path) -> None:
    """A suite whose table does not exist fails (error set), it never passes silently."""
    con = duckdb.connect(str(warehouse))
    con.execute("drop table marts.kpi_monthly")
    con.close()
    result = validate_suite("kpi_monthly", warehouse, project=project, run_id="run-x")
    assert not result.blocking_passed
    assert result.outcomes and all(o.error and not o.success for o in result.outcomes)
    con = duckdb.connect(str(warehouse), read_only=True)
    (count,) = con.execute(
        "select count(*) from audit.validation_results where run_id = 'run-x' and not success"
    ).fetchone()
    con.close()
    assert count >= 1


def test_drift_passes_first_then_fails_on_jump(project: Path, warehouse: Path) -> None:
    """No baseline: pass. Same data: pass. Orders per day tripled: drift warning fails."""
    first = validate_suite("fct_orders", warehouse, project=project)
    drift = [o for o in first.outcomes if "Drift" in (o.description or "")]
    assert len(drift) == 2 and all(o.success for o in drift), first.summary()
    second = validate_all(warehouse, project=project, suites=["fct_orders"])[0]
    assert second.success, second.summary()

    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into marts.fct_orders select order_id || 'b', order_date, true, 50.0 from marts.fct_orders"
    )
    con.execute(
        "insert into marts.fct_orders select order_id || 'c', order_date, true, 50.0 from marts.fct_orders where order_id not like '%b'"
    )
    (metrics,) = con.execute("select count(*) from audit.run_metrics").fetchone()
    con.close()
    assert metrics == 4  # two metrics per successful run

    third = validate_suite("fct_orders", warehouse, project=project)
    failed = [o for o in third.outcomes if not o.success]
    assert [o.severity for o in failed] == ["warning"]
    assert failed[0].sample_values[0]["metric"] == "orders_per_day"
    assert third.blocking_passed
