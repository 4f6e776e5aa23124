"""Identity resolution on a hand-written data set that follows the landing contract.

The issue's acceptance test: on data written by someone other than the project's generator, the
warehouse finds exactly the real people behind the records and never merges two of them. The
rows below are inserted straight into the raw tables (``ensure_raw_schema``), as the loader
would leave them (every value as text), so the test depends on neither the loader nor the
generator. Each person covers one of docs/landing-contract.md's link kinds or one of its traps; ``PEOPLE``
says which identifiers belong together, and the test checks the grouping exactly. A second
build after new data joins two people checks which customer_key survives.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.contract import tables
from orchestration.ingest.raw_schema import ensure_raw_schema

# The tests of this module run on one worker, so its dbt build happens once per session.
pytestmark = pytest.mark.xdist_group("dbt_identity")

REPO_ROOT = Path(__file__).resolve().parents[3]
SELECTION = [
    "+dim_customers",
    "+fct_order_lines",
    "+fct_checkouts",
    # dim_customers reads the per-customer models, not these facts: select them too
    "+fct_support_tickets",
    "+fct_email_events",
    "+int_quarantined_rows_unioned",
]

# (source, table) -> rows; missing columns are NULL, every value is text as in raw.
RAW_ROWS: dict[tuple[str, str], list[dict[str, str]]] = {
    ("crm", "contacts"): [
        # P1: primary and secondary email, in messy case and whitespace
        {
            "contact_id": "C-1",
            "email": " Alice@Example.COM ",
            "secondary_email": "alice.work@Example.com",
            "first_name": "Alice",
            "created_at": "2025-01-05T10:00:00Z",
            "acquisition_channel": "Google",
        },
        # P3: start of a chain of links
        {
            "contact_id": "C-3",
            "email": "carol1@example.net",
            "secondary_email": "carol2@example.net",
            "created_at": "2025-01-10T09:00:00Z",
        },
        # P4 and P5 share an invalid secondary email: they must stay two people
        {
            "contact_id": "C-4",
            "email": "dave@example.com",
            "secondary_email": "n/a",
            "created_at": "2025-01-11T09:00:00Z",
        },
        {
            "contact_id": "C-5",
            "email": "erin@example.com",
            "secondary_email": "n/a",
            "created_at": "2025-01-12T09:00:00Z",
        },
        # P11: a contact whose only email is invalid is still a person, keyed by its id
        {"contact_id": "C-11", "email": "kim at example", "created_at": "2025-02-01T09:00:00Z"},
        # P12: its ticket comes from another address, which links nothing
        {"contact_id": "C-12", "email": "leo@example.com", "created_at": "2025-02-02T09:00:00Z"},
        # P14: known only to the CRM, created after the last order (still a person)
        {"contact_id": "C-14", "email": "nina@example.com", "created_at": "2025-12-01T09:00:00Z"},
    ],
    ("crm", "support_tickets"): [
        {
            "ticket_id": "T-1",
            "contact_id": "C-12",
            "email": "leo.other@example.com",
            "opened_at": "2025-03-01T09:00:00Z",
            "csat_score": "4",
        },
        # unknown contact id: attributed by email (P8), not quarantined
        {
            "ticket_id": "T-2",
            "contact_id": "C-999",
            "email": "HEIDI@example.org",
            "opened_at": "2025-03-02T09:00:00Z",
            "csat_score": "2",
        },
    ],
    ("crm", "feedback"): [
        {
            "feedback_id": "F-1",
            "contact_id": "C-1",
            "email": "alice@example.com",
            "submitted_at": "2025-03-03T09:00:00Z",
            "feedback_type": "nps",
            "score": "9",
        },
    ],
    ("email", "campaigns"): [
        {
            "campaign_id": "CMP-1",
            "campaign_name": "Spring",
            "channel": "email",
            "sent_at": "2025-02-15T08:00:00Z",
            "cost": "100",
            "currency": "USD",
        },
    ],
    ("email", "events"): [
        {
            "event_id": "E-1",
            "campaign_id": "CMP-1",
            "email": "alice@example.com ",
            "event_type": "opened",
            "occurred_at": "2025-02-15T09:00:00Z",
        },
        {
            "event_id": "E-2",
            "campaign_id": "CMP-1",
            "email": "heidi@example.org",
            "event_type": "clicked",
            "occurred_at": "2025-02-15T09:30:00Z",
        },
        # P9: a recipient known from nowhere else
        {
            "event_id": "E-3",
            "campaign_id": "CMP-1",
            "email": "ivan@example.com",
            "event_type": "delivered",
            "occurred_at": "2025-02-15T09:00:00Z",
        },
        # an event for an unknown campaign: quarantined (reference rule)
        {
            "event_id": "E-4",
            "campaign_id": "CMP-404",
            "email": "ivan@example.com",
            "event_type": "opened",
            "occurred_at": "2025-02-16T09:00:00Z",
        },
    ],
    ("subscriptions", "subscriptions"): [
        # P3: the billing customer carries the chain on to a fourth address
        {
            "subscription_id": "SUB-3a",
            "billing_customer_id": "B-3",
            "email": "carol3@example.net",
            "billing_interval": "month",
            "price": "20",
            "currency": "USD",
            "status": "active",
            "started_at": "2025-02-01T00:00:00Z",
        },
        {
            "subscription_id": "SUB-3b",
            "billing_customer_id": "B-3",
            "email": "carol4@example.net",
            "billing_interval": "week",
            "price": "6",
            "currency": "USD",
            "status": "active",
            "started_at": "2025-02-05T00:00:00Z",
        },
        # P13: no billing customer id, linked to a guest order by email only
        {
            "subscription_id": "SUB-13",
            "email": "mallory@example.com",
            "billing_interval": "year",
            "price": "120",
            "currency": "EUR",
            "status": "cancelled",
            "started_at": "2025-01-20T00:00:00Z",
            "cancelled_at": "2025-04-01T00:00:00Z",
        },
    ],
    ("shop", "customers"): [
        {
            "shop_customer_id": "S-2",
            "email": "bob@example.com",
            "created_at": "2025-01-06T10:00:00Z",
        },
        {
            "shop_customer_id": "S-3",
            "email": "Carol2@Example.net",
            "created_at": "2025-01-15T10:00:00Z",
        },
        # P6 and P7 share an invalid checkout email: they must stay two people
        {
            "shop_customer_id": "S-6",
            "email": "frank@example.com",
            "created_at": "2025-01-07T10:00:00Z",
        },
        {
            "shop_customer_id": "S-7",
            "email": "grace@example.com",
            "created_at": "2025-01-08T10:00:00Z",
        },
        # P10: invalid account email (quarantined) but a valid email on its orders
        {
            "shop_customer_id": "S-10",
            "email": "judy-at-example",
            "created_at": "2025-01-09T10:00:00Z",
        },
    ],
    ("shop", "orders"): [
        # P1: guest order under the CRM secondary email
        {
            "order_id": "O-1",
            "email": "ALICE.WORK@example.com",
            "ordered_at": "2025-02-20T10:00:00Z",
            "currency": "USD",
            "subtotal": "50",
            "total": "55",
            "financial_status": "paid",
        },
        # P2: a shop customer's order under another email, and a guest order under that email
        {
            "order_id": "O-2",
            "shop_customer_id": "S-2",
            "email": "bobby@other.org",
            "ordered_at": "2025-02-21T10:00:00Z",
            "currency": "USD",
            "subtotal": "40",
            "total": "40",
            "financial_status": "paid",
        },
        {
            "order_id": "O-2b",
            "email": " Bobby@Other.org",
            "ordered_at": "2025-03-21T10:00:00Z",
            "currency": "USD",
            "subtotal": "30",
            "total": "30",
            "financial_status": "paid",
        },
        # P3: the shop customer's order under a third address
        {
            "order_id": "O-3",
            "shop_customer_id": "S-3",
            "email": "carol3@example.net",
            "ordered_at": "2025-02-22T10:00:00Z",
            "currency": "USD",
            "subtotal": "10",
            "total": "10",
            "financial_status": "paid",
        },
        # P3: a guest order under the fourth address, at the end of the chain
        {
            "order_id": "O-3b",
            "email": "carol4@example.net",
            "ordered_at": "2025-03-22T10:00:00Z",
            "currency": "USD",
            "subtotal": "10",
            "total": "10",
            "financial_status": "paid",
        },
        # P8: guest order only
        {
            "order_id": "O-8",
            "email": "  Heidi@Example.org",
            "ordered_at": "2025-03-01T10:00:00Z",
            "currency": "USD",
            "subtotal": "20",
            "total": "20",
            "financial_status": "paid",
        },
        # P10
        {
            "order_id": "O-10",
            "shop_customer_id": "S-10",
            "email": "judy@example.com",
            "ordered_at": "2025-03-05T10:00:00Z",
            "currency": "USD",
            "subtotal": "15",
            "total": "15",
            "financial_status": "paid",
        },
        # P13
        {
            "order_id": "O-13",
            "email": "Mallory@example.com",
            "ordered_at": "2025-03-06T10:00:00Z",
            "currency": "EUR",
            "subtotal": "25",
            "total": "25",
            "financial_status": "paid",
        },
        # two guest orders whose only email is invalid (quarantined in staging): nobody
        {
            "order_id": "O-99",
            "email": "none",
            "ordered_at": "2025-03-07T10:00:00Z",
            "currency": "USD",
            "subtotal": "5",
            "total": "5",
            "financial_status": "paid",
        },
    ],
    ("shop", "order_lines"): [
        {"order_line_id": "L-1", "order_id": "O-1", "quantity": "1", "unit_price": "50"},
        # a line without an order: quarantined (reference rule)
        {"order_line_id": "L-404", "order_id": "O-404", "quantity": "1", "unit_price": "9"},
    ],
    ("shop", "refunds"): [
        {
            "refund_id": "R-404",
            "order_id": "O-404",
            "refunded_at": "2025-03-01T10:00:00Z",
            "amount": "5",
        },
    ],
    ("shop", "checkouts"): [
        {
            "checkout_id": "K-2",
            "shop_customer_id": "S-2",
            "email": "bob.checkout@example.com",
            "created_at": "2025-02-21T09:00:00Z",
            "completed_order_id": "O-2",
        },
        {
            "checkout_id": "K-6",
            "shop_customer_id": "S-6",
            "email": "unknown",
            "created_at": "2025-02-23T09:00:00Z",
        },
        {
            "checkout_id": "K-7",
            "shop_customer_id": "S-7",
            "email": "unknown",
            "created_at": "2025-02-24T09:00:00Z",
        },
    ],
}

# The real people: every identifier (type, normalised value) each of them must own.
PEOPLE: dict[str, set[tuple[str, str]]] = {
    "P1 alice (secondary email, guest order, case/space variants)": {
        ("crm_contact_id", "C-1"),
        ("email", "alice@example.com"),
        ("email", "alice.work@example.com"),
    },
    "P2 bob (customer's order under another email, guest order, checkout email)": {
        ("shop_customer_id", "S-2"),
        ("email", "bob@example.com"),
        ("email", "bobby@other.org"),
        ("email", "bob.checkout@example.com"),
    },
    "P3 carol (chain: contact - secondary - shop customer - order email - billing - email)": {
        ("crm_contact_id", "C-3"),
        ("email", "carol1@example.net"),
        ("email", "carol2@example.net"),
        ("shop_customer_id", "S-3"),
        ("email", "carol3@example.net"),
        ("billing_customer_id", "B-3"),
        ("email", "carol4@example.net"),
    },
    "P4 dave (invalid shared secondary email)": {
        ("crm_contact_id", "C-4"),
        ("email", "dave@example.com"),
    },
    "P5 erin (invalid shared secondary email)": {
        ("crm_contact_id", "C-5"),
        ("email", "erin@example.com"),
    },
    "P6 frank (invalid shared checkout email)": {
        ("shop_customer_id", "S-6"),
        ("email", "frank@example.com"),
    },
    "P7 grace (invalid shared checkout email)": {
        ("shop_customer_id", "S-7"),
        ("email", "grace@example.com"),
    },
    "P8 heidi (guest order, recipient, ticket with unknown contact)": {
        ("email", "heidi@example.org")
    },
    "P9 ivan (email recipient only)": {("email", "ivan@example.com")},
    "P10 judy (invalid account email, valid order email)": {
        ("shop_customer_id", "S-10"),
        ("email", "judy@example.com"),
    },
    "P11 kim (contact with only an invalid email)": {("crm_contact_id", "C-11")},
    "P12 leo (ticket from another address)": {
        ("crm_contact_id", "C-12"),
        ("email", "leo@example.com"),
    },
    "P13 mallory (subscription without billing id, guest order)": {
        ("email", "mallory@example.com")
    },
    "P14 nina (CRM only, created after the last order)": {
        ("crm_contact_id", "C-14"),
        ("email", "nina@example.com"),
    },
}


def _insert_raw(
    con: duckdb.DuckDBPyConnection,
    rows_by_table: dict[tuple[str, str], list[dict[str, str]]],
    load_id: int,
) -> None:
    """Insert rows into raw tables as the loader would leave them (text values + metadata)."""
    by_name = {(table.source, table.name): table for table in tables()}
    for (source, name), rows in rows_by_table.items():
        table = by_name[(source, name)]
        columns = list(table.column_names)
        for line_number, row in enumerate(rows, start=2):
            unknown = set(row) - set(columns)
            assert not unknown, f"{source}.{name}: not contract columns {unknown}"
            values = [row.get(column) for column in columns]
            values += [
                None,
                load_id,
                f"{source}/{name}/handwritten_{load_id}.csv",
                line_number,
                datetime(2026, 1, 1, 0, load_id),
            ]
            placeholders = ", ".join("?" for _ in values)
            quoted = ", ".join(f'"{column}"' for column in columns)
            con.execute(
                f"insert into {table.qualified_raw_name} ({quoted}, _extra_columns, _load_id, "
                f"_file_name, _line_number, _loaded_at) values ({placeholders})",
                values,
            )


def _dbt_build(workdir: Path) -> None:
    env = {
        **os.environ,
        "CLM_DUCKDB_PATH": str(workdir / "clm.duckdb"),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "CLM_AS_OF_DATE": "",
    }
    result = dbt("build", "--select", *SELECTION, "--indirect-selection", "cautious", env=env)
    assert result.returncode == 0, result.stdout[-6000:]


def _groups(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[str, str]]]:
    groups: dict[str, set[tuple[str, str]]] = {}
    for identifier_type, value, key in con.execute(
        "select identifier_type, identifier_value, customer_key from intermediate.int_identities_resolved"
    ).fetchall():
        groups.setdefault(key, set()).add((identifier_type, value))
    return groups


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch DuckDB with the hand-written raw rows, built by dbt."""
    workdir = tmp_path_factory.mktemp("identity_foreign")
    con = duckdb.connect(str(workdir / "clm.duckdb"))
    ensure_raw_schema(con)
    _insert_raw(con, RAW_ROWS, load_id=1)
    con.close()
    _dbt_build(workdir)
    yield workdir
    shutil.rmtree(workdir, ignore_errors=True)


