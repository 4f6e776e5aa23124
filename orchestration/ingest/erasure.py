"""The right to erasure: ``clm erase --email … | --customer-key …`` (docs/erasure.md).

1. **Resolve** the person: every identifier linked to them. With a built warehouse, through
   ``intermediate.int_identities_resolved`` (all emails, CRM, shop and billing ids of their
   customer key); without one, the given email plus the ids on raw rows that carry a valid
   form of it, and the emails on raw rows that carry those ids. Their order ids come from raw
   orders (and ``marts.fct_orders``), so order lines and refunds go too.
2. **Delete** them from every table of the warehouse file: the raw tables (a referral by the
   person is set to NULL on the referred contact's row), the raw rejects whose record holds
   one of the identifiers, and every other table (snapshots, incremental staging, marts,
   history, CLV predictions, …) found generically in ``information_schema`` by its identifier
   columns (emails, ``customer_key``, CRM/shop/billing ids, order ids, identity values).
   Views are not touched: they are rebuilt.
3. **Tombstone** each identifier (a keyed hash, ``orchestration/ingest/tombstones.py``) in the
   tombstone file outside the warehouse, so reloading an old landing file does not bring the
   person back, and append an audit entry without personal data (counts only).
4. The caller then rebuilds dbt from raw (``--full-refresh``); the BI file and its copies
   change at the next publication.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from orchestration.ingest.tombstones import (
    BILLING_CUSTOMER_ID,
    CRM_CONTACT_ID,
    EMAIL,
    IDENTIFIER_TYPES,
    ORDER_ID,
    RAW_IDENTIFIER_COLUMNS,
    RAW_REFERENCE_COLUMNS,
    SHOP_CUSTOMER_ID,
    erasure_key,
    identifier_hash,
    normalise,
    read_store,
    tombstone_path,
    write_store,
)

CUSTOMER_KEY = "customer_key"
ANY = "any"
_VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Columns of warehouse tables (outside raw) that hold a person's identifier, by name.
_COLUMN_TYPES: dict[str, str] = {
    "email": EMAIL,
    "secondary_email": EMAIL,
    "crm_contact_id": CRM_CONTACT_ID,
    "shop_customer_id": SHOP_CUSTOMER_ID,
    "billing_customer_id": BILLING_CUSTOMER_ID,
    "order_id": ORDER_ID,
    "completed_order_id": ORDER_ID,
    "customer_key": CUSTOMER_KEY,
    # identity tables and the quarantine list: a value of any type
    "identifier_value": ANY,
    "anchor_identifier_value": ANY,
    "primary_key_value": ANY,
}
# Columns where the person is only referred to by someone else's row: cleared, row kept.
_REFERENCE_COLUMNS = {"referred_by_crm_contact_id": CRM_CONTACT_ID}


@dataclass
class Person:
    """Every identifier of one person, by type (normalised), and their customer keys."""

    identifiers: dict[str, set[str]] = field(
        default_factory=lambda: {kind: set() for kind in IDENTIFIER_TYPES}
    )
    customer_keys: set[str] = field(default_factory=set)

    def add(self, kind: str, value: str | None) -> None:
        if value is not None and str(value).strip():
            self.identifiers[kind].add(normalise(kind, str(value)))

    def values(self, kind: str) -> set[str]:
        if kind == CUSTOMER_KEY:
            return set(self.customer_keys)
        if kind == ANY:
            return set().union(*self.identifiers.values(), self.customer_keys)
        return set(self.identifiers[kind])

    @property
    def is_empty(self) -> bool:
        return not self.customer_keys and not any(self.identifiers.values())


@dataclass
class ErasureReport:
    """What an erasure did, without personal data."""

    identifiers: dict[str, int]
    rows_deleted: dict[str, int]
    rows_cleared: dict[str, int]
    tombstones_added: int

    def summary(self) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.identifiers.items() if count)
        deleted = sum(self.rows_deleted.values())
        if not deleted:
            kinds += " (no row holds them; the tombstones still block future loads)"
        return (
            f"erased {kinds or 'no identifier'}: {deleted} row(s) deleted from "
            f"{len(self.rows_deleted)} table(s), {sum(self.rows_cleared.values())} reference(s) "
            f"cleared, {self.tombstones_added} new tombstone(s) in {tombstone_path()}"
        )


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return count > 0


def _in_list(column_sql: str, values: Iterable[str]) -> tuple[str, list[str]]:
    values = sorted(values)
    if not values:
        return "false", []
    return f"{column_sql} in ({', '.join('?' for _ in values)})", values


def _normalised_sql(kind: str, column: str) -> str:
    text = f'trim(cast("{column}" as varchar))'
    return f"lower({text})" if kind in (EMAIL, ANY) else text


def resolve_person(
    con: duckdb.DuckDBPyConnection, email: str | None = None, customer_key: str | None = None
) -> Person:
    """Every identifier of the person with ``email`` or ``customer_key`` (see module doc)."""
    person = Person()
    if email:
        person.add(EMAIL, email)
    if customer_key:
        person.customer_keys.add(customer_key.strip())
    has_identity = _table_exists(con, "intermediate", "int_identities_resolved")
    if customer_key and not has_identity:
        raise ValueError(
            "--customer-key needs a built warehouse (intermediate.int_identities_resolved); "
            "erase by --email instead"
        )
    if has_identity:
        if email:
            rows = con.execute(
                "select distinct customer_key from intermediate.int_identities_resolved "
                "where identifier_type = 'email' and identifier_value = ?",
                [normalise(EMAIL, email)],
            ).fetchall()
            person.customer_keys.update(key for (key,) in rows if key)
        if person.customer_keys:
            condition, params = _in_list("customer_key", person.customer_keys)
            for kind, value in con.execute(
                "select identifier_type, identifier_value "
                f"from intermediate.int_identities_resolved where {condition}",
                params,
            ).fetchall():
                if kind in person.identifiers:
                    person.add(kind, value)
    else:
        _expand_through_raw(con, person)
    _add_order_ids(con, person)
    return person


def _expand_through_raw(con: duckdb.DuckDBPyConnection, person: Person) -> None:
    """Without identity: ids on raw rows with the person's valid emails, then their emails."""
    for _round in range(2):
        for (source, table), columns in RAW_IDENTIFIER_COLUMNS.items():
            person_columns = {name: kind for name, kind in columns.items() if kind != ORDER_ID}
            if not person_columns or not _table_exists(con, "raw", f"{source}__{table}"):
                continue
            condition, params = _match_condition(person_columns, person, valid_emails_only=True)
            if condition == "false":
                continue
            selected = ", ".join(f'"{name}"' for name in person_columns)
            for row in con.execute(
                f'select {selected} from raw."{source}__{table}" where {condition}', params
            ).fetchall():
                for (_name, kind), value in zip(person_columns.items(), row, strict=True):
                    if kind == EMAIL and not _VALID_EMAIL.match(normalise(EMAIL, value or "")):
                        continue  # an invalid email never links anything
                    person.add(kind, value)


