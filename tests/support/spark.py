"""Spark test helpers: a Spark warehouse under a test folder, dbt on the ``spark`` target.

``in_one_jvm`` runs steps that write raw tables and call dbt's Python entry point (``invoke``:
``dbtRunner``, real dbt builds) several times on ONE Spark: a child process with its own JVM
(dbt-spark's session method reuses the process's Spark session), or, while a run's Spark
Connect server is up, that server. So a test with many dbt steps pays Spark's start-up once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.settings import REPO_ROOT

# The xdist group of the tests that read the Spark pipeline run (one worker runs them all, after
# the run): the parity tests and the history tests, whose Spark side runs on the run's Spark.
SPARK_GROUP = "spark"

# Spark for the tests' tiny data in short-lived JVMs (docs/spark.md, "Small data"; measured in
# benchmarks/README.md): one shuffle partition (a task per stage instead of four), plans
# interpreted instead of compiled to bytecode, and a JVM that spends less on its own upkeep: a
# serial garbage collector, and only the quick C1 compiler (over half of an xs run's JVM CPU was
# C2 compiling Spark's own code; C1 code runs slower, but a short JVM never earns C2 back). C1
# alone compiles more methods, so the code cache gets tiered compilation's size (at C1-only's
# default of 48 MB it filled and Spark's executor died). None changes a result (the parity test runs
# with them).
XS_SPARK_SETTINGS = {
    "CLM_SPARK_SHUFFLE_PARTITIONS": "1",
    "CLM_SPARK_CODEGEN": "false",
    "CLM_SPARK_JAVA_OPTIONS": (
        "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
    ),
}


def spark_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a Spark warehouse (and its working DuckDB file) under ``root``."""
    env = {
        **os.environ,
        "CLM_SPARK_WAREHOUSE_DIR": str(root / "spark"),
        "CLM_DUCKDB_PATH": str(root / "clm.duckdb"),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        **XS_SPARK_SETTINGS,
        **extra,
    }
    env.pop("CLM_AS_OF_DATE", None)
    return env


@contextmanager
def environment(env: Mapping[str, str]):
    """``os.environ`` replaced by ``env`` for the block (``run_in_spark`` copies os.environ)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def spark_vars(env: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> str:
    """``--vars`` for the spark target: the Spark conf of ``env``'s settings, plus ``extra``."""
    from orchestration.engines.spark import dbt_vars

    return json.dumps({**dbt_vars(env), **(extra or {})})


def invoke(*args: str, extra_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """In the Spark child: ``dbt <args> --target spark`` through dbtRunner (this JVM)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            *args,
            "--target",
            "spark",
            "--vars",
            spark_vars(os.environ, extra_vars),
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
        ]
    )
    statuses = {}
    if result.result is not None and hasattr(result.result, "results"):
        statuses = {
            node.node.unique_id: {"status": str(node.status), "message": node.message}
            for node in result.result.results
        }
    error = None if result.exception is None else str(result.exception)
    return {"success": result.success, "nodes": statuses, "error": error}


def mirror_in_session(
    spark: Any, duckdb_path: Path, folder: Path, tables: Collection[str] | None = None
) -> dict[str, int]:
    """In the Spark child: the DuckDB file's raw layer -> Spark's raw tables (this JVM); only
    ``tables`` when given (the ones a delivery changed: the others are mirrored already)."""
    from orchestration.engines.spark_raw import export_raw, write_raw_tables

    folder.mkdir(parents=True, exist_ok=True)
    files = export_raw(duckdb_path, folder, tables)
    return write_raw_tables(spark, {name: str(path) for name, path in files.items()})


def in_one_jvm(steps: Callable[[Any], Any]) -> Any:
    """Run ``steps(spark)`` on one Spark: a child process with its own JVM, or the run's Spark
    Connect server while it is up (``run_in_spark``)."""
    from orchestration.engines.spark import run_in_spark

    return run_in_spark(_with_session, steps)


def _with_session(steps: Callable[[Any], Any]) -> Any:
    from orchestration.engines.spark import spark_session

    with spark_session() as spark:
        return steps(spark)


def utc_naive(value: Any) -> Any:
    """A value as both engines' readings agree on it: a time with a zone (Spark's Parquet
    timestamps read back by DuckDB) in UTC without one; anything else as it is."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def now() -> datetime:
    """The current time in UTC without a zone (how both engines store snapshot times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def table_rows(name: str) -> int:
    """Rows of a Spark table, read in a Spark session (for ``run_in_spark``)."""
    from orchestration.engines.spark import spark_session

    with spark_session() as spark:
        return spark.table(name).count()


def drop_databases(spark: Any) -> list[str]:
    """Drop every database but Spark's ``default``, with its tables and files; returns their
    names (for ``in_one_jvm``)."""
    names = [row[0] for row in spark.sql("show databases").collect() if row[0] != "default"]
    for name in names:
        spark.sql(f"drop database {name} cascade")
    return names


def jvms_on(warehouse: Path) -> list[int]:
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


# What dbt-spark's session method does: pyspark's plain builder, in a process of its own; it
# prints the kind of session it got and the rows of the table named by its first argument.
SESSION_CLIENT = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.enableHiveSupport().getOrCreate()
print(type(spark).__module__)
print(spark.table(sys.argv[1]).count())
"""
