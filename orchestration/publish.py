"""Write-audit-publish: copy the marts to a separate DuckDB file that BI tools read.

BI tools and notebooks never open the working warehouse: DuckDB allows one writer or many readers
per file across processes, and ``dbt build`` fails at once if anyone holds the working file. So
after dbt has built (write) and every blocking check has passed (audit), ``publish_marts`` copies
the published schemas into a brand-new file and renames it onto ``CLM_BI_DUCKDB_PATH``
(publish). One publication is three artefacts, all replaced only when everything was written:

- **the BI file** (``bi.duckdb``), in DuckDB's storage format ``v1.0.0`` (``CLM_BI_STORAGE_VERSION``)
  so that DuckDB 1.1 and later (the versions BI drivers bundle) open it, with every table and
  column comment of the working warehouse (dbt persists the models' docs as comments), count
  columns as BIGINT, and the ``meta`` schema: ``meta.publication`` (publication id, run id,
  as_of_date, reporting currency, published_at), ``meta.published_tables`` (row count per table)
  and ``meta.data_quality`` (the run's check results);
- **a Parquet copy**: ``<parquet dir>/<publication id>/<schema>/<table>.parquet``, with the symlink
  ``<parquet dir>/current`` pointing at the newest folder (replaced atomically; the previous
  folder is kept for readers still on it, older ones are removed);
- **the lifecycle report** (``orchestration.report``), rendered from the new file before anything
  is swapped, written next to the BI file.

How it stays safe:

- **Never blocks on the pipeline's lock.** The working file is attached ``READ_ONLY``. DuckDB does
  not wait for locks: if another process holds the working file read-write, the attach fails at
  once and ``PublishError`` says so.
- **Atomic for readers.** Every artefact is written under a temporary name in its own directory
  (``<name>.tmp-<pid>-<uuid>``; same file system, so ``os.replace`` is an atomic rename), then
  renamed onto its final name: BI file, then the Parquet ``current`` link, then the report. A
  reader that already has the old BI file open keeps reading the old inode (POSIX rename
  semantics); a reader that opens afterwards sees the new file whole.
- **Nothing half-done.** Any failure before the renames (disk full, folder read-only, the report
  failing to render, the process interrupted) removes this publication's temporaries and leaves
  the previous publication as it was. A publisher killed with ``kill -9`` leaves temporaries that
  name its pid; the next publication removes them once that pid is gone.
- **WAL.** The new file is checkpointed and detached before the rename, so it has no WAL. A stale
  ``<target>.wal`` (left by a process that opened the BI file read-write and crashed) is moved
  aside before the rename, unless a process holds the target read-write (then it is refused).
- **Permissions.** Published files keep the mode of the previous BI file; with no previous file
  (or with ``CLM_BI_FILE_MODE`` set) they get ``CLM_BI_FILE_MODE`` (default ``0640``).
- **Audit gate.** With ``validation_passed=False`` nothing is touched.
- **Pseudonymisation.** With ``pseudonymise`` on, every column declared personal (``meta: {pii:
  true}`` in the marts' YAML, read from dbt's manifest) is replaced by a keyed hash
  (HMAC-SHA256 with ``CLM_PSEUDONYMISATION_KEY``): equal values stay equal, so BI users can
  count and join, but cannot read them.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.sql import identifier as _ident
from orchestration.sql import string_literal as _sql_string
from orchestration.warehouse import apply_limits

log = logging.getLogger(__name__)

META_SCHEMA = "meta"
STORAGE_VERSION = "v1.0.0"
DEFAULT_FILE_MODE = 0o640
CURRENT_LINK = "current"
_TMP_MARK = ".tmp-"
_SOURCE_ALIAS = "clm_publish_source"
_TARGET_ALIAS = "clm_publish_target"
_PUBLICATION_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
# Integer types DuckDB 1.x clients and Arrow/pandas do not handle as plain integers.
_WIDE_INTEGERS = {"HUGEINT", "UHUGEINT"}
PSEUDONYMISED_NOTE = "Pseudonymised: HMAC-SHA256 of the value with the publisher's key (hex)."

# Renders the report from a BI file: (bi file, report path) -> None. Injected so this module
# does not import plotly.
ReportWriter = Callable[[Path, Path], None]


class PublishError(RuntimeError):
    """Publication failed; the previous publication was left as it was."""


@dataclass(frozen=True)
class PublishOptions:
    """How to publish; ``options_from_environment`` builds it from the ``CLM_`` settings."""

    # Folder of the Parquet copies; None = no Parquet copy.
    parquet_dir: Path | None = None
    # Where the report goes and what renders it; both or neither.
    report_path: Path | None = None
    report_writer: ReportWriter | None = None
    reporting_currency: str | None = None
    storage_version: str = STORAGE_VERSION
    # None = keep the previous BI file's mode (DEFAULT_FILE_MODE without one).
    file_mode: int | None = None
    pseudonymisation_key: bytes | None = None
    # "schema.table" -> personal columns, replaced by a keyed hash when a key is given.
    pii_columns: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # What ``meta.publication.source_path`` names; None = the working file (on Spark: the Spark
    # warehouse folder the marts were staged from, orchestration/engines/spark_publish.py).
    source_label: str | None = None


@dataclass(frozen=True)
class PublishResult:
    """What ``publish_marts`` did.

    ``published`` is False only when publication was deliberately skipped (validation failed,
    nothing to publish); ``reason`` says why. Failures raise ``PublishError`` instead.
    """

    published: bool
    reason: str
    target: Path
    source: Path
    run_id: str | None = None
    published_at: datetime | None = None
    publication_id: str | None = None
    # "schema.table" -> row count in the published file
    tables: dict[str, int] = field(default_factory=dict)
    stale_wal_moved_to: Path | None = None
    parquet_dir: Path | None = None
    report_path: Path | None = None
    pseudonymised_columns: dict[str, list[str]] = field(default_factory=dict)


def publish_marts(
    work_db_path: str | os.PathLike[str],
    bi_db_path: str | os.PathLike[str],
    schemas: Sequence[str] = ("marts",),
    *,
    validation_passed: bool,
    run_id: str | None,
    options: PublishOptions | None = None,
) -> PublishResult:
    """Publish ``schemas`` of the working DuckDB file to the BI file, atomically.

    Every table and view of each schema is copied as a table (with its comments) into a new file,
    together with the ``meta`` schema; optionally the same tables go to a new Parquet folder and
    the report is rendered from the new file. Then the artefacts replace the previous ones by
    atomic renames. See the module docstring for the locking, WAL and permission rules.

    Args:
        work_db_path: the working warehouse (``CLM_DUCKDB_PATH``); opened read-only.
        bi_db_path: the file BI tools read (``CLM_BI_DUCKDB_PATH``); replaced, never opened
            read-write.
        schemas: schemas to publish, copied under the same names.
        validation_passed: the audit verdict; False publishes nothing.
        run_id: the pipeline run, recorded in ``meta.publication``.
        options: Parquet folder, report, pseudonymisation, file mode (default: none of them).

    Returns:
        A ``PublishResult``; ``published`` is False with a ``reason`` when skipped.

    Raises:
        PublishError: the working file is missing or locked, the target folder cannot be written,
            the target is held read-write, or a copy failed. The previous publication is
            untouched and no temporary file is left.
    """
    options = options or PublishOptions()
    source = Path(work_db_path).resolve()
    target = Path(bi_db_path).resolve()
    schemas = tuple(schemas)

    if not validation_passed:
        # The audit failed: not even a directory is created, the old BI file stays byte-identical.
        return PublishResult(
            published=False,
            reason="validation did not pass; the previous publication was left unchanged",
            target=target,
            source=source,
            run_id=run_id,
        )
    if not schemas:
        raise PublishError("no schema to publish")
    if source == target:
        raise PublishError(f"the BI file must not be the working file: {source}")
    if not source.is_file():
        raise PublishError(f"working DuckDB file not found: {source}")
    if (options.report_path is None) != (options.report_writer is None):
        raise PublishError("report_path and report_writer go together")

    _prepare_directory(target.parent, "CLM_BI_DUCKDB_PATH")
    mode = _publication_mode(target, options.file_mode)
    remove_abandoned_temporaries(target.parent, target.name)
    parquet_root = Path(options.parquet_dir).resolve() if options.parquet_dir else None
    if parquet_root is not None:
        _prepare_directory(parquet_root, "CLM_BI_PARQUET_DIR")
        link = parquet_root / CURRENT_LINK
        if link.exists() and not link.is_symlink():
            raise PublishError(
                f"{link} exists and is not a symlink (CLM_BI_PARQUET_DIR); move it away"
            )
        remove_abandoned_temporaries(parquet_root, "")
    report_path = Path(options.report_path).resolve() if options.report_path else None
    if report_path is not None:
        _prepare_directory(report_path.parent, "CLM_BI_REPORT_PATH")
        remove_abandoned_temporaries(report_path.parent, report_path.name)

    published_at = datetime.now(UTC)
    publication_id = f"{published_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    suffix = f"{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex}"
    tmp = target.with_name(target.name + suffix)
    tmp_parquet = parquet_root / suffix if parquet_root else None
    tmp_report = report_path.with_name(report_path.name + suffix) if report_path else None
    try:
        build = _build_publication(
            tmp, source, schemas, run_id, published_at, publication_id, options
        )
        if not build.tables:
            _remove_quietly(tmp)
            return PublishResult(
                published=False,
                reason=f"no table or view in schemas {', '.join(schemas)} of {source}; "
                "the previous publication was left unchanged",
                target=target,
                source=source,
                run_id=run_id,
            )
        if _wal_path(tmp).exists():
            raise PublishError(f"the new file still has a WAL after CHECKPOINT: {_wal_path(tmp)}")
        if tmp_parquet is not None:
            _export_parquet(tmp, tmp_parquet, [*build.tables, *build.meta_tables], source)
            _apply_mode_tree(tmp_parquet, mode)
        if tmp_report is not None and options.report_writer is not None:
            try:
                options.report_writer(tmp, tmp_report)
            except Exception as error:
                raise PublishError(
                    f"rendering the lifecycle report failed ({type(error).__name__}: {error}); "
                    "the previous publication was left unchanged"
                ) from error
            os.chmod(tmp_report, mode)
            _fsync_file(tmp_report)
        os.chmod(tmp, mode)
        _fsync_file(tmp)
        stale_moved_to = _move_stale_wal_aside(target)
        # The swaps: each an atomic rename; the BI file first, it is the publication of record.
        os.replace(tmp, target)
        _fsync_directory(target.parent)
        if parquet_root is not None and tmp_parquet is not None:
            _swap_parquet(parquet_root, tmp_parquet, publication_id)
        if report_path is not None and tmp_report is not None:
            os.replace(tmp_report, report_path)
            _fsync_directory(report_path.parent)
    except BaseException as error:
        # Whatever happened (including KeyboardInterrupt), leave no half-written temporary behind.
        _remove_quietly(tmp)
        if tmp_parquet is not None:
            shutil.rmtree(tmp_parquet, ignore_errors=True)
        if tmp_report is not None:
            _remove_quietly(tmp_report)
        if isinstance(error, OSError):
            raise PublishError(_os_error_message(error)) from error
        raise

    log.info(
        "published %d tables of %s to %s (run %s, publication %s)",
        len(build.tables),
        schemas,
        target,
        run_id,
        publication_id,
    )
    return PublishResult(
        published=True,
        reason=f"published {len(build.tables)} tables",
        target=target,
        source=source,
        run_id=run_id,
        published_at=published_at,
        publication_id=publication_id,
        tables=build.tables,
        stale_wal_moved_to=stale_moved_to,
        parquet_dir=parquet_root / publication_id if parquet_root else None,
        report_path=report_path,
        pseudonymised_columns=build.pseudonymised,
    )


@dataclass
class _Build:
    tables: dict[str, int] = field(default_factory=dict)
    meta_tables: list[str] = field(default_factory=list)
    pseudonymised: dict[str, list[str]] = field(default_factory=dict)


def _build_publication(
    tmp: Path,
    source: Path,
    schemas: tuple[str, ...],
    run_id: str | None,
    published_at: datetime,
    publication_id: str,
    options: PublishOptions,
) -> _Build:
    """Write the new file at ``tmp`` in the chosen storage version; checkpointed and detached."""
    build = _Build()
    con = duckdb.connect(":memory:")
    try:
        apply_limits(con, source)  # copying every mart: bounded, spilling beside the warehouse
        try:
            con.execute(
                f"attach {_sql_string(str(tmp))} as {_TARGET_ALIAS} "
                f"(storage_version {_sql_string(options.storage_version)})"
            )
        except duckdb.Error as error:
            raise PublishError(f"cannot create the new BI file {tmp}: {error}") from error
        try:
            con.execute(f"attach {_sql_string(str(source))} as {_SOURCE_ALIAS} (read_only)")
        except duckdb.Error as error:
            raise PublishError(
                f"cannot open the working file read-only (is dbt or another DuckDB step holding "
                f"it, in this or another process?): {error}"
            ) from error
        relations = _source_relations(con, schemas)
        if not relations:
            con.execute(f"detach {_SOURCE_ALIAS}")
            return build
        if options.pseudonymisation_key is not None:
            key = options.pseudonymisation_key
            con.create_function(
                "clm_pseudonym",
                lambda value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest(),
                ["VARCHAR"],
                "VARCHAR",
                side_effects=False,
            )
        con.execute(f"use {_TARGET_ALIAS}")
        con.execute("begin transaction")
        for schema in sorted({relation.schema for relation in relations}):
            con.execute(f"create schema if not exists {_ident(schema)}")
        for relation in relations:
            pii = set()
            if options.pseudonymisation_key is not None:
                pii = set(options.pii_columns.get(relation.qualified, ()))
            _copy_relation(con, relation, pii)
            if pii & {column for column, _type, _comment in relation.columns}:
                build.pseudonymised[relation.qualified] = sorted(
                    pii & {column for column, _type, _comment in relation.columns}
                )
            row = con.execute(f"select count(*) from {relation.ident}").fetchone()
            build.tables[relation.qualified] = int(row[0]) if row else 0
        build.meta_tables = _write_meta(
            con, source, run_id, published_at, publication_id, relations, build, options
        )
        con.execute("commit")
        con.execute("use memory")
        con.execute(f"detach {_SOURCE_ALIAS}")
        # Everything goes into the main file now, so the rename moves a self-contained file.
        con.execute(f"checkpoint {_TARGET_ALIAS}")
        con.execute(f"detach {_TARGET_ALIAS}")
    except duckdb.Error as error:
        raise PublishError(f"copying {schemas} from {source} failed: {error}") from error
    finally:
        con.close()
    return build


@dataclass(frozen=True)
class _Relation:
    schema: str
    name: str
    kind: str
    comment: str | None
    # (column, type, comment) in table order
    columns: tuple[tuple[str, str, str | None], ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> str:
        return f"{_ident(self.schema)}.{_ident(self.name)}"


def _source_relations(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[_Relation]:
    """Every table and view of ``schemas`` in the attached source, with comments and columns."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"""
        select schema_name, table_name, 'table' as kind, comment
        from duckdb_tables()
        where database_name = ? and schema_name in ({placeholders}) and not temporary
        union all
        select schema_name, view_name, 'view' as kind, comment
        from duckdb_views()
        where database_name = ? and schema_name in ({placeholders})
            and not internal and not temporary
        order by 1, 2
        """,
        [_SOURCE_ALIAS, *schemas, _SOURCE_ALIAS, *schemas],
    ).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
    for schema, table, column, data_type, comment in con.execute(
        f"""
        select schema_name, table_name, column_name, data_type, comment
        from duckdb_columns()
        where database_name = ? and schema_name in ({placeholders})
        order by schema_name, table_name, column_index
        """,
        [_SOURCE_ALIAS, *schemas],
    ).fetchall():
        columns.setdefault((schema, table), []).append((column, data_type, comment or None))
    return [
        _Relation(
            str(schema),
            str(name),
            str(kind),
            comment or None,
            tuple(columns.get((schema, name), [])),
        )
        for schema, name, kind, comment in rows
    ]


def _copy_relation(con: duckdb.DuckDBPyConnection, relation: _Relation, pii: set[str]) -> None:
    """CTAS of one relation with counts as BIGINT and personal columns hashed, then comments."""
    select = []
    for column, data_type, _comment in relation.columns:
        expression = f"{_ident(column)}"
        if column in pii:
            expression = f"clm_pseudonym(cast({expression} as varchar))"
        elif data_type.upper() in _WIDE_INTEGERS:
            # Counts summed by DuckDB arrive as HUGEINT; BI drivers read them as floats.
            expression = f"cast({expression} as bigint)"
        select.append(f"{expression} as {_ident(column)}")
    # CTAS keeps column types and, with DuckDB's default preserve_insertion_order, row order.
    con.execute(
        f"create table {relation.ident} as select {', '.join(select)} "
        f"from {_SOURCE_ALIAS}.{relation.ident}"
    )
    if relation.comment:
        con.execute(f"comment on table {relation.ident} is {_sql_string(relation.comment)}")
    for column, _data_type, comment in relation.columns:
        text = comment or ""
        if column in pii:
            text = f"{text} {PSEUDONYMISED_NOTE}".strip()
        if text:
            con.execute(
                f"comment on column {relation.ident}.{_ident(column)} is {_sql_string(text)}"
            )


_META_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "publication": (
        "One row: which publication this file is, of which run, as of which date.",
        {
            "publication_id": "Id of this publication; also the name of its Parquet folder.",
            "run_id": "The Dagster run that built and validated the marts.",
            "as_of_date": "The date the marts are computed as of (data after it is ignored); "
            "use it instead of current_date in filters.",
            "as_of_date_source": "Where as_of_date came from: var (CLM_AS_OF_DATE), "
            "latest_order or current_date.",
            "reporting_currency": "ISO 4217 currency of every money column.",
            "published_at": "When the publication was written (UTC).",
            "source_path": "The working warehouse the marts were copied from.",
            "table_count": "Tables published outside schema meta.",
            "storage_version": "DuckDB storage version of this file (readable by DuckDB 1.1+).",
            "pseudonymised": "True when personal columns hold keyed hashes instead of values.",
        },
    ),
    "published_tables": (
        "One row per published table with its row count.",
        {
            "schema_name": "Schema of the table.",
            "table_name": "Table name.",
            "source_kind": "table or view in the working warehouse (always a table here).",
            "row_count": "Rows in the published table.",
            "description": "The table's description (its comment).",
        },
    ),
    "data_quality": (
        "The checks (Great Expectations) of the run that was published, one row per expectation.",
        {
            "suite": "Expectation suite (one per checked table).",
            "expectation_type": "The expectation.",
            "column_name": "Column checked, when the expectation is about one.",
            "severity": "blocking (a failure stops publication) or warning.",
            "success": "True when the expectation held.",
            "unexpected_count": "Rows that broke the expectation, when counted.",
        },
    ),
}


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    run_id: str | None,
    published_at: datetime,
    publication_id: str,
    relations: list[_Relation],
    build: _Build,
    options: PublishOptions,
) -> list[str]:
    """The ``meta`` schema: publication, published_tables and data_quality; returns their names."""
    as_of_date, as_of_source = _as_of_date(con)
    con.execute(f"create schema if not exists {META_SCHEMA}")
    con.execute(
        f"""
        create table {META_SCHEMA}.publication (
            publication_id varchar not null,
            run_id varchar,
            as_of_date date,
            as_of_date_source varchar,
            reporting_currency varchar,
            published_at timestamptz not null,
            source_path varchar not null,
            table_count integer not null,
            storage_version varchar not null,
            pseudonymised boolean not null
        )
        """
    )
    con.execute(
        f"insert into {META_SCHEMA}.publication values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            publication_id,
            run_id,
            as_of_date,
            as_of_source,
            options.reporting_currency,
            published_at,
            options.source_label or str(source),
            len(build.tables),
            options.storage_version,
            options.pseudonymisation_key is not None,
        ],
    )
    con.execute(
        f"""
        create table {META_SCHEMA}.published_tables (
            schema_name varchar not null,
            table_name varchar not null,
            source_kind varchar not null,
            row_count bigint not null,
            description varchar
        )
        """
    )
    con.executemany(
        f"insert into {META_SCHEMA}.published_tables values (?, ?, ?, ?, ?)",
        [(r.schema, r.name, r.kind, build.tables[r.qualified], r.comment) for r in relations],
    )
    con.execute(
        f"""
        create table {META_SCHEMA}.data_quality (
            suite varchar,
            expectation_type varchar,
            column_name varchar,
            severity varchar,
            success boolean,
            unexpected_count bigint
        )
        """
    )
    results = _validation_results(con, run_id)
    if results:
        con.executemany(
            f"insert into {META_SCHEMA}.data_quality values (?, ?, ?, ?, ?, ?)", results
        )
    names = []
    for table, (comment, columns) in _META_DOCS.items():
        ident = f"{META_SCHEMA}.{_ident(table)}"
        con.execute(f"comment on table {ident} is {_sql_string(comment)}")
        for column, text in columns.items():
            con.execute(f"comment on column {ident}.{_ident(column)} is {_sql_string(text)}")
        names.append(f"{META_SCHEMA}.{table}")
    return names


def _as_of_date(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str | None]:
    """``intermediate.int_as_of_date`` of the working warehouse, when it is there."""
    if not _source_has(con, "intermediate", "int_as_of_date"):
        return None, None
    columns = _source_columns(con, "intermediate", "int_as_of_date")
    source_expr = "as_of_date_source" if "as_of_date_source" in columns else "null"
    row = con.execute(
        f"select as_of_date, {source_expr} from {_SOURCE_ALIAS}.intermediate.int_as_of_date limit 1"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _validation_results(con: duckdb.DuckDBPyConnection, run_id: str | None) -> list[tuple]:
    """This run's rows of ``audit.validation_results``, read by whichever columns exist."""
    if run_id is None or not _source_has(con, "audit", "validation_results"):
        return []
    columns = _source_columns(con, "audit", "validation_results")
    if "run_id" not in columns:
        return []

    def pick(*names: str) -> str:
        for name in names:
            if name in columns:
                return _ident(name)
        return "null"

    return con.execute(
        f"""
        select {pick("suite", "suite_name")}, {pick("expectation_type", "expectation")},
            {pick("column", "column_name")}, {pick("severity")}, {pick("success")},
            try_cast({pick("unexpected_count")} as bigint)
        from {_SOURCE_ALIAS}.audit.validation_results
        where run_id = ?
        order by all
        """,
        [run_id],
    ).fetchall()


