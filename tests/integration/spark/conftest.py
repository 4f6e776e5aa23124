"""One xs build on Spark, shared by the Spark tests of a session (Spark starts slowly).

The sample's landing files are loaded by the one loader into a working DuckDB file, mirrored to
Spark's raw tables (a Python-side Spark step in a child process), then the whole dbt project is
built with the dbt CLI on the spark target: every seed, model, snapshot, data test and unit
test. That the CLI build runs right after the mirror is the proof that a Python-side Spark step
leaves no JVM holding the metastore (orchestration/engines/spark.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")

from support.spark import (  # noqa: E402
    dbt_spark_cli,
    environment,
    run_results,
    spark_env,
)

from orchestration.engines.spark_raw import mirror_raw_to_spark  # noqa: E402
from orchestration.ingest.loader import load_landing  # noqa: E402


@dataclass(frozen=True)
class SparkBuild:
    """A Spark warehouse built from the xs sample, and what its build reported."""

    root: Path
    env: dict[str, str]
    mirrored: dict[str, int]
    returncode: int
    output: str
    results: dict[str, dict[str, Any]]

    @property
    def warehouse(self) -> Path:
        return self.root / "spark"

    @property
    def duckdb_path(self) -> Path:
        return self.root / "clm.duckdb"


@pytest.fixture(scope="session")
def spark_xs(tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    from tools.generator import generate

    root = tmp_path_factory.mktemp("spark_xs")
    env = spark_env(root)
    generate(root / "landing", scale="xs", seed=42, dirty=False, progress=lambda _line: None)
    with duckdb.connect(str(root / "clm.duckdb")) as con:
        load_landing(con, root / "landing", progress=None).raise_for_failures()
    with environment(env):
        mirrored = mirror_raw_to_spark(root / "clm.duckdb")
    built = dbt_spark_cli(env, "build")
    results = (
        run_results(root / "target") if (root / "target" / "run_results.json").exists() else {}
    )
    return SparkBuild(
        root=root,
        env=env,
        mirrored=mirrored,
        returncode=built.returncode,
        output=built.stdout[-6000:] + built.stderr[-2000:],
        results=results,
    )
