"""Segment history over two runs with different as-of dates, and the brief's audience.

Raw rows go straight into the raw tables (``ensure_raw_schema``), as the loader would leave them.
The real project (the three marts read here, with everything upstream) is built with ``dbt run``
three times: ``CLM_AS_OF_DATE=2024-02-15``, then ``2024-04-15``, then ``2024-04-15`` again. The
history must hold both dates once each (a rerun replaces its date), and
``segment_transitions_monthly`` must count the moves of April:

- A (rhythm 31 days) and B (one order, fixed 90-day threshold) go active -> at_risk;
- D, inactive for its 14-day rhythm in February, orders again on April 1: won back
  (inactive -> active);
- C stays active.

On April 15, H is the top 10 % of the eleven repeat buyers, its orders have lapsed for its
rhythm, it has an active subscription and opened an email on April 10: the only customer of the
brief's audience, one ``where`` on ``dim_customers``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.contract import get_table
from orchestration.ingest.raw_schema import ensure_raw_schema

# The tests of this module run on one worker, so its dbt build happens once per session.
pytestmark = pytest.mark.xdist_group("dbt_segment_history")

REPO_ROOT = Path(__file__).resolve().parents[3]
AUDIENCE = (
    "select customer_key from marts.dim_customers "
    "where is_at_risk_hero and has_active_subscription and has_opened_email_last_30_days"
)


def _order(order_id: str, email: str, day: str, amount: str = "20.00") -> dict:
    return {
        "order_id": order_id,
        "email": email,
        "ordered_at": f"{day}T10:00:00Z",
        "currency": "USD",
        "subtotal": amount,
        "total": amount,
        "financial_status": "paid",
    }


ORDERS = [
    _order("A-1", "a@example.com", "2024-01-01"),
    _order("A-2", "a@example.com", "2024-02-01"),
    _order("B-1", "b@example.com", "2024-01-10"),
    _order("C-1", "c@example.com", "2024-02-10"),
    _order("C-2", "c@example.com", "2024-04-10"),
    _order("D-1", "d@example.com", "2023-10-01"),
    _order("D-2", "d@example.com", "2023-10-15"),
    _order("D-3", "d@example.com", "2024-04-01"),
    _order("H-1", "h@example.com", "2024-01-01", "900.00"),
    _order("H-2", "h@example.com", "2024-01-20", "900.00"),
] + [
    _order(f"F{i}-{n}", f"f{i}@example.com", day)
    for i in range(1, 8)
    for n, day in ((1, "2024-04-10"), (2, "2024-04-14"))
]
ROWS = {
    ("shop", "orders"): ORDERS,
    ("subscriptions", "subscriptions"): [
        {
            "subscription_id": "SUB-H",
            "email": "h@example.com",
            "billing_interval": "month",
            "price": "30",
            "currency": "USD",
            "status": "active",
            "started_at": "2024-01-01T00:00:00Z",
        },
    ],
    ("email", "campaigns"): [
        {"campaign_id": "CAM-1", "channel": "email", "sent_at": "2024-04-10T08:00:00Z"},
    ],
    ("email", "events"): [
        {
            "event_id": "E-1",
            "campaign_id": "CAM-1",
            "email": "h@example.com",
            "event_type": "opened",
            "occurred_at": "2024-04-10T09:00:00Z",
        },
    ],
}


def _load(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for (source, name), rows in ROWS.items():
            table = get_table(source, name)
            columns = list(table.column_names)
            for line_number, row in enumerate(rows, start=2):
                con.execute(
                    f"insert into {table.qualified_raw_name} "
                    f"({', '.join(columns)}, _load_id, _file_name, _line_number, _loaded_at) "
                    f"values ({', '.join('?' for _ in columns)}, 1, ?, ?, "
                    "timestamp '2024-06-01 00:00:00')",
                    [*(row.get(column) for column in columns), f"{source}/{name}.csv", line_number],
                )


# The three marts read here and every model upstream of them (the other KPI marts are not).
SELECTION = (
    "--select",
    "+customer_segment_history",
    "+segment_transitions_monthly",
    "+dim_customers",
)


def _dbt(tmp_path: Path, database: Path, *args: str, as_of_date: str | None = None) -> None:
    env = {
        **os.environ,
        "CLM_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    env.pop("CLM_AS_OF_DATE", None)
    # dbt gets the KPI settings as --vars (orchestration/dbt_cli.py), as `clm run` passes them
    as_of = ["--vars", json.dumps({"as_of_date": as_of_date})] if as_of_date else []
    result = dbt(*args, *as_of, env=env)
    assert result.returncode == 0, result.stdout[-5000:]


def _query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("segment_history")
    database = tmp_path / "clm.duckdb"
    _load(database)
    # The first build loads the seeds too (ancestors of the selection, in the same dbt call and
    # parse; no tests: the rows are what is read here).
    _dbt(
        tmp_path,
        database,
        "build",
        "--exclude-resource-type",
        "test",
        "unit_test",
        *SELECTION,
        as_of_date="2024-02-15",
    )
    _dbt(tmp_path, database, "run", *SELECTION, as_of_date="2024-04-15")
    _dbt(tmp_path, database, "run", *SELECTION, as_of_date="2024-04-15")  # a rerun replaces it
    return database


def _key(database: Path, email: str) -> str:
    return _query(
        database,
        f"select customer_key from marts.dim_customers where primary_email = '{email}'",
    )[0][0]


def test_history_holds_each_as_of_date_once(warehouse: Path) -> None:
    per_date = _query(
        warehouse,
        "select cast(as_of_date as varchar), count(*), count(distinct customer_key) "
        "from marts.customer_segment_history group by as_of_date order by as_of_date",
    )
    customers = _query(warehouse, "select count(*) from marts.dim_customers")[0][0]
    # every resolved person, each date (identity does not depend on the as-of date)
    assert customers == 12
    assert per_date == [("2024-02-15", 12, 12), ("2024-04-15", 12, 12)]


def test_history_keeps_each_dates_states(warehouse: Path) -> None:
    states = {
        (email, str(as_of_date)): status
        for email, as_of_date, status in _query(
            warehouse,
            "select dim.primary_email, history.as_of_date, history.activity_status "
            "from marts.customer_segment_history as history "
            "inner join marts.dim_customers as dim using (customer_key) "
            "where dim.primary_email in ('a@example.com', 'b@example.com', 'c@example.com', "
            "'d@example.com')",
        )
    }
    assert states == {
        ("a@example.com", "2024-02-15"): "active",
        ("a@example.com", "2024-04-15"): "at_risk",
        ("b@example.com", "2024-02-15"): "active",
        ("b@example.com", "2024-04-15"): "at_risk",
        ("c@example.com", "2024-02-15"): "active",
        ("c@example.com", "2024-04-15"): "active",
        ("d@example.com", "2024-02-15"): "inactive",
        ("d@example.com", "2024-04-15"): "active",
    }


def test_transitions_count_the_moves_of_the_month(warehouse: Path) -> None:
    moves = _query(
        warehouse,
        "select cast(month as varchar), from_state, to_state, customers, is_win_back "
        "from marts.segment_transitions_monthly where dimension = 'activity_status' "
        "order by from_state, to_state",
    )
    assert moves == [
        ("2024-04-01", "active", "at_risk", 2, False),
        ("2024-04-01", "inactive", "active", 1, True),
        # the seven new repeat buyers (and H, kept active by its subscription, does not move)
        ("2024-04-01", "none", "active", 7, False),
    ]


def test_brief_audience_is_one_where_on_dim_customers(warehouse: Path) -> None:
    audience = [key for (key,) in _query(warehouse, AUDIENCE)]
    assert audience == [_key(warehouse, "h@example.com")]
    hero = _query(
        warehouse,
        "select value_tier, purchase_status, activity_status, is_hero, primary_segment "
        "from marts.dim_customers where primary_email = 'h@example.com'",
    )
    assert hero == [("top_10_percent", "inactive", "active", True, "at_risk_hero")]
