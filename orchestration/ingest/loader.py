"""The one contract-driven loader: landing files -> ``raw.<source>__<table>`` (docs/design.md).

``load_landing`` finds ``<landing>/<source>/<table>/*.csv|*.jsonl|*.parquet`` (CSV and JSONL
also gzip-compressed, ``*.csv.gz``) and loads each
file with :func:`load_file`, in order of modification time, then relative path; ``_load_id``
increases in that order, so a later load is the "more recently loaded file" of docs/landing-contract.md.

One file = one transaction: its raw rows, its rejects and its manifest row commit together or
not at all, so a crash never leaves half a file loaded and a manifest row means the file is
fully in. Reading and checking happen in SQL over DuckDB's readers (see ``readers.py`` and
``validation.py``); Python never touches rows.

Every file that reaches a table folder with a known format ends in the manifest. A file that
cannot be read at all (not decodable in any encoding of ``CLM_CSV_ENCODING``, a truncated
gzip stream, a broken parquet file) is ``rejected`` with ``rows_read = 0`` and a reason that
starts with :data:`UNREADABLE` and carries DuckDB's whole message: its rows are unknown, and
``raw.load_reconciliation`` says so (``is_unreadable``) instead of calling the file balanced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.contract import (
    COMPRESSED_FORMATS,
    COMPRESSIBLE_FORMATS,
    FILE_FORMATS,
    Table,
    tables,
)
from orchestration.contract import sources as contract_sources
from orchestration.ingest.options import csv_encodings
from orchestration.ingest.raw_schema import RAW_SCHEMA, ensure_raw_schema
from orchestration.ingest.readers import (
    READERS,
    ReadOptions,
    StagedFile,
    sql_identifier,
    sql_string,
)
from orchestration.ingest.tombstones import (
    ERASED_REASON,
    tombstone_reason_sql,
    without_erased_references,
)
from orchestration.ingest.validation import missing_required_columns, row_reason_sql

__all__ = [
    "FileResult",
    "LandingFile",
    "LoadReport",
    "SourceTotals",
    "discover_files",
    "ensure_raw_schema",
    "load_file",
    "load_landing",
]

# Statuses of a FileResult. The first four are also raw.load_manifest statuses; "skipped" (the
# same file, by name and content, was loaded before) and "failed" (an error rolled the file's
# transaction back) leave no manifest row.
LOADED, REJECTED, EMPTY, DUPLICATE, SKIPPED, FAILED = (
    "loaded",
    "rejected",
    "empty",
    "duplicate",
    "skipped",
    "failed",
)
_GLOB_CHARACTERS = frozenset("*?[]{}")
_HASH_CHUNK_BYTES = 8 << 20
_GZIP_MAGIC = b"\x1f\x8b"
# The reason of a file whose rows cannot be counted starts with this (raw.load_reconciliation).
UNREADABLE = "unreadable, rows unknown"
# Longest DuckDB message kept in a reason (they are a few lines; a reason is not a log).
_MAX_ERROR_TEXT = 2000
# DuckDB's words for "these bytes are not text in that encoding" (duckdb 2.0).
# Lines of DuckDB's CSV error that list the reader's options ("  file = ...", "  quote = ...").
_OPTION_DUMP = re.compile(r"^\s+[a-z_]+ =")
_ENCODING_ERRORS = ("not utf-8 encoded", "invalid unicode", "encoding", "utf-8", "utf8")


@dataclass(frozen=True)
class LandingFile:
    """A file found in the landing folder that the contract knows where to load."""

    path: Path
    relative_name: str
    table: Table
    file_format: str
    modified_ns: int
    compression: str | None = None


@dataclass
class FileResult:
    """What happened to one file."""

    source: str
    table_name: str
    file_name: str
    file_format: str
    status: str
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    seconds: float = 0.0


@dataclass
class SourceTotals:
    """Totals over a set of file results."""

    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    files_duplicate: int = 0
    files_empty: int = 0
    files_failed: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0

    @classmethod
    def of(cls, results: Iterable[FileResult]) -> SourceTotals:
        totals = cls()
        counters = {
            LOADED: "files_loaded",
            SKIPPED: "files_skipped",
            REJECTED: "files_rejected",
            DUPLICATE: "files_duplicate",
            EMPTY: "files_empty",
            FAILED: "files_failed",
        }
        for result in results:
            name = counters[result.status]
            setattr(totals, name, getattr(totals, name) + 1)
            totals.rows_read += result.rows_read
            totals.rows_loaded += result.rows_loaded
            totals.rows_rejected += result.rows_rejected
        return totals


@dataclass
class LoadReport:
    """Per-file results of a load, the warnings about the landing folder, and totals."""

    files: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def totals(self) -> SourceTotals:
        return SourceTotals.of(self.files)

    def by_source(self) -> dict[str, SourceTotals]:
        """Totals per source (one Dagster ingestion asset per source)."""
        names = sorted({result.source for result in self.files})
        return {name: SourceTotals.of(r for r in self.files if r.source == name) for name in names}

    @property
    def files_loaded(self) -> int:
        return self.totals().files_loaded

    @property
    def files_skipped(self) -> int:
        return self.totals().files_skipped

    @property
    def files_rejected(self) -> int:
        return self.totals().files_rejected

    @property
    def files_failed(self) -> int:
        return self.totals().files_failed

    @property
    def rows_read(self) -> int:
        return self.totals().rows_read

    @property
    def rows_loaded(self) -> int:
        return self.totals().rows_loaded

    @property
    def rows_rejected(self) -> int:
        return self.totals().rows_rejected

    @property
    def failures(self) -> list[FileResult]:
        return [result for result in self.files if result.status == FAILED]

    def raise_for_failures(self) -> None:
        """Raise ``RuntimeError`` naming every file whose load failed (and was rolled back)."""
        if self.failures:
            details = "; ".join(f"{r.file_name}: {r.reason}" for r in self.failures)
            raise RuntimeError(f"{len(self.failures)} landing file(s) failed to load: {details}")


def _prepare_connection(con: duckdb.DuckDBPyConnection) -> None:
    # Timestamps without an offset are UTC (docs/landing-contract.md), and parquet TIMESTAMPTZ values are
    # written to raw as UTC text; the readers rely on insertion order for line numbers.
    con.execute("set TimeZone = 'UTC'")
    con.execute("set preserve_insertion_order = true")
    ensure_raw_schema(con)


def discover_files(
    landing_dir: Path, sources: Iterable[str] | None = None
) -> tuple[list[LandingFile], list[str]]:
    """The loadable files under ``landing_dir`` in load order, and warnings about the rest.

    Load order: modification time, then relative path. Unknown source or table folders,
    unknown extensions and stray folders are warned about and skipped; hidden files (``.*``,
    e.g. a file still being copied under a temporary name) are skipped silently.
    """
    known = {(table.source, table.name): table for table in tables()}
    known_sources = {source.name for source in contract_sources()}
    selected = set(known_sources if sources is None else sources)
    unknown = selected - known_sources
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(sorted(unknown))}")
    warnings: list[str] = []
    found: list[LandingFile] = []
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        return [], [f"landing folder {landing_dir} does not exist: nothing to load"]
    for source_dir in sorted(landing_dir.iterdir()):
        if source_dir.name.startswith("."):
            continue
        if not source_dir.is_dir():
            if sources is None:
                warnings.append(f"ignored file outside any table folder: {source_dir.name}")
            continue
        if source_dir.name not in known_sources:
            if sources is None:
                warnings.append(f"ignored unknown source folder: {source_dir.name}/")
            continue
        if source_dir.name not in selected:
            continue
        for table_dir in sorted(source_dir.iterdir()):
            relative_table = f"{source_dir.name}/{table_dir.name}"
            if table_dir.name.startswith("."):
                continue
            if not table_dir.is_dir():
                warnings.append(f"ignored file outside any table folder: {relative_table}")
                continue
            table = known.get((source_dir.name, table_dir.name))
            if table is None:
                warnings.append(f"ignored unknown table folder: {relative_table}/")
                continue
            for path in sorted(table_dir.iterdir()):
                relative = f"{relative_table}/{path.name}"
                if path.name.startswith("."):
                    continue
                if path.is_dir():
                    warnings.append(f"ignored folder inside a table folder: {relative}/")
                    continue
                file_format, compression = file_format_of(path.name)
                if file_format is None:
                    warnings.append(
                        f"ignored file with unknown extension: {relative} "
                        f"(expected {', '.join(_accepted_extensions())})"
                    )
                    continue
                found.append(
                    LandingFile(
                        path=path,
                        relative_name=relative,
                        table=table,
                        file_format=file_format,
                        modified_ns=path.stat().st_mtime_ns,
                        compression=compression,
                    )
                )
    found.sort(key=lambda landing_file: (landing_file.modified_ns, landing_file.relative_name))
    return found, warnings


def file_format_of(name: str) -> tuple[str | None, str | None]:
    """The format (``csv``, ``jsonl``, ``parquet``) and compression (``gzip`` or None) of a
    landing file name, from its extensions; ``(None, None)`` when the loader cannot read it."""
    lowered = name.lower()
    for suffix, compression in COMPRESSED_FORMATS.items():
        if lowered.endswith(suffix):
            inner = Path(lowered[: -len(suffix)]).suffix
            if inner in COMPRESSIBLE_FORMATS:
                return inner.lstrip("."), compression
            return None, None
    extension = Path(lowered).suffix
    if extension in FILE_FORMATS:
        return extension.lstrip("."), None
    return None, None


def _accepted_extensions() -> list[str]:
    compressed = [f"{fmt}{suffix}" for suffix in COMPRESSED_FORMATS for fmt in COMPRESSIBLE_FORMATS]
    return [*FILE_FORMATS, *compressed]


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path | str,
    sources: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = print,
) -> LoadReport:
    """Load every new landing file (of ``sources``, default all) into the raw schema.

    Creates the raw schema first, so every contract table exists even without files. A file
    whose load fails is rolled back, reported with status ``failed`` and the others still load;
    call ``report.raise_for_failures()`` to turn that into an error. Sets the connection's
    TimeZone to UTC.
    """
    _prepare_connection(con)
    files, warnings = discover_files(Path(landing_dir), sources)
    report = LoadReport(warnings=list(warnings))
    say = progress or (lambda _message: None)
    for warning in warnings:
        say(f"warning: {warning}")
    for number, landing_file in enumerate(files, start=1):
        result = load_file(con, landing_file, prepared=True)
        report.files.append(result)
        say(f"[{number}/{len(files)}] {_describe(result)}")
    totals = report.totals()
    say(
        f"{len(files)} file(s): {totals.files_loaded} loaded, {totals.files_skipped} skipped, "
        f"{totals.files_duplicate} duplicate, {totals.files_empty} empty, "
        f"{totals.files_rejected} rejected, {totals.files_failed} failed; rows read "
        f"{totals.rows_read} = {totals.rows_loaded} loaded + {totals.rows_rejected} rejected"
    )
    return report


def _describe(result: FileResult) -> str:
    text = (
        f"{result.file_name}: {result.status}, {result.rows_loaded} loaded, "
        f"{result.rows_rejected} rejected ({result.seconds:.2f} s)"
    )
    return f"{text} - {result.reason}" if result.reason else text


def load_file(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile | Path | str,
    landing_dir: Path | str | None = None,
    *,
    prepared: bool = False,
) -> FileResult:
    """Load one file in one transaction and return what happened.

    ``landing_file`` is a :class:`LandingFile` from :func:`discover_files`, or a path to a file
    at ``<landing_dir>/<source>/<table>/<name>``. Errors reading the file (bad encoding, broken
    parquet) reject the file whole; errors writing it roll the transaction back (status
    ``failed``) and are reported, not raised.
    """
    if not prepared:
        _prepare_connection(con)
    if not isinstance(landing_file, LandingFile):
        landing_file = _landing_file_for(Path(landing_file), landing_dir)
    started = time.monotonic()
    started_at = _utc_now()
    table = landing_file.table
    result = FileResult(
        source=table.source,
        table_name=table.name,
        file_name=landing_file.relative_name,
        file_format=landing_file.file_format,
        status=FAILED,
    )
    try:
        _load(con, landing_file, result, started_at)
    except Exception as error:  # noqa: BLE001 - reported per file, the other files go on
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        result.status = FAILED
        result.load_id = None
        result.rows_read = result.rows_loaded = result.rows_rejected = 0
        result.reason = _error_text(error)
    result.seconds = time.monotonic() - started
    return result


def _landing_file_for(path: Path, landing_dir: Path | str | None) -> LandingFile:
    if landing_dir is None:
        # <landing>/<source>/<table>/<file>
        landing_dir = path.resolve().parent.parent.parent
    relative = path.resolve().relative_to(Path(landing_dir).resolve())
    if len(relative.parts) != 3:
        raise ValueError(f"{path} is not at <landing>/<source>/<table>/<file>")
    source, table_name, _name = relative.parts
    table = next((t for t in tables() if (t.source, t.name) == (source, table_name)), None)
    if table is None:
        raise ValueError(f"{source}/{table_name} is not a table of the landing contract")
    file_format, compression = file_format_of(path.name)
    if file_format is None:
        raise ValueError(
            f"{path.name}: unknown extension (expected {', '.join(_accepted_extensions())})"
        )
    return LandingFile(
        path=path,
        relative_name=relative.as_posix(),
        table=table,
        file_format=file_format,
        modified_ns=path.stat().st_mtime_ns,
        compression=compression,
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    result: FileResult,
    started_at: datetime,
) -> None:
    table = landing_file.table
    size = landing_file.path.stat().st_size
    facts = _scan(landing_file)
    file_hash = facts.file_hash
    earlier = con.execute(
        f"""
        select load_id, file_name
        from {RAW_SCHEMA}.load_manifest
        where source = ? and table_name = ? and file_hash = ?
        order by load_id
        """,
        [table.source, table.name, file_hash],
    ).fetchall()
    if any(name == landing_file.relative_name for _load_id, name in earlier):
        result.status = SKIPPED
        result.reason = "already loaded"
        return
    if size > 0 and earlier:
        load_id, name = earlier[0]
        result.status = DUPLICATE
        result.reason = f"same content as {name} (load_id {load_id}): not loaded again"
        con.begin()
        result.load_id = _next_load_id(con)
        _insert_manifest(con, result, file_hash, size, started_at)
        con.commit()
        return
    if size == 0:
        result.status = EMPTY
        result.reason = "the file is empty (0 bytes)"
        con.begin()
        result.load_id = _next_load_id(con)
        _insert_manifest(con, result, file_hash, size, started_at)
        con.commit()
        return

    prefix = f"_clm_ingest_{uuid.uuid4().hex[:12]}"
    staged: StagedFile | None = None
    try:
        with _readable_path(landing_file.path) as path:
            staged, notes, error_text = _stage(con, landing_file, path, prefix, facts)
            # the landing-relative name, not where this machine keeps the file
            error_text = error_text.replace(path, landing_file.relative_name)
            if staged is None:
                # Unreadable as its format (no encoding decodes it, a truncated gzip stream, a
                # broken parquet file): bad input, not a loader failure. Its rows are unknown.
                result.status = REJECTED
                result.reason = _unreadable_reason(landing_file, facts, error_text)
                con.begin()
                result.load_id = _next_load_id(con)
                _insert_manifest(con, result, file_hash, size, started_at)
                con.commit()
                return
            # notes: how the file was read when not the plain way (another encoding, gzip)
            result.reason = "; ".join(notes) or None
            _write(con, table, staged, landing_file, result, file_hash, size, started_at, prefix)
    finally:
        _drop_temp_objects(con, prefix, staged)


def _write(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    staged: StagedFile,
    landing_file: LandingFile,
    result: FileResult,
    file_hash: str,
    size: int,
    started_at: datetime,
    prefix: str,
) -> None:
    """Raw rows, rejects and the manifest row of one staged file, in one transaction."""
    missing = missing_required_columns(table, set(staged.columns))
    file_reason = staged.file_error
    if missing and not file_reason:
        file_reason = "missing required column(s): " + ", ".join(missing)

    values = {name: staged.columns.get(name) for name in table.column_names}
    values = without_erased_references(con, table, values)
    extras = [name for name in staged.columns if name not in values]
    extras_sql = (
        "json_object("
        + ", ".join(f"{sql_string(name)}, {staged.columns[name]}" for name in extras)
        + ")::varchar"
        if extras
        else "null::varchar"
    )
    # The reasons read each column's text once, from a projection below them: written inline,
    # each check would compute its value again in every clause that names it (a parquet
    # timestamp cast to text seven times over; DuckDB does not share them), ~3x the cost.
    texts = {name: f"_clm_value_{position}" for position, name in enumerate(values, start=1)}
    checked = {name: texts[name] if sql is not None else None for name, sql in values.items()}
    if file_reason:
        reason_sql = sql_string(file_reason)
    else:
        reason_sql = f"coalesce(_structure_error, {row_reason_sql(table, checked)})"
        erased_sql = tombstone_reason_sql(con, table, checked)
        if erased_sql is not None:
            # an erased person's row never comes back; the reason holds no personal data
            reason_sql = f"coalesce({erased_sql}, {reason_sql})"
    value_texts = "".join(
        f", {sql} as {texts[name]}" for name, sql in values.items() if sql is not None
    )
    bad = f"{prefix}_bad"
    common = [
        sql_string(table.source),
        sql_string(table.name),
        sql_string(landing_file.relative_name),
    ]

    con.begin()
    load_id = _next_load_id(con)
    # Reasons are computed once, over the staged file, and kept only for the (usually few) bad
    # records; good rows then go to raw by an anti-join, bad ones to rejects by a join.
    con.execute(
        f"""
        create temp table {bad} as
        select _line_number, _reason
        from (
            select _line_number, {reason_sql} as _reason
            from (select _line_number, _structure_error{value_texts} from {staged.view})
        )
        where _reason is not null
        """
    )
    target_columns = ", ".join(
        [sql_identifier(name) for name in table.column_names]
        + ["_extra_columns", "_load_id", "_file_name", "_line_number", "_loaded_at"]
    )
    value_columns = ", ".join(values[name] or "null::varchar" for name in table.column_names)
    (loaded,) = con.execute(
        f"""
        insert into {table.qualified_raw_name} ({target_columns})
        select {value_columns}, {extras_sql}, ?, ?, stage._line_number, ?
        from {staged.view} as stage
        anti join {bad} as bad on stage._line_number = bad._line_number
        """,
        [load_id, landing_file.relative_name, started_at],
    ).fetchone()
    (rejected,) = con.execute(
        f"""
        insert into {RAW_SCHEMA}.load_rejects
            (load_id, source, table_name, file_name, line_number, reason, raw_record)
        select
            ?, {", ".join(common)}, stage._line_number, bad._reason,
            -- an erased person's record is not kept, only the fact that a row was dropped
            case when bad._reason = {sql_string(ERASED_REASON)} then null else stage._raw_record end
        from {staged.view} as stage
        inner join {bad} as bad on stage._line_number = bad._line_number
        """,
        [load_id],
    ).fetchone()
    result.load_id = load_id
    result.status = REJECTED if file_reason else LOADED
    if file_reason:
        result.reason = f"{file_reason}; {result.reason}" if result.reason else file_reason
    result.rows_loaded = int(loaded)
    result.rows_rejected = int(rejected)
    result.rows_read = result.rows_loaded + result.rows_rejected
    _insert_manifest(con, result, file_hash, size, started_at)
    con.commit()


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    (load_id,) = con.execute(
        f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.load_manifest"
    ).fetchone()
    return int(load_id)


def _insert_manifest(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    file_hash: str,
    size: int,
    started_at: datetime,
) -> None:
    con.execute(
        f"""
        insert into {RAW_SCHEMA}.load_manifest (
            load_id, source, table_name, file_name, file_hash, file_size_bytes, file_format,
            status, reason, rows_read, rows_loaded, rows_rejected, started_at, finished_at
        )
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            result.load_id,
            result.source,
            result.table_name,
            result.file_name,
            file_hash,
            size,
            result.file_format,
            result.status,
            result.reason,
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            started_at,
            _utc_now(),
        ],
    )


