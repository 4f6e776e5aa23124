"""DDL of the CLV model's two output tables, in one place.

``clv.customer_clv_predictions`` (replaced by every fit) and ``marts.customer_clv_model`` (one
row appended per fit), docs/ARCHITECTURE.md "KPI marts and CLV". dbt reads the predictions as a
source and creates both tables empty in an on-run-start hook so that a plain ``dbt build`` works
before the first fit: that macro mirrors ``PREDICTIONS_DDL`` and ``MODEL_DDL`` (it can print
them with ``python -c "from orchestration.clv.tables import ddl_statements; ..."``), so change
columns here and there together.
"""

from __future__ import annotations

import duckdb

CLV_SCHEMA = "clv"
MARTS_SCHEMA = "marts"
PREDICTIONS_TABLE = f"{CLV_SCHEMA}.customer_clv_predictions"
MODEL_TABLE = f"{MARTS_SCHEMA}.customer_clv_model"

# (column, DuckDB type) in table order; the DDL below is generated from these.
PREDICTIONS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_key", "VARCHAR"),
    ("p_alive", "DOUBLE"),
    ("expected_purchases", "DOUBLE"),
    ("expected_order_value", "DOUBLE"),
    ("predicted_clv", "DOUBLE"),
)
MODEL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fitted_at", "TIMESTAMP"),  # UTC, naive like every *_at of the warehouse
    ("as_of_date", "DATE"),
    ("time_unit", "VARCHAR"),
    ("r", "DOUBLE"),
    ("alpha", "DOUBLE"),
    ("a", "DOUBLE"),
    ("b", "DOUBLE"),
    ("p", "DOUBLE"),
    ("q", "DOUBLE"),
    ("gamma", "DOUBLE"),
    ("customers", "BIGINT"),
    ("log_likelihood", "DOUBLE"),
    ("converged", "BOOLEAN"),
)


def _create(table: str, columns: tuple[tuple[str, str], ...], *, replace: bool) -> str:
    head = "create or replace table" if replace else "create table if not exists"
    body = ",\n".join(f"    {name} {type_.lower()}" for name, type_ in columns)
    return f"{head} {table} (\n{body}\n)"


SCHEMAS_DDL = (
    f"create schema if not exists {CLV_SCHEMA}",
    f"create schema if not exists {MARTS_SCHEMA}",
)
PREDICTIONS_DDL = _create(PREDICTIONS_TABLE, PREDICTIONS_COLUMNS, replace=False)
MODEL_DDL = _create(MODEL_TABLE, MODEL_COLUMNS, replace=False)
# Used inside the replacing transaction of run_clv.
PREDICTIONS_REPLACE_DDL = _create(PREDICTIONS_TABLE, PREDICTIONS_COLUMNS, replace=True)


def ddl_statements() -> tuple[str, ...]:
    """Every statement that creates the CLV tables empty if they do not exist, in order."""
    return (*SCHEMAS_DDL, PREDICTIONS_DDL, MODEL_DDL)


def ensure_clv_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas ``clv`` and ``marts`` and both CLV tables, empty, when missing."""
    for statement in ddl_statements():
        con.execute(statement)
