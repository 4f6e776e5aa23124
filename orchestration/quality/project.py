"""The Great Expectations file context in ``expectations/``: paths, names, opening it.

One data source (``clm_duckdb``, SQL on DuckDB through duckdb-engine) whose connection string
is ``duckdb:///${CLM_DUCKDB_PATH}``: GE substitutes the variable when it connects, so nothing
machine-specific is committed. One table asset, suite, validation definition and checkpoint per
suite of ``rules.SUITES``, all named after the suite (``suites.py`` writes them).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import value as setting_value

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

DATASOURCE_NAME = "clm_duckdb"
BATCH_DEFINITION_NAME = "whole_table"
DATA_DOCS_SITE = "local_site"
CONNECTION_STRING = "duckdb:///${CLM_DUCKDB_PATH}"
# Stable ids: every id the project writes is a uuid5 of what it names, so regenerating a file
# gives the same bytes (recreated objects with new ids make noisy diffs).
ID_NAMESPACE = uuid.UUID("6c1f0d2e-6a43-4c5e-9d55-2f1f0c6f5a10")


def stable_id(*parts: str) -> str:
    """A deterministic UUID for the object named by ``parts``."""
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts)))


def project_dir() -> Path:
    """The GX project root (holds ``gx/``): ``CLM_GX_PROJECT_DIR``, default ``expectations``."""
    return setting_value("CLM_GX_PROJECT_DIR")


def gx_dir(project: Path | None = None) -> Path:
    """The ``gx/`` folder of the file context."""
    return (project or project_dir()) / "gx"


def suites_dir(gx: Path) -> Path:
    """Where suite JSON files live."""
    return gx / "expectations"


def data_docs_index(project: Path | None = None) -> Path:
    """The Data Docs index page (exists after the first validation)."""
    return gx_dir(project) / "uncommitted" / "data_docs" / DATA_DOCS_SITE / "index.html"


def suite_names(project: Path | None = None) -> list[str]:
    """Every suite of the project, sorted (one JSON file each)."""
    return sorted(p.stem for p in suites_dir(gx_dir(project)).glob("*.json"))


def open_context(duckdb_path: Path | str, project: Path | None = None) -> AbstractDataContext:
    """Open the file context with ``CLM_DUCKDB_PATH`` resolved to ``duckdb_path``.

    The path goes in as a runtime variable, not into the YAML, so the committed config stays
    free of machine paths and tests can point the same project at their own file.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx.get_context(
        mode="file",
        project_root_dir=str(project or project_dir()),
        runtime_environment={"CLM_DUCKDB_PATH": str(Path(duckdb_path).resolve())},
    )
