"""Write-audit-publish: the BI file gets exact copies, a failed audit changes nothing, and a
reader in another process never sees a lock error or a half-published file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import (
    PublishError,
    publish_marts,
    published_tables,
    remove_abandoned_temporaries,
)

READER = Path(__file__).with_name("reader_process.py")


def _make_work_db(path: Path, version: int = 1) -> None:
    """A working warehouse: marts with tables and a view, plus a schema that is not published."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists staging")
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table staging.stg_orders as "
            "select range as order_id, range * 1.5 as amount from range(50)"
        )
        con.execute(
            "create or replace table marts.dim_customers as select range as customer_key, "
            "'c' || range as email, timestamp '2026-01-01' + to_days(range::int) as first_seen_at, "
            f"{version} as version from range(20)"
        )
        con.execute(
            "create or replace table marts.fct_orders as select order_id, amount, "
            "order_id % 20 as customer_key from staging.stg_orders"
        )
        # A view that reads another schema: must arrive as a table with the view's rows.
        con.execute(
            "create or replace view marts.customer_revenue as select customer_key, "
            "sum(amount) as net_revenue from marts.fct_orders group by customer_key"
        )
    finally:
        con.close()


def _make_versioned_work_db(path: Path, version: int) -> None:
    """Two tables that both carry ``version`` and have version-dependent row counts."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            f"create or replace table marts.a as select {version} as version, range as id "
            f"from range({version * 100})"
        )
        con.execute(
            f"create or replace table marts.b as select {version} as version, range as id, "
            f"repeat('x', 200) as padding from range({version * 300})"
        )
    finally:
        con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_publish_copies_every_marts_relation_with_identical_contents(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi" / "bi.duckdb"
    _make_work_db(work)

    result = publish_marts(work, bi, validation_passed=True, run_id="run-1")

    assert result.published, result.reason
    assert result.tables == {
        "marts.customer_revenue": 20,
        "marts.dim_customers": 20,
        "marts.fct_orders": 50,
    }
    for relation in result.tables:
        order = "order by all"
        assert _rows(bi, f"select * from {relation} {order}") == _rows(
            work, f"select * from {relation} {order}"
        ), relation
    # Column types survive the copy.
    describe = "select column_name, column_type from (describe marts.dim_customers)"
    assert _rows(bi, describe) == _rows(work, describe)
    # Only the published schemas and meta are in the BI file, and views arrived as tables.
    kinds = _rows(
        bi,
        "select schema_name, table_name from duckdb_tables() order by all",
    )
    assert {schema for schema, _ in kinds} == {"marts", "meta"}
    assert _rows(bi, "select count(*) from duckdb_views() where not internal") == [(0,)]
    assert _rows(bi, "select run_id, source_path, table_count from meta.publication") == [
        ("run-1", str(work.resolve()), 3)
    ]
    assert published_tables(bi) == [
        ("marts", "customer_revenue", 20),
        ("marts", "dim_customers", 20),
        ("marts", "fct_orders", 50),
    ]
    # Nothing left behind next to the target: no temporary, no WAL.
    assert sorted(p.name for p in bi.parent.iterdir()) == ["bi.duckdb"]


def test_failed_validation_leaves_the_previous_file_byte_identical(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work, version=1)
    assert publish_marts(work, bi, validation_passed=True, run_id="good").published
    before = _sha256(bi)
    mtime = bi.stat().st_mtime_ns
    _make_work_db(work, version=2)

    result = publish_marts(work, bi, validation_passed=False, run_id="bad")

    assert not result.published
    assert "validation" in result.reason
    assert _sha256(bi) == before
    assert bi.stat().st_mtime_ns == mtime
    assert _rows(bi, "select distinct version from marts.dim_customers") == [(1,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "clm.duckdb"]


def test_failed_validation_without_a_previous_file_creates_nothing(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi" / "bi.duckdb"
    _make_work_db(work)
    result = publish_marts(work, bi, validation_passed=False, run_id=None)
    assert not result.published
    assert not bi.parent.exists()


def test_nothing_to_publish_keeps_the_previous_file(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    assert publish_marts(work, bi, validation_passed=True, run_id="1").published
    before = _sha256(bi)
    result = publish_marts(work, bi, ("no_such_schema",), validation_passed=True, run_id="2")
    assert not result.published
    assert _sha256(bi) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "clm.duckdb"]


def test_working_file_held_by_another_process_fails_fast_and_changes_nothing(
    tmp_path: Path,
) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    assert publish_marts(work, bi, validation_passed=True, run_id="1").published
    before = _sha256(bi)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(work),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(PublishError, match="read-only"):
            publish_marts(work, bi, validation_passed=True, run_id="2")
        assert time.monotonic() - started < 5  # DuckDB does not wait for the lock
    finally:
        holder.communicate("", timeout=30)
    assert _sha256(bi) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "clm.duckdb"]


def test_stale_wal_next_to_the_target_is_moved_aside_not_replayed(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    # A WAL from some other database file, as a crashed read-write opener would leave one.
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table t as select 1 as x")
    con.execute("checkpoint")
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("set checkpoint_threshold = '1TB'")
    con.execute("insert into t values (2)")
    stale_bytes = (tmp_path / "other.duckdb.wal").read_bytes()
    con.close()
    (tmp_path / "bi.duckdb.wal").write_bytes(stale_bytes)

    result = publish_marts(work, bi, validation_passed=True, run_id="1")

    assert result.published
    assert result.stale_wal_moved_to is not None
    assert result.stale_wal_moved_to.read_bytes() == stale_bytes
    assert not (tmp_path / "bi.duckdb.wal").exists()
    assert _rows(bi, "select count(*) from marts.fct_orders") == [(50,)]


def test_abandoned_temporaries_of_dead_publishers_are_removed(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    leftover = tmp_path / f"bi.duckdb.tmp-{dead.stdout.strip()}-{'0' * 32}"
    leftover.write_bytes(b"half a file")
    unrelated = tmp_path / "bi.duckdb.tmp-notes.txt"
    unrelated.write_text("not ours")

    assert publish_marts(work, bi, validation_passed=True, run_id="1").published
    assert not leftover.exists()
    assert unrelated.exists()


def test_leftovers_are_swept_by_name_and_writer_liveness(tmp_path: Path) -> None:
    """The sweep `clm run` does before a run: only `<name>.tmp-<pid>-<uuid>` (and its WAL) of a
    dead writer goes; a live writer's temporary, another file's and look-alikes stay."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    token = "0f" * 16
    gone = [
        tmp_path / f"bi.duckdb.tmp-{dead}-{token}",
        tmp_path / f"bi.duckdb.tmp-{dead}-{token}.wal",
    ]
    kept = [
        tmp_path / f"bi.duckdb.tmp-{os.getpid()}-{token}",  # this (live) process is writing it
        tmp_path / f"other.duckdb.tmp-{dead}-{token}",
        tmp_path / f"bi.duckdb.tmp-{dead}-0f0f",  # not a publisher's name
        tmp_path / "bi.duckdb",
    ]
    for path in (*gone, *kept):
        path.write_bytes(b"x")

    assert remove_abandoned_temporaries(tmp_path, "bi.duckdb") == gone
    assert not any(path.exists() for path in gone)
    assert all(path.exists() for path in kept)
    assert remove_abandoned_temporaries(tmp_path / "missing", "bi.duckdb") == []


