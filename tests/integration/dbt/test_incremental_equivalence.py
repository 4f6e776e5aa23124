"""Incremental staging gives the same rows as a full refresh.

Raw rows are inserted straight into the raw tables (``ensure_raw_schema``), as the loader would
leave them, in two batches (loads 1–2, then 3–4). One warehouse builds the incremental models
after each batch; another builds them once with ``--full-refresh`` on both batches. The tables
must match row for row, including docs/landing-contract.md's versioning across batches: a newer version in
the second batch replaces the stored one, an older version arriving late does not, a NULL
updated_at never beats a timestamp, a tie goes to the later load.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.contract import get_table
from orchestration.ingest.raw_schema import ensure_raw_schema

# The tests of this module run on one worker, so its dbt build happens once per session.
pytestmark = pytest.mark.xdist_group("dbt_incremental")

REPO_ROOT = Path(__file__).resolve().parents[3]
MODELS = {
    "stg_shop__orders": "order_id",
    "stg_shop__order_lines": "order_line_id",
    "stg_email__events": "event_id",
}


def _order(order_id, updated_at, status="paid", email="a@example.com", **extra):
    return {
        "order_id": order_id,
        "email": email,
        "ordered_at": "2024-05-01T10:00:00+02:00",
        "currency": "EUR",
        "subtotal": "10.00",
        "total": "12.50",
        "financial_status": status,
        "updated_at": updated_at,
        **extra,
    }


# load id -> (source, table) -> rows (every value text, missing columns NULL)
BATCH_1 = {
    1: {
        ("shop", "orders"): [
            _order("O-1", "2024-05-02T00:00:00Z", "pending"),
            _order("O-2", "2024-05-05T00:00:00Z", "refunded"),
            _order("O-3", "2024-05-02T00:00:00Z", "paid"),
            _order("O-4", "2024-05-02T00:00:00Z", "pending"),
            _order("O-5", None, "paid", email="not-an-email"),
            _order("O-6", "2024-05-02T00:00:00Z", "paid"),
            _order("O-6", "2024-05-01T00:00:00Z", "voided"),  # older version, same file
        ],
        ("shop", "order_lines"): [
            {"order_line_id": "L-1", "order_id": "O-1", "quantity": "1", "unit_price": "10"},
            {"order_line_id": "L-2", "order_id": "O-2", "quantity": "-1", "unit_price": "10"},
        ],
        ("email", "events"): [
            {
                "event_id": "E-1",
                "campaign_id": "C-1",
                "email": " A@Example.com",
                "event_type": "sent",
                "occurred_at": "2024-05-01T08:00:00Z",
            },
            {
                "event_id": "E-2",
                "campaign_id": "C-1",
                "email": "b@example.com",
                "event_type": "opened",
                "occurred_at": "2024-05-01T09:00:00Z",
            },
        ],
    },
    2: {
        ("shop", "orders"): [_order("O-7", None, "paid")],
        ("email", "events"): [
            {
                "event_id": "E-1",
                "campaign_id": "C-1",
                "email": "a@example.com",
                "event_type": "delivered",
                "occurred_at": "2024-05-01T08:01:00Z",
            },
        ],
    },
}
BATCH_2 = {
    3: {
        ("shop", "orders"): [
            _order("O-1", "2024-05-03T00:00:00Z", "paid"),  # newer: replaces
            _order("O-2", "2024-05-04T00:00:00Z", "paid"),  # older, arrives late: ignored
            _order("O-3", None, "voided"),  # NULL updated_at never beats a timestamp
            _order("O-4", "2024-05-02T00:00:00Z", "paid"),  # tie: the later load wins
            _order("O-8", "2099-01-01T00:00:00Z", "paid"),  # future: quarantined
            _order("O-9", None, "Weird"),  # new key, bad status
        ],
        ("shop", "order_lines"): [
            {"order_line_id": "L-2", "order_id": "O-2", "quantity": "2", "unit_price": "10"},
            {"order_line_id": "L-3", "order_id": "O-1", "quantity": "3", "unit_price": "4.5"},
        ],
        ("email", "events"): [
            {
                "event_id": "E-3",
                "campaign_id": "C-2",
                "email": "c@example.com",
                "event_type": "clicked",
                "occurred_at": "2024-05-02T09:00:00+01:00",
            },
        ],
    },
    4: {
        ("shop", "orders"): [
            _order("O-6", "2024-05-01T12:00:00Z", "refunded"),  # older than stored: ignored
            _order("O-5", None, "refunded", email="fixed@example.com"),  # no versions: later wins
        ],
        ("email", "events"): [
            {
                "event_id": "E-2",
                "campaign_id": "C-1",
                "email": "b@example.com",
                "event_type": "clicked",
                "occurred_at": "2024-05-01T09:05:00Z",
            },
        ],
    },
}


def _insert(con: duckdb.DuckDBPyConnection, batch: dict) -> None:
    for load_id, by_table in batch.items():
        for (source, name), rows in by_table.items():
            table = get_table(source, name)
            columns = list(table.column_names)
            for line_number, row in enumerate(rows, start=2):
                values = [row.get(column) for column in columns]
                con.execute(
                    f"insert into {table.qualified_raw_name} "
                    f"({', '.join(columns)}, _load_id, _file_name, _line_number, _loaded_at) "
                    f"values ({', '.join('?' for _ in columns)}, ?, ?, ?, "
                    f"timestamp '2024-06-01 00:00:00' + to_days({load_id}))",
                    [*values, load_id, f"{source}/{name}/load {load_id}.csv", line_number],
                )


def _load(path: Path, *batches: dict) -> None:
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for batch in batches:
            _insert(con, batch)


def _dbt(tmp_path: Path, database: Path, *args: str) -> None:
    env = {
        **os.environ,
        "CLM_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    result = dbt(*args, env=env)
    assert result.returncode == 0, result.stdout[-5000:]


def _rows(database: Path, model: str, key: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select * from staging.{model} order by {key}").fetchall()


@pytest.fixture(scope="session")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("incremental")
    # Both files named clm.duckdb, as the warehouse is: dbt names the database after the file.
    incremental, full = tmp_path / "incremental" / "clm.duckdb", tmp_path / "full" / "clm.duckdb"
    incremental.parent.mkdir()
    full.parent.mkdir()
    select = ["--select", *MODELS]
    # The first build of each file loads the currency seed in the same dbt call (in DAG order,
    # before the models; no tests: the rows are what is compared).
    first = ["build", "--exclude-resource-type", "test", "unit_test", "--select", "currency_rates"]

    _load(incremental, BATCH_1)
    _dbt(tmp_path, incremental, *first, *MODELS)
    _load(incremental, BATCH_2)
    _dbt(tmp_path, incremental, "run", *select)

    _load(full, BATCH_1, BATCH_2)
    _dbt(tmp_path, full, *first, *MODELS, "--full-refresh")
    return incremental, full


@pytest.mark.parametrize("model", MODELS)
def test_incremental_equals_full_refresh(warehouses: tuple[Path, Path], model: str) -> None:
    incremental, full = warehouses
    assert _rows(incremental, model, MODELS[model]) == _rows(full, model, MODELS[model])


def test_versions_across_batches(warehouses: tuple[Path, Path]) -> None:
    incremental, _full = warehouses
    with duckdb.connect(str(incremental), read_only=True) as con:
        orders = dict(
            con.execute(
                "select order_id, financial_status || '@' || _load_id from staging.stg_shop__orders"
            ).fetchall()
        )
        flagged = dict(
            con.execute(
                "select order_id, quarantine_reason from staging.stg_shop__orders where is_quarantined"
            ).fetchall()
        )
        events = dict(
            con.execute("select event_id, event_type from staging.stg_email__events").fetchall()
        )
        lines = dict(
            con.execute(
                "select order_line_id, quantity from staging.stg_shop__order_lines"
            ).fetchall()
        )
    assert orders == {
        "O-1": "paid@3",
        "O-2": "refunded@1",
        "O-3": "paid@1",
        "O-4": "paid@3",
        "O-5": "refunded@4",
        "O-6": "paid@1",
        "O-7": "paid@2",
        "O-8": "paid@3",
        "O-9": "weird@3",
    }
    assert flagged == {
        "O-8": "updated_at in the future",
        "O-9": "financial_status not an accepted value",
    }
    assert events == {"E-1": "delivered", "E-2": "clicked", "E-3": "clicked"}
    assert lines == {"L-1": 1, "L-2": 2, "L-3": 3}
