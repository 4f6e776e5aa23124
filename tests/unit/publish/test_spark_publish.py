"""Publishing from Spark's Parquet layout (orchestration/engines/spark_publish.py), without a JVM:
the Spark tables are Parquet folders written here the way Spark lays them out."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.engines.spark_publish import parquet_relation, publish_spark_marts
from orchestration.publish import PublishOptions, current_parquet_folder


def _spark_table(root: Path, schema: str, table: str, select: str) -> None:
    folder = root / f"{schema}.db" / table
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").write_text("")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            f"copy ({select}) to '{folder / 'part-00000-c000.snappy.parquet'}' (format parquet)"
        )
    finally:
        con.close()


@pytest.fixture()
def spark_warehouse(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "spark"
    _spark_table(
        root,
        "marts",
        "kpi_monthly",
        "select * from (values (date '2026-10-01', 12, 345.67::decimal(38, 2), "
        "timestamptz '2026-11-01 10:00:00+00'), (date '2026-11-01', 3, 10.00::decimal(38, 2), "
        "timestamptz '2026-12-01 10:00:00+00')) as t(month, orders, net_revenue, built_at)",
    )
    _spark_table(
        root,
        "intermediate",
        "int_as_of_date",
        "select date '2026-11-30' as as_of_date, 'var' as as_of_date_source",
    )
    # A table folder Spark left without data files (never built) is not published.
    (root / "marts.db" / "empty_folder").mkdir()
    work = tmp_path / "clm.duckdb"
    con = duckdb.connect(str(work))
    con.execute("create schema audit")
    con.execute(
        "create table audit.validation_results as select 'r1' as run_id, 'ranges' as suite, "
        "'unexpected_rows_expectation' as expectation_type, null::varchar as \"column\", "
        "'blocking' as severity, true as success, 0::bigint as unexpected_count"
    )
    con.close()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.x.kpi_monthly": {
                        "resource_type": "model",
                        "name": "kpi_monthly",
                        "config": {"schema": "marts"},
                        "description": "Monthly KPIs.",
                        "columns": {"orders": {"name": "orders", "description": "Orders."}},
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    return root, work, manifest


def test_the_spark_marts_become_the_bi_file_and_the_parquet_copy(spark_warehouse, tmp_path):
    root, work, manifest = spark_warehouse
    bi = tmp_path / "bi" / "bi.duckdb"
    result = publish_spark_marts(
        work,
        bi,
        validation_passed=True,
        run_id="r1",
        options=PublishOptions(parquet_dir=tmp_path / "bi" / "parquet"),
        root=root,
        manifest_path=manifest,
    )
    assert result.published
    assert result.tables == {"marts.kpi_monthly": 2}
    con = duckdb.connect(str(bi), read_only=True)
    try:
        rows = con.execute("select * from marts.kpi_monthly order by month").fetchall()
        types = dict(con.execute("select column_name, data_type from duckdb_columns() "
                                 "where table_name = 'kpi_monthly'").fetchall())  # fmt: skip
        comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'kpi_monthly'"
        ).fetchone()[0]
        column_comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'kpi_monthly' "
            "and column_name = 'orders'"
        ).fetchone()[0]
        meta = con.execute("select as_of_date, source_path from meta.publication").fetchone()
        quality = con.execute("select suite, success from meta.data_quality").fetchall()
    finally:
        con.close()
    assert [(str(r[0]), r[1], str(r[2])) for r in rows] == [
        ("2026-10-01", 12, "345.67"),
        ("2026-11-01", 3, "10.00"),
    ]
    assert types["built_at"] == "TIMESTAMP"  # the warehouse's naive UTC timestamps
    assert str(rows[0][3]) == "2026-11-01 10:00:00"
    assert comment == "Monthly KPIs." and column_comment == "Orders."
    assert str(meta[0]) == "2026-11-30" and meta[1] == str(root.resolve())
    assert quality == [("ranges", True)]
    folder = current_parquet_folder(tmp_path / "bi" / "parquet")
    assert folder is not None and (folder / "marts" / "kpi_monthly.parquet").is_file()
    # The staging file is gone.
    assert [p.name for p in tmp_path.iterdir() if "spark-publish" in p.name] == []


def test_a_failed_audit_publishes_nothing(spark_warehouse, tmp_path):
    root, work, manifest = spark_warehouse
    bi = tmp_path / "bi.duckdb"
    result = publish_spark_marts(
        work, bi, validation_passed=False, run_id="r1", root=root, manifest_path=manifest
    )
    assert not result.published
    assert not bi.exists()
    assert [p.name for p in tmp_path.iterdir() if "spark-publish" in p.name] == []


def test_a_table_never_built_has_no_relation(spark_warehouse):
    root, _work, _manifest = spark_warehouse
    assert parquet_relation("marts", "empty_folder", root) is None
    assert parquet_relation("marts", "missing", root) is None
    assert "read_parquet" in (parquet_relation("marts", "kpi_monthly", root) or "")
