"""The scaffold edits suites in place: idempotent, keeps hand-written expectations."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.quality.project import suites_dir
from orchestration.quality.scaffold import scaffold_suites


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_scaffold_is_idempotent(tmp_path: Path, manifest: Path) -> None:
    """Twice in the same directory, or once in another one: the same bytes."""
    gx = tmp_path / "a" / "gx"
    scaffold_suites(manifest, gx)
    before = _snapshot(gx)
    assert scaffold_suites(manifest, gx) == []
    assert _snapshot(gx) == before
    other = tmp_path / "b" / "gx"
    scaffold_suites(manifest, other)
    assert _snapshot(other) == before


def test_scaffold_generates_from_dbt_tests_and_conventions(project: Path) -> None:
    """dbt tests become expectations with the dbt severity; rates get ranges."""
    orders = json.loads((suites_dir(project / "gx") / "stg_shop__orders.json").read_text())
    keys = {e["meta"]["key"]: e for e in orders["expectations"]}
    assert keys["dbt:not_null:order_id"]["type"] == "expect_column_values_to_not_be_null"
    assert keys["dbt:accepted_values:financial_status"]["kwargs"]["value_set"] == [
        "paid",
        "refunded",
    ]
    assert keys["dbt:accepted_values:financial_status"]["meta"]["severity"] == "warning"
    assert keys["dbt:unique:order_id"]["severity"] == "critical"
    assert "range:order_subtotal_max" in keys
    kpi = json.loads((suites_dir(project / "gx") / "kpi_monthly.json").read_text())
    kpi_keys = {e["meta"]["key"]: e for e in kpi["expectations"]}
    assert kpi_keys["range:rate:repeat_purchase_rate"]["kwargs"]["max_value"] == 1
    assert kpi_keys["range:non_negative:net_revenue"]["kwargs"] == {
        "column": "net_revenue",
        "min_value": 0,
    }


def test_scaffold_keeps_hand_written_and_reviewer_edits(project: Path, manifest: Path) -> None:
    """Hand-added expectations and a reviewer's severity survive; stale generated ones go."""
    path = suites_dir(project / "gx") / "stg_shop__orders.json"
    data = json.loads(path.read_text())
    hand = {
        "id": "11111111-2222-3333-4444-555555555555",
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 1},
        "meta": {"severity": "warning", "owner": "me"},
    }
    data["expectations"].insert(0, hand)
    for entry in data["expectations"]:
        if entry["meta"].get("key") == "dbt:unique:order_id":
            entry["meta"]["severity"] = "warning"
            kept_id = entry["id"]
    path.write_text(json.dumps(data, indent=2))

    spec = json.loads(manifest.read_text())
    spec["nodes"] = {k: v for k, v in spec["nodes"].items() if "not_null_stg_shop__orders" not in k}
    manifest.write_text(json.dumps(spec))
    scaffold_suites(manifest, project / "gx")

    after = json.loads(path.read_text())
    assert after["expectations"][0] == hand
    by_key = {e["meta"].get("key"): e for e in after["expectations"]}
    assert by_key["dbt:unique:order_id"]["id"] == kept_id
    assert by_key["dbt:unique:order_id"]["meta"]["severity"] == "warning"
    assert by_key["dbt:unique:order_id"]["severity"] == "warning"
    assert "dbt:not_null:order_id" not in by_key


def test_a_relationship_to_a_model_built_from_the_child_goes_to_the_parents_suite() -> None:
    """fct_orders.customer_key -> dim_customers: dim_customers is built from fct_orders, so the
    fct_orders check (which runs before dim_customers exists) must not read it."""
    from orchestration.quality.scaffold import depends_on, generated_expectations

    from .fixtures import model_node, test_node

    nodes = dict(
        [
            model_node("fct_orders", "marts", ["order_id", "customer_key"]),
            model_node("dim_customers", "marts", ["customer_key"]),
            model_node("fct_order_lines", "marts", ["order_line_id", "order_id"]),
            test_node(
                "relationships",
                "fct_orders",
                "customer_key",
                to="ref('dim_customers')",
                field="customer_key",
            ),
            test_node(
                "relationships",
                "fct_order_lines",
                "order_id",
                to="ref('fct_orders')",
                field="order_id",
            ),
        ]
    )
    nodes["model.customer_lifecycle_warehouse.dim_customers"]["depends_on"] = {
        "nodes": ["model.customer_lifecycle_warehouse.fct_orders"]
    }
    manifest = {"nodes": nodes}
    assert depends_on(
        manifest,
        "model.customer_lifecycle_warehouse.dim_customers",
        "model.customer_lifecycle_warehouse.fct_orders",
    )
    suites = {
        name: [g.key for g in items]
        for name, (_m, items) in generated_expectations(manifest).items()
    }
    assert not any("relationships" in key for key in suites["fct_orders"])
    assert "dbt:relationships:fct_orders.customer_key->customer_key" in suites["dim_customers"]
    # Independent models keep the usual direction: the child's suite checks its parent.
    assert "dbt:relationships:order_id->fct_orders.order_id" in suites["fct_order_lines"]
