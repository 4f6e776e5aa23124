"""Per-format staging of one landing file into a temporary relation, with DuckDB's own readers.

Each reader turns a file into a temporary view ``<prefix>_stage`` with one row per record:

- ``_line_number`` BIGINT: line of the file where the record starts (docs/design.md).
- ``_raw_record`` VARCHAR: the record as text, kept for ``raw.load_rejects``.
- ``_structure_error`` VARCHAR: why the record cannot be read as a row at all (wrong number of
  fields, malformed quoting, invalid JSON), NULL when it can.

and a :class:`StagedFile` saying, for each column the file has, the SQL expression of its value
as text (NULL when empty), so validation and the raw insert are the same for every format.

How CSV is read, and why not with ``read_csv`` parsing the columns itself: on duckdb 2.0.0,
``read_csv(..., strict_mode=true, store_rejects=true)`` silently accepts a line with one extra,
empty trailing field (``4,5,6,`` under a 3-column header loads as ``4,5,6``), and its CSV
reader cannot report the line number of rows it accepts (``file_row_number`` is "not supported
by this reader"). So ``read_csv`` is used only to read the file's physical lines, as a single
column (a delimiter that never occurs in text, no quoting): a table insert keeps the scan's order
(``preserve_insertion_order``), so ``rowid + 1`` is the line number. Records are then rebuilt
and split in SQL, vectorised:

- A line starts a new record unless it is inside a quoted field, i.e. unless the lines before
  it hold an odd number of ``"`` characters. Only lines with an odd count toggle that state, so
  the (usually few) spans of multi-line records come from those lines alone and are joined back
  with ``\\n``. A record's line number is the line where it starts.
- A record without ``"`` is split on ``,``. A record with quotes is split on the ``"`` first;
  the odd-numbered pieces are inside quotes, where commas are masked before splitting on ``,``
  and restored after. Every field must then be unquoted or exactly one quoted value (``""``
  escapes a quote); otherwise the record is rejected as malformed quoting.
- The number of fields is compared with the header's, so too many fields, too few fields and
  the empty trailing field are all rejected, never shifted.

Line breaks are counted as DuckDB's reader counts them (``\\n``, ``\\r\\n`` and a lone ``\\r``
all end a line); a line break inside a quoted value is stored as ``\\n``. Blank lines outside
quotes are not records (they are neither loaded nor rejected). A UTF-8 byte order mark is
dropped by DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from orchestration.sql import identifier as sql_identifier
from orchestration.sql import string_literal as sql_string

# read_csv needs some delimiter; this 4-byte sequence of control characters never occurs in
# text, so every physical line comes back as one field.
_LINE_DELIMITER = "\\x1f\\x1e\\x1d\\x1c"
# Masks commas inside quoted values while a record is split on commas (see module docstring).
_COMMA_MASK = "\\x1e\\x1f"
_MAX_LINE_BYTES = 1 << 30
# Longest record text kept in load_rejects.raw_record for a record that swallowed the rest of
# the file through an unterminated quote; the reject's line number still points at it.
_MAX_RAW_RECORD = 1_000_000

# Fields of a CSV record: split on commas outside quotes (see the module docstring).
_FIELDS_SQL = f"""
    case
        when not contains(_raw_record, '"') then string_split(_raw_record, ',')
        else list_transform(
            string_split(
                array_to_string(
                    list_transform(
                        string_split(_raw_record, '"'),
                        lambda piece, i: case
                            when i % 2 = 0 then replace(piece, ',', E'{_COMMA_MASK}')
                            else piece
                        end
                    ),
                    '"'
                ),
                ','
            ),
            lambda masked: replace(masked, E'{_COMMA_MASK}', ',')
        )
    end
