"""One clean xs pipeline run per test session, shared by the end-to-end tests on every worker.

The run takes a minute or two, so it happens once (``once_per_session``); the tests that use it
only read its warehouse, BI file and landing folder, and tests that change data work on copies.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance
from support.pipeline import (
    FOREIGN_SETTINGS,
    CleanRun,
    environment,
    landing_listing,
    once_per_session,
    sample_landing,
    warehouse_env,
)
from support.spark import (
    SESSION_CLIENT,
    XS_SPARK_SETTINGS,
    drop_databases,
    in_one_jvm,
    jvms_on,
    table_rows,
)

# The table the Spark run's probe reads from two processes (the run's dbt process wrote it).
PROBE_TABLE = "marts.fct_orders"


def _clean_run(root: Path) -> CleanRun:
    """The pipeline on the xs sample (generated here first: the runtime never generates), in
    process."""
    from orchestration.pipeline import run_pipeline

    env = warehouse_env(root)
    sample_landing(root / "landing")
    landing_before = landing_listing(root / "landing")
    with environment(env, remove=FOREIGN_SETTINGS):
        outcome = run_pipeline(DagsterInstance.ephemeral())
    return CleanRun(root, env, outcome, landing_before)


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> CleanRun:
    return once_per_session(tmp_path_factory, "e2e", _clean_run)


def _spark_run(root: Path) -> CleanRun:
    """The same pipeline with ``CLM_ENGINE=spark`` on the clean run's landing files (generated
    again from the same seed, so the Spark run need not wait for the clean one): raw mirrored
    to Spark, the whole dbt project built on Spark, CLV from and to Spark tables, GE on Spark,
    published as Parquet and to a BI file of its own. ``probe`` records what the run's one Spark
    (engines/spark_server.py) gave other processes, and what was left once it stopped; and, in
    ``probe["history"]``, the Spark side of test_spark_history.py, built on the same Spark first
    (that module says why)."""
    from e2e.test_spark_history import spark_history_steps

    from orchestration.engines.spark import run_in_spark
    from orchestration.engines.spark_server import connect_server
    from orchestration.pipeline import run_pipeline

    env = {
        **warehouse_env(root),
        "CLM_ENGINE": "spark",
        "CLM_SPARK_WAREHOUSE_DIR": str(root / "spark"),
        **XS_SPARK_SETTINGS,
        # The identity rules and KPI worked examples on Spark, in the run's own dbt builds. Only
        # these: the unit tests are Spark's heaviest queries, and every unit test runs on
        # DuckDB in the same suite (integration/dbt/test_dbt_unit_tests.py).
        "CLM_RUN_UNIT_TESTS": "tag:worked_example",
        # dbt's built-in generic tests (not_null, unique, accepted_values, relationships) stay
        # on DuckDB: their verdicts follow from a model's rows, which the parity test compares
        # model by model, and on Spark they were half of the build (a query each).
        "CLM_RUN_BUILTIN_TESTS": "false",
    }
    sample_landing(root / "landing")
    landing_before = landing_listing(root / "landing")
    with environment(env, remove=FOREIGN_SETTINGS):
        # The run's one Spark opened here, around the run, as `clm run` opens it (the run's
        # own block then adds nothing): so the probe can ask it, from another process and from
        # this one, for a table the run's dbt process wrote, before it stops.
        with connect_server() as address:
            probe: dict[str, Any] = {"remote": os.environ.get("SPARK_REMOTE") == address}
            probe["history"] = in_one_jvm(
                functools.partial(spark_history_steps, root / "history", root / "spark")
            )
            # What the history built (raw, staging, snapshots, seeds) goes: the run builds from
            # an empty Spark warehouse, as a first run does.
            in_one_jvm(drop_databases)
            outcome = run_pipeline(DagsterInstance.ephemeral())
            client = subprocess.run(
                [sys.executable, "-c", SESSION_CLIENT, PROBE_TABLE],
                capture_output=True,
                text=True,
                timeout=300,
            )
            probe["client"] = (client.returncode, client.stdout.split(), client.stderr[-2000:])
            probe["here"] = run_in_spark(table_rows, PROBE_TABLE)
        probe["variables_after"] = sorted(
            name for name in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED") if name in os.environ
        )
        probe["jvms_after"] = jvms_on(root / "spark")
    return CleanRun(root, env, outcome, landing_before, probe)


@pytest.fixture(scope="session")
def spark_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> CleanRun:
    """One Spark pipeline run per session (marker ``spark``; needs `make spark`). The tests
    compare it with ``clean_run``, and first check that both read the same landing files."""
    pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")
    return once_per_session(tmp_path_factory, "e2e_spark", _spark_run)
