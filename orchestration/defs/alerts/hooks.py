"""The run's one alert, sent by the job's hooks after its last step, in the run's own process.

Hooks run wherever the run runs (``clm run`` / ``make run`` in process, the UI's run worker, a
schedule's or sensor's run), with or without the Dagster daemon; a run-failure sensor would need
the daemon. A hook fires after every step; the one that finds no step left that can still run
(every other step started, or skipped, or waiting on a failed or skipped step) collects the
run's failures and sends the one alert. The same hook makes a clean, published run the drift
baseline of later runs (``audit.baseline_runs``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from dagster import DagsterEventType, HookContext, failure_hook, success_hook

from orchestration.settings import get_settings

log = logging.getLogger(__name__)

# An error's first lines say what failed; the rest is a traceback.
ERROR_LINES = 8
# Step errors that only repeat failed checks the alert already lists.
CHECK_FAILURE_ERRORS = {"DagsterAssetCheckFailedError"}
PUBLISH_ASSET = "bi/marts"


def _blocked(step: str, deps: Mapping[str, set[str]], blocked: set[str]) -> bool:
    """True when ``step`` waits, directly or not, on a failed or skipped step."""
    stack, seen = list(deps.get(step, ())), set()
    while stack:
        current = stack.pop()
        if current in blocked:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(deps.get(current, ()))
    return False


def is_last_step(context: HookContext) -> bool:
    """No step of the run other than this one can still run."""
    plan = context._step_execution_context.execution_plan  # noqa: SLF001 - no public way
    deps = plan.get_executable_step_deps()
    records = context.instance.all_logs(
        context.run_id,
        of_type={
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.STEP_SKIPPED,
        },
    )
    started = {r.step_key for r in records if r.dagster_event_type == DagsterEventType.STEP_START}
    failed = {r.step_key for r in records if r.dagster_event_type == DagsterEventType.STEP_FAILURE}
    skipped = {r.step_key for r in records if r.dagster_event_type == DagsterEventType.STEP_SKIPPED}
    blocked = failed | skipped
    pending = set(deps) - started - skipped - {context.step_key}
    return all(_blocked(step, deps, blocked) for step in pending)


def _first_lines(text: str) -> str:
    return "\n".join(text.strip().splitlines()[:ERROR_LINES])


def _error_text(error) -> str:
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return " <- caused by: ".join(parts) or "unknown error"


def run_failures(context: HookContext) -> tuple[list, bool]:
    """The run's failed dbt tests, GE rules and steps; and whether it published."""
    from orchestration.alerts.model import FailedCheck
    from orchestration.alerts.run_alert import ge_failures

    records = context.instance.all_logs(
        context.run_id,
        of_type={
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.ASSET_MATERIALIZATION,
        },
    )
    checks: list[FailedCheck] = []
    published = False
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            published = published or event.asset_key.to_user_string() == PUBLISH_ASSET
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            if data.passed or data.check_name.startswith("ge_"):
                continue  # GE suites are listed rule by rule from the audit table below
            count = data.metadata.get("dagster_dbt/failed_row_count")
            checks.append(
                FailedCheck(
                    kind="dbt test",
                    name=data.check_name,
                    severity="blocking" if data.severity.value == "ERROR" else "warning",
                    asset=data.asset_key.to_user_string(),
                    failing_rows=getattr(count, "value", None),
                )
            )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            if error is not None and error.cls_name in CHECK_FAILURE_ERRORS:
                continue
            checks.append(
                FailedCheck(
                    kind="step",
                    name=event.step_key or "?",
                    severity="blocking",
                    details=_first_lines(_error_text(error)),
                )
            )
    checks.extend(ge_failures(get_settings().duckdb_path, context.run_id))
    return checks, published


def _accept_baseline(run_id: str) -> None:
    import duckdb

    from orchestration.quality.results import accept_baseline

    con = duckdb.connect(str(get_settings().duckdb_path))
    try:
        accept_baseline(con, run_id, datetime.now(UTC).replace(tzinfo=None))
    finally:
        con.close()


def finish_run(context: HookContext) -> None:
    """After the last step: the run's one alert, and the drift baseline when it was clean."""
    from orchestration.alerts.run_alert import send_run_alert
    from orchestration.quality.project import data_docs_index

    try:
        if not is_last_step(context):
            return
        checks, published = run_failures(context)
        if published and not checks:
            _accept_baseline(context.run_id)
        docs = data_docs_index()
        send_run_alert(
            context.run_id,
            checks,
            job_name=context.job_name,
            data_docs_url=str(docs) if docs.exists() else None,
        )
    except Exception:  # noqa: BLE001 - the run's outcome must not depend on its alert
        log.exception("run %s: the run alert could not be prepared", context.run_id)


@success_hook(name="run_alert_after_success")
def run_alert_after_success(context: HookContext) -> None:
    finish_run(context)


@failure_hook(name="run_alert_after_failure")
def run_alert_after_failure(context: HookContext) -> None:
    finish_run(context)


RUN_ALERT_HOOKS = {run_alert_after_success, run_alert_after_failure}
