"""A run's one Spark (engines/spark_server.py) that cannot start says where to look.

That a started server serves every process of a run, and leaves no JVM once it stops, is
checked on the Spark pipeline run itself (tests/e2e/test_spark_pipeline.py), which opens its
server the way `clm run` does: a server of its own here would cost a JVM start-up and its
warm-up again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")

from support.spark import XS_SPARK_SETTINGS  # noqa: E402

from orchestration.engines.spark_server import SparkServerError, connect_server  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture
def spark_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLM_SPARK_WAREHOUSE_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(tmp_path / "clm.duckdb"))
    for name, value in XS_SPARK_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    return tmp_path


def test_a_server_that_cannot_start_says_where_to_look(
    spark_settings: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CLM_SPARK_DRIVER_MEMORY", "plenty")  # not a JVM heap size
    with pytest.raises(SparkServerError, match="did not start") as failure, connect_server():
        pytest.fail("the block must not run without a server")
    assert str(spark_settings / "logs" / "spark.log") in str(failure.value)
    assert "SPARK_REMOTE" not in os.environ
