"""What `clm run` checks and tidies before the pipeline starts, so a bad setting or path fails
at once with one line naming it, and a previous run that was killed leaves nothing behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from orchestration import settings as registry
from orchestration.settings import Settings, get_settings

# Dagster's instance configuration written into a DAGSTER_HOME that has none: no telemetry (and
# so no banner), no "no dagster.yaml found" notice, and Dagster's SQLite event log keeping its
# connections open (orchestration/dagster_event_log.py).
DAGSTER_YAML = """\
telemetry:
  enabled: false
event_log_storage:
  module: orchestration.dagster_event_log
  class: KeptConnectionSqliteEventLogStorage
"""
# What earlier versions wrote: replaced by the above (a file anyone edited is left alone).
EARLIER_DAGSTER_YAMLS = ("telemetry:\n  enabled: false\n",)

# Tag set on every run `clm run` starts: the warehouse it writes, to find its killed runs.
WAREHOUSE_TAG = "clm/warehouse"


class PreflightError(RuntimeError):
    """A setting or path that stops the run before it starts; the message names it."""


def check_settings() -> Settings:
    """Every setting valid (else ``PreflightError`` naming each bad variable); the paths."""
    try:
        registry.check()
    except registry.InvalidSettings as error:
        found = error.errors
        word = "setting" if len(found) == 1 else "settings"
        raise PreflightError(f"invalid {word}: " + "; ".join(map(str, found))) from None
    return get_settings()


def _ensure_folder(name: str, folder: Path) -> None:
    """Create ``folder`` (a path setting's parent) or fail naming the setting."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, FileExistsError | NotADirectoryError):
            reason = "a file is in the way of the folder"
        raise PreflightError(
            f"{name}: cannot create the folder {folder} ({reason}); "
            f"set {name} to a path in a writable folder"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PreflightError(f"{name}: the folder {folder} is not writable")


def check_paths(current: Settings) -> None:
    """The warehouse's and the BI file's folders exist (created if needed) and are writable."""
    _ensure_folder("CLM_DUCKDB_PATH", current.duckdb_path.parent)
    _ensure_folder("CLM_BI_DUCKDB_PATH", current.bi_duckdb_path.parent)
    alert_log = registry.value("CLM_ALERT_LOG_PATH")
    _ensure_folder("CLM_ALERT_LOG_PATH", alert_log.parent)
    for name, path in (
        ("CLM_DUCKDB_PATH", current.duckdb_path),
        ("CLM_BI_DUCKDB_PATH", current.bi_duckdb_path),
    ):
        if path.is_dir():
            raise PreflightError(f"{name}: {path} is a folder, not a DuckDB file")


def check_warehouse_free(warehouse: Path) -> None:
    """No other process holds the warehouse file open (DuckDB allows one writer, and `dbt build`
    fails at once otherwise): open it read-write for a moment, through the one helper that
    gives a new working file its mode (CLM_BI_FILE_MODE)."""
    import duckdb

    from orchestration.warehouse import connect

    try:
        with connect(warehouse):
            pass
    except duckdb.IOException as error:
        text = str(error)
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f"process {holder.group(1)}" if holder else "another process"
        if "lock" in text.lower():
            raise PreflightError(
                f"CLM_DUCKDB_PATH: the warehouse {warehouse} is open in {who} (a notebook, a BI "
                "tool or a duckdb shell?); close it and run again"
            ) from None
        raise PreflightError(f"CLM_DUCKDB_PATH: cannot open {warehouse}: {text}") from None
    except duckdb.Error as error:
        raise PreflightError(f"CLM_DUCKDB_PATH: cannot open {warehouse}: {error}") from None


def _has_files(folder: Path) -> bool:
    return any(path.is_file() for path in folder.rglob("*"))


def check_landing(current: Settings) -> None:
    """A landing folder the user configured must exist (it is never created or filled)."""
    landing = current.landing_dir
    if current.landing_is_default:
        return
    if not landing.exists():
        raise PreflightError(
            f"CLM_LANDING_DIR: the landing folder {landing} does not exist "
            "(create it, or fix the path)"
        )
    if not landing.is_dir():
        raise PreflightError(f"CLM_LANDING_DIR: {landing} is not a folder")
    if not os.access(landing, os.R_OK | os.X_OK):
        raise PreflightError(f"CLM_LANDING_DIR: the landing folder {landing} is not readable")


def prepare_landing(
    current: Settings,
    scale: str | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] = print,
) -> bool:
    """Fill the DEFAULT demo folder (``landing/``) with sample data when it has no file.

    A folder the user configured is never filled: missing is an error (``check_landing``),
    empty is a run that loads nothing new. Returns whether sample data was generated.
    """
    landing = current.landing_dir
    if not current.landing_is_default:
        check_landing(current)
        return False
    if landing.is_dir() and _has_files(landing):
        return False
    # Dev tooling, imported only when the demo folder needs it.
    from tools.generator import generate

    scale = scale or current.sample_scale
    seed = current.sample_seed if seed is None else seed
    progress(f"» {landing} is empty: generating the demo sample data ({scale}, seed {seed})")
    generate(landing, scale=scale, seed=seed, dirty=False, progress=lambda _line: None)
    return True


def prepare_dagster_home() -> Path | None:
    """Write our ``dagster.yaml`` into ``DAGSTER_HOME`` when it has none (or the one an earlier
    version wrote)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    folder = Path(home)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "dagster.yaml"
        if not config.exists() or config.read_text(encoding="utf-8") in EARLIER_DAGSTER_YAMLS:
            config.write_text(DAGSTER_YAML, encoding="utf-8")
    except OSError as error:
        raise PreflightError(
            f"DAGSTER_HOME: cannot use {folder} ({error.strerror or error})"
        ) from None
    return folder


def mark_killed_runs(instance, warehouse: Path) -> list[str]:
    """Runs of this warehouse still marked as running while we hold its run lock were killed:
    mark them failed in Dagster's run storage. Returns their ids."""
    from dagster import DagsterRunStatus, RunsFilter

    runs = instance.get_runs(
        filters=RunsFilter(
            statuses=[
                DagsterRunStatus.STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.CANCELING,
            ],
            tags={WAREHOUSE_TAG: str(warehouse)},
        )
    )
    marked = []
    for run in runs:
        instance.report_run_failed(
            run, message="marked failed by the next `clm run`: its process had died (killed)"
        )
        marked.append(run.run_id)
    return marked


# Run logs kept per warehouse (the oldest are removed).
KEPT_RUN_LOGS = 30


def new_run_log(warehouse: Path) -> Path:
    """A fresh log file for this run in ``<warehouse folder>/logs/``; old ones beyond
    ``KEPT_RUN_LOGS`` are removed."""
    folder = warehouse.parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("run-*.log"))[: -KEPT_RUN_LOGS + 1]:
        old.unlink(missing_ok=True)
    return folder / f"run-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}.log"
