"""Landing -> raw Spark tables: the DuckDB loader's raw layer mirrored into Spark's ``raw``.

Design (docs/spark.md, "dbt on Spark"): one loader. The contract loader runs as on DuckDB
(contract checks, rejects, reconciliation, load manifest, "a file loads once") into the working
DuckDB file; then ``mirror_raw_to_spark()`` copies every table of its ``raw`` schema (the
13 contract tables, ``load_manifest``, ``load_rejects``, and the ``load_reconciliation`` view
as a table) to the Spark table of the same name, ``raw.<table>``: Parquet under
``<CLM_SPARK_WAREHOUSE_DIR>/raw.db/<table>/``. So rejects and reconciliation are the same on
both engines, by construction.

DuckDB writes each table as one Parquet file (no JVM needed), then a Spark session opened by
``run_in_spark`` (the run's one Spark, or a child's own JVM: see ``engines/spark.py``) replaces
each Spark table with that file's rows, one Spark operation per table, and counts them all in
one more. Timestamps are written as instants (DuckDB's ``timestamptz``, UTC) so that they arrive
as Spark ``timestamp``, not ``timestamp_ntz``, and compare with ``current_timestamp()`` as on
DuckDB.
The whole raw layer is copied each time: it is what the loader holds, so a table can never
drift from DuckDB's; raw tables too large to copy whole belong on a cluster's own loader.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.ingest.raw_schema import RAW_SCHEMA
from orchestration.sql import (
    identifier,
    spark_identifier,
    spark_string_literal,
    string_literal,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession


def export_raw(
    duckdb_path: Path, folder: Path, names: Collection[str] | None = None
) -> dict[str, Path]:
    """Each ``raw`` relation of the DuckDB file (or only ``names``) as
    ``<folder>/<name>.parquet``."""
    files = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for name, columns in _raw_columns(con).items():
            if names is not None and name not in names:
                continue
            path = folder / f"{name}.parquet"
            con.execute(
                f"copy (select {_instant_columns(columns)} from "
                f"{RAW_SCHEMA}.{identifier(name)}) to {string_literal(str(path))} "
                "(format parquet)"
            )
            files[name] = path
    return files


def _raw_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every ``raw`` relation, in table order, by relation name."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [RAW_SCHEMA],
    ).fetchall():
        columns.setdefault(table, []).append((column, kind))
    return columns


def _instant_columns(columns: list[tuple[str, str]]) -> str:
    """The select list of a raw relation, its naive timestamps (UTC by the loader's rule) as
    instants: Parquet marks them adjusted to UTC, which Spark reads as ``timestamp``."""
    return ", ".join(
        f"cast({identifier(column)} as timestamptz) as {identifier(column)}"
        if kind == "TIMESTAMP"
        else identifier(column)
        for column, kind in columns
    )


def mirror_raw_to_spark(duckdb_path: Path | None = None) -> dict[str, int]:
    """Replace every Spark ``raw.<table>`` with the working DuckDB file's ``raw.<table>``.

    Runs Spark in a child process (``run_in_spark``); returns rows per table as Spark counted
    them, so a caller can check them against DuckDB's."""
    from orchestration.engines.spark import run_in_spark
    from orchestration.settings import get_settings

    path = Path(duckdb_path) if duckdb_path else get_settings().duckdb_path
    with tempfile.TemporaryDirectory(prefix="clm-raw-") as folder:
        files = export_raw(path, Path(folder))
        return run_in_spark(_write_tables, {name: str(file) for name, file in files.items()})


def _write_tables(files: dict[str, str]) -> dict[str, int]:
    """In the Spark child: ``write_raw_tables`` in a session of its own."""
    from orchestration.engines.spark import spark_session

    with spark_session() as spark:
        return write_raw_tables(spark, files)


def write_raw_tables(spark: SparkSession, files: Mapping[str, str]) -> dict[str, int]:
    """Each Parquet file of ``export_raw`` -> managed table ``raw.<name>`` (overwritten);
    returns the rows of each table."""
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    for name, file in files.items():
        spark.read.parquet(file).write.mode("overwrite").format("parquet").saveAsTable(
            f"{RAW_SCHEMA}.{name}"
        )
    if not files:
        return {}
    # Every Spark operation costs planning and metastore lookups: one count for all the tables.
    counted = spark.sql(
        " union all ".join(
            f"select {spark_string_literal(name)} as name, count(*) as row_count "
            f"from {RAW_SCHEMA}.{spark_identifier(name)}"
            for name in files
        )
    ).collect()
    counts = {row["name"]: row["row_count"] for row in counted}
    return {name: counts[name] for name in files}
