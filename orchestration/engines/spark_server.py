"""One Spark for a whole pipeline run: a Spark Connect server that every Spark step uses.

Without it, each Spark step of a run starts a JVM of its own (engines/spark.py explains why
they cannot share one process): the raw mirror, each dbt invocation, CLV, each wave of checks
and the publication, seven in all, each ~11 s and ~18 CPU-seconds of start-up and a cold JIT.
``connect_server()`` starts ONE JVM for the run instead, in a child process: a local Spark
session with ``spark_conf()`` (so the same warehouse folder and metastore) and Spark Connect's
plugin, listening on 127.0.0.1 with a random token. For the duration of the block
``SPARK_REMOTE`` and ``SPARK_CONNECT_AUTHENTICATE_TOKEN`` are set in ``os.environ``, which every
step's process inherits; with them, pyspark's ``SparkSession.builder.getOrCreate()`` returns a
Spark Connect session on that server instead of starting a JVM. That is what dbt-spark's
``session`` method calls (so ``dbt build --target spark`` runs on the server unchanged) and what
``spark.spark_session()`` calls (the Python-side steps). Only the server opens the metastore,
so the one-JVM-at-a-time rule holds by construction.

Each client gets its own server-side session (temporary views stay its own); tables, the
catalog and the files are the server's, shared. ``CLM_SPARK_CONNECT=false`` turns this off
(each step starts its own JVM, as `dagster dev`'s runs always do).
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path

from orchestration import settings
from orchestration.engines.spark import _call

# pyspark's client reads both from the environment (SparkSession.builder, ChannelBuilder).
REMOTE_VARIABLE = "SPARK_REMOTE"
TOKEN_VARIABLE = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
# pyspark sets this one itself once a process opened a Spark Connect session; left behind, it
# would send a later local session (a process spawned after the run) looking for a server.
MODE_VARIABLE = "SPARK_CONNECT_MODE_ENABLED"

# Starting the JVM takes ~11 s here; a server not listening after this long has failed.
START_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 60


class SparkServerError(RuntimeError):
    """The Spark Connect server did not start."""


def server_conf() -> dict[str, str]:
    """What the server adds to ``spark_conf()``: Spark Connect's plugin, on the loopback
    interface only, on a free port (the server reports which)."""
    return {
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": "0",
    }


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a run on Spark starts one server for all its steps (``CLM_SPARK_CONNECT``)."""
    return bool(settings.value("CLM_SPARK_CONNECT", environ))


@contextmanager
def connect_server() -> Iterator[str]:
    """A Spark Connect server for the block, with ``spark_conf()`` of the settings in force;
    yields its ``sc://`` address, which ``os.environ`` carries (with the token) meanwhile.

    The server's output goes to the Spark log (``spark_child.log_output``). It stops when the
    block ends, or when this process dies (its child sees the pipe close)."""
    from orchestration.engines.spark_child import spark_log_path

    token = secrets.token_hex(32)
    child_environ = {
        k: v for k, v in os.environ.items() if k not in (REMOTE_VARIABLE, MODE_VARIABLE)
    }
    child_environ[TOKEN_VARIABLE] = token
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    # The child is run_in_spark's (environment, output to the Spark log, JVM ended on return).
    process = context.Process(
        target=_call,
        args=(_serve, (theirs,), {}, child_environ),
        name="clm-spark-connect",
        daemon=True,
    )
    process.start()
    theirs.close()
    try:
        port = _wait_for_port(ours, spark_log_path())
        # "localhost": pyspark sends the token over a plain local channel only to that name.
        address = f"sc://localhost:{port}"
        values = {REMOTE_VARIABLE: address, TOKEN_VARIABLE: token}
        with settings.environment(values, remove=(MODE_VARIABLE,)):
            yield address
    finally:
        _stop(ours, process)


def _wait_for_port(pipe: Connection, log: Path) -> int:
    if pipe.poll(START_TIMEOUT_SECONDS):
        try:
            message = pipe.recv()
        except EOFError:
            message = None
        if isinstance(message, int):
            return message
        detail = f": {message}" if isinstance(message, str) else ""
        raise SparkServerError(f"The Spark Connect server did not start{detail} (see {log}).")
    raise SparkServerError(
        f"The Spark Connect server was not listening after {START_TIMEOUT_SECONDS} s (see {log})."
    )


def _stop(pipe: Connection, process) -> None:
    """Ask the server to stop (it ends its JVM), then wait; kill it if it does not end."""
    with suppress(BrokenPipeError, OSError):
        pipe.send("stop")
    process.join(STOP_TIMEOUT_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()
    pipe.close()


def _serve(pipe: Connection) -> None:
    """The server (inside ``_call``): a local session with the plugin; its port sent to the
    parent; then wait until the parent says stop or is gone. An error goes back as text."""
    from orchestration.engines.spark import spark_session

    try:
        with spark_session(extra=server_conf()) as spark:
            # The Scala object SparkConnectService knows the port it bound (port 0: a free one).
            package = spark._jvm.org.apache.spark.sql.connect.service
            service = getattr(getattr(package, "SparkConnectService$"), "MODULE$")
            pipe.send(int(service.localPort()))
            with suppress(EOFError):  # EOF: the parent is gone
                pipe.recv()
    except Exception as error:  # noqa: BLE001 - reported to the parent as text
        with suppress(BrokenPipeError, OSError):
            pipe.send(f"{type(error).__name__}: {error}")
