"""The clean sample data looks like a real shop's (the sanity checks of the issue)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tools.generator import GenerationReport


def read_folder(folder: Path) -> pa.Table:
    """Every CSV of a table folder as text columns, with the file name (empty field = NULL)."""
    tables = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        tables.append(table.append_column("filename", pa.array([path.name] * table.num_rows)))
    return pa.concat_tables(tables, promote_options="default")


@pytest.fixture(scope="module")
def db(clean: GenerationReport) -> Iterator[duckdb.DuckDBPyConnection]:
    """Tables of the clean files, every column as text, latest version of orders kept."""
    con = duckdb.connect()
    root = clean.out_dir
    for source, table in (
        ("shop", "orders"), ("shop", "customers"), ("shop", "checkouts"), ("shop", "refunds"),
        ("crm", "contacts"), ("email", "events"), ("subscriptions", "subscriptions"),
        ("marketing", "ad_spend"),
    ):  # fmt: skip
        con.register(f"{table}_all", read_folder(root / source / table))
    con.execute(
        "create table orders as select * from orders_all qualify row_number() over "
        "(partition by order_id order by updated_at::timestamptz desc, filename desc) = 1"
    )
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchone()[0]


def test_guest_checkouts_exist(db: duckdb.DuckDBPyConnection) -> None:
    guests = one(db, "select count(*) from orders where shop_customer_id is null")
    assert 0 < guests < one(db, "select count(*) from orders")


def test_people_have_two_emails(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select count(*) from contacts_all where secondary_email is not null") > 0
    other_email = one(
        db,
        "select count(distinct o.shop_customer_id) from orders as o join customers_all as c "
        "using (shop_customer_id) where lower(trim(o.email)) <> lower(trim(c.email))",
    )
    assert other_email > 0


def test_same_email_in_case_and_whitespace_variants(db: duckdb.DuckDBPyConnection) -> None:
    for table in ("contacts_all", "customers_all", "orders"):
        assert one(db, f"select count(*) from {table} where email <> lower(trim(email))") > 0


def test_repeat_buyers_exist(db: duckdb.DuckDBPyConnection) -> None:
    buyers = db.execute(
        "select count(*), count(*) filter (where n >= 2), count(*) filter (where n >= 3) from "
        "(select lower(trim(email)) as email, count(*) as n from orders group by 1)"
    ).fetchone()
    assert buyers[1] / buyers[0] > 0.25
    assert buyers[2] > 0


def test_abandoned_and_completed_checkouts(db: duckdb.DuckDBPyConnection) -> None:
    share = one(db, "select avg((completed_order_id is null)::int) from checkouts_all")
    assert 0.55 < share < 0.75
    dangling = one(
        db,
        "select count(*) from checkouts_all where completed_order_id is not null "
        "and completed_order_id not in (select order_id from orders)",
    )
    assert dangling == 0


def test_several_currencies(db: duckdb.DuckDBPyConnection, clean: GenerationReport) -> None:
    currencies = {r[0] for r in db.execute("select distinct currency from orders").fetchall()}
    assert {"USD", "EUR", "GBP", "CAD"} <= currencies
    assert currencies <= set(clean.currencies)


def test_refunds_match_order_status(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        "select o.financial_status, o.total::decimal(18,2), sum(r.amount::decimal(18,2)) "
        "from orders as o join refunds_all as r using (order_id) "
        "group by o.order_id, o.financial_status, o.total"
    ).fetchall()
    assert rows
    statuses = {r[0] for r in rows}
    assert {"refunded", "partially_refunded"} <= statuses
    for status, total, refunded in rows:
        assert status in ("refunded", "partially_refunded")
        assert refunded <= total
        assert (refunded == total) == (status == "refunded")
    orphans = one(
        db, "select count(*) from refunds_all where order_id not in (select order_id from orders)"
    )
    assert orphans == 0


def test_orders_change_between_files(db: duckdb.DuckDBPyConnection) -> None:
    changed = one(
        db,
        "select count(*) from (select order_id from orders_all group by order_id "
        "having count(distinct financial_status) > 1)",
    )
    assert changed > 0
    assert one(db, "select count(*) from orders where cancelled_at is not null") > 0
    assert (
        one(db, "select count(*) from orders where financial_status in ('pending', 'voided')") > 0
    )


def test_fourth_quarter_is_the_peak(db: duckdb.DuckDBPyConnection) -> None:
    by_quarter = dict(
        db.execute(
            "select quarter(ordered_at::timestamptz), count(*) from orders "
            "where ordered_at < '2025-01-01' group by 1"
        ).fetchall()
    )
    assert by_quarter[4] > max(by_quarter[1], by_quarter[2], by_quarter[3])


def test_email_rates_are_plausible(db: duckdb.DuckDBPyConnection) -> None:
    sent, bounced, delivered, opened, clicked, unsubscribed = db.execute(
        "select count(*) filter (where event_type = 'sent'), "
        "count(*) filter (where event_type = 'bounced'), "
        "count(*) filter (where event_type = 'delivered'), "
        "count(distinct (campaign_id, email)) filter (where event_type = 'opened'), "
        "count(distinct (campaign_id, email)) filter (where event_type = 'clicked'), "
        "count(*) filter (where event_type = 'unsubscribed') from events_all"
    ).fetchone()
    assert 0.02 <= bounced / sent <= 0.05
    assert 0.2 <= opened / delivered <= 0.4
    assert 0.02 <= clicked / delivered <= 0.05
    assert unsubscribed > 0


def test_event_recipients_are_known_people(db: duckdb.DuckDBPyConnection) -> None:
    unknown = one(
        db,
        "with known as (select lower(trim(email)) as e from contacts_all "
        "union select lower(trim(secondary_email)) from contacts_all "
        "union select lower(trim(email)) from customers_all "
        "union select lower(trim(email)) from orders) "
        "select count(distinct lower(trim(email))) from events_all "
        "where lower(trim(email)) not in (select e from known where e is not null)",
    )
    assert unknown == 0


def test_subscriptions_churn(db: duckdb.DuckDBPyConnection) -> None:
    intervals = {
        r[0]
        for r in db.execute("select distinct billing_interval from subscriptions_all").fetchall()
    }
    assert intervals == {"week", "month", "year"}
    assert one(db, "select count(*) from subscriptions_all where status = 'cancelled'") > 0


def test_ad_spend_uses_free_text_channels(
    db: duckdb.DuckDBPyConnection, clean: GenerationReport
) -> None:
    channels = {r[0] for r in db.execute("select distinct channel from ad_spend_all").fetchall()}
    assert {"Google Ads", "google_ads", "facebook", "Meta Ads", "TikTok", "bing"} <= channels
    assert channels <= set(clean.channel_spellings["ad_channel"])
    utm = {r[0] for r in db.execute("select distinct utm_source from orders_all").fetchall()}
    assert utm - {None} <= set(clean.channel_spellings["utm_source"])
    acquisition = {
        r[0] for r in db.execute("select distinct acquisition_channel from contacts_all").fetchall()
    }
    assert acquisition - {None} <= set(clean.channel_spellings["acquisition_channel"])


def test_referrals_point_at_earlier_contacts(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        "select c.created_at::timestamptz, r.created_at::timestamptz from contacts_all as c "
        "join contacts_all as r on c.referred_by_contact_id = r.contact_id"
    ).fetchall()
    assert rows
    assert all(referred >= referrer for referred, referrer in rows)
