"""Small hand-made warehouses and manifests for the quality tests (no dbt, no landing data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

PACKAGE = "customer_lifecycle_warehouse"


def model_node(name: str, schema: str, columns: list[str]) -> tuple[str, dict[str, Any]]:
    """A manifest entry for a model."""
    unique_id = f"model.{PACKAGE}.{name}"
    return unique_id, {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": schema,
        "config": {"materialized": "table"},
        "columns": {c: {"name": c} for c in columns},
    }


def test_node(
    name: str, model: str, column: str, severity: str = "ERROR", **kwargs: Any
) -> tuple[str, dict[str, Any]]:
    """A manifest entry for a dbt generic test attached to ``model.column``."""
    model_id = f"model.{PACKAGE}.{model}"
    depends = [model_id]
    if name == "relationships":
        depends.append(f"model.{PACKAGE}.{kwargs['to'].split(chr(39))[1]}")
    unique_id = f"test.{PACKAGE}.{name}_{model}_{column}"
    return unique_id, {
        "resource_type": "test",
        "name": f"{name}_{model}_{column}",
        "attached_node": model_id,
        "column_name": column,
        "config": {"severity": severity},
        "depends_on": {"nodes": depends},
        "test_metadata": {
            "name": name,
            "kwargs": {"column_name": column, "model": "{{ get_where_subquery(...) }}", **kwargs},
        },
    }


def write_manifest(path: Path) -> Path:
    """A manifest with two staging models, a mart and their tests."""
    nodes = dict(
        [
            model_node(
                "stg_shop__orders",
                "staging",
                [
                    "order_id",
                    "shop_customer_id",
                    "financial_status",
                    "currency",
                    "subtotal",
                    "is_quarantined",
                ],
            ),
            model_node("stg_shop__customers", "staging", ["shop_customer_id", "email"]),
            model_node("kpi_monthly", "marts", ["month", "net_revenue", "repeat_purchase_rate"]),
            model_node(
                "fct_orders", "marts", ["order_id", "order_date", "is_valid_order", "net_revenue"]
            ),
            test_node("unique", "stg_shop__orders", "order_id"),
            test_node("not_null", "stg_shop__orders", "order_id"),
            test_node(
                "accepted_values",
                "stg_shop__orders",
                "financial_status",
                severity="warn",
                values=["paid", "refunded"],
            ),
            test_node(
                "relationships",
                "stg_shop__orders",
                "shop_customer_id",
                to="ref('stg_shop__customers')",
                field="shop_customer_id",
            ),
            test_node("unique", "stg_shop__customers", "shop_customer_id"),
        ]
    )
    path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    return path


def build_warehouse(path: Path) -> Path:
    """Tables matching the manifest, with one NULL order_id, one duplicate, one orphan."""
    con = duckdb.connect(str(path))
    con.execute(
        """
        create schema staging; create schema marts;
        create table staging.stg_shop__customers as
            select * from (values ('c1', 'a@x.io'), ('c2', 'b@x.io')) as t(shop_customer_id, email);
        create table staging.stg_shop__orders as
            select * from (values
                ('o1', 'c1', 'paid', 'USD', 10.0, false),
                ('o2', 'c2', 'refunded', 'USD', 20.0, false),
                (null, 'c1', 'paid', 'USD', 30.0, false),
                ('o4', 'c9', 'paid', 'USD', 40.0, false),
                ('o5', 'c1', 'odd', 'USD', 250000.0, false)
            ) as t(order_id, shop_customer_id, financial_status, currency, subtotal, is_quarantined);
        create schema raw;
        create table raw.shop__orders as select 'o1' as order_id;
        create table marts.fct_orders as
            select
                'o' || i as order_id,
                date '2026-01-01' + cast(i % 10 as integer) as order_date,
                true as is_valid_order,
                50.0 as net_revenue
            from range(40) as r(i);
        create table marts.kpi_monthly as
            select * from (values (date '2026-01-01', 100.0, 0.5), (date '2026-02-01', 50.0, 0.6))
                as t(month, net_revenue, repeat_purchase_rate);
        """
    )
    con.close()
    return path
