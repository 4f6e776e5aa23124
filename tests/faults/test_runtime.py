"""Faults of the runtime, with real `clm run` processes on real files: bad settings and paths,
a warehouse held by another program, two runs at once, and a run killed during the dbt build.

Each test asserts what a person sees (the message, the exit code) and what is left on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support.pipeline import FOREIGN_SETTINGS, warehouse_env

from orchestration import contract

CLM = str(Path(sys.executable).with_name("clm"))


def _env(root: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
    return {
        **base,
        **warehouse_env(root),
        "DAGSTER_HOME": str(root / "dagster_home"),
        # Its own dbt target folder: the other tests read the repository's target/ meanwhile.
        "DBT_TARGET_PATH": str(root / "target"),
        **extra,
    }


def _clm_run(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # From another folder than the repository: paths must not depend on the caller's cwd.
        [CLM, "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tempfile.gettempdir(),
    )


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error output is one line, no traceback; returns it."""
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clm: error: ")
    return lines[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CLM_AS_OF_DATE", "2025-13-45", "CLM_AS_OF_DATE='2025-13-45': not a calendar date"),
        ("CLM_AT_RISK_AFTER_DAYS", "soon", "CLM_AT_RISK_AFTER_DAYS='soon': expected a whole"),
        ("CLM_REPORTING_CURRENCY", "euro", "CLM_REPORTING_CURRENCY='euro': expected a 3-letter"),
    ],
)
def test_an_invalid_setting_stops_the_run_before_anything_is_built(
    root: Path, name: str, value: str, expected: str
):
    result = _clm_run(_env(root, **{name: value}))
    assert result.returncode == 2
    line = _one_clear_line(result)
    assert expected in line
    assert not (root / "warehouse" / "clm.duckdb").exists()
    assert "dbt parse" not in result.stdout


def test_a_missing_landing_folder_is_named_and_nothing_is_created(root: Path):
    missing = root / "does" / "not" / "exist"
    result = _clm_run(_env(root, CLM_LANDING_DIR=str(missing)))
    assert result.returncode == 2
    line = _one_clear_line(result)
    assert "CLM_LANDING_DIR" in line and str(missing) in line and "does not exist" in line
    assert not missing.exists()
    assert not (root / "warehouse" / "clm.duckdb").exists()


def test_a_warehouse_path_under_a_regular_file_names_the_setting(root: Path):
    blocker = root / "not-a-folder"
    blocker.write_text("a file, not a folder\n", encoding="utf-8")
    result = _clm_run(_env(root, CLM_DUCKDB_PATH=str(blocker / "wh" / "clm.duckdb")))
    assert result.returncode == 2
    line = _one_clear_line(result)
    assert "CLM_DUCKDB_PATH" in line and str(blocker / "wh") in line
    assert blocker.read_text(encoding="utf-8") == "a file, not a folder\n"