@contextlib.contextmanager
def _readable_path(path: Path) -> Iterator[str]:
    """A path DuckDB's readers open as exactly this file.

    DuckDB expands ``* ? [ ] { }`` in reader paths as globs, so a file named ``orders[1].csv``
    is read through a symlink with a plain name. Quotes are handled by ``sql_string``.
    """
    absolute = str(path.resolve())
    if not _GLOB_CHARACTERS.intersection(absolute):
        yield absolute
        return
    with tempfile.TemporaryDirectory(prefix="clm-ingest-") as directory:
        link = os.path.join(directory, "file" + path.suffix.lower())
        os.symlink(absolute, link)
        yield link


@dataclass
class _FileFacts:
    """What one pass over a file's bytes finds (see :func:`_scan`)."""

    file_hash: str
    line_breaks: str = "lf"
    # gzip bytes in a file whose name does not say so (``orders.csv`` that is really gzip)
    is_undeclared_gzip: bool = False
    compression: str | None = None
    # a compressed stream that ends early or is corrupt: why, and the complete lines before it
    stream_error: str | None = None
    lines_before_error: int = 0


def _scan(landing_file: LandingFile) -> _FileFacts:
    """The file's sha256, its line breaks for the readers (``lf``, ``crlf`` or ``cr``) and its
    compression, in one pass over the bytes.

    ``cr`` means a lone carriage return somewhere (see ``readers._lines_table``). A text file
    that starts with the gzip magic bytes is read as gzip whatever its name; its line breaks
    come from the decompressed bytes (zlib, chunk by chunk, in C), which also tells whether
    the stream is complete.
    """
    digest = hashlib.sha256()
    carriage_returns = crlf_pairs = newlines = 0
    previous_ends_with_cr = False
    facts = _FileFacts(file_hash="", compression=landing_file.compression)
    decompressor = None
    with landing_file.path.open("rb") as stream:
        first = True
        while chunk := stream.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            if first:
                first = False
                if landing_file.file_format != "parquet" and chunk.startswith(_GZIP_MAGIC):
                    facts.is_undeclared_gzip = landing_file.compression is None
                    facts.compression = "gzip"
                if facts.compression == "gzip":
                    decompressor = zlib.decompressobj(wbits=47)
            text = chunk
            if decompressor is not None:
                if facts.stream_error:
                    continue
                try:
                    text = decompressor.decompress(chunk)
                    while decompressor.eof and decompressor.unused_data:
                        # concatenated gzip members (what `cat a.gz b.gz` gives) are one stream
                        rest = decompressor.unused_data
                        decompressor = zlib.decompressobj(wbits=47)
                        text += decompressor.decompress(rest)
                except zlib.error as error:
                    facts.stream_error = f"the gzip data is corrupt ({error})"
                    continue
            newlines += text.count(b"\n")
            carriage_returns += text.count(b"\r")
            crlf_pairs += text.count(b"\r\n")
            if previous_ends_with_cr and text.startswith(b"\n"):
                crlf_pairs += 1
            if text:
                previous_ends_with_cr = text.endswith(b"\r")
    if decompressor is not None and not facts.stream_error and not decompressor.eof:
        facts.stream_error = "the gzip data ends early (the file is truncated)"
    if facts.stream_error:
        facts.lines_before_error = newlines
    if carriage_returns == 0:
        facts.line_breaks = "lf"
    elif carriage_returns == crlf_pairs:
        facts.line_breaks = "crlf"
    else:
        facts.line_breaks = "cr"
    facts.file_hash = digest.hexdigest()
    return facts


