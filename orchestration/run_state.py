""" "Nothing new": whether a `clm run` would publish exactly what is already published.

After a run that published, ``record_published`` writes a fingerprint of everything the
published result is a function of, beside the warehouse file (``<warehouse>.last-run.json``):

- the landing folder: every file's path, size and modification time;
- every setting's value in force (``settings.registry()``: KPI vars, as-of date, thresholds…);
- the code: the contents of the dbt project (models, macros, seeds, snapshots, data tests,
  ``dbt_project.yml``, ``profiles.yml``), the orchestration package, the GE project (also when
  ``CLM_GX_PROJECT_DIR`` is elsewhere) and the lock file of installed versions;
- the files the run reads or writes besides landing: the warehouse (and its WAL), the BI file,
  its Parquet copies' ``current`` folder and the tombstone file (``clm erase`` changes the warehouse and the tombstones, a load by
  hand or a deleted BI file changes them too);
- the date, when the as-of date came from the clock (no clean order at all) rather than from
  the data or ``CLM_AS_OF_DATE``.

The next `clm run` computes the same fingerprint before it starts dbt or Dagster; when nothing
differs it stops at once and says so. Anything it cannot read counts as changed, so a doubt
means a full run. A run that did not publish leaves no fingerprint (and a starting run removes
the old one), so the run after it is a full run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from orchestration import settings as settings_registry
from orchestration.settings import REPO_ROOT, Settings

# What the published result is computed from (relative to the repository root).
CODE_PATHS = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "requirements.lock",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "data-tests",
    "orchestration",
    "expectations",
)
# Generated or cached, not code.
_SKIPPED_PARTS = {"__pycache__", "uncommitted", ".ipynb_checkpoints"}
STATE_VERSION = 1


def state_path(warehouse: Path) -> Path:
    """Where the fingerprint of the last published run lives: beside the warehouse file."""
    return warehouse.with_name(warehouse.name + ".last-run.json")


def _stat(path: Path) -> list[int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns]


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in _SKIPPED_PARTS)
        for name in sorted(names):
            if not name.endswith((".pyc", ".log")):
                yield Path(folder) / name


def code_digest(root: Path = REPO_ROOT, paths: Iterable[str] = CODE_PATHS) -> str:
    """sha256 over the path and contents of every code file the result depends on."""
    digest = hashlib.sha256()
    for relative in paths:
        for path in _files(root / relative):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _expectations_digest() -> str | None:
    """The GE project's digest when ``CLM_GX_PROJECT_DIR`` points outside the repository (inside,
    ``code_digest`` covers it)."""
    try:
        folder = Path(settings_registry.value("CLM_GX_PROJECT_DIR")).resolve()
    except Exception:  # noqa: BLE001 - an unreadable setting is caught by the run itself
        return None
    if folder.is_relative_to(REPO_ROOT) or not folder.is_dir():
        return None
    return code_digest(folder.parent, [folder.name])


def landing_listing(landing: Path) -> list[list[Any]]:
    """Every file under the landing folder: relative path, size, modification time (ns)."""
    if not landing.is_dir():
        return []
    return [
        [str(path.relative_to(landing)), *(_stat(path) or [None, None])] for path in _files(landing)
    ]


def settings_digest() -> str:
    """sha256 of every setting's text in force (secrets are hashed, never stored)."""
    values = {name: settings_registry.raw(name) for name in sorted(settings_registry.registry())}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def _tombstones() -> Path | None:
    try:
        from orchestration.ingest.tombstones import tombstone_path

        return tombstone_path()
    except Exception:  # noqa: BLE001 - an unreadable setting is caught by the run itself
        return None


def _parquet_current(bi_path: Path) -> list[Any] | None:
    """The Parquet copies' ``current`` folder (name and modification time), if any."""
    try:
        from orchestration.publish import current_parquet_folder, parquet_dir_for

        folder = current_parquet_folder(parquet_dir_for(bi_path))
    except Exception:  # noqa: BLE001 - an unreadable setting is caught by the run itself
        return None
    return [str(folder), *(_stat(folder) or [None, None])] if folder else None


