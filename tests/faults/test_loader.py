"""Faults at the loader, with real files and real processes (issues 12 and 14).

- Files that cannot be decoded or decompressed are each in the manifest with the whole reason
  (the encoding named), and read = loaded + rejected holds or the file is marked unreadable.
- ``kill -9`` of a real ``clm load`` in the middle of a file, then a rerun: nothing is loaded
  twice and nothing is lost (raw row counts equal a clean run's).
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.ingest.loader import UNREADABLE, load_landing
from orchestration.settings import REPO_ROOT

ORDERS_HEADER = "order_id,email,ordered_at,currency,subtotal,total"


def orders_csv(first: int, count: int, name_suffix: str = "") -> str:
    rows = "".join(
        f"o{n}{name_suffix},p{n}@x.com,2024-01-{1 + n % 28:02d},USD,{n % 90 + 1}.50,{n % 90 + 2}\n"
        for n in range(first, first + count)
    )
    return ORDERS_HEADER + "\n" + rows


def write(landing: Path, relative: str, content: bytes, mtime: int) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def manifest(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute(
        """
        select file_name, status, reason, rows_read, rows_loaded, rows_rejected
        from raw.load_manifest
        """
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def tombstones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLM_TOMBSTONE_PATH", str(tmp_path / "tombstones.json"))
    monkeypatch.delenv("CLM_CSV_ENCODING", raising=False)


def malformed_landing(landing: Path) -> dict[str, str]:
    """The malformed files of issue 14 beside one good file; returns name -> what it is."""
    latin1 = (
        ORDERS_HEADER + "\no1,caf\xe9@x.com,2024-01-01,USD,1,2\no2,b@x.com,2024-01-02,USD,1,2\n"
    )
    table = pa.table({"order_id": ["p1", "p2"], "ordered_at": ["2024-01-01", "2024-01-02"]})
    whole_parquet = landing / "whole.parquet"
    landing.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, whole_parquet)
    parquet_bytes = whole_parquet.read_bytes()
    whole_parquet.unlink()
    gz_bytes = gzip.compress(orders_csv(100, 5000).encode())
    files = {
        "shop/orders/latin1.csv": latin1.encode("latin-1"),
        "shop/orders/really_gzip.csv": gzip.compress(orders_csv(200, 3).encode()),
        "shop/orders/truncated.parquet": parquet_bytes[: len(parquet_bytes) // 2],
        "shop/orders/truncated.csv.gz": gz_bytes[: len(gz_bytes) // 2],
        "shop/orders/whole.csv.gz": gzip.compress(orders_csv(300, 4).encode()),
        "shop/orders/good.csv": orders_csv(400, 2).encode(),
    }
    for number, (name, content) in enumerate(files.items()):
        write(landing, name, content, 1_700_000_000 + number)
    return {name: name for name in files}


def test_every_malformed_file_is_in_the_manifest_with_its_reason(tmp_path, tombstones):
    landing = tmp_path / "landing"
    malformed_landing(landing)
    con = duckdb.connect()
    report = load_landing(con, landing, progress=None)
    files = manifest(con)
    # nothing is skipped silently: every file of the folder has a manifest row
    assert sorted(files) == sorted(
        str(path.relative_to(landing)) for path in landing.rglob("*") if path.is_file()
    )
    assert report.warnings == []

    # Latin-1: decoded with the next encoding of CLM_CSV_ENCODING; the reason says so, naming
    # DuckDB's words about the first one
    status, reason, read, loaded, rejected = files["shop/orders/latin1.csv"]
    assert (status, read, loaded, rejected) == ("loaded", 2, 2, 0)
    assert reason.startswith("decoded as latin-1")
    assert "This file is not utf-8 encoded" in reason
    # DuckDB's dump of the reader's options is left out
    assert "Set By User" not in reason
    (email,) = con.execute("select email from raw.shop__orders where order_id = 'o1'").fetchone()
    assert email == "café@x.com"

    # gzip bytes named .csv: read decompressed, said so
    status, reason, read, loaded, _ = files["shop/orders/really_gzip.csv"]
    assert (status, read, loaded) == ("loaded", 3, 3)
    assert "gzip-compressed" in reason

    # a whole .csv.gz is supported
    assert files["shop/orders/whole.csv.gz"][0] == "loaded"
    assert files["shop/orders/whole.csv.gz"][2:4] == (4, 4)

    # truncated gzip: unreadable, with the lines that could be counted before the break
    status, reason, read, loaded, rejected = files["shop/orders/truncated.csv.gz"]
    assert status == "rejected"
    assert reason.startswith(f"{UNREADABLE}: could not read the file as csv (gzip)")
    assert "truncated" in reason
    assert "complete line(s) could be decompressed before the error" in reason
    assert (read, loaded, rejected) == (0, 0, 0)

    # truncated parquet: unreadable, DuckDB's message kept
    status, reason, *_ = files["shop/orders/truncated.parquet"]
    assert status == "rejected"
    assert reason.startswith(f"{UNREADABLE}: could not read the file as parquet")
    assert "No magic bytes found at end of file 'shop/orders/truncated.parquet'" in reason

    # read = loaded + rejected, or the file is explicitly unreadable
    unexplained = con.execute(
        "select file_name from raw.load_reconciliation where not is_balanced or "
        "(is_unreadable and rows_read <> 0)"
    ).fetchall()
    assert unexplained == []
    unreadable = {
        name
        for (name,) in con.execute(
            "select file_name from raw.load_reconciliation where is_unreadable"
        ).fetchall()
    }
    assert unreadable == {"shop/orders/truncated.csv.gz", "shop/orders/truncated.parquet"}
    raw_count = con.execute("select count(*) from raw.shop__orders").fetchone()[0]
    assert raw_count == 2 + 3 + 4 + 2


def test_utf8_only_rejects_latin1_with_the_encoding_named(tmp_path, tombstones, monkeypatch):
    monkeypatch.setenv("CLM_CSV_ENCODING", "utf-8")
    landing = tmp_path / "landing"
    malformed_landing(landing)
    con = duckdb.connect()
    load_landing(con, landing, progress=None)
    status, reason, read, *_ = manifest(con)["shop/orders/latin1.csv"]
    assert status == "rejected"
    assert reason.startswith(UNREADABLE)
    assert "could not decode it (tried utf-8)" in reason
    assert "This file is not utf-8 encoded" in reason
    assert read == 0


def test_unknown_encoding_setting_fails_with_the_setting_named(tmp_path, tombstones, monkeypatch):
    monkeypatch.setenv("CLM_CSV_ENCODING", "utf-8,ebcdic")
    landing = tmp_path / "landing"
    write(landing, "shop/orders/good.csv", orders_csv(1, 1).encode(), 1_700_000_000)
    con = duckdb.connect()
    report = load_landing(con, landing, progress=None)
    (result,) = report.files
    assert result.status == "failed"
    assert "CLM_CSV_ENCODING" in result.reason
    assert "ebcdic" in result.reason


# --- kill -9 during a load ------------------------------------------------------------------------

BIG_FILES = 4
BIG_ROWS = 250_000


def big_landing(landing: Path) -> None:
    for number in range(BIG_FILES):
        write(
            landing,
            f"shop/orders/part{number}.csv",
            orders_csv(number * BIG_ROWS, BIG_ROWS).encode(),
            1_700_000_000 + number,
        )


def clm_load(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "load"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def raw_counts(path: Path) -> tuple[int, int, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select count(*), count(distinct order_id) from raw.shop__orders")
        total, distinct = rows.fetchone()
        files = con.execute(
            "select file_name, status, rows_loaded from raw.load_manifest order by file_name"
        ).fetchall()
        return total, distinct, files
    finally:
        con.close()


@pytest.mark.slow
def test_kill_9_during_load_then_rerun_loads_nothing_twice_and_loses_nothing(tmp_path):
    landing = tmp_path / "landing"
    big_landing(landing)
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLM_") and key != "DAGSTER_HOME"
    }
    base["CLM_LANDING_DIR"] = str(landing)
    base["CLM_TOMBSTONE_PATH"] = str(tmp_path / "tombstones.json")

    clean_env = {**base, "CLM_DUCKDB_PATH": str(tmp_path / "clean" / "clm.duckdb")}
    clean = clm_load(clean_env)
    output, _ = clean.communicate(timeout=900)
    assert clean.returncode == 0, output
    expected = raw_counts(tmp_path / "clean" / "clm.duckdb")
    assert expected[0] == BIG_FILES * BIG_ROWS

    killed_env = {**base, "CLM_DUCKDB_PATH": str(tmp_path / "killed" / "clm.duckdb")}
    killed = clm_load(killed_env)
    assert killed.stdout is not None
    # the first file is committed when its progress line appears; the second is then being
    # loaded, and the process dies in the middle of it
    seen = []
    for line in killed.stdout:
        seen.append(line)
        if line.startswith("[1/"):
            break
    assert any(line.startswith("[1/") for line in seen), "".join(seen)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL

    partial = raw_counts(tmp_path / "killed" / "clm.duckdb")
    # whole files only: a file is in raw with its manifest row or not at all
    assert partial[0] == sum(loaded for _name, _status, loaded in partial[2])
    assert partial[0] < expected[0]

    rerun = clm_load(killed_env)
    output, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, output
    assert raw_counts(tmp_path / "killed" / "clm.duckdb") == expected

    # a third run finds every file already loaded
    again = clm_load(killed_env)
    output, _ = again.communicate(timeout=900)
    assert again.returncode == 0, output
    assert f"{BIG_FILES} skipped" in output
    assert raw_counts(tmp_path / "killed" / "clm.duckdb") == expected
