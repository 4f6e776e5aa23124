"""Fixtures for the loader tests: an in-memory DuckDB and a landing folder in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest


@pytest.fixture(autouse=True)
def own_tombstones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own (empty) tombstone file and no key or encodings from the shell."""
    path = tmp_path / "tombstones.json"
    monkeypatch.setenv("CLM_TOMBSTONE_PATH", str(path))
    for name in ("CLM_ERASURE_SALT", "CLM_CSV_ENCODING"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


_clock = [1_700_000_000]


@pytest.fixture
def drop(landing: Path) -> Callable[..., Path]:
    """Write a landing file; each one gets a later modification time than the one before."""

    def write(relative: str, content: str | bytes) -> Path:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        _clock[0] += 10
        os.utime(path, (_clock[0], _clock[0]))
        return path

    return write