def fingerprint(current: Settings) -> dict[str, Any]:
    """What the published result depends on, as plain JSON values (see the module docstring)."""
    warehouse = current.duckdb_path
    tombstones = _tombstones()
    return {
        "version": STATE_VERSION,
        "landing": landing_listing(current.landing_dir),
        "settings": settings_digest(),
        "code": [code_digest(), _expectations_digest()],
        "files": {
            "warehouse": _stat(warehouse),
            "warehouse_wal": _stat(warehouse.with_name(warehouse.name + ".wal")),
            "bi": _stat(current.bi_duckdb_path),
            "parquet": _parquet_current(current.bi_duckdb_path),
            "tombstones": _stat(tombstones) if tombstones else None,
        },
    }


@dataclass
class LastRun:
    """The fingerprint of the last published run, with when and what it was."""

    run_id: str
    finished_at: str
    as_of_date: str | None
    as_of_date_source: str | None
    fingerprint: dict[str, Any]


def read_last_run(warehouse: Path) -> LastRun | None:
    """The recorded last published run, or None (none recorded, or unreadable)."""
    try:
        data = json.loads(state_path(warehouse).read_text(encoding="utf-8"))
        return LastRun(
            run_id=str(data["run_id"]),
            finished_at=str(data["finished_at"]),
            as_of_date=data.get("as_of_date"),
            as_of_date_source=data.get("as_of_date_source"),
            fingerprint=data["fingerprint"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_last_run(warehouse: Path) -> None:
    """A run is starting: until it publishes, the recorded fingerprint no longer holds."""
    state_path(warehouse).unlink(missing_ok=True)


def _as_of(warehouse: Path) -> tuple[str | None, str | None]:
    """The warehouse's as-of date and where it came from (``int_as_of_date``), read-only."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None, None
    try:
        row = con.execute(
            "select cast(as_of_date as varchar), as_of_date_source from intermediate.int_as_of_date"
        ).fetchone()
    except duckdb.Error:
        return None, None
    finally:
        con.close()
    return (row[0], row[1]) if row else (None, None)


def record_published(current: Settings, run_id: str) -> Path:
    """After a run that published: record its fingerprint (taken now, after the run's writes)."""
    as_of_date, source = _as_of(current.duckdb_path)
    state = {
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of_date": as_of_date,
        "as_of_date_source": source,
        "fingerprint": fingerprint(current),
    }
    path = state_path(current.duckdb_path)
    path.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    return path


def changes(current: Settings, today: date | None = None) -> tuple[LastRun | None, list[str]]:
    """The last published run and what differs since (empty: nothing new, skip the run).

    With no recorded run the list says so, so the caller runs.
    """
    last = read_last_run(current.duckdb_path)
    if last is None:
        return None, ["no published run recorded"]
    now = fingerprint(current)
    before = last.fingerprint
    differs: list[str] = []
    if before.get("version") != now["version"]:
        differs.append("fingerprint format")
    if before.get("landing") != now["landing"]:
        differs.append("landing files")
    if before.get("settings") != now["settings"]:
        differs.append("settings")
    if before.get("code") != now["code"]:
        differs.append("code or dbt project")
    for name, stat in now["files"].items():
        if (before.get("files") or {}).get(name) != stat:
            differs.append(f"{name.replace('_', ' ')} file")
    for name in ("warehouse", "bi"):
        if now["files"][name] is None and f"{name} file" not in differs:
            differs.append(f"{name} file")
    today = today or datetime.now(UTC).date()
    # An as-of date from the clock (or unknown) makes a new day a new result.
    from_data = last.as_of_date_source in ("var", "latest_order")
    if not from_data and last.as_of_date != today.isoformat():
        differs.append("the date (the as-of date is today's)")
    return last, differs
