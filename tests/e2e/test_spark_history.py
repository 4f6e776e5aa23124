"""History on Spark: snapshots give DuckDB's rows for the same deliveries, and the staging
models give the same rows built batch by batch as in one full refresh.

Raw rows are written as the loader leaves them (the incremental test's ``_load``) into a
working DuckDB file; DuckDB builds from it directly, Spark from its mirror. The Spark side runs
on the Spark pipeline run's own Spark, before that run (tests/e2e/conftest.py, ``_spark_run``):
a JVM compiles Spark's code as queries make it hot, so a second JVM for these few builds would
pay that warm-up again (alone, that JVM cost 176 core-s). Its dbt steps call dbt's Python
entry point (``invoke``); the databases they create are dropped before the pipeline run builds
its own. DuckDB's side goes through the tests' warm dbt (support/dbt.py). On Spark the
incremental test's two batches arrive with the first two deliveries and are built by the same
dbt calls: they fill other raw tables (orders, order lines, email events) than the snapshots
read (contacts, subscriptions), so neither history sees the other, and each dbt call on Spark
costs seconds of fixed work.

Snapshot times differ between engines, so a version's dbt_valid_from / dbt_valid_to are
compared as the delivery whose build wrote them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from integration.dbt.test_incremental_equivalence import BATCH_1, BATCH_2, MODELS, _load
from support.dbt import dbt
from support.spark import (
    SPARK_GROUP,
    invoke,
    mirror_in_session,
    now,
    spark_env,
    utc_naive,
)

from orchestration.contract import get_table

# The Spark pipeline run's group: its fixture computes the Spark side (see above).
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(SPARK_GROUP)]

pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")


def _contact(contact_id: str, updated_at: str, **values: str | None) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "email": f"{contact_id.lower()}@example.com",
        "first_name": "Ada",
        "city": "Paris",
        "country_code": "FR",
        "marketing_opt_in": "yes",
        "updated_at": updated_at,
        **values,
    }


def _subscription(subscription_id: str, updated_at: str, **values: str | None) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "billing_customer_id": f"B-{subscription_id}",
        "email": f"{subscription_id.lower()}@example.com",
        "plan_name": "Monthly box",
        "billing_interval": "month",
        "price": "30.00",
        "currency": "EUR",
        "status": "active",
        "started_at": "2024-01-01T00:00:00Z",
        "updated_at": updated_at,
        **values,
    }


CONTACTS, SUBSCRIPTIONS = ("crm", "contacts"), ("subscriptions", "subscriptions")

# Three deliveries (load id -> rows), each followed by a build of staging and the snapshots.
DELIVERIES: list[dict] = [
    {
        11: {
            CONTACTS: [
                _contact("C-1", "2024-02-01T00:00:00Z"),
                _contact("C-2", "2024-02-01T00:00:00Z", city=None),
                _contact("C-3", "2024-02-01T00:00:00Z"),
            ],
            SUBSCRIPTIONS: [
                _subscription("S-1", "2024-02-01T00:00:00Z"),
                _subscription("S-2", "2024-02-01T00:00:00Z"),
            ],
        }
    },
    {
        12: {
            CONTACTS: [
                _contact("C-1", "2024-03-01T00:00:00Z", city="Lyon"),  # changed
                _contact("C-2", "2024-02-01T00:00:00Z", city=None),  # re-sent, same
                _contact("C-4", "2024-03-01T00:00:00Z"),  # new
            ],
            SUBSCRIPTIONS: [
                _subscription(
                    "S-1",
                    "2024-03-01T00:00:00Z",
                    status="cancelled",
                    cancelled_at="2024-03-01T00:00:00Z",
                    cancel_reason="too expensive",
                ),
            ],
        }
    },
    {
        13: {
            CONTACTS: [
                _contact("C-1", "2024-04-01T00:00:00Z"),  # back to Paris: a third version
                _contact("C-2", "2024-04-01T00:00:00Z", city="Nice"),  # NULL -> value
                # the same email after normalisation, older updated_at: no new version
                _contact("C-3", "2024-01-15T00:00:00Z", email=" C-3@Example.com "),
            ],
            SUBSCRIPTIONS: [
                _subscription("S-2", "2024-04-01T00:00:00Z", price="35.00"),
                _subscription("S-3", "2024-04-01T00:00:00Z"),
            ],
        }
    },
]

SNAPSHOTS = {
    "snp_crm__contacts": ("crm_contact_id", ["email", "city", "first_name", "updated_at"]),
    "snp_subscriptions__subscriptions": (
        "subscription_id",
        ["status", "price", "cancel_reason", "cancelled_at", "updated_at"],
    ),
}
STAGING = ["stg_crm__contacts", "stg_subscriptions__subscriptions"]
# The incremental batches that arrive with each delivery on Spark (the third comes alone).
BATCHES: list[dict] = [BATCH_1, BATCH_2, {}]


def _delivery_of(moment: datetime | None, windows: list[tuple[datetime, datetime]]) -> int | None:
    if moment is None:
        return None
    moment = utc_naive(moment)
    for number, (start, end) in enumerate(windows, start=1):
        if start <= moment <= end:
            return number
    raise AssertionError(f"snapshot time {moment} is in no delivery's window {windows}")


def _history(con: duckdb.DuckDBPyConnection, relation: str, name: str, windows) -> list[tuple]:
    key, columns = SNAPSHOTS[name]
    rows = con.execute(
        f"select {key}, {', '.join(columns)}, dbt_valid_from, dbt_valid_to from {relation}"
    ).fetchall()
    return sorted(
        (
            (
                *(utc_naive(value) for value in row[:-2]),
                _delivery_of(row[-2], windows),
                _delivery_of(row[-1], windows),
            )
            for row in rows
        ),
        key=repr,
    )


def _delivery_build(number: int, *models: str) -> list[str]:
    """The dbt command after a delivery, as the pipeline's `dbt build` orders it: the staging
    models the snapshots read (tables, rebuilt by each build), then the snapshots; the first
    delivery also loads the currency seed. One dbt invocation per delivery on each engine, which
    also builds ``models`` (the incremental batch that came with the delivery, on Spark)."""
    seed = ["currency_rates"] if number == 0 else []
    return [
        "build",
        "--select",
        *seed,
        *STAGING,
        *models,
        "resource_type:snapshot",
        "--exclude-resource-type",
        "test",
        "unit_test",
    ]


def _duckdb_dbt(root: Path, *args: str) -> None:
    env = spark_env(root)
    result = dbt(*args, env=env)
    assert result.returncode == 0, result.stdout[-5000:]


def _duckdb_snapshots(root: Path) -> dict[str, list[tuple]]:
    database = root / "clm.duckdb"
    windows = []
    for number, delivery in enumerate(DELIVERIES):
        _load(database, delivery)
        start = now()
        _duckdb_dbt(root, *_delivery_build(number))
        windows.append((start, now()))
    with duckdb.connect(str(database), read_only=True) as con:
        return {name: _history(con, f"snapshots.{name}", name, windows) for name in SNAPSHOTS}


def _raw_tables(batch: dict) -> set[str]:
    """The raw tables a batch of loads writes to (``raw.<source>__<entity>``)."""
    return {
        get_table(source, name).raw_name for tables in batch.values() for source, name in tables
    }


def _ok(outcome: dict[str, Any], step: str) -> None:
    if not outcome["success"]:
        failed = {
            node: result
            for node, result in outcome["nodes"].items()
            if result["status"] not in ("success", "pass")
        }
        raise AssertionError(f"{step} failed on Spark: {outcome['error']} {failed}")


def spark_history_steps(root: Path, warehouse: Path, spark: Any) -> dict[str, Any]:
    """On a Spark session (``in_one_jvm``) whose warehouse folder is ``warehouse``: the snapshot
    deliveries, loaded into a working DuckDB file under ``root`` and mirrored, the first two
    with an incremental batch each; then the incremental models again in one full refresh of
    the same raw rows."""
    database, exports = root / "clm.duckdb", root / "exports"
    root.mkdir(parents=True, exist_ok=True)
    windows = []
    for number, (delivery, batch) in enumerate(zip(DELIVERIES, BATCHES, strict=True)):
        _load(database, delivery, batch)
        tables = _raw_tables(delivery) | _raw_tables(batch)
        mirror_in_session(spark, database, exports / f"delivery-{number}", tables)
        start = now()
        models = MODELS if batch else ()
        _ok(invoke(*_delivery_build(number, *models)), f"delivery {number + 1}")
        windows.append((start, now()))

    found: dict[str, Any] = {"snapshots": {}, "batched": _staging_rows(spark), "full": {}}
    with duckdb.connect() as con:
        for name in SNAPSHOTS:
            files = warehouse / "snapshots.db" / name / "*.parquet"
            relation = f"read_parquet('{files}')"
            found["snapshots"][name] = _history(con, relation, name, windows)

    _ok(invoke("run", "--full-refresh", "--select", *MODELS), "full refresh")
    found["full"] = _staging_rows(spark)
    return found


def _staging_rows(spark: Any) -> dict[str, list[tuple]]:
    return {
        model: [
            tuple(row)
            for row in spark.sql(f"select * from staging.{model} order by {key}").collect()
        ]
        for model, key in MODELS.items()
    }


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory, spark_run) -> dict[str, Any]:
    on_duckdb = _duckdb_snapshots(tmp_path_factory.mktemp("snapshots_duckdb"))
    return {"duckdb": on_duckdb, **spark_run.probe["history"]}


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_snapshot_history_equals_duckdbs(histories, name):
    assert histories["snapshots"][name] == histories["duckdb"][name]


def test_snapshot_history_has_the_expected_versions(histories):
    contacts = histories["snapshots"]["snp_crm__contacts"]
    versions: dict[str, set] = {}
    for row in contacts:
        versions.setdefault(row[0], set()).add((row[2], row[-2], row[-1]))
    assert versions == {
        "C-1": {("Paris", 1, 2), ("Lyon", 2, 3), ("Paris", 3, None)},
        "C-2": {(None, 1, 3), ("Nice", 3, None)},
        "C-3": {("Paris", 1, None)},
        "C-4": {("Paris", 2, None)},
    }
    subscriptions = histories["snapshots"]["snp_subscriptions__subscriptions"]
    assert {(row[0], row[1], row[-2], row[-1]) for row in subscriptions} == {
        ("S-1", "active", 1, 2),
        ("S-1", "cancelled", 2, None),
        ("S-2", "active", 1, 3),
        ("S-2", "active", 3, None),
        ("S-3", "active", 3, None),
    }


@pytest.mark.parametrize("model", MODELS)
def test_staging_batch_by_batch_equals_full_refresh_on_spark(histories, model):
    assert histories["batched"][model] == histories["full"][model]
    assert histories["batched"][model]
