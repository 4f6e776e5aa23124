"""Row checks built from the contract: every value must parse as its column's type, every
required value must be present (docs/design.md, "Raw layer").

A check is a SQL expression that is NULL when the value is fine and a human-readable reason
otherwise; a row's reason joins all of its failures with ``; ``. Each type check pairs a strict
pattern (what docs/landing-contract.md allows) with ``try_cast`` to the type staging casts to, because
``try_cast`` alone is too lenient (``'1.5'`` becomes the BIGINT 2, ``'1e3'`` a decimal,
``'infinity'`` a timestamp) and the pattern alone lets impossible dates and overflows through.
"""

from __future__ import annotations

from orchestration.contract import Column, Table
from orchestration.sql import string_literal

# Longest bad value quoted in a reason; the whole record is in raw_record anyway.
_MAX_QUOTED_VALUE = 80

_INTEGER = r"\s*[+-]?\d+\s*"
_DECIMAL = r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*"
_DATE = r"\s*\d{4}-\d{2}-\d{2}\s*"
# ISO 8601 date, optional time (T or space), optional fraction, optional Z or ±hh[:mm] offset.
_TIMESTAMP = (
    r"\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)?\s*"
)
BOOLEAN_VALUES = ("true", "false", "1", "0", "yes", "no")

# type -> (SQL condition that is true when the text value parses, what the reason calls it)
_PARSES: dict[str, tuple[str, str]] = {
    "integer": (
        f"regexp_full_match({{v}}, '{_INTEGER}') and try_cast({{v}} as bigint) is not null",
        "an integer",
    ),
    "decimal": (
        f"regexp_full_match({{v}}, '{_DECIMAL}') and try_cast({{v}} as decimal(18, 4)) is not null",
        "a decimal number (with '.' as separator, at most 14 digits before it)",
    ),
    "timestamp": (
        f"regexp_full_match({{v}}, '{_TIMESTAMP}') and try_cast({{v}} as timestamptz) is not null",
        "an ISO 8601 timestamp",
    ),
    "date": (
        f"regexp_full_match({{v}}, '{_DATE}') and try_cast({{v}} as date) is not null",
        "a date (YYYY-MM-DD)",
    ),
    "boolean": (
        "lower(trim({v})) in (" + ", ".join(f"'{value}'" for value in BOOLEAN_VALUES) + ")",
        "a boolean (true/false, 1/0, yes/no)",
    ),
}


def _quoted_value(value_sql: str) -> str:
    shortened = (
        f"case when length({value_sql}) > {_MAX_QUOTED_VALUE} "
        f"then left({value_sql}, {_MAX_QUOTED_VALUE}) || '…' else {value_sql} end"
    )
    return f"'''' || replace({shortened}, '''', '''''') || ''''"


def column_check_sql(column: Column, value_sql: str | None) -> str | None:
    """SQL giving the reason ``value_sql`` is bad for ``column``, or NULL; None if no check.

    ``value_sql`` is the value as text, NULL when empty; None when the file lacks the column
    (then only a required column can fail, and the whole file is rejected before rows are).
    """
    if value_sql is None:
        return None
    checks = []
    if column.required:
        checks.append(
            f"when {value_sql} is null or trim({value_sql}) = '' "
            f"then 'column {column.name}: required value is missing'"
        )
    if column.type in _PARSES:
        condition, described = _PARSES[column.type]
        parses = condition.replace("{v}", value_sql)
        checks.append(
            f"when {value_sql} is not null and not ({parses}) "
            f"then 'column {column.name}: ' || {_quoted_value(value_sql)} "
            f"|| {string_literal(' is not ' + described)}"
        )
    if not checks:
        return None
    return "case " + " ".join(checks) + " end"


def row_reason_sql(table: Table, value_sql: dict[str, str | None]) -> str:
    """SQL giving every reason a row of ``table`` is rejected (``; ``-joined), or NULL."""
    checks = [
        check
        for column in table.columns
        if (check := column_check_sql(column, value_sql.get(column.name))) is not None
    ]
    if not checks:
        return "null::varchar"
    return "nullif(concat_ws('; ', " + ", ".join(checks) + "), '')"


def missing_required_columns(table: Table, file_columns: set[str]) -> list[str]:
    """The required contract columns a file does not have, in contract order."""
    return [name for name in table.required_columns if name not in file_columns]