def _add_order_ids(con: duckdb.DuckDBPyConnection, person: Person) -> None:
    if _table_exists(con, "raw", "shop__orders"):
        columns = {"shop_customer_id": SHOP_CUSTOMER_ID, "email": EMAIL}
        condition, params = _match_condition(columns, person)
        if condition != "false":
            for (order_id,) in con.execute(
                f"select order_id from raw.shop__orders where {condition}", params
            ).fetchall():
                person.add(ORDER_ID, order_id)
    if person.customer_keys and _table_exists(con, "marts", "fct_orders"):
        condition, params = _in_list("customer_key", person.customer_keys)
        for (order_id,) in con.execute(
            f"select order_id from marts.fct_orders where {condition}", params
        ).fetchall():
            person.add(ORDER_ID, order_id)


def _match_condition(
    columns: dict[str, str], person: Person, *, valid_emails_only: bool = False
) -> tuple[str, list[str]]:
    """SQL true for a row where any of ``columns`` (name -> type) holds one of the person's."""
    parts, params = [], []
    for name, kind in columns.items():
        values = person.values(kind)
        if kind == ANY:
            values = {value.lower() for value in values}
        if kind == EMAIL and valid_emails_only:
            values = {value for value in values if _VALID_EMAIL.match(value)}
        condition, values_params = _in_list(_normalised_sql(kind, name), values)
        if condition != "false":
            parts.append(condition)
            params.extend(values_params)
    return (" or ".join(f"({part})" for part in parts) or "false"), params


