"""Make Great Expectations 1.x compute its metrics on DuckDB through duckdb-engine.

Two faults, both seen on great-expectations 1.24.1, duckdb-engine 0.17.0, SQLAlchemy 2.1.9
(reproduced by ``tests/unit/quality/test_gx_duckdb_fix.py``):

1. **Empty metric results** (great_expectations issues 10738 and 11579). GE's
   ``SqlAlchemyExecutionEngine.execute_query`` runs the query inside ``with engine.connect()``
   and returns the *unfetched* cursor result; the caller fetches only after the connection
   is closed. Closing rolls the transaction back, and with duckdb-engine the rollback discards
   DuckDB's pending result, so every ``fetchall()`` returns ``[]``: each expectation "fails"
   with an empty ``result`` (``IndexError`` inside ``resolve_metric_bundle``). Fix: buffer a
   row-returning result with SQLAlchemy's ``Result.freeze()`` *before* the connection closes.
   Buffering is what the caller would do anyway: GE's metric queries are aggregates or
   ``LIMIT``-ed samples, the work stays in SQL.

2. **Column reflection** (duckdb-engine on SQLAlchemy 2.1): ``Inspector.get_columns`` runs
   SQLAlchemy's PostgreSQL catalog query, which 2.1 joins to ``pg_catalog.pg_collation``, a
   table DuckDB does not emulate. GE then falls back to ``SELECT * FROM <table> LIMIT 1``
   *without the schema*, so every column expectation on ``staging.x`` fails with "table x does
   not exist". Fix: for the duckdb dialect, read columns from DuckDB's native
   ``information_schema.columns``.

Both patches touch only the ``duckdb`` dialect and are applied once (idempotent). Call
``apply_duckdb_fix()`` before any validation; ``orchestration.quality.runner`` does.

When to remove: when a Great Expectations release fetches results before closing the
connection (or ships a native DuckDB execution engine, GE pull request 12084) and a
duckdb-engine release reflects columns on SQLAlchemy 2.1. Then delete this module and its
call; the test ``test_violated_expectation_fails_with_unexpected_count`` must still pass.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

_APPLIED_FLAG = "_clm_duckdb_fix_applied"
# What the patches replaced, so remove_duckdb_fix() can restore it (tests prove the bug is
# still there with the originals).
_ORIGINALS: dict[str, Any] = {}


def _freeze_if_duckdb(connection: sa.Connection, result: Any) -> Any:
    """Return a buffered copy of ``result`` on DuckDB connections, else ``result`` unchanged."""
    if connection.dialect.name != "duckdb" or not getattr(result, "returns_rows", False):
        return result
    # freeze() fetches every row now, while the connection is still open; calling the frozen
    # result gives a Result with the same fetchall/fetchone/fetchmany/scalar interface.
    return result.freeze()()


def _duckdb_columns(
    self: Any, connection: sa.Connection, table_name: str, schema: str | None = None, **kw: Any
) -> list[dict[str, Any]]:
    """Columns of ``schema.table_name`` from DuckDB's own ``information_schema``."""
    rows = connection.execute(
        sa.text(
            "select column_name, data_type, is_nullable, column_default "
            "from information_schema.columns "
            "where table_name = :table and table_schema = coalesce(:schema, current_schema()) "
            "order by ordinal_position"
        ),
        {"table": str(table_name), "schema": str(schema) if schema else None},
    ).fetchall()
    if not rows:
        raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else str(table_name))
    return [
        {
            "name": name,
            "type": _sqlalchemy_type(self, data_type),
            "nullable": is_nullable == "YES",
            "default": default,
            "autoincrement": False,
            "comment": None,
        }
        for name, data_type, is_nullable, default in rows
    ]


# DuckDB spellings the PostgreSQL type map of duckdb-engine does not know.
_EXTRA_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "decimal": sa.types.Numeric,
    "double": sa.types.Float,
    "float": sa.types.Float,
    "real": sa.types.Float,
    "timestamp": sa.types.TIMESTAMP,
    "timestamp with time zone": sa.types.TIMESTAMP,
    "json": sa.types.JSON,
}


def _sqlalchemy_type(dialect: Any, data_type: str) -> sa.types.TypeEngine:
    """A SQLAlchemy type for a DuckDB type name such as ``DECIMAL(18,4)`` (NullType if unknown)."""
    base = re.sub(r"\(.*\)", "", data_type).strip().lower()
    type_class = dialect.ischema_names.get(base) or _EXTRA_TYPES.get(base)
    if type_class is None:
        return sa.types.NullType()
    try:
        return type_class()
    except TypeError:  # e.g. Enum needs arguments; the name is what GE compares anyway
        return sa.types.NullType()


def apply_duckdb_fix() -> None:
    """Patch GE's SQLAlchemy execution engine and duckdb-engine's reflection (idempotent)."""
    import duckdb_engine
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    if getattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, False):
        return

    # Every GE query path (execute_query and execute_query_in_transaction) goes through this
    # one static method while the connection is open: the narrowest place to buffer.
    original = SqlAlchemyExecutionEngine._execute_query_with_recovery
    _ORIGINALS["execute"] = SqlAlchemyExecutionEngine.__dict__["_execute_query_with_recovery"]
    _ORIGINALS["get_columns"] = duckdb_engine.Dialect.__dict__.get("get_columns")

    def _execute_query_with_recovery(connection: sa.Connection, query: Any) -> Any:
        return _freeze_if_duckdb(connection, original(connection, query))

    SqlAlchemyExecutionEngine._execute_query_with_recovery = staticmethod(
        _execute_query_with_recovery
    )
    duckdb_engine.Dialect.get_columns = _duckdb_columns
    setattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, True)


def remove_duckdb_fix() -> None:
    """Undo ``apply_duckdb_fix()`` (for tests that show the unpatched behaviour)."""
    import duckdb_engine
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    if not getattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, False):
        return
    SqlAlchemyExecutionEngine._execute_query_with_recovery = _ORIGINALS["execute"]
    if _ORIGINALS["get_columns"] is None:
        del duckdb_engine.Dialect.get_columns
    else:
        duckdb_engine.Dialect.get_columns = _ORIGINALS["get_columns"]
    setattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, False)


def is_applied() -> bool:
    """Whether ``apply_duckdb_fix()`` has run in this process."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    return bool(getattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, False))