def test_reader_process_never_errors_nor_sees_a_mixed_publication(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    stop = tmp_path / "stop"
    _make_versioned_work_db(work, 1)
    assert publish_marts(work, bi, validation_passed=True, run_id="v1").published

    reader = subprocess.Popen(
        [sys.executable, str(READER), str(bi), str(stop), "200", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    published_versions = [1]
    publish_seconds: list[float] = []
    try:
        # Let the reader get going, then publish while it reads.
        time.sleep(0.3)
        for version in range(2, 8):
            _make_versioned_work_db(work, version)
            started = time.monotonic()
            result = publish_marts(work, bi, validation_passed=True, run_id=f"v{version}")
            publish_seconds.append(time.monotonic() - started)
            assert result.published
            published_versions.append(version)
            time.sleep(0.1)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)

    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines and lines[-1] == {"done": True}, err
    observations = [line for line in lines if "marker" in line]
    errors = [line["error"] for line in lines if "error" in line]
    assert errors == []
    assert len(observations) >= 10
    seen = set()
    for observation in observations:
        version = int(observation["marker"].removeprefix("v"))
        # Both tables and the marker come from the same publication, never a mix.
        assert observation["a"] == [version, version, version * 100], observation
        assert observation["b"] == [version, version, version * 300], observation
        seen.add(version)
    assert seen <= set(published_versions)
    assert len(seen) >= 2, "the reader should have observed several publications"
    # The reader holds shared locks on the BI file all along; the publisher never waited on them.
    assert max(publish_seconds) < 10
    assert not any(p.name.startswith("bi.duckdb.") for p in tmp_path.iterdir())


def test_open_reader_keeps_the_old_version_new_reader_sees_the_new(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_versioned_work_db(work, 1)
    assert publish_marts(work, bi, validation_passed=True, run_id="v1").published
    # The long-lived reader is another process, like a BI tool (one process has one DuckDB
    # instance per path, so an in-process connection would not show the point).
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "q = 'select max(version), count(*) from marts.b'\n"
            "print(con.execute(q).fetchone(), flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.execute(q).fetchone(), flush=True)\n",
            str(bi),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "(1, 300)"
        _make_versioned_work_db(work, 2)
        assert publish_marts(work, bi, validation_passed=True, run_id="v2").published
        assert _rows(bi, "select max(version), count(*) from marts.b") == [(2, 600)]
        out, _ = reader.communicate("go\n", timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert out.strip() == "(1, 300)"


def test_target_held_read_write_by_another_process_is_refused(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    assert publish_marts(work, bi, validation_passed=True, run_id="1").published
    # Someone opened the BI file read-write and wrote: its WAL is live, moving it would lose data.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "con.execute(\"set checkpoint_threshold = '1TB'\")\n"
            "con.execute('create table marts.scribble as select 1 as x')\n"
            "print('written', flush=True)\n"
            "sys.stdin.readline()\n",
            str(bi),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "written"
        wal = tmp_path / "bi.duckdb.wal"
        assert wal.exists()
        wal_bytes = wal.read_bytes()
        before = _sha256(bi)
        with pytest.raises(PublishError, match="held read-write"):
            publish_marts(work, bi, validation_passed=True, run_id="2")
        assert wal.read_bytes() == wal_bytes
        assert _sha256(bi) == before
    finally:
        writer.communicate("\n", timeout=30)
    assert not any(".tmp-" in p.name for p in tmp_path.iterdir())