def _source_has(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name = ?",
        [_SOURCE_ALIAS, schema, name],
    ).fetchone()
    views = con.execute(
        "select count(*) from duckdb_views() where database_name = ? and schema_name = ? "
        "and view_name = ?",
        [_SOURCE_ALIAS, schema, name],
    ).fetchone()
    return bool((row and row[0]) or (views and views[0]))


def _source_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> set[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ?",
        [_SOURCE_ALIAS, schema, name],
    ).fetchall()
    return {str(row[0]) for row in rows}


def _export_parquet(bi_file: Path, folder: Path, tables: list[str], warehouse: Path) -> None:
    """Every table of the new BI file as ``<folder>/<schema>/<table>.parquet``, within the
    warehouse's memory limit (unbounded, writing tier l's largest marts held 8 GB)."""
    folder.mkdir()
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        apply_limits(con, warehouse)
        for qualified in tables:
            schema, name = qualified.split(".", 1)
            (folder / schema).mkdir(exist_ok=True)
            path = folder / schema / f"{name}.parquet"
            con.execute(
                f"copy {_ident(schema)}.{_ident(name)} to {_sql_string(str(path))} "
                "(format parquet, compression zstd)"
            )
    except duckdb.Error as error:
        raise PublishError(f"writing the Parquet copy to {folder} failed: {error}") from error
    finally:
        con.close()
    for path in folder.rglob("*.parquet"):
        _fsync_file(path)


