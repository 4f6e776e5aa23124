"""Fixtures of the quality tests: a GX project and a warehouse in tmp_path, never the repo's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.quality.suites import write_suites

from .fixtures import build_operations_warehouse

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file with the tables the operations and reconciliation suites read."""
    return build_operations_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A GX project root written from the rules (results and Data Docs stay in tmp)."""
    root = tmp_path / "expectations"
    write_suites(root / "gx")
    return root
