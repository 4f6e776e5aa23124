"""The whole dbt project on Spark (the shared xs build, conftest.py): raw mirror, every node,
the identity and KPI unit tests, and Spark's warehouse layout."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest
from support.spark import SPARK_GROUP

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(SPARK_GROUP)]

# docs/kpis.md's worked examples (the DuckDB suite checks the same names).
WORKED_EXAMPLES = {
    "kpi_monthly_aov_and_cac_worked_examples",
    "kpi_by_channel_cac_conversion_ltv_to_cac",
    "email_campaign_performance_worked_examples",
    "social_engagement_monthly_rate_and_followers",
    "customer_clv_formula_worked_example",
}


def test_raw_layer_is_mirrored_row_for_row(spark_xs):
    with duckdb.connect(str(spark_xs.duckdb_path), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        ]
        expected = {
            name: con.execute(f'select count(*) from raw."{name}"').fetchone()[0] for name in names
        }
    assert spark_xs.mirrored == expected
    assert expected["shop__orders"] > 0
    assert {"load_manifest", "load_rejects", "load_reconciliation"} <= set(expected)


def test_every_node_builds_and_passes(spark_xs):
    failed = {
        node
        for node, result in spark_xs.results.items()
        if result["status"] in ("error", "fail", "runtime error", "skipped")
    }
    assert not failed, (failed, spark_xs.output)
    assert spark_xs.returncode == 0, spark_xs.output
    kinds = Counter(
        node.split(".")[0]
        for node, result in spark_xs.results.items()
        if result["status"] in ("success", "pass")
    )
    assert kinds["seed"] == 2
    assert kinds["snapshot"] == 2
    assert kinds["model"] >= 63
    assert kinds["test"] >= 450
    assert kinds["unit_test"] >= 36


def test_identity_and_kpi_unit_tests_pass_on_spark(spark_xs):
    outcomes = {
        node.split(".")[-1]: result["status"]
        for node, result in spark_xs.results.items()
        if node.startswith("unit_test.")
    }
    assert set(outcomes) >= WORKED_EXAMPLES, WORKED_EXAMPLES - set(outcomes)
    identity = {name for name in outcomes if name.startswith("test_identity_")}
    assert len(identity) >= 4
    expected_to_pass = WORKED_EXAMPLES | identity
    assert all(outcomes[name] == "pass" for name in expected_to_pass), outcomes


def test_tables_are_parquet_in_sparks_warehouse_layout(spark_xs):
    folder = spark_xs.warehouse / "marts.db" / "fct_orders"
    files = sorted(folder.glob("*.parquet"))
    assert files, f"no Parquet files in {folder}"
    with duckdb.connect() as con:
        orders = con.execute(
            f"select count(*), count(distinct order_id) from read_parquet('{folder}/*.parquet')"
        ).fetchone()
    assert orders[0] > 0
    assert orders[0] == orders[1]
    assert (spark_xs.warehouse / "raw.db" / "shop__orders").is_dir()
    assert (spark_xs.warehouse / "snapshots.db" / "snp_crm__contacts").is_dir()