def _swap_parquet(root: Path, tmp_folder: Path, publication_id: str) -> None:
    """Name the folder, point ``current`` at it atomically, drop folders older than previous."""
    final = root / publication_id
    os.replace(tmp_folder, final)
    link = root / CURRENT_LINK
    previous = os.readlink(link) if link.is_symlink() else None
    tmp_link = root / f"{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex}"
    os.symlink(publication_id, tmp_link)
    os.replace(tmp_link, link)
    _fsync_directory(root)
    # Keep the previous folder: a reader that resolved `current` just before the swap may still
    # be reading it. Older publications go.
    keep = {publication_id, previous}
    for candidate in root.iterdir():
        if (
            candidate.is_dir()
            and not candidate.is_symlink()
            and _PUBLICATION_ID.match(candidate.name)
            and candidate.name not in keep
        ):
            shutil.rmtree(candidate, ignore_errors=True)


def current_parquet_folder(parquet_dir: str | os.PathLike[str]) -> Path | None:
    """The folder ``<parquet_dir>/current`` points at, or None before the first publication."""
    link = Path(parquet_dir) / CURRENT_LINK
    return link.resolve() if link.is_symlink() else None


def _prepare_directory(folder: Path, setting: str) -> None:
    """Create ``folder`` if needed; a clear error when it cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PublishError(
            f"cannot create the folder {folder} ({setting}): {error.strerror or error}; "
            "the previous publication was left unchanged"
        ) from error
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PublishError(
            f"the folder {folder} ({setting}) is not writable; "
            "the previous publication was left unchanged"
        )


def _os_error_message(error: OSError) -> str:
    reason = error.strerror or str(error)
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"publication failed: {reason}{where}; the previous publication was left unchanged "
        "and the temporary files were removed"
    )


def _publication_mode(target: Path, configured: int | None) -> int:
    """The configured mode, else the previous BI file's, else ``DEFAULT_FILE_MODE``."""
    if configured is not None:
        return configured
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return DEFAULT_FILE_MODE


