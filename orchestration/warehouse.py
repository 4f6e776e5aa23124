"""Opening the working DuckDB file.

DuckDB allows one read-write process or many readers, never both (docs/design.md), and
`dbt build` fails at once if anything else holds the file. So every Python step opens the file
through `connect()`, does its work, and closes it before the next step starts.

Every DuckDB connection of a run that does heavy work (loader, CLV, Great Expectations, publish;
dbt through profiles.yml) gets the same limits (``apply_limits``): at most
``CLM_DUCKDB_MEMORY_LIMIT`` of memory, spilling to ``<warehouse>.tmp/``. Its default is DuckDB's
own, 80 % of RAM, with which one `dbt build` at tier m held 10 GB; 2GB and 3GB bounded that run
but failed it with Out of Memory errors (docs/design.md, benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import get_settings
from orchestration.settings import value as setting_value
from orchestration.sql import string_literal


def spill_directory(path: Path | None = None) -> Path:
    """Where DuckDB spills what does not fit in its memory limit: ``<warehouse file>.tmp``
    beside the warehouse (the folder DuckDB itself picks for a file database; profiles.yml names
    the same one for dbt). Set explicitly so in-memory connections (publish) spill there too,
    not into a ``.tmp`` folder in whatever the working directory is."""
    path = Path(path) if path else get_settings().duckdb_path
    return path.with_name(path.name + ".tmp")


def apply_limits(con: Any, path: Path | None = None) -> None:
    """Give a DuckDB connection (or a DB-API cursor on one) ``CLM_DUCKDB_MEMORY_LIMIT`` and the
    spill folder of ``path``'s warehouse.

    With ``set`` after connecting, not as connect-time ``config``: DuckDB refuses a second
    connection to a file already open in the process with another config, and GE's engine and
    the runner's own connection meet that way. The spill folder is set only when it differs:
    DuckDB refuses any ``set temp_directory``, even to the same folder, once something spilled
    there, and the database (shared by every connection to the file in the process) may have.
    """
    con.execute(f"set memory_limit = {string_literal(setting_value('CLM_DUCKDB_MEMORY_LIMIT'))}")
    spill = str(spill_directory(path))
    con.execute("select current_setting('temp_directory')")
    if con.fetchone()[0] != spill:
        con.execute(f"set temp_directory = {string_literal(spill)}")


@contextmanager
def connect(
    path: Path | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the working warehouse (``CLM_DUCKDB_PATH``) in UTC, closed on exit."""
    path = Path(path) if path else get_settings().duckdb_path
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    created = not read_only and not path.exists()
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if created:
            # A new working file gets CLM_BI_FILE_MODE (default 0640) like the published files:
            # it holds the same personal data (docs/bi-users.md, "File permissions").
            from orchestration.publish import DEFAULT_FILE_MODE, configured_file_mode

            mode = configured_file_mode()
            path.chmod(DEFAULT_FILE_MODE if mode is None else mode)
        con.execute("set TimeZone = 'UTC'")
        apply_limits(con, path)
        yield con
    finally:
        con.close()
