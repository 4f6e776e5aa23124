"""One Spark for a whole run (engines/spark_server.py): a Spark Connect server whose tables
clients in other processes (dbt) and in this one (the Python-side steps) share; once it stops,
its JVM is gone (and with it the metastore's lock); a server that cannot start says where to
look."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="Spark is not installed: run `make spark`")

from support.spark import XS_SHUFFLE_PARTITIONS, table_rows  # noqa: E402

from orchestration.engines.spark import run_in_spark  # noqa: E402
from orchestration.engines.spark_server import SparkServerError, connect_server  # noqa: E402

pytestmark = pytest.mark.spark

# What dbt-spark's session method does: pyspark's plain builder, in a process of its own.
CLIENT = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.enableHiveSupport().getOrCreate()
spark.sql("create database if not exists probe")
spark.sql("create table probe.numbers using parquet as select id from range(7)")
print(type(spark).__module__)
"""


@pytest.fixture
def spark_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLM_SPARK_WAREHOUSE_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(tmp_path / "clm.duckdb"))
    monkeypatch.setenv("CLM_SPARK_SHUFFLE_PARTITIONS", XS_SHUFFLE_PARTITIONS)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    return tmp_path


def test_every_process_of_a_run_shares_one_spark(spark_settings: Path):
    with connect_server() as address:
        assert os.environ["SPARK_REMOTE"] == address
        client = subprocess.run(
            [sys.executable, "-c", CLIENT], capture_output=True, text=True, timeout=300
        )
        assert client.returncode == 0, client.stderr[-2000:]
        # the client process got a Spark Connect session, not a JVM of its own
        assert client.stdout.strip() == "pyspark.sql.connect.session"
        # a Python-side step runs in this process and reads what the other process wrote
        assert run_in_spark(table_rows, "probe.numbers") == 7
    assert "SPARK_REMOTE" not in os.environ
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
    # the server's JVM (the one Spark holding the metastore) is gone with the block
    assert _jvms_on(spark_settings / "spark") == []
    assert (spark_settings / "spark" / "probe.db" / "numbers").is_dir()


def _jvms_on(warehouse: Path) -> list[int]:
    """Running JVMs started for this Spark warehouse (its metastore's Derby home is on their
    command line: spark_conf's driver Java options)."""
    marker = f"-Dderby.system.home={warehouse.resolve()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        if marker in arguments:
            found.append(int(entry.name))
    return found


def test_a_server_that_cannot_start_says_where_to_look(
    spark_settings: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CLM_SPARK_DRIVER_MEMORY", "plenty")  # not a JVM heap size
    with pytest.raises(SparkServerError, match="did not start") as failure, connect_server():
        pytest.fail("the block must not run without a server")
    assert str(spark_settings / "logs" / "spark.log") in str(failure.value)
    assert "SPARK_REMOTE" not in os.environ
