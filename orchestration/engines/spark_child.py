"""What a Spark child process (``spark.run_in_spark``) needs besides its session.

**Output.** The child's JVM and pyspark write to the process's stdout/stderr (log4j lines,
warnings), below Python's ``sys.stdout``: ``log_output()`` points both file descriptors at
``<CLM_DUCKDB_PATH folder>/logs/spark.log`` (appended), so a ``clm run`` terminal keeps only its
progress lines, as on DuckDB.

**Errors.** pyspark's exceptions do not survive pickling (rebuilding one in the parent fails inside
pyspark), so an error in ``run_in_spark``'s child would surface as a broken process pool with
the real message lost. Inside ``plain_errors()`` every exception becomes a ``SparkStepError``
carrying the original type and message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SPARK_LOG = "spark.log"


class SparkStepError(RuntimeError):
    """A Python-side Spark step failed; the message names the original error."""


@contextmanager
def plain_errors() -> Iterator[None]:
    """Re-raise any exception of the block as a picklable ``SparkStepError``."""
    try:
        yield
    except SparkStepError:
        raise
    except Exception as error:  # noqa: BLE001 - re-raised with its text, picklable
        raise SparkStepError(f"{type(error).__name__}: {error}") from None


def spark_log_path() -> Path:
    """Where the Spark children's output goes: ``logs/spark.log`` beside the working file."""
    from orchestration.settings import get_settings

    return get_settings().duckdb_path.parent / "logs" / SPARK_LOG


def log_output() -> Path:
    """Send this process's stdout and stderr (and its JVM's, started later) to the Spark log."""
    path = spark_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)
    return path
