"""Quoting values into SQL text, for the statements DuckDB cannot take bound parameters in
(identifiers, ATTACH paths, table functions' file names) and for Spark SQL built as text. The
one place this is written."""

from __future__ import annotations


def identifier(name: str) -> str:
    """A double-quoted SQL identifier (``"`` doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


def string_literal(value: str) -> str:
    """A single-quoted SQL string literal (``'`` doubled inside)."""
    return "'" + value.replace("'", "''") + "'"


def spark_identifier(name: str) -> str:
    """A backquoted Spark SQL identifier (`` ` `` doubled inside)."""
    return "`" + name.replace("`", "``") + "`"


def spark_string_literal(value: str) -> str:
    """A single-quoted Spark SQL string literal: Spark reads backslash escapes inside one, so
    backslashes and quotes are escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
