"""One alert per run: every failed check of the run in one message, repeats marked, sent once.

The run's failures (dbt tests, GE rules, failed steps) arrive as ``FailedCheck`` items. A small
state file next to the alert log remembers which checks failed in the previous run and since
when, so a check that keeps failing is shown as "still failing since run X" (the alert is still
sent: a repeated bad delivery must alert again), and which runs were already alerted, so one run
never sends its alert twice (hooks and the run-failure sensor may both ask).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.alerts.config import AlertSettings, load_alert_settings
from orchestration.alerts.dispatch import DeliveryReport, send_alert
from orchestration.alerts.model import Alert, FailedCheck

log = logging.getLogger(__name__)

# Runs remembered as alerted (enough to cover the sensor's look-back).
REMEMBERED_RUNS = 200
MAX_CHECKS_IN_SUBJECT = 3


def state_path(settings: AlertSettings) -> Path:
    """The state file: beside the alert log, same name with ``.state.json``."""
    return settings.log_path.with_name(settings.log_path.stem + ".state.json")


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"failing": {}, "alerted_runs": []}
    state.setdefault("failing", {})
    state.setdefault("alerted_runs", [])
    return state


def _write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def already_alerted(run_id: str, settings: AlertSettings | None = None) -> bool:
    """True when the run's alert was sent (or the run ended clean and needed none)."""
    settings = settings or load_alert_settings()
    return run_id in _read_state(state_path(settings))["alerted_runs"]


def fingerprint(checks: list[FailedCheck]) -> str:
    """Same failed checks, same key, whatever their counts and samples."""
    text = "\n".join(sorted(check.fingerprint for check in checks))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ge_failures(duckdb_path: Path | str, run_id: str) -> list[FailedCheck]:
    """The GE rules that failed in ``run_id`` (``audit.validation_results``)."""
    path = Path(duckdb_path)
    if not path.exists():
        return []
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        log.warning("could not read the validation results: %s", error)
        return []
    try:
        exists = con.execute(
            "select count(*) from information_schema.columns where table_schema = 'audit' "
            "and table_name = 'validation_results' and column_name = 'rule'"
        ).fetchone()
        if not exists or not exists[0]:
            return []
        rows = con.execute(
            """
            select suite, coalesce(rule, expectation_type), severity, asset, unexpected_count,
                sample_values, error
            from audit.validation_results
            where run_id = ? and not success
            order by severity, suite, rule
            """,
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return [
        FailedCheck(
            kind="GE rule",
            name=f"{suite}: {rule}",
            severity=severity,
            asset=asset,
            failing_rows=count,
            sample_values=json.loads(samples) if samples else [],
            details=error,
        )
        for suite, rule, severity, asset, count, samples, error in rows
    ]


def _subject_line(run_id: str, checks: list[FailedCheck]) -> str:
    blocking = [c for c in checks if c.severity == "blocking"]
    names = [c.name for c in (blocking or checks)][:MAX_CHECKS_IN_SUBJECT]
    more = len(checks) - len(names)
    verdict = "not published" if blocking else "published with warnings"
    listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    return f"run {run_id[:8]} {verdict}: {len(checks)} failed ({listed})"


def send_run_alert(
    run_id: str,
    checks: list[FailedCheck],
    *,
    job_name: str | None = None,
    data_docs_url: str | None = None,
    settings: AlertSettings | None = None,
) -> DeliveryReport | None:
    """Send the run's one alert listing ``checks`` (nothing when there are none).

    Returns None when nothing was sent: no failures, or this run was alerted already. Records
    the run's failures as the "previous run" of the next call either way. Never raises.
    """
    try:
        settings = settings or load_alert_settings()
        path = state_path(settings)
        state = _read_state(path)
    except Exception:  # noqa: BLE001 - alerting must not fail the pipeline
        log.exception("could not read the alert state; alerting without it")
        settings = settings or load_alert_settings({})
        path, state = None, {"failing": {}, "alerted_runs": []}
    if run_id in state["alerted_runs"]:
        log.info("run %s was alerted already", run_id)
        return None
    previous: dict[str, str] = state["failing"]
    marked = [
        replace(check, failing_since=previous.get(check.fingerprint))
        if not check.failing_since
        else check
        for check in checks
    ]
    # Blocking first, then the order they were found in.
    marked.sort(key=lambda check: check.severity != "blocking")
    state["failing"] = {
        check.fingerprint: previous.get(check.fingerprint, run_id) for check in marked
    }
    state["alerted_runs"] = [*state["alerted_runs"], run_id][-REMEMBERED_RUNS:]
    if path is not None:
        # Written before sending: a crash in the middle must not make the next attempt repeat.
        with contextlib.suppress(OSError):
            _write_state(path, state)
    if not marked:
        return None
    blocking = any(check.severity == "blocking" for check in marked)
    alert = Alert(
        title=_subject_line(run_id, marked),
        severity="error" if blocking else "warning",
        suite=job_name,
        run_id=run_id,
        data_docs_url=data_docs_url,
        checks=tuple(marked),
        fingerprint=fingerprint(marked),
        created_at=datetime.now(UTC),
    )
    return send_alert(alert, settings)
