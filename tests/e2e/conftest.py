"""One clean xs pipeline run per test session, shared by the end-to-end tests on every worker.

The run takes a minute or two, so it happens once (``once_per_session``); the tests that use it
only read its warehouse, BI file and landing folder, and tests that change data work on copies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterInstance
from support.pipeline import (
    FOREIGN_SETTINGS,
    CleanRun,
    environment,
    landing_listing,
    once_per_session,
    warehouse_env,
)


def _clean_run(root: Path) -> CleanRun:
    """The pipeline on the xs sample (generated here first: the runtime never generates), in
    process."""
    from orchestration.pipeline import run_pipeline
    from tools.generator import generate

    env = warehouse_env(root)
    generate(root / "landing", scale="xs", seed=7, dirty=False, progress=lambda _line: None)
    landing_before = landing_listing(root / "landing")
    with environment(env, remove=FOREIGN_SETTINGS):
        outcome = run_pipeline(DagsterInstance.ephemeral())
    return CleanRun(root, env, outcome, landing_before)


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> CleanRun:
    return once_per_session(tmp_path_factory, "e2e", _clean_run)