def test_one_customer_per_real_person(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        customers = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
        distinct_keys = con.execute(
            "select count(distinct customer_key) from marts.dim_customers"
        ).fetchone()[0]
    assert customers == distinct_keys == len(PEOPLE)


def test_exact_grouping(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        groups = _groups(con)
    expected = sorted(sorted(identifiers) for identifiers in PEOPLE.values())
    assert sorted(sorted(identifiers) for identifiers in groups.values()) == expected


def test_invalid_emails_are_no_identifiers(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        values = {
            row[0]
            for row in con.execute(
                "select identifier_value from intermediate.int_identities_resolved where identifier_type = 'email'"
            ).fetchall()
        }
    assert not values & {"n/a", "unknown", "none", "kim at example", "judy-at-example"}
    assert "leo.other@example.com" not in values


def test_every_activity_row_reaches_its_person(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        key_of = {
            value: key
            for _, value, key in con.execute(
                "select identifier_type, identifier_value, customer_key from intermediate.int_identities_resolved"
            ).fetchall()
        }
        orders = dict(con.execute("select order_id, customer_key from marts.fct_orders").fetchall())
        tickets = dict(
            con.execute("select ticket_id, customer_key from marts.fct_support_tickets").fetchall()
        )
        events = dict(
            con.execute("select event_id, customer_key from marts.fct_email_events").fetchall()
        )
        quarantined = set(
            con.execute(
                "select table_name || ':' || primary_key_value from intermediate.int_quarantined_rows_unioned"
            ).fetchall()
        )
    assert orders["O-1"] == key_of["C-1"]
    assert orders["O-2"] == orders["O-2b"] == key_of["S-2"]
    assert orders["O-3b"] == key_of["C-3"]
    assert orders["O-13"] == key_of["mallory@example.com"]
    assert "O-99" not in orders
    assert tickets["T-1"] == key_of["C-12"]
    assert tickets["T-2"] == key_of["heidi@example.org"]
    assert events["E-2"] == key_of["heidi@example.org"]
    assert "E-4" not in events
    assert {
        ("events:E-4",),
        ("order_lines:L-404",),
        ("refunds:R-404",),
        ("orders:O-99",),
    } <= quarantined


def test_merge_keeps_the_first_seen_key(warehouse: Path) -> None:
    """New data joining two people: the key of the person seen first survives, the other goes."""
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        before = _groups(con)
    key_of = {identifier: key for key, identifiers in before.items() for identifier in identifiers}
    frank_key = key_of[("shop_customer_id", "S-6")]
    grace_key = key_of[("shop_customer_id", "S-7")]
    con = duckdb.connect(str(warehouse / "clm.duckdb"))
    # a CRM contact with frank's email and grace's email as secondary joins P6 and P7
    _insert_raw(
        con,
        {
            ("crm", "contacts"): [
                {
                    "contact_id": "C-67",
                    "email": "frank@example.com",
                    "secondary_email": "grace@example.com",
                    "created_at": "2025-06-01T09:00:00Z",
                },
            ]
        },
        load_id=2,
    )
    con.close()
    _dbt_build(warehouse)
    with duckdb.connect(str(warehouse / "clm.duckdb"), read_only=True) as con:
        after = _groups(con)
        customers = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
    assert customers == len(PEOPLE) - 1
    assert frank_key in after and grace_key not in after  # S-6 was seen before S-7
    assert ("shop_customer_id", "S-7") in after[frank_key]
    # everybody else keeps their key
    untouched = {
        key: identifiers for key, identifiers in before.items() if key not in (frank_key, grace_key)
    }
    assert all(after[key] == identifiers for key, identifiers in untouched.items())
