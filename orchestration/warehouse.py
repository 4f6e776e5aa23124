"""Opening the working DuckDB file.

DuckDB allows one read-write process or many readers, never both (docs/design.md), and
`dbt build` fails at once if anything else holds the file. So every Python step opens the file
through `connect()`, does its work, and closes it before the next step starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.settings import get_settings


@contextmanager
def connect(
    path: Path | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the working warehouse (``CLM_DUCKDB_PATH``) in UTC, closed on exit."""
    path = Path(path) if path else get_settings().duckdb_path
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
