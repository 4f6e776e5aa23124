"""Publishing the Spark warehouse: the validated Spark marts, read as Parquet, become the same
BI file and Parquet copy as on DuckDB.

On Spark the marts are Parquet tables in Spark's warehouse layout,
``<CLM_SPARK_WAREHOUSE_DIR>/<schema>.db/<table>/part-*.parquet``. Publishing needs no JVM:
DuckDB reads those folders (``read_parquet``), writes them with their documentation (the dbt
manifest's descriptions, the CLV tables' own) into a short-lived staging DuckDB file, together
with ``intermediate.int_as_of_date`` and this run's ``audit.validation_results`` (which stay in
the working DuckDB file on both engines), and hands that file to the one
``publish_marts``. So the BI file, its ``meta`` schema, the Parquet copy, the report and the
atomic swap are the same code on both engines, and BI tools see no difference.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from orchestration.engines.spark import warehouse_dir
from orchestration.publish import PublishOptions, PublishResult, publish_marts
from orchestration.sql import identifier as _ident
from orchestration.sql import string_literal as _sql_string
from orchestration.warehouse import apply_limits

# Tables of other schemas that the publication reads besides the published schemas.
_PUBLICATION_READS = (("intermediate", "int_as_of_date"),)


def _table_dir(schema: str, table: str, root: Path | None = None) -> Path:
    """Where Spark keeps ``schema.table``: ``<warehouse>/<schema>.db/<table>``."""
    return (root or warehouse_dir()) / f"{schema}.db" / table


def _has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def parquet_relation(schema: str, table: str, root: Path | None = None) -> str | None:
    """A DuckDB expression reading the Spark table ``schema.table`` (None when it has no data
    files, i.e. was never built). Partitioned tables keep their partition columns."""
    folder = _table_dir(schema, table, root)
    if not _has_parquet(folder):
        return None
    pattern = _sql_string(str(folder / "**" / "*.parquet"))
    return f"read_parquet({pattern}, hive_partitioning = true, union_by_name = true)"


def spark_tables(schema: str, root: Path | None = None) -> list[str]:
    """The tables of ``schema`` that hold data files, sorted."""
    folder = (root or warehouse_dir()) / f"{schema}.db"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if _has_parquet(p))


def _comments(manifest_path: Path | None) -> dict[str, tuple[str, dict[str, str]]]:
    """``schema.table`` -> (table comment, column comments): what dbt's ``persist_docs`` writes
    on DuckDB, from the manifest, plus the CLV tables' own documentation."""
    from orchestration.clv.tables import COMMENTS

    found: dict[str, tuple[str, dict[str, str]]] = dict(COMMENTS)
    if manifest_path is None or not Path(manifest_path).is_file():
        return found
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        schema = node.get("config", {}).get("schema") or "main"
        columns = {
            name: (column.get("description") or "")
            for name, column in (node.get("columns") or {}).items()
            if column.get("description")
        }
        found[f"{schema}.{node['name']}"] = (node.get("description") or "", columns)
    return found


def _select_list(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Every column, with timestamps as the warehouse's naive UTC ``timestamp`` (Spark's
    Parquet may carry UTC-adjusted instants, which DuckDB reads as ``timestamptz``)."""
    described = con.execute(f"describe select * from {relation}").fetchall()
    parts = []
    for name, data_type, *_rest in described:
        expression = _ident(name)
        if str(data_type).upper().startswith("TIMESTAMP WITH TIME ZONE"):
            expression = f"cast(timezone('UTC', {expression}) as timestamp)"
        parts.append(f"{expression} as {_ident(name)}")
    return ", ".join(parts)


def stage_spark_marts(
    staging: Path,
    work_db_path: Path,
    schemas: Sequence[str] = ("marts",),
    *,
    root: Path | None = None,
    manifest_path: Path | None = None,
) -> dict[str, int]:
    """Write ``staging``: every Spark table of ``schemas`` (with comments),
    ``intermediate.int_as_of_date`` and the working file's ``audit.validation_results``.

    Returns ``schema.table`` -> rows. The working file is attached read-only.
    """
    root = root or warehouse_dir()
    comments = _comments(manifest_path)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(staging))
    try:
        con.execute("set TimeZone = 'UTC'")
        apply_limits(con)  # every mart copied from Parquet: bounded like the DuckDB engine's steps
        wanted = [(schema, table) for schema in schemas for table in spark_tables(schema, root)]
        wanted += [item for item in _PUBLICATION_READS if item[0] not in schemas]
        for schema, table in wanted:
            relation = parquet_relation(schema, table, root)
            if relation is None:
                continue
            con.execute(f"create schema if not exists {_ident(schema)}")
            ident = f"{_ident(schema)}.{_ident(table)}"
            con.execute(
                f"create table {ident} as select {_select_list(con, relation)} from {relation}"
            )
            counts[f"{schema}.{table}"] = int(
                con.execute(f"select count(*) from {ident}").fetchone()[0]
            )
            table_comment, column_comments = comments.get(f"{schema}.{table}", ("", {}))
            if table_comment:
                con.execute(f"comment on table {ident} is {_sql_string(table_comment)}")
            present = {row[0] for row in con.execute(f"describe {ident}").fetchall()}
            for column, text in column_comments.items():
                if column in present:
                    con.execute(
                        f"comment on column {ident}.{_ident(column)} is {_sql_string(text)}"
                    )
        if Path(work_db_path).is_file():
            con.execute(f"attach {_sql_string(str(work_db_path))} as work (read_only)")
            has_results = con.execute(
                "select count(*) from duckdb_tables() where database_name = 'work' "
                "and schema_name = 'audit' and table_name = 'validation_results'"
            ).fetchone()[0]
            if has_results:
                con.execute("create schema if not exists audit")
                con.execute(
                    "create table audit.validation_results as "
                    "select * from work.audit.validation_results"
                )
            con.execute("detach work")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def publish_spark_marts(
    work_db_path: str | os.PathLike[str],
    bi_db_path: str | os.PathLike[str],
    schemas: Sequence[str] = ("marts",),
    *,
    validation_passed: bool,
    run_id: str | None,
    options: PublishOptions | None = None,
    root: Path | None = None,
    manifest_path: Path | None = None,
) -> PublishResult:
    """``publish_marts`` of the Spark marts: staged into a temporary DuckDB file next to the
    working file (removed afterwards), published from there with the same atomic swap.
    ``meta.publication.source_path`` names the Spark warehouse folder."""
    root = (root or warehouse_dir()).resolve()
    work = Path(work_db_path).resolve()
    options = replace(options or PublishOptions(), source_label=str(root))
    staging = work.with_name(f"{work.name}.spark-publish-{os.getpid()}-{uuid.uuid4().hex}.duckdb")
    try:
        if validation_passed:
            stage_spark_marts(staging, work, schemas, root=root, manifest_path=manifest_path)
        else:
            duckdb.connect(str(staging)).close()  # nothing is copied when the audit failed
        return publish_marts(
            staging,
            bi_db_path,
            schemas,
            validation_passed=validation_passed,
            run_id=run_id,
            options=options,
        )
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
