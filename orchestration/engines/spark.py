"""Spark's configuration, in one place, and the Spark session of the Python-side steps.

Every Spark setting the project makes comes from ``spark_conf()``: the Python-side steps
(``spark_session()``) and dbt (profile target ``spark``, method ``session``, whose
``server_side_parameters`` are the ``clm_spark_conf`` var that ``dbt_vars()`` gives) open
the same warehouse folder and the same metastore, so they see the same tables.

The tables keep Spark's default layout under ``CLM_SPARK_WAREHOUSE_DIR``:
``<dir>/<schema>.db/<table>/`` holding Parquet files, which any engine can read. The catalog
is Hive's, with an embedded Derby metastore in ``<dir>/metastore_db``.

**One JVM at a time (decision).** Embedded Derby lets one JVM open the metastore; a second
fails ("Another instance of Derby may have already booted the database"). dbt runs as its
own process (the dbt CLI; the session method starts a JVM inside it), and pyspark cannot
free its JVM and Derby once started (``SparkSession.stop()`` keeps the JVM and the booted
database until the Python process exits). So a Python-side Spark step never runs in a
process that lives on while dbt runs: it runs in a short-lived child process,
``run_in_spark(function, *args)``, whose JVM ends with it; ``spark_session()`` is what that
child opens. Steps therefore follow one another (load, dbt, CLV, checks, publish), never
overlap, on one warehouse folder. A test proves it by running dbt right after a step.

**One Spark per run (the default).** ``clm run`` starts one Spark Connect server for the whole
run (engines/spark_server.py), the only JVM holding the metastore; while it is up
(``remote()``), ``spark_session()`` and dbt's session method open sessions on it and
``run_in_spark`` runs its function in the calling process.

pyspark is imported only inside these functions: the DuckDB path never loads it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from orchestration import settings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession

T = TypeVar("T")


def warehouse_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The absolute Spark warehouse folder (``CLM_SPARK_WAREHOUSE_DIR``)."""
    return Path(settings.value("CLM_SPARK_WAREHOUSE_DIR", environ)).resolve()