def erase_person(con: duckdb.DuckDBPyConnection, person: Person) -> ErasureReport:
    """Delete the person from every table of ``con``'s warehouse and tombstone them.

    One transaction for the warehouse; the tombstone file is written first, so a crash in
    between leaves the person blocked from coming back and the erasure can simply be rerun.
    """
    if person.is_empty:
        raise ValueError("nothing to erase: no identifier given")
    added = record_tombstones(person)
    deleted: dict[str, int] = {}
    cleared: dict[str, int] = {}
    con.begin()
    try:
        for (source, table), columns in RAW_IDENTIFIER_COLUMNS.items():
            name = f"{source}__{table}"
            if not _table_exists(con, "raw", name):
                continue
            condition, params = _match_condition(columns, person)
            _count(deleted, f"raw.{name}", _delete(con, f'raw."{name}"', condition, params))
            for column, kind in RAW_REFERENCE_COLUMNS.get((source, table), {}).items():
                _count(cleared, f"raw.{name}", _clear(con, f'raw."{name}"', column, kind, person))
        _count(deleted, "raw.load_rejects", _delete_rejects(con, person))
        for schema, table in _warehouse_tables(con):
            columns = _identifier_columns(con, schema, table)
            qualified = f'"{schema}"."{table}"'
            if columns:
                condition, params = _match_condition(columns, person)
                _count(deleted, f"{schema}.{table}", _delete(con, qualified, condition, params))
            for column, kind in _reference_columns(con, schema, table).items():
                _count(cleared, f"{schema}.{table}", _clear(con, qualified, column, kind, person))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    report = ErasureReport(
        identifiers={kind: len(person.values(kind)) for kind in (*IDENTIFIER_TYPES, CUSTOMER_KEY)},
        rows_deleted=deleted,
        rows_cleared=cleared,
        tombstones_added=added,
    )
    _audit(report)
    return report


def _count(counts: dict[str, int], name: str, number: int) -> None:
    if number:
        counts[name] = counts.get(name, 0) + number


def _delete(con: duckdb.DuckDBPyConnection, table: str, condition: str, params: list) -> int:
    if condition == "false":
        return 0
    (count,) = con.execute(f"delete from {table} where {condition}", params).fetchone()
    return int(count)


def _clear(
    con: duckdb.DuckDBPyConnection, table: str, column: str, kind: str, person: Person
) -> int:
    condition, params = _in_list(_normalised_sql(kind, column), person.values(kind))
    if condition == "false":
        return 0
    (count,) = con.execute(
        f'update {table} set "{column}" = null where {condition}', params
    ).fetchone()
    return int(count)


def _delete_rejects(con: duckdb.DuckDBPyConnection, person: Person) -> int:
    """Rejected records that hold one of the identifiers (emails anywhere, ids as a field)."""
    if not _table_exists(con, "raw", "load_rejects"):
        return 0
    parts, params = [], []
    for email in person.values(EMAIL):
        parts.append("contains(lower(raw_record), ?)")
        params.append(email)
    for kind in (CRM_CONTACT_ID, SHOP_CUSTOMER_ID, BILLING_CUSTOMER_ID, ORDER_ID):
        for value in person.values(kind):
            parts.append("regexp_matches(raw_record, ?)")
            params.append(r'(^|[,"\s:])' + re.escape(value) + r'($|[,"\s])')
    if not parts:
        return 0
    (count,) = con.execute(
        f"delete from raw.load_rejects where {' or '.join(parts)}", params
    ).fetchone()
    return int(count)


def _warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every base table outside raw (raw is handled table by table from the contract)."""
    return con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_type = 'BASE TABLE'
            and table_schema not in ('raw', 'information_schema', 'pg_catalog')
            and table_catalog = current_database()
        order by table_schema, table_name
        """
    ).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? and table_catalog = current_database()",
            [schema, table],
        ).fetchall()
    ]


def _identifier_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    found = {}
    for column in _columns(con, schema, table):
        lowered = column.lower()
        if lowered in _COLUMN_TYPES:
            found[column] = _COLUMN_TYPES[lowered]
        elif lowered.endswith("_email"):
            found[column] = EMAIL
    return found


def _reference_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    return {
        column: _REFERENCE_COLUMNS[column.lower()]
        for column in _columns(con, schema, table)
        if column.lower() in _REFERENCE_COLUMNS
    }


def record_tombstones(person: Person) -> int:
    """Add the person's tombstones to the tombstone file; returns how many were new."""
    store = read_store()
    key = erasure_key(store)
    known = {entry["hash"] for entry in store["tombstones"]}
    now = _now()
    added = 0
    for kind in IDENTIFIER_TYPES:
        for value in sorted(person.values(kind)):
            digest = identifier_hash(key, kind, value)
            if digest not in known:
                store["tombstones"].append({"hash": digest, "type": kind, "erased_at": now})
                known.add(digest)
                added += 1
    write_store(store)
    return added


def _audit(report: ErasureReport) -> None:
    """Append the erasure to the audit log in the tombstone file: counts, never values."""
    store = read_store()
    store["erasures"].append(
        {
            "erased_at": _now(),
            "identifiers": {kind: count for kind, count in report.identifiers.items() if count},
            "rows_deleted": report.rows_deleted,
            "references_cleared": report.rows_cleared,
            "tombstones_added": report.tombstones_added,
        }
    )
    write_store(store)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
