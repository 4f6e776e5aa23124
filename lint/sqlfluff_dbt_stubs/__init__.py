"""Stand-ins for the dbt context objects the jinja templater of sqlfluff does not provide.

`.sqlfluff` loads this package (``library_path``) and the project's real macros
(``load_macros_from_path = macros``); sqlfluff's ``apply_dbt_builtins`` already provides ``ref``,
``source``, ``var``, ``config``, ``this``, ``is_incremental`` and ``return``. What is left —
``adapter.dispatch``, the ``dbt.*`` cross-database macros and ``run_started_at`` — is emulated
here with plain DuckDB SQL, only so the models render to lintable SQL. Nothing here runs in dbt.
"""

from __future__ import annotations

import datetime as _datetime
from types import SimpleNamespace as _Namespace

from jinja2 import pass_context as _pass_context


@_pass_context
def _dispatch(context, macro_name, macro_namespace=None):  # noqa: ARG001
    """Like dbt's adapter.dispatch on DuckDB: duckdb__<name>, else default__<name>."""
    for prefix in ("duckdb__", "default__"):
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    raise KeyError(f"no duckdb__ or default__ implementation of macro {macro_name!r}")


adapter = _Namespace(dispatch=_dispatch)

dbt = _Namespace(
    safe_cast=lambda field, type: f"try_cast({field} as {type})",
    cast=lambda field, type: f"cast({field} as {type})",
    type_bigint=lambda: "bigint",
    type_int=lambda: "integer",
    type_string=lambda: "varchar",
    type_timestamp=lambda: "timestamp",
    type_numeric=lambda: "numeric(28, 6)",
    type_float=lambda: "double",
    type_boolean=lambda: "boolean",
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    datediff=lambda first, second, datepart: f"date_diff('{datepart}', {first}, {second})",
    dateadd=lambda datepart, interval, from_date_or_timestamp: (
        f"({from_date_or_timestamp} + interval ({interval}) {datepart})"
    ),
    concat=lambda fields: " || ".join(fields),
    current_timestamp=lambda: "current_timestamp",
    last_day=lambda date, datepart: f"last_day({date})",
    hash=lambda field: f"md5(cast({field} as varchar))",
    any_value=lambda expression: f"any_value({expression})",
    bool_or=lambda expression: f"bool_or({expression})",
    listagg=lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None: (
        f"string_agg({measure}, {delimiter_text})"
    ),
    split_part=lambda string_text, delimiter_text, part_number: (
        f"split_part({string_text}, {delimiter_text}, {part_number})"
    ),
    string_literal=lambda value: f"'{value}'",
)

run_started_at = _datetime.datetime(2026, 1, 1, tzinfo=_datetime.UTC)
