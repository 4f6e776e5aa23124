"""dbt for the tests that build models themselves (not through the pipeline): one warm dbt per
pytest worker.

A `dbt` CLI process spends ~15 core-seconds before its first node: importing dbt, building its
JSON schemas, and parsing the whole project again (each test's warehouse path is in the
profile, which dbt's partial parsing keys on). The tests that call dbt directly send their
commands instead to one child process per pytest worker that keeps dbt imported and hands it
the project's manifest, parsed once: dbt's documented programmatic API,
``dbtRunner(manifest=...)``. The selection, the SQL and the results are dbt's own; only the parse
is shared. That is sound because, within a test session, nothing a parse reads changes: the
project's files are fixed, and the vars and the warehouse path are read when a node compiles, at
every call (no config, source or ``enabled`` of the project reads a var or an environment
variable). One thing a parse does fix is the DuckDB database name, the file's stem: a manifest
is kept per stem.

The pipeline's own dbt builds run as users run them: in the run's process on DuckDB
(orchestration/dbt_in_process.py, which parses once per run and settings), as `dbt` processes
on Spark and in `clm erase`.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.dbt_in_process import release_duckdb
from orchestration.settings import REPO_ROOT

# A dbt call that takes longer than this has hung: the child is stopped and the test fails.
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class DbtResult:
    """What a test reads of a dbt call, as of a `dbt` CLI process: its exit code (0 success, 1
    a node failed, 2 dbt could not run) and its log as printed."""

    returncode: int
    stdout: str
    stderr: str = ""


def dbt(*args: str, env: dict[str, str]) -> DbtResult:
    """``dbt <args> --project-dir <repo>`` with ``env`` as the environment, on this worker's
    warm dbt (started on first use). ``env`` must name the warehouse (``CLM_DUCKDB_PATH``)."""
    return _worker().call([*args, "--project-dir", str(REPO_ROOT)], dict(env))


class _Worker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def call(self, args: list[str], env: dict[str, str]) -> DbtResult:
        self.connection.send((args, env))
        if not self.connection.poll(TIMEOUT_SECONDS):
            self.stop()
            raise TimeoutError(f"dbt {' '.join(args)} did not finish in {TIMEOUT_SECONDS} s")
        return self.connection.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.connection.send(None)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()


_WORKER: _Worker | None = None


def _worker() -> _Worker:
    global _WORKER
    if _WORKER is None or not _WORKER.process.is_alive():
        _WORKER = _Worker()
        atexit.register(_WORKER.stop)
    return _WORKER


def _serve(connection: Any) -> None:
    """The child: runs each (args, env) it receives, until it receives None."""
    from dbt.cli.main import dbtRunner

    manifests: dict[str, Any] = {}
    while (request := connection.recv()) is not None:
        args, env = request
        os.environ.clear()
        os.environ.update(env)
        os.chdir(REPO_ROOT)
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                database = Path(env["CLM_DUCKDB_PATH"]).stem
                if database not in manifests:
                    parsed = dbtRunner().invoke(["parse", "--project-dir", str(REPO_ROOT)])
                    if not parsed.success:
                        raise RuntimeError(f"dbt parse failed: {parsed.exception}")
                    manifests[database] = parsed.result
                result = dbtRunner(manifest=manifests[database]).invoke(args)
            code = 0 if result.success else (1 if result.exception is None else 2)
            if result.exception is not None:
                output.write(f"\n{type(result.exception).__name__}: {result.exception}\n")
        except Exception as exc:  # reported to the test, which fails with it
            code = 2
            output.write(f"\n{type(exc).__name__}: {exc}\n")
        finally:
            # The test opens the warehouse once the call returns.
            release_duckdb()
        connection.send(DbtResult(code, output.getvalue()))
