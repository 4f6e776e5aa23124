"""DDL of the raw schema: one table per contract table, the load manifest, the rejects.

Every contract column is VARCHAR in raw: the value as it was in the file. Types are applied in
dbt staging; the loader only checks that each value *would* parse, so staging casts never fail.
"""

from __future__ import annotations

import duckdb

from orchestration.contract import Table, tables
from orchestration.sql import identifier

RAW_SCHEMA = "raw"

# Load metadata on every raw row (docs/design.md, "Raw layer").
METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_extra_columns", "VARCHAR"),
    ("_load_id", "BIGINT"),
    ("_file_name", "VARCHAR"),
    ("_line_number", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)

MANIFEST_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_manifest (
    load_id bigint primary key,
    source varchar not null,
    table_name varchar not null,
    file_name varchar not null,
    file_hash varchar not null,
    file_size_bytes bigint,
    file_format varchar,
    status varchar not null,
    reason varchar,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    started_at timestamp not null,
    finished_at timestamp not null
)
"""

REJECTS_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_rejects (
    load_id bigint not null,
    source varchar not null,
    table_name varchar not null,
    file_name varchar not null,
    line_number bigint,
    reason varchar not null,
    raw_record varchar
)
"""

RECONCILIATION_DDL = f"""
create or replace view {RAW_SCHEMA}.load_reconciliation as
select
    load_id,
    source,
    table_name,
    file_name,
    status,
    rows_read,
    rows_loaded,
    rows_rejected,
    rows_read = rows_loaded + rows_rejected as is_balanced,
    -- a file no reader could open: its rows are unknown, so its zeros balance nothing
    coalesce(starts_with(reason, 'unreadable, rows unknown'), false) as is_unreadable
from {RAW_SCHEMA}.load_manifest
"""


def raw_table_ddl(table: Table) -> str:
    """``create table if not exists`` for one raw table."""
    columns = [f"{identifier(name)} VARCHAR" for name in table.column_names]
    columns += [f"{name} {sql_type}" for name, sql_type in METADATA_COLUMNS]
    body = ",\n    ".join(columns)
    return f"create table if not exists {table.qualified_raw_name} (\n    {body}\n)"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, its 13 tables, the manifest, rejects and reconciliation view.

    Idempotent. A table with no files stays empty, so everything downstream still builds.
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in tables():
        con.execute(raw_table_ddl(table))
    con.execute(MANIFEST_DDL)
    con.execute(REJECTS_DDL)
    con.execute(RECONCILIATION_DDL)