def _stage(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    path: str,
    prefix: str,
    facts: _FileFacts,
) -> tuple[StagedFile | None, list[str], str]:
    """Stage the file with DuckDB's readers: ``(staged, notes, "")`` or ``(None, [], error)``.

    Text files are tried in each encoding of ``CLM_CSV_ENCODING`` while the error is about the
    encoding; the notes say which encoding (and compression) was used when not the plain one.
    """
    reader = READERS["." + landing_file.file_format]
    notes: list[str] = []
    if facts.is_undeclared_gzip:
        notes.append("gzip-compressed although its name does not end in .gz: read decompressed")
    if landing_file.file_format == "parquet":
        try:
            return reader(con, sql_string(path), prefix, facts.line_breaks), notes, ""
        except duckdb.Error as error:
            return None, [], _error_text(error)
    if facts.stream_error:
        return None, [], facts.stream_error
    encodings = csv_encodings()
    failures: list[str] = []
    for encoding in encodings:
        options = ReadOptions(facts.line_breaks, encoding, facts.compression)
        try:
            staged = reader(con, sql_string(path), prefix, options)
        except duckdb.Error as error:
            text = _error_text(error)
            failures.append(f"as {encoding}: {text}")
            _drop_temp_objects(con, prefix, None)
            if not any(word in text.lower() for word in _ENCODING_ERRORS):
                break
            continue
        if encoding != encodings[0]:
            notes.append(
                f"decoded as {encoding} ({'; '.join(failures)})"
                if failures
                else f"decoded as {encoding}"
            )
        return staged, notes, ""
    tried = ", ".join(encodings[: len(failures)])
    return None, [], f"could not decode it (tried {tried}): " + " | ".join(failures)