def table_dir(schema: str, table: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where a managed table's Parquet files sit: ``<dir>/<schema>.db/<table>/``."""
    return warehouse_dir(environ) / f"{schema}.db" / table


def spark_conf(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every Spark configuration the project sets, from the settings in force."""
    directory = warehouse_dir(environ)
    metastore = f"jdbc:derby:;databaseName={directory / 'metastore_db'};create=true"
    return {
        "spark.master": str(settings.value("CLM_SPARK_MASTER", environ)),
        "spark.app.name": "customer-lifecycle-warehouse",
        "spark.driver.memory": str(settings.value("CLM_SPARK_DRIVER_MEMORY", environ)),
        "spark.sql.warehouse.dir": str(directory),
        "spark.sql.catalogImplementation": "hive",
        # The metastore (Hive reads it from the Hadoop configuration: the spark.hadoop. prefix).
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
        # Derby writes derby.log into its home: keep it beside the metastore, not in the cwd;
        # then the JVM options of CLM_SPARK_JAVA_OPTIONS.
        "spark.driver.extraJavaOptions": " ".join(
            [f"-Dderby.system.home={directory}"]
            + str(settings.value("CLM_SPARK_JAVA_OPTIONS", environ) or "").split()
        ),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Few shuffle partitions (CLM_SPARK_SHUFFLE_PARTITIONS): the warehouse's tables are
        # small next to Spark's default of 200, and each partition is a task and a Parquet file.
        "spark.sql.shuffle.partitions": str(
            settings.value("CLM_SPARK_SHUFFLE_PARTITIONS", environ)
        ),
        # Adaptive execution off: with it, a `union all` of literal rows (dbt's unit-test
        # fixtures) fails in local mode with "ClassCastException: cannot assign instance of
        # scala.collection.generic.DefaultSerializationProxy to field UnionExec.children".
        "spark.sql.adaptive.enabled": "false",
        # Parquet timestamps as INT64 microseconds (not Spark's legacy INT96), which every
        # Parquet reader (DuckDB's read_parquet, pandas) understands.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # insert_overwrite replaces only the partitions a run writes.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # ANSI on (Spark 4's default): a bad cast or an overflow fails, as on DuckDB, instead
        # of turning into NULL.
        "spark.sql.ansi.enabled": "true",
        "spark.log.level": "WARN",
        # One driver in local mode: no dynamic executors, no Hive statistics scans.
        "spark.sql.statistics.size.autoUpdate.enabled": "false",
        # Spark 4.3's CollapseProject merges the projections around customer_key_for's
        # aggregated scalar subqueries so that a subquery's outer reference no longer has a
        # column under it; over literal rows (dbt's unit-test fixtures) the plan then fails
        # with "key not found: identifier_value#…". Without this rule the same SQL runs and
        # returns the same rows; the projections it would merge are cheap at our sizes.
        "spark.sql.optimizer.excludedRules": (
            "org.apache.spark.sql.catalyst.optimizer.CollapseProject"
        ),
        # Code generation (CLM_SPARK_CODEGEN): on tiny data, compiling each query's plan to
        # bytecode (Janino, then the JIT) costs more than interpreting it. factoryMode is the
        # switch of the expression generators (projections, predicates, orderings): Spark's
        # interpreted fallback, the same results (the Spark parity test runs with it off).
        **(
            {}
            if settings.value("CLM_SPARK_CODEGEN", environ)
            else {
                "spark.sql.codegen.wholeStage": "false",
                "spark.sql.codegen.factoryMode": "NO_CODEGEN",
            }
        ),
    }


# Of spark_conf(), what a session on a running Spark may set: its own SQL settings. The rest
# (master, memory, warehouse, catalog, metastore) is fixed when Spark starts.
RUNTIME_SETTINGS = frozenset(
    {
        "spark.sql.session.timeZone",
        "spark.sql.shuffle.partitions",
        "spark.sql.adaptive.enabled",
        "spark.sql.parquet.outputTimestampType",
        "spark.sql.sources.partitionOverwriteMode",
        "spark.sql.ansi.enabled",
        "spark.sql.statistics.size.autoUpdate.enabled",
        "spark.sql.optimizer.excludedRules",
        "spark.sql.codegen.wholeStage",
        "spark.sql.codegen.factoryMode",
    }
)


def remote(environ: Mapping[str, str] | None = None) -> bool:
    """Whether sessions open on a run's Spark Connect server (``SPARK_REMOTE`` is set)."""
    return bool((os.environ if environ is None else environ).get("SPARK_REMOTE"))


def client_conf(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a Spark session is opened with: ``spark_conf()``; while a run's Spark Connect
    server is up (``remote()``, engines/spark_server.py), only the settings a session may
    change (``RUNTIME_SETTINGS``: the server started with all of ``spark_conf()``)."""
    conf = spark_conf(environ)
    if not remote(environ):
        return conf
    return {key: value for key, value in conf.items() if key in RUNTIME_SETTINGS}


def dbt_vars(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The var dbt's ``spark`` target reads (profiles.yml): ``{"clm_spark_conf": {...}}``."""
    return {"clm_spark_conf": client_conf(environ)}


@contextmanager
def spark_session(
    environ: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> Iterator[SparkSession]:
    """A Spark session with ``spark_conf()`` (and ``extra``); stopped on exit.

    Local, unless a run's Spark Connect server is up (``SPARK_REMOTE`` set, engines/
    spark_server.py): then a session on that server, whose static settings are the same.
    Open a local one only in a process that ends before dbt runs (``run_in_spark``): the JVM
    and the metastore stay held until the process exits (module docstring)."""
    from pyspark.sql import SparkSession

    conf = {**client_conf(environ), **(extra or {})}
    warehouse_dir(environ).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder
    if not remote(environ):
        builder = builder.enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        yield session
    finally:
        session.stop()


def run_in_spark(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in a fresh child process with its own JVM, which has
    exited when this returns; the result or the exception comes back. ``function`` must be
    importable (module level) and its arguments and result picklable.

    While a run's Spark Connect server is up (``remote()``), sessions hold no JVM: the
    function runs here, in this process."""
    if remote():
        return function(*args, **kwargs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_call, function, args, kwargs, dict(os.environ)).result()


def _call(function: Callable[..., T], args: tuple, kwargs: dict, environ: dict[str, str]) -> T:
    os.environ.clear()
    os.environ.update(environ)
    from orchestration.engines.spark_child import log_output

    log_output()  # the JVM's and pyspark's output to logs/spark.log, not the terminal
    try:
        return function(*args, **kwargs)
    finally:
        _end_jvm()


def _end_jvm() -> None:
    """End this process's JVM and wait for it, so its metastore lock is gone on return."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        # The gateway JVM exits when its stdin closes (the Python side is gone).
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None
