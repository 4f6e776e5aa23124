"""The Dagster definitions load and hold the graph we reviewed.

`asset_graph.txt` is a snapshot of every asset (key, group, upstream keys) and check: a change
to the graph shows up in review as a change to that file. After an intended change, rewrite it
with `CLM_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/dagster`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import AssetKey

from orchestration import contract

SNAPSHOT = Path(__file__).with_name("asset_graph.txt")
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
)
CORE_MARTS = (
    "dim_customers",
    "fct_orders",
    "fct_order_lines",
    "fct_email_events",
    "fct_subscriptions",
    "fct_checkouts",
    "fct_support_tickets",
    "fct_feedback",
)


@pytest.fixture(scope="module")
def definitions(dbt_manifest):
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def asset_graph(definitions):
    return definitions.get_repository_def().asset_graph


def render_graph(asset_graph) -> str:
    lines = []
    for key in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.path):
        node = asset_graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        kind = "materializable" if node.is_materializable else "external"
        lines.append(f"{key.to_user_string()} [{node.group_name}, {kind}] <- {parents}")
    for check in sorted(asset_graph.asset_check_keys, key=lambda c: (c.asset_key.path, c.name)):
        lines.append(f"check {check.asset_key.to_user_string()}: {check.name}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_reviewed_snapshot(asset_graph):
    rendered = render_graph(asset_graph)
    if os.environ.get("CLM_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8"), (
        "the asset graph changed: review the diff, then rewrite the snapshot with "
        "CLM_UPDATE_SNAPSHOTS=1"
    )


def test_every_landing_table_has_a_raw_asset_and_a_staging_model(asset_graph):
    keys = asset_graph.get_all_asset_keys()
    for table in contract.tables():
        raw = AssetKey(["raw", table.raw_name])
        staging = AssetKey(["staging", f"stg_{table.source}__{table.name}"])
        assert raw in keys and asset_graph.get(raw).is_materializable
        assert staging in keys
        assert raw in asset_graph.get(staging).parent_keys


def test_ingestion_is_one_asset_definition_per_source(definitions):
    repo = definitions.get_repository_def()
    for source in contract.sources():
        node = repo.asset_graph.get(AssetKey(["raw", f"{source.name}__{source.tables[0].name}"]))
        siblings = {key.path[-1] for key in node.execution_set_asset_keys}
        assert siblings == {table.raw_name for table in source.tables}


def test_marts_of_kpis_md_are_assets_in_schema_marts(asset_graph):
    keys = asset_graph.get_all_asset_keys()
    for name in (*CORE_MARTS, *KPI_MARTS, "customer_clv_model"):
        assert AssetKey(["marts", name]) in keys, name


def test_clv_runs_between_its_inputs_and_the_clv_mart(asset_graph):
    predictions = AssetKey(["clv", "customer_clv_predictions"])
    assert asset_graph.get(predictions).is_materializable
    assert AssetKey(["intermediate", "int_customer_purchases_summarized"]) in (
        asset_graph.get(predictions).parent_keys
    )
    # dbt reads the predictions in one model; the CLV mart and dim_customers build after it
    clv_estimated = AssetKey(["intermediate", "int_customer_clv_estimated"])
    assert predictions in asset_graph.get(clv_estimated).parent_keys
    assert clv_estimated in asset_graph.get(AssetKey(["marts", "customer_clv"])).parent_keys
    assert clv_estimated in asset_graph.get(AssetKey(["marts", "dim_customers"])).parent_keys


def test_publication_waits_for_every_audited_asset(asset_graph):
    parents = asset_graph.get(AssetKey(["bi", "marts"])).parent_keys
    for name in (*CORE_MARTS, *KPI_MARTS, "customer_clv_model"):
        assert AssetKey(["marts", name]) in parents
    # Models no mart reads still hold blocking checks (nothing lost between layers).
    assert AssetKey(["staging", "stg_row_accounting"]) in parents
    assert AssetKey(["intermediate", "int_quarantined_rows_unioned"]) in parents


def test_groups_follow_the_dbt_folders(asset_graph):
    expected = {
        ("staging", "stg_shop__orders"): "staging",
        ("intermediate", "int_identities_resolved"): "intermediate",
        ("marts", "fct_orders"): "marts_core",
        ("marts", "kpi_monthly"): "marts_kpis",
        ("raw", "shop__orders"): "ingest",
        ("clv", "customer_clv_predictions"): "clv",
        ("bi", "marts"): "publish",
    }
    for path, group in expected.items():
        assert asset_graph.get(AssetKey(list(path))).group_name == group


def test_great_expectations_suites_are_blocking_checks(definitions, asset_graph):
    from orchestration.quality.rules import SUITES

    checks = {(c.asset_key, c.name) for c in asset_graph.asset_check_keys}
    ge_checks = {name for _key, name in checks if name.startswith("ge_")}
    assert ge_checks == {f"ge_{suite.name}" for suite in SUITES}
    assert (AssetKey(["staging", "stg_shop__order_lines"]), "ge_units") in checks
    repo = definitions.get_repository_def()
    specs = [
        spec
        for assets_def in repo.asset_checks_defs_by_key.values()
        for spec in assets_def.check_specs
        if spec.name.startswith("ge_")
    ]
    assert specs and all(spec.blocking for spec in specs)


def test_the_job_alerts_and_renders_data_docs_from_its_own_hooks(definitions):
    job = definitions.resolve_job_def("clm_pipeline")
    assert {hook.name for hook in job.hook_defs} == {
        "run_alert_after_success",
        "run_alert_after_failure",
        "data_docs_after_success",
        "data_docs_after_failure",
    }


def test_job_schedule_and_sensors(definitions):
    job = definitions.resolve_job_def("clm_pipeline")
    assert job.executor_def.name == "in_process"
    assert {s.name for s in definitions.schedules} == {"daily_refresh"}
    assert {s.name for s in definitions.sensors} == {"new_landing_files", "alert_on_run_failure"}
