"""The whole pipeline on the xs sample, in Dagster's own in-process execution.

One warehouse for the session (tests/e2e/conftest.py), checked from several sides. A second
`clm run` on a warehouse that already holds every landing file (it loads nothing new and prints
the summary) is checked by the rerun in tests/faults/test_runtime.py.
"""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest
from support.pipeline import dbt_run_results, landing_listing

from orchestration import contract

pytestmark = pytest.mark.e2e

KPI_MARTS = (
    "kpi_monthly",
    "kpi_by_channel",
    "cohort_retention",
    "purchase_ladder",
    "email_campaign_performance",
    "subscription_metrics_monthly",
    "social_engagement_monthly",
    "customer_segments",
    "customer_clv",
    "customer_clv_model",
    "dim_customers",
    "fct_orders",
)


@pytest.fixture(scope="module")
def first_run(clean_run):
    return clean_run.root, clean_run.env, clean_run.outcome


def test_the_run_succeeds_with_every_asset_and_check(first_run):
    root, _env, outcome = first_run
    assert outcome.success, outcome.errors
    assert not outcome.failed_steps
    materialized = set(outcome.materialized)
    for table in contract.tables():
        assert f"raw/{table.raw_name}" in materialized
    for mart in KPI_MARTS:
        assert f"marts/{mart}" in materialized
    assert {"landing/files", "clv/customer_clv_predictions", "bi/marts"} <= materialized
    assert outcome.checks, "no asset check ran"
    assert any(check.name.startswith("ge_") for check in outcome.checks)
    failed = [c for c in outcome.checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed


def test_the_run_builds_every_model_and_leaves_unit_tests_to_ci(clean_run):
    # dbt's unit tests check logic on fixed inputs (CI runs them); a run skips them by default
    # (CLM_RUN_UNIT_TESTS), and builds every seed, snapshot, model and data test.
    kinds = Counter(node.split(".")[0] for node in dbt_run_results(clean_run.outcome.run_id))
    assert kinds["model"] >= 63 and kinds["test"] >= 450
    assert kinds["seed"] == 2 and kinds["snapshot"] == 2
    assert kinds["unit_test"] == 0


def test_the_run_leaves_the_landing_folder_as_it_was(clean_run):
    # The runtime only reads landing files: it never adds (sample) data or changes a file.
    assert clean_run.landing_before
    assert landing_listing(clean_run.root / "landing") == clean_run.landing_before


def test_every_landed_row_is_accounted_for(first_run):
    root, _env, _outcome = first_run
    con = duckdb.connect(str(root / "warehouse" / "clm.duckdb"), read_only=True)
    try:
        unbalanced = con.execute("select * from raw.load_reconciliation where not is_balanced")
        assert unbalanced.fetchall() == []
        loaded = con.execute("select sum(rows_loaded) from raw.load_manifest").fetchone()[0]
        in_raw = sum(
            con.execute(f"select count(*) from {table.qualified_raw_name}").fetchone()[0]
            for table in contract.tables()
        )
        assert loaded == in_raw > 0
    finally:
        con.close()


def test_the_bi_file_holds_the_validated_marts(first_run):
    root, _env, _outcome = first_run
    work = duckdb.connect(str(root / "warehouse" / "clm.duckdb"), read_only=True)
    try:
        expected = {
            name: work.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for name in KPI_MARTS
        }
    finally:
        work.close()
    bi = duckdb.connect(str(root / "warehouse" / "bi.duckdb"), read_only=True)
    try:
        published = {
            name: bi.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for name in KPI_MARTS
        }
        schemas = {
            row[0] for row in bi.execute("select schema_name from duckdb_schemas()").fetchall()
        }
    finally:
        bi.close()
    assert published == expected
    assert expected["dim_customers"] > 100 and expected["fct_orders"] > 100
    assert "raw" not in schemas and "staging" not in schemas


def test_a_clean_run_sends_no_alert(first_run):
    root, _env, _outcome = first_run
    log = root / "warehouse" / "alerts.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    assert lines == [], [json.loads(line)["title"] for line in lines]