"""


@dataclass
class StagedFile:
    """A file staged as ``<prefix>_stage``: its columns and how to read each one."""

    view: str
    file_format: str
    # column name in the file -> SQL expression of its value as VARCHAR (NULL when empty)
    columns: dict[str, str] = field(default_factory=dict)
    # a problem with the file as a whole (duplicate header names, ...); rows all rejected
    file_error: str | None = None
    temp_objects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadOptions:
    """How to decode a text file: its line breaks, encoding and compression.

    ``line_breaks``: see :func:`_lines_table`. ``encoding``: a DuckDB CSV encoding (``utf-8``,
    ``utf-16``, ``latin-1``). ``compression``: ``None`` or ``gzip``.
    """

    line_breaks: str = "lf"
    encoding: str = "utf-8"
    compression: str | None = None


def _lines_table(
    con: duckdb.DuckDBPyConnection,
    path_sql: str,
    table: str,
    line_breaks: str | ReadOptions,
) -> None:
    """Physical lines of the file in ``table``, ``rowid + 1`` being the line number.

    ``line_breaks`` (see ``loader``, which finds it while hashing the file): ``lf`` when the
    file has no carriage return, ``crlf`` when every one is part of ``\\r\\n``, ``cr`` when
    there is a lone ``\\r``. DuckDB's line reader (duckdb 2.0.0) is exact for the first two
    with the matching ``new_line``, but with ``new_line='\\n'`` it counts ``\\r\\n`` as two
    breaks, and with ``'\\r\\n'`` it drops the text after a lone ``\\r``. So a file with a lone
    ``\\r`` (rare: old Mac exports) is split in SQL from ``read_text`` instead, which holds the
    whole file in memory once (only for an uncompressed UTF-8 file).
    """
    options = line_breaks if isinstance(line_breaks, ReadOptions) else ReadOptions(line_breaks)
    line_breaks = options.line_breaks
    if line_breaks == "cr" and (options.compression or options.encoding != "utf-8"):
        raise duckdb.InvalidInputError(
            "the file has lone carriage returns (\\r) as line breaks, which can only be read "
            "from an uncompressed UTF-8 file"
        )
    if line_breaks == "cr":
        con.execute(
            f"""
            create temp table {table} as
            with content as (
                select string_split(
                    regexp_replace(
                        ltrim(content, chr(65279)), E'\\r\\n|\\r', E'\\n', 'g'), E'\\n'
                ) as lines
                from read_text({path_sql})
            )
            select unnest(lines) as line, generate_subscripts(lines, 1) as line_number
            from content
            order by line_number
            """
        )
        return
    # DuckDB keeps a scan's order in a table insert while preserve_insertion_order is on (the
    # default; the loader sets it), so rowid + 1 is the physical line number.
    new_line = "\\r\\n" if line_breaks == "crlf" else "\\n"
    con.execute(
        f"""
        create temp table {table} as
        select line
        from read_csv(
            {path_sql},
            columns = {{'line': 'VARCHAR'}},
            header = false,
            auto_detect = false,
            delim = E'{_LINE_DELIMITER}',
            quote = '',
            escape = '',
            new_line = '{new_line}',
            strict_mode = false,
            null_padding = false,
            all_varchar = true,
            max_line_size = {_MAX_LINE_BYTES},
            encoding = '{options.encoding}',
            compression = '{options.compression or "none"}'
        )
        """
    )


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path_sql: str,
    prefix: str,
    line_breaks: str | ReadOptions = "lf",
) -> StagedFile:
    """Stage a CSV file (header row, ``,`` separated, ``"`` quoted); see the module docstring."""
    lines, records, view = f"{prefix}_lines", f"{prefix}_records", f"{prefix}_stage"
    staged = StagedFile(view=view, file_format="csv", temp_objects=[lines, records, view])
    _lines_table(con, path_sql, lines, line_breaks)
    has_multi_line_records = con.execute(
        f"""
        select count(*) > 0
        from {lines}
        where (length(line) - length(replace(line, '"', ''))) % 2 = 1
        """
    ).fetchone()[0]
    if not has_multi_line_records:
        # the usual case: every non-blank line is one record
        con.execute(
            f"""
            create temp view {records} as
            select rowid + 1 as _line_number, line as _raw_record
            from {lines}
            where line <> ''
            """
        )
    else:
        con.execute(
            f"""
            create temp table {records} as
            with numbered as (
                select
                    rowid + 1 as line_number,
                    coalesce(line, '') as line,
                    (length(coalesce(line, '')) - length(replace(coalesce(line, ''), '"', '')))
                        % 2 = 1 as has_odd_quotes
                from {lines}
            ),
            toggles as (
                select line_number, row_number() over (order by line_number) as toggle_number
                from numbered
                where has_odd_quotes
            ),
            multi_line_spans as (
                select
                    opening.line_number as start_line,
                    coalesce(closing.line_number, 9223372036854775807) as end_line
                from toggles as opening
                left join toggles as closing
                    on closing.toggle_number = opening.toggle_number + 1
                where opening.toggle_number % 2 = 1
            ),
            assigned as (
                select
                    numbered.line_number,
                    numbered.line,
                    case
                        when numbered.line_number <= spans.end_line then spans.start_line
                    end as span_start
                from numbered
                asof left join multi_line_spans as spans
                    on numbered.line_number >= spans.start_line
            )
            select line_number as _line_number, line as _raw_record
            from assigned
            where span_start is null and line <> ''
            union all
            select
                span_start as _line_number,
                left(
                    string_agg(line, E'\\n' order by line_number), {_MAX_RAW_RECORD}
                ) as _raw_record
            from assigned
            where span_start is not null
            group by span_start
            """
        )
    header = con.execute(
        f"""
        select _line_number, {_FIELDS_SQL}
        from (select _line_number, _raw_record from {records} order by _line_number limit 1)
        """
    ).fetchone()
    if header is None:
        # only blank lines: no header, no rows
        staged.file_error = "the file has no header row (only blank lines)"
        con.execute(
            f"create temp table {view} as select null::bigint as _line_number, "
            "null::varchar as _raw_record, null::varchar[] as fields, "
            "null::varchar as _structure_error where false"
        )
        return staged
    header_line, raw_header = header
    names = [_unquote(name).strip() for name in raw_header]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        staged.file_error = "duplicate column(s) in header: " + ", ".join(duplicates)
    expected = len(names)
    # A view, not a table: writing 17 string columns or lists to a temp table costs more than
    # splitting twice (once for the reasons, once for the raw insert). Each subquery level is
    # computed once per row. The quoting check only runs on records that have quotes.
    con.execute(
        f"""
        create temp view {view} as
        with split as (
            select _line_number, _raw_record, {_FIELDS_SQL} as raw_fields
            from {records}
            where _line_number > {header_line}
        ),
        checked as (
            select
                _line_number,
                _raw_record,
                case
                    when not contains(_raw_record, '"') then raw_fields
                    else list_transform(
                        raw_fields,
                        lambda value: case
                            when starts_with(value, '"') then replace(value[2:-2], '""', '"')
                            else value
                        end
                    )
                end as fields,
                len(raw_fields) as field_count,
                case
                    when not contains(_raw_record, '"') then true
                    else list_bool_and(
                        list_transform(
                            raw_fields,
                            lambda value: not contains(value, '"')
                                or regexp_full_match(value, '"(?:[^"]|"")*"', 's')
                        )
                    )
                end as is_well_quoted,
                raw_fields[-1] = '' as ends_with_empty_field
            from split
        )
        select
            _line_number,
            _raw_record,
            fields,
            case
                when not is_well_quoted then
                    'malformed quoting: a field has a " that is not part of a quoted value '
                    || '(or a quoted value is never closed)'
                when field_count <> {expected} then
                    'wrong number of fields: expected {expected}, found ' || field_count
                    || case
                        when field_count = {expected + 1} and ends_with_empty_field
                            then ' (the line ends with an extra, empty field: a trailing comma)'
                        else ''
                    end
            end as _structure_error
        from checked
        """
    )
    for position, name in enumerate(names, start=1):
        staged.columns.setdefault(name, f"nullif(fields[{position}], '')")
    return staged


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('""', '"')
    return value


def stage_jsonl(
    con: duckdb.DuckDBPyConnection,
    path_sql: str,
    prefix: str,
    line_breaks: str | ReadOptions = "lf",
) -> StagedFile:
    """Stage a JSON-lines file: one object per line; a line that is not one is rejected.

    Physical lines are read like CSV's (``rowid + 1`` = line number), then parsed with DuckDB's
    JSON functions, so one bad line never stops the others. Blank lines are not records. Values
    are the JSON scalars as text (numbers as DuckDB's JSON writer prints them: ``1.50`` becomes
    ``1.5``); nested values stay JSON text; JSON null and ``""`` are NULL. The file's columns are
    the keys found on any line; a line without one of them has NULL there.
    """
    lines, documents, view = f"{prefix}_lines", f"{prefix}_documents", f"{prefix}_stage"
    staged = StagedFile(view=view, file_format="jsonl", temp_objects=[lines, documents, view])
    _lines_table(con, path_sql, lines, line_breaks)
    con.execute(
        f"""
        create temp table {documents} as
        with numbered as (
            select
                rowid + 1 as _line_number,
                line as _raw_record,
                coalesce(json_valid(line), false) as is_valid
            from {lines}
            where line is not null and trim(line) <> ''
        )
        select
            _line_number,
            _raw_record,
            case
                when is_valid and json_type(_raw_record) = 'OBJECT' then _raw_record::json
            end as document,
            case
                when not is_valid then 'invalid JSON: the line is not a JSON value'
                when json_type(_raw_record) <> 'OBJECT' then
                    'invalid JSON line: expected an object, found ' || lower(json_type(_raw_record))
            end as _structure_error
        from numbered
        """
    )
    keys = sorted(
        key
        for (key,) in con.execute(
            f"select distinct unnest(json_keys(document)) from {documents} "
            "where document is not null"
        ).fetchall()
    )
    # One json_extract_string with a list of paths parses each document once for all keys.
    paths = "[" + ", ".join(sql_string("$." + json_key(key)) for key in keys) + "]"
    values = f"json_extract_string(document, {paths})" if keys else "[]::varchar[]"
    con.execute(
        f"""
        create temp table {view} as
        select _line_number, _raw_record, {values} as fields, _structure_error
        from {documents}
        """
    )
    for position, key in enumerate(keys, start=1):
        staged.columns[key] = f"nullif(fields[{position}], '')"
    return staged


def json_key(key: str) -> str:
    """A JSON path step for ``key`` (quoted, so any key name works)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stage_parquet(
    con: duckdb.DuckDBPyConnection,
    path_sql: str,
    prefix: str,
    line_breaks: str | ReadOptions = "lf",
) -> StagedFile:
    """Stage a parquet file; native values are cast to text, the line is the row index + 1."""
    view = f"{prefix}_stage"
    staged = StagedFile(view=view, file_format="parquet", temp_objects=[view])
    described = con.execute(f"describe select * from read_parquet({path_sql})").fetchall()
    names = [row[0] for row in described]
    record = ", ".join(f"{sql_string(name)}, {sql_identifier(name)}" for name in names)
    con.execute(
        f"""
        create temp view {view} as
        select
            file_row_number + 1 as _line_number,
            {f"json_object({record})::varchar" if names else "'{}'"} as _raw_record,
            null::varchar as _structure_error,
            *
        from read_parquet({path_sql}, file_row_number = true)
        """
    )
    for name in names:
        staged.columns[name] = f"nullif(cast({sql_identifier(name)} as varchar), '')"
    return staged


READERS = {".csv": stage_csv, ".jsonl": stage_jsonl, ".parquet": stage_parquet}
