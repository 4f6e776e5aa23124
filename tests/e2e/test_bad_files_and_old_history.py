"""Issue 14's bad landing folder and issue 12's 1990s history, through the whole pipeline.

The xs sample (as the session's clean run has it) plus: a Latin-1 CSV, a `.csv` that is really gzip, a
truncated Parquet, a truncated `.csv.gz`, a refund of 99,999 on a 30 order, a 1 MB product
name, a 2019 EUR order (no rate for that month) and a shop history from 1997 in the reporting
currency. The run must succeed, every file must be in the manifest with a reason, read =
loaded + rejected must hold or the file be marked unreadable, none of the bad values may reach
the BI file, and the predicted-CLV fit must run with the 1990s customers in it.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance
from support.pipeline import (
    FOREIGN_SETTINGS,
    CleanRun,
    environment,
    landing_listing,
    sample_landing,
    warehouse_env,
)

# One worker runs this module's tests, so its run happens once (any worker: it has its own files).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("bad_files")]

ORDERS_HEADER = (
    "order_id,shop_customer_id,email,ordered_at,currency,subtotal,total,financial_status"
)
BAD_FILES = {
    "shop/orders/x14_latin1.csv",
    "shop/orders/x14_really_gzip.csv",
    "shop/orders/x14_truncated.parquet",
    "shop/orders/x14_truncated.csv.gz",
}
HISTORY_CUSTOMERS = 12


def history_1990s() -> str:
    """Repeat buyers from 1997 to 1998, in USD (the reporting currency), CDNOW-like."""
    rows = []
    for customer in range(HISTORY_CUSTOMERS):
        for purchase in range(1 + customer % 4):
            month = 1 + (customer + 3 * purchase) % 12
            year = 1997 + purchase % 2
            amount = 10 + customer + 2 * purchase
            rows.append(
                f"x12-h{customer}-{purchase},,cdnow{customer}@example.org,"
                f"{year}-{month:02d}-15,USD,{amount}.00,{amount}.00,paid"
            )
    return ORDERS_HEADER + "\n" + "\n".join(rows) + "\n"


def add_bad_files(landing: Path) -> None:
    def write(relative: str, content: bytes) -> None:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    write(
        "shop/orders/x14_latin1.csv",
        (
            ORDERS_HEADER
            + ",utm_campaign\n"
            + "x14-eur2019,,eur2019@example.org,2019-06-01,EUR,40.00,40.00,paid,été\n"
            + "x14-latin,,latin@example.org,2024-03-01,USD,25.00,25.00,paid,noël\n"
        ).encode("latin-1"),
    )
    write(
        "shop/orders/x14_really_gzip.csv",
        gzip.compress(
            (
                ORDERS_HEADER + "\nx14-o30,,thirty@example.org,2024-03-02,USD,30.00,30.00,paid\n"
            ).encode()
        ),
    )
    buffer = io.BytesIO()
    pq.write_table(pa.table({"order_id": ["x14-pq"], "ordered_at": ["2024-03-03"]}), buffer)
    write("shop/orders/x14_truncated.parquet", buffer.getvalue()[:40])
    compressed = gzip.compress(
        (
            ORDERS_HEADER
            + "\n"
            + "".join(
                f"x14-gz{n},,gz{n}@example.org,2024-03-04,USD,5.00,5.00,paid\n" for n in range(2000)
            )
        ).encode()
    )
    write("shop/orders/x14_truncated.csv.gz", compressed[: len(compressed) // 2])
    write(
        "shop/refunds/x14_refunds.csv",
        b"refund_id,order_id,amount,refunded_at\nx14-r1,x14-o30,99999,2024-03-05\n",
    )
    write(
        "shop/order_lines/x14_lines.csv",
        (
            "order_line_id,order_id,sku,product_name,quantity,unit_price\n"
            f"x14-l1,x14-o30,X14,{'N' * 1_000_000},1,30.00\n"
        ).encode(),
    )
    write("shop/orders/x12_history_1990s.csv", history_1990s().encode())


# session scope: xdist may interleave other modules' tests on this worker, which would
# tear a module fixture down and run it again
@pytest.fixture(scope="session")
def bad_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> CleanRun:
    from orchestration.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("bad-files")
    sample_landing(root / "landing")
    add_bad_files(root / "landing")
    env = {**warehouse_env(root), "CLM_TOMBSTONE_PATH": str(root / "tombstones.json")}
    landing_before = landing_listing(root / "landing")
    with environment(env, remove=(*FOREIGN_SETTINGS, "CLM_CSV_ENCODING")):
        outcome = run_pipeline(DagsterInstance.ephemeral())
    return CleanRun(root, env, outcome, landing_before)


def read(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_run_succeeds_and_publishes(bad_run):
    assert bad_run.outcome.success, bad_run.outcome.errors
    assert not bad_run.outcome.failed_steps
    assert {"clv/customer_clv_predictions", "bi/marts"} <= set(bad_run.outcome.materialized)


def test_every_file_is_in_the_manifest_with_a_reason(bad_run):
    landing = bad_run.root / "landing"
    on_disk = {
        path.relative_to(landing).as_posix()
        for path in landing.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }
    manifest = {
        name: (status, reason)
        for name, status, reason in read(
            bad_run.warehouse, "select file_name, status, reason from raw.load_manifest"
        )
    }
    assert set(manifest) == on_disk
    for name in BAD_FILES:
        status, reason = manifest[name]
        assert reason, f"{name} ({status}) has no reason"
    assert manifest["shop/orders/x14_latin1.csv"][0] == "loaded"
    assert "not utf-8 encoded" in manifest["shop/orders/x14_latin1.csv"][1]
    assert manifest["shop/orders/x14_really_gzip.csv"][0] == "loaded"
    unexplained = read(
        bad_run.warehouse,
        "select file_name from raw.load_reconciliation where not is_balanced",
    )
    assert unexplained == []
    unreadable = {
        name
        for (name,) in read(
            bad_run.warehouse,
            "select file_name from raw.load_reconciliation where is_unreadable",
        )
    }
    assert unreadable == {"shop/orders/x14_truncated.parquet", "shop/orders/x14_truncated.csv.gz"}


def test_bad_values_are_quarantined_with_reasons(bad_run):
    reasons = dict(
        read(
            bad_run.warehouse,
            "select table_name || ':' || primary_key_value, quarantine_reason "
            "from intermediate.int_quarantined_rows_unioned where primary_key_value like 'x14-%'",
        )
    )
    assert reasons == {
        "orders:x14-eur2019": "no exchange rate for its currency and month",
        "refunds:x14-r1": "refunds larger than the order total",
        "order_lines:x14-l1": "text longer than 4000 characters",
    }


def test_none_of_the_bad_values_reaches_the_bi_file(bad_run):
    bi = bad_run.bi_file
    orders = dict(
        read(bi, "select order_id, refund_total from marts.fct_orders where order_id like 'x14-%'")
    )
    # the Latin-1 and gzip files' good orders are there; the 2019 EUR order is not
    assert set(orders) == {"x14-latin", "x14-o30"}
    assert orders["x14-o30"] == 0
    (net,) = read(bi, "select net_revenue from marts.fct_orders where order_id = 'x14-o30'")
    assert float(net[0]) == 30
    (campaign,) = read(bi, "select utm_campaign from marts.fct_orders where order_id = 'x14-latin'")
    assert campaign[0] == "noël"
    too_long = []
    for schema, table, column in read(
        bi,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'",
    ):
        (longest,) = read(bi, f'select max(length("{column}")) from "{schema}"."{table}"')
        if (longest[0] or 0) > 4000:
            too_long.append(f"{schema}.{table}.{column}")
    assert too_long == []
    (big,) = read(bi, "select count(*) from marts.fct_orders where refund_total >= 99999")
    assert big[0] == 0


def test_1990s_history_is_published_and_in_the_clv_fit(bad_run):
    bi = bad_run.bi_file
    (first,) = read(bi, "select min(order_date) from marts.fct_orders")
    assert str(first[0]).startswith("1997")
    (history_orders,) = read(
        bi, "select count(*) from marts.fct_orders where order_id like 'x12-h%'"
    )
    assert history_orders[0] == sum(1 + customer % 4 for customer in range(HISTORY_CUSTOMERS))
    (predicted,) = read(
        bad_run.warehouse,
        """
        select count(*)
        from clv.customer_clv_predictions as predictions
        inner join marts.dim_customers as customers
            on predictions.customer_key = customers.customer_key
        where customers.primary_email like 'cdnow%@example.org'
        """,
    )
    assert predicted[0] == HISTORY_CUSTOMERS
    assert os.path.getsize(bi) > 0
