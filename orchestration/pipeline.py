"""Running the pipeline job in process (what `clm run` and the end-to-end test do)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dagster import DagsterEventType, DagsterInstance


@dataclass
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    blocking: bool = False


@dataclass
class PipelineOutcome:
    """What one run did, read from its Dagster events."""

    run_id: str
    success: bool
    started_at: datetime
    materialized: list[str] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _instance() -> DagsterInstance:
    # With DAGSTER_HOME (the Makefile sets it) the run is stored and shows in `dagster dev`.
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def _error_text(error) -> str:
    """The error and its causes, innermost last: Dagster wraps the real error in step errors."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return " ← caused by: ".join(parts) or "unknown error"


def run_pipeline(instance: DagsterInstance | None = None) -> PipelineOutcome:
    """Execute the `clm_pipeline` job in this process and collect what happened."""
    from orchestration.definitions import defs
    from orchestration.defs.jobs import PIPELINE_JOB_NAME

    started_at = datetime.now(UTC).replace(tzinfo=None)
    job = defs.resolve_job_def(PIPELINE_JOB_NAME)
    result = job.execute_in_process(
        # INFO, not DEBUG: progress (files, dbt nodes, checks) without every engine event.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        instance=instance or _instance(),
        raise_on_error=False,
    )
    outcome = PipelineOutcome(run_id=result.run_id, success=result.success, started_at=started_at)
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            outcome.materialized.append(event.asset_key.to_user_string())
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            outcome.checks.append(
                CheckOutcome(
                    asset=data.asset_key.to_user_string(),
                    name=data.check_name,
                    passed=data.passed,
                    severity=data.severity.value,
                    blocking=bool(getattr(data, "blocking", False)),
                )
            )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            outcome.failed_steps.append(event.step_key or "?")
            outcome.errors.append(
                f"{event.step_key}: {_error_text(event.event_specific_data.error)}"
            )
        elif event.event_type == DagsterEventType.STEP_SKIPPED:
            outcome.skipped_steps.append(event.step_key or "?")
    return outcome
