"""Faults during publication, with real processes and files: a reader holding the BI file, a
read-only or missing BI folder, a full disk, and ``kill -9`` in the middle of a publication.

Each asserts what the user is left with: the message, the exit code, the previous publication
(BI file, Parquet copy, report) byte for byte, and no temporary files once the next publication
has run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import PublishOptions, current_parquet_folder, publish_marts
from orchestration.report import write_report
from orchestration.settings import REPO_ROOT

PUBLISHER = Path(__file__).with_name("publisher_process.py")


def _make_work_db(path: Path, version: int, orders: int = 20_000) -> None:
    """Marts the report can draw (kpi_monthly) plus a fact table of ``orders`` rows."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.kpi_monthly as select "
            "(date '2025-01-01' + to_months(range::int))::date as month, "
            f"10 + range + {version} as new_customers, 50 + range as active_customers, "
            "1000.0 + 10 * range as net_revenue, 40.0 + range as aov from range(12)"
        )
        # md5 text does not compress: the file grows with the row count.
        con.execute(
            "create or replace table marts.fct_orders as select range as order_id, "
            f"{version} as version, md5(range::varchar || '{version}') as token, "
            f"md5(range::varchar) as other from range({orders})"
        )
    finally:
        con.close()


def _options(bi: Path) -> PublishOptions:
    return PublishOptions(
        parquet_dir=bi.parent / "parquet",
        report_path=bi.parent / "lifecycle-report.html",
        report_writer=write_report,
        reporting_currency="USD",
    )


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def _temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp-" in p.name)


def _publisher(work: Path, bi: Path, run_id: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PUBLISHER), str(work), str(bi), run_id, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A working file and a first publication of it; returns (work, bi, publication folder)."""
    work, folder = tmp_path / "clm.duckdb", tmp_path / "bi"
    bi = folder / "bi.duckdb"
    _make_work_db(work, 1)
    assert publish_marts(work, bi, validation_passed=True, run_id="v1", options=_options(bi))
    _make_work_db(work, 2)
    return work, bi, folder


def test_a_reader_holding_the_bi_file_across_a_publication_reads_old_data(published) -> None:
    work, bi, folder = published
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "q = 'select max(version), count(*) from marts.fct_orders'\n"
            "print(con.execute(q).fetchone(), flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.execute(q).fetchone(), flush=True)\n",
            str(bi),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    old_parquet = current_parquet_folder(folder / "parquet")
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "(1, 20000)"
        publisher = _publisher(work, bi, "v2")
        out, err = publisher.communicate(timeout=300)
        assert publisher.returncode == 0, err
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    assert out.strip() == "(1, 20000)"  # the open connection keeps the old publication
    con = duckdb.connect(str(bi), read_only=True)
    try:
        assert con.execute("select max(version) from marts.fct_orders").fetchone() == (2,)
        # A Parquet reader that resolved `current` before the swap can still read its folder.
        assert current_parquet_folder(folder / "parquet") != old_parquet
        path = old_parquet / "marts" / "fct_orders.parquet"
        assert con.execute(f"select max(version) from read_parquet('{path}')").fetchone() == (1,)
    finally:
        con.close()
    assert _temporaries(folder) == []


def test_a_read_only_bi_folder_gives_a_clear_message_and_keeps_the_publication(
    published,
) -> None:
    work, bi, folder = published
    before = _snapshot(folder)
    mounted = False
    if os.geteuid() == 0:
        # Root writes through file modes; a read-only bind mount is what a read-only disk is.
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        mounted = True
        remount = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True, text=True
        )
        if remount.returncode != 0:
            subprocess.run(["umount", str(folder)], check=True)
            pytest.skip(f"cannot make a read-only mount here: {remount.stderr.strip()}")
    else:
        folder.chmod(0o555)
    try:
        publisher = _publisher(work, bi, "v2")
        _out, err = publisher.communicate(timeout=300)
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        else:
            folder.chmod(0o755)
    assert publisher.returncode == 1
    assert f"error: the folder {folder} (CLM_BI_DUCKDB_PATH) is not writable" in err
    assert "previous publication was left unchanged" in err
    assert "Traceback" not in err
    assert _snapshot(folder) == before


def test_a_bi_folder_that_cannot_be_created_gives_a_clear_message(tmp_path: Path) -> None:
    work = tmp_path / "clm.duckdb"
    _make_work_db(work, 1, orders=100)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the BI folder should be")
    publisher = _publisher(work, blocker / "bi" / "bi.duckdb", "v1")
    _out, err = publisher.communicate(timeout=300)
    assert publisher.returncode == 1
    assert f"error: cannot create the folder {blocker / 'bi'} (CLM_BI_DUCKDB_PATH)" in err
    assert "Not a directory" in err
    assert "Traceback" not in err


def test_a_missing_bi_folder_is_created_again(published) -> None:
    work, bi, folder = published
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    folder.rmdir()
    publisher = _publisher(work, bi, "v2")
    _out, err = publisher.communicate(timeout=300)
    assert publisher.returncode == 0, err
    assert bi.is_file() and (folder / "lifecycle-report.html").is_file()
    assert current_parquet_folder(folder / "parquet") is not None


def test_a_full_disk_during_publication_keeps_the_previous_one(published) -> None:
    work, bi, folder = published
    _make_work_db(work, 2, orders=300_000)  # far more than the limit below
    before = _snapshot(folder)
    publisher = _publisher(work, bi, "v2", "--fsize", str(4 * 1024 * 1024))
    _out, err = publisher.communicate(timeout=300)
    assert publisher.returncode == 1
    assert err.startswith("error: "), err
    assert "File too large" in err or "No space left" in err, err
    assert "previous publication" in err or "copying" in err, err
    assert "Traceback" not in err
    assert _snapshot(folder) == before
    assert _temporaries(folder) == []


def test_kill_9_during_publication_keeps_the_previous_one_and_the_next_cleans_up(
    published,
) -> None:
    work, bi, folder = published
    _make_work_db(work, 2, orders=300_000)  # a publication long enough to be caught midway
    before = _snapshot(folder)
    publisher = _publisher(work, bi, "v2")
    deadline = time.monotonic() + 120
    try:
        while not _temporaries(folder):
            assert publisher.poll() is None, "the publication finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        publisher.send_signal(signal.SIGKILL)
        publisher.wait(timeout=30)
    finally:
        if publisher.poll() is None:
            publisher.kill()
    assert publisher.returncode == -signal.SIGKILL
    leftovers = _temporaries(folder)
    assert leftovers, "kill -9 leaves its temporaries behind"
    # The previous publication is intact: same BI file, Parquet link and report, byte for byte.
    assert {k: v for k, v in _snapshot(folder).items() if ".tmp-" not in k} == before

    # The next publication removes what the dead one left and publishes.
    again = _publisher(work, bi, "v3")
    _out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert _temporaries(folder) == []
    con = duckdb.connect(str(bi), read_only=True)
    try:
        assert con.execute("select max(version) from marts.fct_orders").fetchone() == (2,)
    finally:
        con.close()
