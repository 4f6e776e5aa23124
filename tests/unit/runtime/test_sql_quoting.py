"""orchestration.sql: values quoted into SQL text come back unchanged from the engine's parser.

DuckDB's quoting is checked by DuckDB itself; Spark's by sqlglot's Spark dialect (a real Spark
parses the same literals in the Spark parity run: the CLV tables' comments hold apostrophes)."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from orchestration.sql import identifier, spark_identifier, spark_string_literal, string_literal

AWKWARD = [
    "plain",
    "customer's value",
    "''",
    'a "quoted" name',
    "back\\slash \\' and \\n",
    "tick ` here",
    "semi; drop table x; --",
    "ünïcödé …",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_duckdb_string_literal_reads_back(value: str) -> None:
    with duckdb.connect() as con:
        assert con.execute(f"select {string_literal(value)}").fetchone() == (value,)


@pytest.mark.parametrize("value", AWKWARD)
def test_duckdb_identifier_names_exactly_that_column(value: str) -> None:
    with duckdb.connect() as con:
        con.execute(f"create table t ({identifier(value)} integer)")
        assert [row[0] for row in con.execute("describe t").fetchall()] == [value]


@pytest.mark.parametrize("value", AWKWARD)
def test_spark_literal_and_identifier_parse_back(value: str) -> None:
    tree = sqlglot.parse_one(
        f"select {spark_string_literal(value)} as v from {spark_identifier(value)}",
        read="spark",
    )
    literal = tree.find(exp.Literal)
    table = tree.find(exp.Table)
    assert literal is not None and literal.this == value
    assert table is not None and table.name == value
