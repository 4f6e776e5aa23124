"""`clm run` skips only when the published result would be identical (orchestration/run_state.py).

Real files and a real DuckDB warehouse; every input the fingerprint covers is changed once and
must make the next run a full one.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration import run_state
from orchestration.settings import get_settings


def _warehouse(path: Path, source: str = "latest_order", as_of: str = "2026-11-30") -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists intermediate")
    con.execute(
        "create or replace table intermediate.int_as_of_date as "
        f"select date '{as_of}' as as_of_date, '{source}' as as_of_date_source"
    )
    con.close()


@pytest.fixture
def published(isolated_env: Path) -> Path:
    """A landing file, a warehouse, a BI file and the fingerprint of their publication."""
    landing = isolated_env / "landing" / "shop"
    landing.mkdir(parents=True)
    (landing / "orders_2026-11-30.csv").write_text("order_id\n1\n", encoding="utf-8")
    _warehouse(isolated_env / "warehouse" / "clm.duckdb")
    (isolated_env / "warehouse" / "bi.duckdb").write_bytes(b"published")
    run_state.record_published(get_settings(), "run-1")
    return isolated_env


def test_nothing_changed_is_nothing_new(published: Path) -> None:
    last, differs = run_state.changes(get_settings())
    assert last is not None and last.run_id == "run-1"
    assert last.as_of_date == "2026-11-30" and last.as_of_date_source == "latest_order"
    assert differs == []
    # The recorded as-of date came from the data: another day changes nothing.
    later = date.today() + timedelta(days=3)
    assert run_state.changes(get_settings(), today=later)[1] == []


def test_no_recorded_run_or_an_unreadable_record_means_a_full_run(isolated_env: Path) -> None:
    assert run_state.changes(get_settings()) == (None, ["no published run recorded"])
    path = run_state.state_path(get_settings().duckdb_path)
    path.write_text("{not json", encoding="utf-8")
    assert run_state.changes(get_settings())[0] is None


def test_a_starting_run_forgets_the_record(published: Path) -> None:
    run_state.forget_last_run(get_settings().duckdb_path)
    assert run_state.changes(get_settings())[0] is None


def test_a_new_or_changed_landing_file_is_new(published: Path) -> None:
    folder = published / "landing" / "shop"
    (folder / "orders_2026-12-01.csv").write_text("order_id\n2\n", encoding="utf-8")
    assert run_state.changes(get_settings())[1] == ["landing files"]
    (folder / "orders_2026-12-01.csv").unlink()
    assert run_state.changes(get_settings())[1] == []
    # Same name and size, newer file: a redelivery counts as new.
    old = folder / "orders_2026-11-30.csv"
    stat = old.stat()
    os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert run_state.changes(get_settings())[1] == ["landing files"]


def test_a_changed_setting_is_new(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLM_AS_OF_DATE", "2026-10-31")
    assert run_state.changes(get_settings())[1] == ["settings"]


def test_changed_code_is_new(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "fct_orders.sql"
    model.write_text("select 1 as order_id\n", encoding="utf-8")
    before = run_state.code_digest(tmp_path, ["models"])
    assert run_state.code_digest(tmp_path, ["models"]) == before
    model.write_text("select 2 as order_id\n", encoding="utf-8")
    assert run_state.code_digest(tmp_path, ["models"]) != before
    model.write_text("select 1 as order_id\n", encoding="utf-8")
    (tmp_path / "models" / "fct_refunds.sql").write_text("select 1\n", encoding="utf-8")
    assert run_state.code_digest(tmp_path, ["models"]) != before


def test_a_changed_warehouse_is_new(published: Path) -> None:
    # `clm erase`, a load by hand, anything that writes the warehouse outside a run.
    con = duckdb.connect(str(get_settings().duckdb_path))
    con.execute("create table main.erased as select 1 as id")
    con.close()
    assert "warehouse file" in run_state.changes(get_settings())[1]


def test_reading_the_warehouse_is_not_a_change(published: Path) -> None:
    con = duckdb.connect(str(get_settings().duckdb_path), read_only=True)
    con.execute("select * from intermediate.int_as_of_date").fetchall()
    con.close()
    assert run_state.changes(get_settings())[1] == []


def test_a_missing_bi_file_is_new(published: Path) -> None:
    get_settings().bi_duckdb_path.unlink()
    assert run_state.changes(get_settings())[1] == ["bi file"]


def test_new_tombstones_are_new(published: Path) -> None:
    (published / "warehouse" / "tombstones.json").write_text(
        json.dumps({"tombstones": {}}), encoding="utf-8"
    )
    assert run_state.changes(get_settings())[1] == ["tombstones file"]


def test_an_as_of_date_from_the_clock_holds_only_that_day(isolated_env: Path) -> None:
    (isolated_env / "landing").mkdir()
    today = date(2026, 12, 1)
    _warehouse(isolated_env / "warehouse" / "clm.duckdb", "current_date", today.isoformat())
    (isolated_env / "warehouse" / "bi.duckdb").write_bytes(b"published")
    run_state.record_published(get_settings(), "run-1")
    assert run_state.changes(get_settings(), today=today)[1] == []
    differs = run_state.changes(get_settings(), today=today + timedelta(days=1))[1]
    assert differs == ["the date (the as-of date is today's)"]


def test_a_changed_ge_project_outside_the_repository_is_new(
    published: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path_factory.mktemp("gx_project")
    (project / "gx").mkdir()
    suite = project / "gx" / "suite.json"
    suite.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CLM_GX_PROJECT_DIR", str(project))
    run_state.record_published(get_settings(), "run-2")
    assert run_state.changes(get_settings())[1] == []
    suite.write_text('{"expectations": []}', encoding="utf-8")
    assert run_state.changes(get_settings())[1] == ["code or dbt project"]
