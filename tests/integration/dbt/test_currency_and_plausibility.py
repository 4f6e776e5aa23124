"""Currency conversion and plausibility rules through a real load and `dbt build` (issues 12, 14).

A small hand-made shop: history in the reporting currency from 1997 (no rates before 2020 in
the seed), one 2019 EUR order (no rate for its month), a refund of 99,999 on a 30.38 order and a
1,000,000-character product name. The build must succeed, the bad rows must be quarantined with
their reasons and counted, and none of them may reach the marts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.ingest.loader import load_landing
from orchestration.settings import REPO_ROOT, dbt_vars

# The tests of this module run on one worker, so its dbt build happens once per session.
pytestmark = pytest.mark.xdist_group("dbt_currency")

CUSTOMERS = """shop_customer_id,email,first_name,created_at
c1,ann@x.com,Ann,1997-01-02
c2,bob@x.com,Bob,1997-02-03
c3,cid@x.com,Cid,2019-05-01
c4,dee@x.com,Dee,2024-01-01
"""
ORDERS = """order_id,shop_customer_id,email,ordered_at,currency,subtotal,total,financial_status
o1,c1,ann@x.com,1997-01-05,USD,20.00,20.00,paid
o2,c1,ann@x.com,1997-06-05,USD,30.00,30.00,paid
o3,c2,bob@x.com,1998-03-01,USD,15.00,15.00,paid
o4,c3,cid@x.com,2019-06-01,EUR,50.00,50.00,paid
o5,c4,dee@x.com,2024-01-10,USD,30.38,30.38,paid
o6,c4,dee@x.com,2024-02-10,USD,12.00,12.00,paid
"""
REFUNDS = """refund_id,order_id,amount,refunded_at
r1,o5,99999,2024-01-12
r2,o6,2,2024-02-11
"""


def order_lines() -> str:
    return (
        "order_line_id,order_id,sku,product_name,quantity,unit_price\n"
        "l1,o1,S1,Mug,1,20.00\n"
        f"l2,o6,S2,{'n' * 1_000_000},1,12.00\n"
    )


def write_landing(landing: Path) -> None:
    files = {
        "shop/customers/customers.csv": CUSTOMERS,
        "shop/orders/orders.csv": ORDERS,
        "shop/refunds/refunds.csv": REFUNDS,
        "shop/order_lines/order_lines.csv": order_lines(),
    }
    for relative, text in files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build(tmp_path: Path, settings: dict[str, str]) -> tuple[Path, dict[str, dict]]:
    """Load the landing files and build with ``settings`` (``CLM_`` name -> value) passed to dbt
    as the registry passes them (orchestration/dbt_cli.py)."""
    landing = tmp_path / "landing"
    write_landing(landing)
    database = tmp_path / "clm.duckdb"
    con = duckdb.connect(str(database))
    report = load_landing(con, landing, progress=None)
    con.close()
    assert report.files_loaded == 4
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLM_") and key != "DBT_TARGET_PATH"
    }
    env.update(
        {
            "CLM_DUCKDB_PATH": str(database),
            "CLM_TOMBSTONE_PATH": str(tmp_path / "tombstones.json"),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
        }
    )
    built = dbt(
        "build",
        # the settings reach dbt as --vars (orchestration/dbt_cli.py)
        "--vars",
        json.dumps(dbt_vars({"CLM_AS_OF_DATE": "2024-03-31", **settings})),
        # what these tests read, and everything upstream of it (a smaller build)
        "--select",
        "+fct_orders +fct_order_lines +int_quarantined_rows_unioned "
        "assert_every_currency_has_a_rate",
        # only the tests whose every parent is built
        "--indirect-selection",
        "cautious",
        "--exclude",
        "test_type:unit",
        env=env,
    )
    assert built.returncode == 0, built.stdout[-6000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    by_name = {result["unique_id"].split(".")[2]: result for result in results["results"]}
    return database, by_name


def query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def quarantine(database: Path) -> dict[str, str]:
    rows = query(
        database,
        "select table_name || ':' || primary_key_value, quarantine_reason "
        "from intermediate.int_quarantined_rows_unioned",
    )
    return dict(rows)


@pytest.fixture(scope="session")
def strict(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    return build(tmp_path_factory.mktemp("strict"), {})


def test_reporting_currency_history_needs_no_rate(strict):
    database, _results = strict
    orders = dict(query(database, "select order_id, gross_total from marts.fct_orders"))
    # 1997-1998 USD orders convert without any rate in the seed for those months
    assert orders["o1"] == orders["o2"] - 10 == 20
    assert orders["o3"] == 15


def test_foreign_order_without_a_rate_is_quarantined_and_named(strict):
    database, results = strict
    orders = {row[0] for row in query(database, "select order_id from marts.fct_orders")}
    assert "o4" not in orders
    assert quarantine(database)["orders:o4"] == "no exchange rate for its currency and month"
    check = results["assert_every_currency_has_a_rate"]
    assert check["status"] == "warn"
    # EUR for 2019-06 and the reporting currency for the same month: the seed rows to add
    assert check["failures"] == 2


def test_refund_larger_than_its_order_is_quarantined(strict):
    database, _results = strict
    refunds = dict(query(database, "select order_id, refund_total from marts.fct_orders"))
    assert refunds["o5"] == 0
    assert refunds["o6"] == 2
    assert quarantine(database)["refunds:r1"] == "refunds larger than the order total"
    (net,) = query(database, "select net_revenue from marts.fct_orders where order_id = 'o5'")
    assert float(net[0]) == 30.38


def test_absurd_text_is_quarantined_never_published(strict):
    database, _results = strict
    assert quarantine(database)["order_lines:l2"] == "text longer than 4000 characters"
    (longest,) = query(
        database,
        "select max(length(product_name)) from marts.fct_order_lines",
    )
    assert longest[0] == 3


def test_nearest_fallback_converts_with_a_warning(tmp_path):
    database, results = build(tmp_path, {"CLM_CURRENCY_RATE_FALLBACK": "nearest"})
    (rate,) = query(
        database,
        "select rate_to_usd from seeds.currency_rates "
        "where currency = 'EUR' and month = date '2020-01-01'",
    )
    (gross,) = query(database, "select gross_total from marts.fct_orders where order_id = 'o4'")
    assert float(gross[0]) == pytest.approx(50 * float(rate[0]), abs=1e-4)
    assert "orders:o4" not in quarantine(database)
    assert results["assert_every_currency_has_a_rate"]["status"] == "warn"
