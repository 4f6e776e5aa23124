"""Quoting values into SQL text, for the statements DuckDB cannot take bound parameters in
(identifiers, ATTACH paths, table functions' file names). The one place this is written."""

from __future__ import annotations


def identifier(name: str) -> str:
    """A double-quoted SQL identifier (``"`` doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


def string_literal(value: str) -> str:
    """A single-quoted SQL string literal (``'`` doubled inside)."""
    return "'" + value.replace("'", "''") + "'"
