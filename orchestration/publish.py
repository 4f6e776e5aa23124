"""Write-audit-publish: copy the marts to a separate DuckDB file that BI tools read.

BI tools and notebooks never open the working warehouse: DuckDB allows one writer or many readers
per file across processes, and ``dbt build`` fails at once if anyone holds the working file (see
../shared/STACK-NOTES.md). So after dbt has built (write) and every blocking check has passed
(audit), ``publish_marts`` copies the published schemas into a brand-new file and renames it onto
``CLM_BI_DUCKDB_PATH`` (publish).

How it stays safe:

- **Never blocks on the pipeline's lock.** The working file is attached ``READ_ONLY`` from a
  connection on the new file. DuckDB does not wait for locks: if another process holds the working
  file read-write, or this process already has it open (one process cannot hold a read-only and a
  read-write connection to one file), the attach fails at once and ``PublishError`` says so. Call
  it after dbt and the checks have released the file, in the pipeline's single DuckDB step.
- **Atomic for readers.** The copy goes to ``<target>.tmp-<pid>-<uuid>`` in the target's directory
  (same file system, so ``os.replace`` is an atomic rename), is checkpointed, closed and fsynced,
  then renamed onto the target and the directory is fsynced. A reader that already has the old
  file open keeps reading the old inode (POSIX rename semantics); a reader that opens afterwards
  sees the new file whole. The publisher does not open the target (only a brief read-only probe
  when a WAL lies next to it, see below), so readers holding their shared lock on it cannot block
  the publisher, and the publisher cannot block them.
- **WAL.** The new file is checkpointed and closed before the rename, so it has no WAL of its own
  (checked: a ``.wal`` left next to the temporary file aborts the publication). A stale
  ``<target>.wal`` — left by a process that opened the BI file read-write and crashed — would be
  replayed against the *new* file by the next reader, and DuckDB 2.0 then refuses to open it ("WAL
  does not match database file"). So before the rename such a WAL is moved aside to
  ``<target>.wal.stale-<time>-<uuid>`` (kept, not deleted, so it can be inspected), but only after
  checking that no process holds the target read-write (that would be a live WAL).
- **Audit gate.** With ``validation_passed=False`` nothing is touched: the previous BI file stays
  byte-identical and the result says why.

The copy materialises views of the published schemas as tables: the BI file must not depend on
the staging and intermediate relations the views read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.sql import identifier as _ident
from orchestration.sql import string_literal as _sql_string

log = logging.getLogger(__name__)

META_SCHEMA = "meta"
_TMP_MARK = ".tmp-"
_SOURCE_ALIAS = "clm_publish_source"


class PublishError(RuntimeError):
    """Publication failed; the previous BI file was left as it was."""


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
    # "schema.table" -> row count in the published file
    tables: dict[str, int] = field(default_factory=dict)
    stale_wal_moved_to: Path | None = None


def publish_marts(
    work_db_path: str | os.PathLike[str],
    bi_db_path: str | os.PathLike[str],
    schemas: Sequence[str] = ("marts",),
    *,
    validation_passed: bool,
    run_id: str | None,
) -> PublishResult:
    """Publish ``schemas`` of the working DuckDB file to the BI file, atomically.

    Every table and view of each schema is copied as a table into a new file, together with
    ``meta.publication`` (one row: when, which run, from which file) and ``meta.published_tables``
    (one row per table with its row count); the new file then replaces ``bi_db_path`` with one
    atomic rename. See the module docstring for the locking and WAL rules.

    Args:
        work_db_path: the working warehouse (``CLM_DUCKDB_PATH``); opened read-only.
        bi_db_path: the file BI tools read (``CLM_BI_DUCKDB_PATH``); replaced, never opened
            read-write.
        schemas: schemas to publish, copied under the same names.
        validation_passed: the audit verdict; False publishes nothing.
        run_id: the pipeline run, recorded in ``meta.publication``.

    Returns:
        A ``PublishResult``; ``published`` is False with a ``reason`` when skipped.

    Raises:
        PublishError: the working file is missing or locked, the target is held read-write, or
            the copy failed. The previous BI file is untouched and no temporary file is left.
    """
    source = Path(work_db_path).resolve()
    target = Path(bi_db_path).resolve()
    schemas = tuple(schemas)

    if not validation_passed:
        # The audit failed: not even a directory is created, the old BI file stays byte-identical.
        return PublishResult(
            published=False,
            reason="validation did not pass; the previous BI file was left unchanged",
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

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temporaries(target)

    tmp = target.with_name(f"{target.name}{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex}")
    published_at = datetime.now(UTC)
    try:
        tables = _build_publication(tmp, source, schemas, run_id, published_at)
        if not tables:
            _remove_quietly(tmp)
            return PublishResult(
                published=False,
                reason=f"no table or view in schemas {', '.join(schemas)} of {source}; "
                "the previous BI file was left unchanged",
                target=target,
                source=source,
                run_id=run_id,
            )
        if _wal_path(tmp).exists():
            raise PublishError(f"the new file still has a WAL after CHECKPOINT: {_wal_path(tmp)}")
        _fsync_file(tmp)
        stale_moved_to = _move_stale_wal_aside(target)
        os.replace(tmp, target)
        _fsync_directory(target.parent)
    except BaseException:
        # Whatever happened (including KeyboardInterrupt), leave no half-written temporary behind.
        _remove_quietly(tmp)
        raise

    log.info("published %d tables of %s to %s (run %s)", len(tables), schemas, target, run_id)
    return PublishResult(
        published=True,
        reason=f"published {len(tables)} tables",
        target=target,
        source=source,
        run_id=run_id,
        published_at=published_at,
        tables=tables,
        stale_wal_moved_to=stale_moved_to,
    )


def _build_publication(
    tmp: Path,
    source: Path,
    schemas: tuple[str, ...],
    run_id: str | None,
    published_at: datetime,
) -> dict[str, int]:
    """Write the new file at ``tmp``: copies of the schemas plus ``meta``; checkpointed, closed."""
    tables: dict[str, int] = {}
    con = duckdb.connect(str(tmp))
    try:
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
            return {}
        con.execute("begin transaction")
        for schema in sorted({schema for schema, _name, _kind in relations}):
            con.execute(f"create schema if not exists {_ident(schema)}")
        for schema, name, _kind in relations:
            # CTAS keeps column types and, with DuckDB's default preserve_insertion_order, row order.
            con.execute(
                f"create table {_ident(schema)}.{_ident(name)} as "
                f"select * from {_SOURCE_ALIAS}.{_ident(schema)}.{_ident(name)}"
            )
            row = con.execute(f"select count(*) from {_ident(schema)}.{_ident(name)}").fetchone()
            tables[f"{schema}.{name}"] = int(row[0]) if row else 0
        _write_meta(con, source, run_id, published_at, relations, tables)
        con.execute("commit")
        con.execute(f"detach {_SOURCE_ALIAS}")
        # Everything goes into the main file now, so the rename moves a self-contained file.
        con.execute("checkpoint")
    except duckdb.Error as error:
        raise PublishError(f"copying {schemas} from {source} failed: {error}") from error
    finally:
        con.close()
    return tables


def _source_relations(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """(schema, name, 'table'|'view') of every relation of ``schemas`` in the attached source."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"""
        select schema_name, table_name, 'table' as kind
        from duckdb_tables()
        where database_name = ? and schema_name in ({placeholders}) and not temporary
        union all
        select schema_name, view_name, 'view' as kind
        from duckdb_views()
        where database_name = ? and schema_name in ({placeholders})
            and not internal and not temporary
        order by 1, 2
        """,
        [_SOURCE_ALIAS, *schemas, _SOURCE_ALIAS, *schemas],
    ).fetchall()
    return [(str(schema), str(name), str(kind)) for schema, name, kind in rows]


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    run_id: str | None,
    published_at: datetime,
    relations: list[tuple[str, str, str]],
    tables: dict[str, int],
) -> None:
    """``meta.publication`` (one row) and ``meta.published_tables`` (one row per table)."""
    con.execute(f"create schema if not exists {META_SCHEMA}")
    con.execute(
        f"""
        create table {META_SCHEMA}.publication (
            published_at timestamptz not null,
            run_id varchar,
            source_path varchar not null,
            table_count integer not null
        )
        """
    )
    con.execute(
        f"insert into {META_SCHEMA}.publication values (?, ?, ?, ?)",
        [published_at, run_id, str(source), len(tables)],
    )
    con.execute(
        f"""
        create table {META_SCHEMA}.published_tables (
            schema_name varchar not null,
            table_name varchar not null,
            source_kind varchar not null,
            row_count bigint not null
        )
        """
    )
    con.executemany(
        f"insert into {META_SCHEMA}.published_tables values (?, ?, ?, ?)",
        [(schema, name, kind, tables[f"{schema}.{name}"]) for schema, name, kind in relations],
    )


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


def _remove_abandoned_temporaries(target: Path) -> None:
    """Delete temporaries (and their WALs) left by publishers that died mid-copy."""
    pattern = re.compile(re.escape(target.name + _TMP_MARK) + r"(\d+)-[0-9a-f]{32}(\.wal)?$")
    for candidate in target.parent.iterdir():
        match = pattern.match(candidate.name)
        if match and not _pid_alive(int(match.group(1))):
            log.warning("removing abandoned publication temporary %s", candidate)
            _remove_quietly(candidate)


def _pid_alive(pid: int) -> bool:
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
