"""Fixtures of the quality tests: a GX project and a warehouse in tmp_path, never the repo's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.quality.scaffold import scaffold_suites

from .fixtures import build_warehouse, write_manifest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    """A small dbt manifest (two staging models, one mart, their tests)."""
    return write_manifest(tmp_path / "manifest.json")


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file with the manifest's tables and known violations."""
    return build_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture()
def project(tmp_path: Path, manifest: Path) -> Path:
    """A GX project root scaffolded from the manifest (results and Data Docs stay in tmp)."""
    root = tmp_path / "expectations"
    scaffold_suites(manifest, root / "gx")
    return root
