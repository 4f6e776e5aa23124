"""Running dbt outside Dagster: preparing the manifest and generating docs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import REPO_ROOT, get_settings


def dbt_executable() -> str:
    """The dbt next to the running Python (the project's venv), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def export_resolved_paths() -> None:
    """Put absolute paths into the environment, so dbt (run from the project dir), Dagster and
    GE all open the same files whatever the caller's working directory."""
    settings = get_settings()
    os.environ["CLM_LANDING_DIR"] = str(settings.landing_dir)
    os.environ["CLM_DUCKDB_PATH"] = str(settings.duckdb_path)
    os.environ["CLM_BI_DUCKDB_PATH"] = str(settings.bi_duckdb_path)
    os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)


def run_dbt(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a dbt command in the project directory and return its output."""
    export_resolved_paths()
    command = [dbt_executable(), *args, "--project-dir", str(REPO_ROOT)]
    result = subprocess.run(command, cwd=REPO_ROOT, text=True, capture_output=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"`dbt {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def prepare_manifest() -> Path:
    """`dbt parse` → target/manifest.json, which Dagster's dbt assets are defined from."""
    run_dbt("parse", "--quiet")
    return REPO_ROOT / "target" / "manifest.json"
