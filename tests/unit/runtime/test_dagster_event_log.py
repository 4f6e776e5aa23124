"""Dagster's SQLite event log with kept connections (orchestration/dagster_event_log.py), in a
real DAGSTER_HOME prepared as `clm run` prepares one, with real runs of a small job."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    DagsterInstance,
    asset,
    asset_check,
    materialize,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

from orchestration.dagster_event_log import KeptConnectionSqliteEventLogStorage
from orchestration.preflight import DAGSTER_YAML, EARLIER_DAGSTER_YAMLS, prepare_dagster_home


@asset
def numbers() -> list[int]:
    return [1, 2, 3]


@asset_check(asset=numbers)
def numbers_are_positive() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    folder = prepare_dagster_home()
    assert folder is not None
    return folder


@contextmanager
def _connections_opened() -> Iterator[list[str]]:
    """The SQLite file of each connection any SQLAlchemy engine opens inside the block, but
    the run storage's (runs.db: not the event log)."""
    opened: list[str] = []

    def count(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        path = Path(dbapi_connection.execute("pragma database_list").fetchone()[2])
        if path.name != "runs.db":
            opened.append(path.name)

    event.listen(Engine, "connect", count)
    try:
        yield opened
    finally:
        event.remove(Engine, "connect", count)


def test_a_prepared_home_stores_runs_through_kept_connections(home: Path):
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, KeptConnectionSqliteEventLogStorage)
        first = materialize([numbers, numbers_are_positive], instance=instance)
        with _connections_opened() as opened:
            second = materialize([numbers, numbers_are_positive], instance=instance)
    assert first.success and second.success
    # the second run's events (dozens: steps, outputs, a materialization, a check) open its own
    # file once, never a connection per event (Dagster's own storage opened one per event)
    assert len(second.all_events) > 10
    assert opened == [f"{second.run_id}.db"]


def test_another_instance_reads_every_event_and_check_of_the_run(home: Path):
    with DagsterInstance.get() as writer:
        result = materialize([numbers, numbers_are_positive], instance=writer)
        run_id = result.run_id
        stored = writer.all_logs(run_id)
    # as `dagster dev` would, from the same files
    with DagsterInstance.get() as reader:
        read = reader.all_logs(run_id)

        def what(entries: list) -> list[tuple]:
            return [
                (entry.dagster_event_type, entry.step_key, entry.timestamp) for entry in entries
            ]

        assert len(read) > 10
        assert what(read) == what(stored)
        record = reader.get_latest_materialization_event(numbers.key)
        assert record is not None and record.run_id == run_id
        checks = reader.event_log_storage.get_asset_check_execution_history(
            numbers_are_positive.check_key, limit=5
        )
        assert [check.run_id for check in checks] == [run_id]


def test_wipe_then_new_runs_are_stored(home: Path):
    with DagsterInstance.get() as instance:
        materialize([numbers], instance=instance)
        instance.event_log_storage.wipe()
        again = materialize([numbers], instance=instance)
        assert [entry.run_id for entry in instance.all_logs(again.run_id)] != []
        assert instance.event_log_storage.get_all_run_ids() == [again.run_id]


def test_the_earlier_default_dagster_yaml_is_replaced_and_an_edited_one_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    earlier = tmp_path / "earlier"
    edited = tmp_path / "edited"
    for folder, text in (
        (earlier, EARLIER_DAGSTER_YAMLS[0]),
        (edited, "telemetry:\n  enabled: true\n"),
    ):
        folder.mkdir()
        (folder / "dagster.yaml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("DAGSTER_HOME", str(folder))
        prepare_dagster_home()
    assert (earlier / "dagster.yaml").read_text(encoding="utf-8") == DAGSTER_YAML
    assert (edited / "dagster.yaml").read_text(encoding="utf-8") == "telemetry:\n  enabled: true\n"


def test_an_upgraded_home_still_reads_the_events_stored_before(home: Path):
    # the events a run stored through Dagster's own storage (the earlier default dagster.yaml)
    (home / "dagster.yaml").write_text(EARLIER_DAGSTER_YAMLS[0], encoding="utf-8")
    with DagsterInstance.get() as before:
        assert not isinstance(before.event_log_storage, KeptConnectionSqliteEventLogStorage)
        earlier = materialize([numbers, numbers_are_positive], instance=before)
        stored = len(before.all_logs(earlier.run_id))
    prepare_dagster_home()
    with DagsterInstance.get() as after:
        assert isinstance(after.event_log_storage, KeptConnectionSqliteEventLogStorage)
        assert stored > 10
        assert len(after.all_logs(earlier.run_id)) == stored
        record = after.get_latest_materialization_event(numbers.key)
        assert record is not None and record.run_id == earlier.run_id