def _unreadable_reason(landing_file: LandingFile, facts: _FileFacts, error_text: str) -> str:
    kind = landing_file.file_format + (f" ({facts.compression})" if facts.compression else "")
    counted = (
        f"; {facts.lines_before_error} complete line(s) could be decompressed before the error"
        if facts.stream_error
        else ""
    )
    return f"{UNREADABLE}: could not read the file as {kind}: {error_text}{counted}"


def _error_text(error: BaseException) -> str:
    """DuckDB's message on one line: every sentence of it (the later lines name the encoding),
    without the dump of reader options and the SQL caret lines that follow."""
    kept = []
    # split on newlines only: str.splitlines() also splits on the control characters the
    # line reader uses as its delimiter, leaving pieces of the option dump behind
    for line in str(error).replace("\r\n", "\n").split("\n"):
        if _OPTION_DUMP.match(line) or line.lstrip().startswith(("LINE ", "^")):
            continue
        if line.strip():
            kept.append(line.strip())
    text = " ".join(kept)
    if len(text) > _MAX_ERROR_TEXT:
        text = text[: _MAX_ERROR_TEXT - 1] + "…"
    return f"{type(error).__name__}: {text}"


def _drop_temp_objects(
    con: duckdb.DuckDBPyConnection, prefix: str, staged: StagedFile | None
) -> None:
    names = (staged.temp_objects if staged else []) + [
        f"{prefix}_{suffix}" for suffix in ("lines", "records", "documents", "stage", "bad")
    ]
    for name in names:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"drop view if exists {name}")
        with contextlib.suppress(duckdb.Error):
            con.execute(f"drop table if exists {name}")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