def _apply_mode_tree(folder: Path, mode: int) -> None:
    """Files get ``mode``; folders get it plus search (x) wherever it grants read."""
    folder_mode = mode | ((mode & 0o444) >> 2)
    for path in folder.rglob("*"):
        os.chmod(path, folder_mode if path.is_dir() else mode)
    os.chmod(folder, folder_mode)


def _move_stale_wal_aside(target: Path) -> Path | None:
    """Move ``<target>.wal`` aside so the next reader cannot replay it against the new file.

    A WAL next to the BI file is only live while some process holds the file read-write; then we
    refuse (moving a live WAL would lose that writer's data). Otherwise it is stale and is renamed,
    not deleted, so someone can still look at it.
    """
    wal = _wal_path(target)
    if not wal.exists():
        return None
    if _held_read_write(target):
        raise PublishError(
            f"{target} is held read-write by another process (its WAL {wal} is live); BI tools "
            "must open the BI file read-only"
        )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    aside = wal.with_name(f"{wal.name}.stale-{stamp}-{uuid.uuid4().hex[:8]}")
    os.replace(wal, aside)
    log.warning("moved stale DuckDB WAL %s aside to %s before publishing", wal, aside)
    return aside


def _held_read_write(target: Path) -> bool:
    """True when another process holds an exclusive (read-write) lock on ``target``.

    Probed with a short read-only open: it shares the lock with other readers and fails at once
    (DuckDB does not wait) only against a writer. Any other error (for instance "WAL does not match
    database file") means the WAL is not a live writer's.
    """
    if not target.exists():
        return False
    try:
        duckdb.connect(str(target), read_only=True).close()
    except duckdb.Error as error:
        return "lock" in str(error).lower()
    return False


