"""Errors of a Spark child process that reach the parent intact.

pyspark's exceptions do not survive pickling (rebuilding one in the parent fails inside
pyspark), so an error in ``run_in_spark``'s child would surface as a broken process pool with
the real message lost. Inside ``plain_errors()`` every exception becomes a ``SparkStepError``
carrying the original type and message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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