def test_a_warehouse_held_by_another_program_stops_the_run_naming_it(root: Path):
    warehouse = root / "warehouse" / "clm.duckdb"
    warehouse.parent.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(warehouse)!r})\n"
            "print('holding', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = _clm_run(_env(root))
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    line = _one_clear_line(result)
    assert f"the warehouse {warehouse} is open in process {holder.pid}" in line
    # A run that cannot start alerts once, with the cause (a scheduled run must not fail quietly).
    alerts = [
        json.loads(text)
        for text in (root / "warehouse" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(alerts) == 1
    assert "could not start" in alerts[0]["title"]
    assert f"is open in process {holder.pid}" in alerts[0]["details"]


def test_a_second_run_while_one_runs_does_not_alert(root: Path):
    from orchestration import run_lock

    warehouse = root / "warehouse" / "clm.duckdb"
    warehouse.parent.mkdir()
    lock = run_lock.acquire(warehouse)
    try:
        result = _clm_run(_env(root))
    finally:
        lock.release()
    assert result.returncode == 2
    assert "another run is in progress" in _one_clear_line(result)
    assert not (root / "warehouse" / "alerts.jsonl").exists()


def test_the_run_lock_is_exclusive_across_processes_and_released_on_death(tmp_path: Path):
    from orchestration import run_lock

    warehouse = tmp_path / "clm.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from orchestration import run_lock\n"
            f"run_lock.acquire(Path({str(warehouse)!r}))\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(run_lock.RunInProgress, match=rf"\(pid {holder.pid}, started 20"):
            run_lock.acquire(warehouse)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel released the dead holder's lock.
    run_lock.acquire(warehouse).release()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _raw_rows(warehouse: Path) -> tuple[int, int]:
    """(rows the manifest says were loaded, rows in the raw tables)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = con.execute("select sum(rows_loaded) from raw.load_manifest").fetchone()[0]
        in_raw = sum(
            con.execute(f"select count(*) from {table.qualified_raw_name}").fetchone()[0]
            for table in contract.tables()
        )
    finally:
        con.close()
    return int(loaded or 0), in_raw


@pytest.fixture
def xs_landing(root: Path) -> Iterator[Path]:
    from tools.generator import generate

    generate(root / "landing", scale="xs", seed=11, dirty=False, progress=lambda _line: None)
    yield root


@pytest.mark.e2e
@pytest.mark.xdist_group("faults_runtime")
def test_two_runs_at_once_then_a_kill_during_dbt_then_a_rerun(
    xs_landing: Path, monkeypatch: pytest.MonkeyPatch
):
    root = xs_landing
    # The runs' Dagster instance is read as Dagster's tools read it: through DAGSTER_HOME, which
    # the dagster.yaml `clm run` writes takes its event log folder from.
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    # Recovery is under test here, not the data: dbt's built-in tests (two thirds of a build's
    # queries) are left to the suite's clean run, as the rerun's output says.
    env = _env(root, CLM_RUN_BUILTIN_TESTS="false")
    warehouse = root / "warehouse" / "clm.duckdb"
    bi_file = root / "warehouse" / "bi.duckdb"
    output = root / "first-run.txt"
    with output.open("w", encoding="utf-8") as sink:
        # Its own session, so the kill takes dbt (its child) too, as a crash or the OOM killer
        # would.
        first = subprocess.Popen(
            [CLM, "run"], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        lock_file = warehouse.with_name("clm.duckdb.run-lock")
        _wait_for(
            lambda: lock_file.exists() and f'"pid": {first.pid}' in lock_file.read_text(),
            120,
            "the first run to take the lock",
        )

        # A second run while the first runs: says so at once, no traceback, exit 2.
        second = _clm_run(env, timeout=120)
        assert second.returncode == 2
        line = _one_clear_line(second)
        assert f"another run is in progress (pid {first.pid}, started 20" in line
        assert first.poll() is None, "the second run disturbed the first"

        # Kill the first run (its whole process group) in the middle of the dbt build.
        _wait_for(
            lambda: "▸ dbt_warehouse" in output.read_text(encoding="utf-8"),
            900,
            "the dbt build to start",
        )
        time.sleep(5)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not bi_file.exists(), "a killed run published"

    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.get() as instance:
        [killed] = instance.get_runs()
        assert killed.status == DagsterRunStatus.STARTED
    # What a publisher killed mid-copy leaves next to the BI file, named as publish.py names
    # its temporaries (`<name>.tmp-<pid>-<uuid4 hex>`); pid 2**22 + 1 is above Linux's pid_max,
    # so never alive.
    temporary = f"bi.duckdb.tmp-{2**22 + 1}-{uuid.uuid4().hex}"
    leftovers = [bi_file.with_name(temporary), bi_file.with_name(f"{temporary}.wal")]
    for path in leftovers:
        path.write_bytes(b"partial")

    rerun = _clm_run(env, timeout=1500)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    # The killed run had loaded every landing file before dbt started: the rerun loads nothing
    # new, and its summary says where the results are.
    summary = rerun.stdout[rerun.stdout.index("clm run summary") :]
    assert "files loaded: 0" in summary
    assert "rows loaded: 0" in summary
    assert f"published for BI: {bi_file}" in summary
    assert f"warehouse: {warehouse}" in summary
    assert "latest month" in summary and "net_revenue" in summary
    assert f"run {killed.run_id} had been killed: marked failed" in rerun.stdout
    assert "CLM_RUN_BUILTIN_TESTS=false: dbt's not_null, unique" in rerun.stdout
    assert "removed a leftover of an interrupted publication: bi.duckdb.tmp-" in rerun.stdout
    assert not any(path.exists() for path in leftovers)
    assert f"published for BI: {bi_file}" in rerun.stdout
    with DagsterInstance.get() as instance:
        statuses = {run.run_id: run.status for run in instance.get_runs()}
    assert statuses[killed.run_id] == DagsterRunStatus.FAILURE
    assert sorted(statuses.values(), key=str) == [
        DagsterRunStatus.FAILURE,
        DagsterRunStatus.SUCCESS,
    ]
    # Nothing loaded twice, nothing lost: the manifest's rows are exactly the raw rows, and
    # every landing row is loaded (the xs sample has no bad rows).
    loaded, in_raw = _raw_rows(warehouse)
    assert loaded == in_raw > 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        unbalanced = con.execute(
            "select count(*) from raw.load_reconciliation where not is_balanced"
        ).fetchone()[0]
        duplicate_loads = con.execute(
            "select count(*) - count(distinct file_hash) from raw.load_manifest "
            "where status = 'loaded'"
        ).fetchone()[0]
    finally:
        con.close()
    assert unbalanced == 0 and duplicate_loads == 0

    # The rerun published and recorded what it was computed from; with nothing changed since,
    # the next `clm run` says so and runs nothing (no dbt, no Dagster run).
    again = _clm_run(env, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "» nothing new since run " in again.stdout
    assert "clm run summary" not in again.stdout
    assert "dbt parse" not in again.stdout
    with DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == 2


def _ingest_assets() -> list:
    from orchestration.defs.ingest import assets

    return [assets.landing_files, *(getattr(assets, f"load_{s.name}") for s in contract.sources())]


def test_an_empty_configured_landing_folder_loads_nothing_and_gets_no_sample_data(
    isolated_env: Path,
):
    from dagster import DagsterInstance, materialize

    landing = isolated_env / "landing"
    landing.mkdir()
    result = materialize(_ingest_assets(), instance=DagsterInstance.ephemeral())
    assert result.success
    assert list(landing.rglob("*")) == []
    [landing_event] = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "landing/files"
    ]
    metadata = landing_event.materialization.metadata
    assert metadata["data_files"].value == 0
    loaded, in_raw = _raw_rows(isolated_env / "warehouse" / "clm.duckdb")
    assert loaded == in_raw == 0


def test_a_missing_landing_folder_fails_the_dagster_run_naming_it(isolated_env: Path):
    from dagster import DagsterInstance, materialize

    result = materialize(
        _ingest_assets(), instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    message = failure.step_failure_data.error.message
    assert f"CLM_LANDING_DIR: the landing folder {isolated_env / 'landing'} does not exist" in (
        message
    )
    assert not (isolated_env / "landing").exists()