def remove_abandoned_temporaries(folder: Path, name: str) -> list[Path]:
    """Delete the temporaries (files, WALs, folders) named ``<name>.tmp-<pid>-<uuid>`` in
    ``folder`` whose publisher died mid-publication; returns what was removed.

    Publication calls it before writing, and `clm run` before the run starts, for the BI file.
    """
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(name + _TMP_MARK) + r"(\d+)-[0-9a-f]{32}(\.wal)?$")
    removed = []
    for candidate in sorted(folder.iterdir()):
        match = pattern.match(candidate.name)
        if match and not pid_alive(int(match.group(1))):
            log.warning("removing abandoned publication temporary %s", candidate)
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                _remove_quietly(candidate)
            removed.append(candidate)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (this process counts as alive): a temporary file named
    after a dead process is an abandoned one."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_quietly(path: Path) -> None:
    for candidate in (path, _wal_path(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    # Makes the rename itself durable; not every platform allows opening a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def published_tables(bi_db_path: str | os.PathLike[str]) -> list[tuple[str, str, int]]:
    """(schema, table, row_count) recorded in a published BI file; opens it read-only."""
    con = duckdb.connect(str(bi_db_path), read_only=True)
    try:
        rows = con.execute(
            f"select schema_name, table_name, row_count from {META_SCHEMA}.published_tables "
            "order by schema_name, table_name"
        ).fetchall()
    finally:
        con.close()
    return [(str(schema), str(name), int(count)) for schema, name, count in rows]


def pii_columns_from_manifest(manifest_path: str | os.PathLike[str]) -> dict[str, frozenset[str]]:
    """``"schema.model" -> columns`` declared personal (``meta: {pii: true}``) in dbt's manifest.

    dbt 1.11 puts a column's ``config.meta`` into the column's ``meta`` in the manifest; both
    places are read.
    """
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    declared: dict[str, set[str]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        schema = node.get("config", {}).get("schema") or node.get("schema") or "main"
        for column_name, column in (node.get("columns") or {}).items():
            meta = {**(column.get("config") or {}).get("meta", {}), **(column.get("meta") or {})}
            if meta.get("pii") is True:
                name = column.get("name") or column_name
                declared.setdefault(f"{schema}.{node['name']}", set()).add(name)
    return {table: frozenset(columns) for table, columns in declared.items()}


def configured_file_mode() -> int | None:
    """``CLM_BI_FILE_MODE`` as an int, or None when not set (keep the previous file's mode)."""
    return settings.value("CLM_BI_FILE_MODE")


def parquet_dir_for(bi_db_path: Path) -> Path:
    """``CLM_BI_PARQUET_DIR``, else ``parquet/`` next to the BI file."""
    return settings.value("CLM_BI_PARQUET_DIR") or Path(bi_db_path).parent / "parquet"


def report_path_for(bi_db_path: Path) -> Path:
    """``CLM_BI_REPORT_PATH``, else ``lifecycle-report.html`` next to the BI file."""
    configured = settings.value("CLM_BI_REPORT_PATH")
    return configured or Path(bi_db_path).parent / "lifecycle-report.html"


def pseudonymisation_key() -> bytes | None:
    """The key when ``CLM_PUBLISH_PSEUDONYMISE`` is on, None when off; a clear error if missing."""
    if not settings.value("CLM_PUBLISH_PSEUDONYMISE"):
        return None
    key = settings.value("CLM_PSEUDONYMISATION_KEY")
    if len(key) < 16:
        raise PublishError(
            "CLM_PUBLISH_PSEUDONYMISE is true but CLM_PSEUDONYMISATION_KEY is "
            f"{'not set' if not key else 'shorter than 16 characters'}: set a secret key of at "
            "least 16 characters (the same key on every run, so hashes stay joinable)"
        )
    return key.encode("utf-8")


def options_from_environment(
    bi_db_path: Path,
    *,
    reporting_currency: str | None,
    manifest_path: Path | None,
    with_report: bool = True,
) -> PublishOptions:
    """``PublishOptions`` from the ``CLM_`` settings (the "publish" group of the registry).

    Raises ``PublishError`` for a setting that breaks its rule, naming it.
    """
    try:
        key = pseudonymisation_key()
        parquet_dir, report_path = parquet_dir_for(bi_db_path), report_path_for(bi_db_path)
        storage_version, file_mode = (
            settings.value("CLM_BI_STORAGE_VERSION"),
            configured_file_mode(),
        )
    except settings.SettingError as error:
        raise PublishError(str(error)) from None
    pii: dict[str, frozenset[str]] = {}
    if key is not None:
        if manifest_path is None or not Path(manifest_path).is_file():
            raise PublishError(
                "pseudonymisation needs dbt's manifest (target/manifest.json) to know the "
                "personal columns; run `dbt parse` first"
            )
        pii = pii_columns_from_manifest(manifest_path)
        if not pii:
            raise PublishError(
                "CLM_PUBLISH_PSEUDONYMISE is true but no column is declared personal "
                "(meta: {pii: true}) in the manifest"
            )
    writer: ReportWriter | None = None
    if with_report:
        from orchestration.report import write_report

        writer = write_report
    return PublishOptions(
        parquet_dir=parquet_dir,
        report_path=report_path if with_report else None,
        report_writer=writer,
        reporting_currency=reporting_currency,
        storage_version=storage_version,
        file_mode=file_mode,
        pseudonymisation_key=key,
        pii_columns=pii,
    )
