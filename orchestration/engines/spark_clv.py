"""The CLV fit on Spark: summarised inputs read from Spark tables, outputs written back as
Spark tables.

The fit itself is the one of ``orchestration/clv/run.py`` (numpy/scipy on one machine: the
inputs are one row per customer, a few columns). Through ``spark.run_in_spark`` (on the run's
one Spark, or in a child process with its own JVM: orchestration/engines/spark.py), this module

1. reads ``intermediate.int_customer_purchases_summarized``, ``int_customer_purchase_days``,
   ``int_as_of_date`` and the previous fits (``marts.customer_clv_model_history``) from Spark
   as Arrow tables into an in-memory DuckDB scratch database with the same table names;
2. runs ``run_clv`` on that scratch database unchanged (same validation, same holdout report,
   same SQL for the calibration summary);
3. writes ``clv.customer_clv_predictions``, ``marts.customer_clv_model``,
   ``marts.customer_clv_model_history`` (previous fits + this one) and
   ``marts.clv_model_holdout`` back to Spark as Parquet tables, with their comments.

Plain Parquet tables have no transactions: each table is replaced on its own (a new table
under a temporary name, then the old dropped and the new renamed), so a failure mid-way can
leave the predictions of the new fit next to the model row of the previous one; the next run
replaces both. docs/spark.md says so.
"""

from __future__ import annotations

import tempfile
from datetime import date
from typing import TYPE_CHECKING

from orchestration.clv import tables
from orchestration.sql import spark_string_literal

if TYPE_CHECKING:  # pragma: no cover - typing only
    import duckdb
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from orchestration.clv.run import ClvFitResult

INPUTS = (
    "intermediate.int_customer_purchases_summarized",
    "intermediate.int_customer_purchase_days",
    "intermediate.int_as_of_date",
)
OUTPUTS = (
    tables.PREDICTIONS_TABLE,
    tables.MODEL_TABLE,
    tables.HISTORY_TABLE,
    tables.HOLDOUT_TABLE,
)


def run_clv_on_spark(
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    holdout_weeks: int = 26,
    time_unit: str = "days",
) -> ClvFitResult:
    """Fit on the Spark warehouse in a child process (its JVM gone on return); the result."""
    from orchestration.engines.spark import run_in_spark

    return run_in_spark(
        fit_in_session,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        holdout_weeks=holdout_weeks,
        time_unit=time_unit,
    )


def fit_in_session(
    horizon_months: int, monthly_discount_rate: float, holdout_weeks: int, time_unit: str
) -> ClvFitResult:
    """Open the Spark session, read, fit, write back (runs inside ``run_in_spark``)."""
    import duckdb

    from orchestration.clv.run import run_clv
    from orchestration.engines.spark import spark_session
    from orchestration.engines.spark_child import plain_errors

    with plain_errors(), spark_session() as spark:
        con = duckdb.connect(":memory:")
        try:
            con.execute("set TimeZone = 'UTC'")
            for relation in INPUTS:
                if _spark_has(spark, relation):
                    _to_duckdb(con, relation, spark.table(relation).toArrow())
            tables.ensure_clv_tables(con)
            if _spark_has(spark, tables.HISTORY_TABLE):
                _append_history(con, spark.table(tables.HISTORY_TABLE).toArrow())
            row = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
            if row is None:
                raise RuntimeError("intermediate.int_as_of_date is empty on Spark")
            result = run_clv(
                con,
                row[0] if isinstance(row[0], date) else str(row[0]),
                horizon_months=horizon_months,
                monthly_discount_rate=monthly_discount_rate,
                time_unit=time_unit,
                holdout_weeks=holdout_weeks,
            )
            for relation in OUTPUTS:
                _write_spark_table(
                    spark, relation, con.sql(f"select * from {relation}").to_arrow_table()
                )
        finally:
            con.close()
    return result


def _spark_has(spark: SparkSession, relation: str) -> bool:
    schema, name = relation.split(".")
    return bool(spark.catalog.tableExists(name, schema))


def _to_duckdb(con: duckdb.DuckDBPyConnection, relation: str, data: pa.Table) -> None:
    """``relation`` in the scratch database, from the Arrow table Spark returned."""
    schema = relation.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.register("clm_spark_input", data)
    try:
        con.execute(f"create table {relation} as select * from clm_spark_input")
    finally:
        con.unregister("clm_spark_input")


def _append_history(con: duckdb.DuckDBPyConnection, data: pa.Table) -> None:
    """The previous fits, by column name, into the scratch history table."""
    if data.num_rows == 0:
        return
    columns = [name for name, _type in tables.MODEL_COLUMNS if name in data.column_names]
    con.register("clm_spark_history", data)
    try:
        con.execute(
            f"insert into {tables.HISTORY_TABLE} ({', '.join(columns)}) "
            f"select {', '.join(columns)} from clm_spark_history"
        )
    finally:
        con.unregister("clm_spark_history")


def _write_spark_table(spark: SparkSession, relation: str, data: pa.Table) -> None:
    """Replace the Spark table ``relation`` with ``data`` (Parquet), documented."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = relation.split(".")[1]
    # Arrow's naive timestamps would become Spark's timestamp_ntz; the warehouse's *_at are
    # Spark `timestamp` (UTC session), as dbt builds them.
    fields = [
        pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
        for f in data.schema
    ]
    data = data.cast(pa.schema(fields))
    # Through a Parquet file: pyspark's createDataFrame takes no Arrow table outside Spark
    # Connect, and the file keeps the exact types.
    with tempfile.TemporaryDirectory(prefix="clm-clv-") as folder:
        path = f"{folder}/{name}.parquet"
        pq.write_table(data, path)
        _replace_table(spark, relation, spark.read.parquet(path))
    table_comment, column_comments = tables.COMMENTS.get(relation, ("", {}))
    if table_comment:
        spark.sql(f"comment on table {relation} is {spark_string_literal(table_comment)}")
    for column, text in column_comments.items():
        if column in data.column_names:
            spark.sql(
                f"alter table {relation} alter column {column} comment {spark_string_literal(text)}"
            )


def _replace_table(spark: SparkSession, relation: str, frame: DataFrame) -> None:
    """``relation`` becomes ``frame``: written under a temporary name, then swapped in."""
    schema, name = relation.split(".")
    spark.sql(f"create database if not exists {schema}")
    staging = f"{schema}.{name}__clm_new"
    spark.sql(f"drop table if exists {staging}")
    frame.write.format("parquet").mode("overwrite").saveAsTable(staging)
    spark.sql(f"drop table if exists {relation}")
    spark.sql(f"alter table {staging} rename to {relation}")
