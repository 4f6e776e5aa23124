"""Dagster's SQLite event log, keeping one open connection per database file.

Dagster's default event log (``SqliteEventLogStorage``: one SQLite file per run plus an index
file, under ``$DAGSTER_HOME/history/runs``) creates a SQLAlchemy engine, opens a connection, and
closes both again for every event it stores and for every read. A `clm run` stores ~2,000
events (a materialization, a check evaluation, a step output per dbt node), and each asset check
event also asked the index file, through one more new engine, whether its tables exist. This
storage keeps one connection per file, opened at first use; each use is still one transaction
under Dagster's own lock, so what is stored, and what `dagster dev` reads from the same files in
other processes, is unchanged.

Commits use ``synchronous=NORMAL``, SQLite's recommended setting in WAL mode (Dagster's event log
files are in WAL mode): one sync per checkpoint instead of one per commit; a power loss may lose
the last commits, never corrupts the file.

`clm` writes it into the dagster.yaml of each DAGSTER_HOME it prepares (orchestration/
preflight.py); a DAGSTER_HOME with a dagster.yaml of its own keeps what that file says.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import Field, StringSource
from dagster._core.instance.ref import _event_logs_directory
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


def default_base_dir() -> str:
    """The folder of Dagster's own default event log in ``DAGSTER_HOME`` (Dagster's layout:
    ``history/runs``), so a home keeps the events it stored before."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(
            "DAGSTER_HOME is not set: KeptConnectionSqliteEventLogStorage keeps the event log in "
            "Dagster's own folder of it there (set DAGSTER_HOME, or give base_dir in dagster.yaml)"
        )
    return _event_logs_directory(home)


def _sync_normally(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("pragma synchronous = normal")


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one connection per file, kept open until ``dispose``."""

    def __init__(self, base_dir: str | None = None, inst_data: Any = None) -> None:
        self._engines: dict[str, Engine] = {}
        self._tables: set[str] = set()
        super().__init__(base_dir or default_base_dir(), inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: Any, config_value: dict[str, Any]
    ) -> KeptConnectionSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's lock: one thread at a time uses a file's one connection.
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=StaticPool,
                    connect_args={
                        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                        # used by whichever thread holds the lock (Dagster's watcher threads)
                        "check_same_thread": False,
                    },
                )
                event.listen(engine, "connect", _sync_normally)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Whether the index file has the table (asked for every asset check event); a table
        once there stays. Dagster's own check, with a connection of its own: it is asked while
        the lock is held."""
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _close_connections(self, keep_index: bool = False) -> None:
        with self._db_lock:
            for shard in list(self._engines):
                if keep_index and shard == INDEX_SHARD_NAME:
                    continue
                self._engines.pop(shard).dispose()

    def wipe(self) -> None:
        # the run files are deleted: their connections go first
        self._close_connections(keep_index=True)
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_connections()
