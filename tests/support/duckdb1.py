"""A DuckDB 1.x client in its own virtual environment, to read what BI drivers read.

The environment is created once per machine under a cache folder (``CLM_TEST_CACHE``, default
``~/.cache/clm-tests``) from PyPI, with a file lock so parallel test workers share it. Scripts
run in it as subprocesses: this process keeps DuckDB 2.0.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

# The oldest DuckDB release the BI file promises to open (issue: "DuckDB 1.1 and later").
DUCKDB1_VERSION = "1.1.3"
# pytz: DuckDB 1.x's Python client needs it to return TIMESTAMPTZ values.
PACKAGES = (f"duckdb=={DUCKDB1_VERSION}", "pytz==2026.6")


def cache_dir() -> Path:
    return Path(os.environ.get("CLM_TEST_CACHE") or Path.home() / ".cache" / "clm-tests")


def duckdb1_python() -> Path:
    """The interpreter of a venv holding DuckDB ``DUCKDB1_VERSION``; created when missing."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"duckdb-{DUCKDB1_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    with open(root / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *PACKAGES,
                ],
                check=True,
                timeout=600,
            )
            ready.touch()
    return python
