"""Erasure and tombstones at the loader: real DuckDB, real files, no dbt (see tests/e2e)."""

from __future__ import annotations

import json

import duckdb

from orchestration.ingest.erasure import erase_person, resolve_person
from orchestration.ingest.loader import load_landing
from orchestration.ingest.tombstones import ERASED_REASON, read_store

CONTACTS = (
    "contact_id,email,created_at,referred_by_contact_id,secondary_email\n"
    "k1,Ann@X.com,2024-01-01,,ann.work@x.com\n"
    "k2,bob@x.com,2024-01-01,k1,\n"
)
ORDERS = (
    "order_id,shop_customer_id,email,ordered_at,currency,subtotal,total\n"
    "o1,s1,ann@x.com,2024-01-01,USD,1,1\n"
    "o2,s1,ann.shop@y.org,2024-01-02,USD,2,2\n"
    "o3,s2,bob@x.com,2024-01-03,USD,3,3\n"
    "o4,s1,ann.work@x.com,2024-01-04,USD,4,4,extra\n"
)
LINES = "order_line_id,order_id,quantity,unit_price\nl1,o1,1,1\nl2,o3,1,3\nl3,o2,1,2\n"


def quiet(_message: str) -> None:
    pass


def landing_with_ann(drop) -> None:
    drop("crm/contacts/contacts.csv", CONTACTS)
    drop("shop/orders/orders.csv", ORDERS)
    drop("shop/order_lines/lines.csv", LINES)


def test_erase_by_email_without_identity_follows_ids_through_raw(con, landing, drop):
    landing_with_ann(drop)
    load_landing(con, landing, progress=quiet)
    con.execute("create schema marts")
    con.execute(
        "create table marts.some_history as select * from (values "
        "('ann@x.com', 1), ('bob@x.com', 2), ('ANN.WORK@x.com ', 3)) as t(customer_email, n)"
    )
    person = resolve_person(con, email=" ANN@x.com")
    # her other shop email comes through her shop customer id
    assert person.values("email") == {"ann@x.com", "ann.work@x.com", "ann.shop@y.org"}
    assert person.values("crm_contact_id") == {"k1"}
    assert person.values("shop_customer_id") == {"s1"}
    # o4 was rejected at load (an extra field): it is no raw order
    assert person.values("order_id") == {"o1", "o2"}

    report = erase_person(con, person)
    assert con.execute(
        "select contact_id, referred_by_contact_id from raw.crm__contacts"
    ).fetchall() == [("k2", None)]
    assert con.execute("select order_id from raw.shop__orders").fetchall() == [("o3",)]
    assert con.execute("select order_line_id from raw.shop__order_lines").fetchall() == [("l2",)]
    # o4's rejected record (an extra field) held her address: gone from the rejects too
    assert con.execute("select count(*) from raw.load_rejects").fetchone()[0] == 0
    assert con.execute("select n from marts.some_history").fetchall() == [(2,)]
    assert report.rows_deleted["raw.shop__orders"] == 2
    assert report.rows_deleted["raw.load_rejects"] == 1
    assert report.rows_cleared == {"raw.crm__contacts": 1}


def test_reloading_the_original_files_rejects_the_erased_rows(con, landing, drop, own_tombstones):
    landing_with_ann(drop)
    load_landing(con, landing, progress=quiet)
    erase_person(con, resolve_person(con, email="ann@x.com"))

    fresh = duckdb.connect()
    report = load_landing(fresh, landing, progress=quiet)
    assert fresh.execute("select order_id from raw.shop__orders").fetchall() == [("o3",)]
    assert fresh.execute(
        "select contact_id, referred_by_contact_id from raw.crm__contacts"
    ).fetchall() == [("k2", None)]
    assert fresh.execute("select order_line_id from raw.shop__order_lines").fetchall() == [("l2",)]
    erased = fresh.execute(
        "select file_name, line_number, reason from raw.load_rejects order by all"
    ).fetchall()
    assert [(name, line) for name, line, _reason in erased] == [
        ("crm/contacts/contacts.csv", 2),
        ("shop/order_lines/lines.csv", 2),
        ("shop/order_lines/lines.csv", 4),
        ("shop/orders/orders.csv", 2),
        ("shop/orders/orders.csv", 3),
        ("shop/orders/orders.csv", 5),
    ]
    # the erased rule comes first: the reason holds nothing about the person or the row, and
    # the rejected record is not kept
    assert {reason for _name, _line, reason in erased} == {ERASED_REASON}
    assert fresh.execute("select count(raw_record) from raw.load_rejects").fetchone() == (0,)
    assert report.rows_read == report.rows_loaded + report.rows_rejected
    assert fresh.execute(
        "select count(*) from raw.load_reconciliation where not is_balanced"
    ).fetchone() == (0,)
    text = own_tombstones.read_text(encoding="utf-8")
    for value in ("ann@x.com", "ann.work@x.com", "ann.shop", "k1", "s1", '"o1"'):
        assert value not in text


def test_the_key_comes_from_the_environment_when_set(
    con, landing, drop, monkeypatch, own_tombstones
):
    monkeypatch.setenv("CLM_ERASURE_SALT", "a-secret-key")
    landing_with_ann(drop)
    load_landing(con, landing, progress=quiet)
    erase_person(con, resolve_person(con, email="ann@x.com"))
    store = json.loads(own_tombstones.read_text(encoding="utf-8"))
    assert "salt" not in store
    assert read_store(own_tombstones)["erasures"][0]["identifiers"]["email"] == 3

    # another key does not recognise the tombstones: the key must stay the same
    monkeypatch.setenv("CLM_ERASURE_SALT", "another-key")
    fresh = duckdb.connect()
    load_landing(fresh, landing, progress=quiet)
    assert fresh.execute("select count(*) from raw.shop__orders").fetchone() == (3,)
