"""Alerts on failed runs that could not alert themselves.

Every run sends its own alert from the job's hooks (``hooks.py``), daemon or not. This sensor,
which runs only under the Dagster daemon, covers what hooks cannot see: a run whose process died
or that failed before its first step. A run that alerted already is skipped, so a failure is
never alerted twice.
"""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from orchestration.alerts.model import FailedCheck
from orchestration.alerts.run_alert import already_alerted, send_run_alert


@run_failure_sensor(
    name="alert_on_run_failure",
    monitor_all_code_locations=False,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts (log, webhook, email) on a failed run that did not alert itself.",
)
def alert_on_run_failure(context: RunFailureSensorContext) -> None:
    run = context.dagster_run
    if already_alerted(run.run_id):
        return
    failure = context.failure_event
    message = (failure.message if failure else None) or "the run failed"
    step_failures = context.get_step_failure_events()
    steps = ", ".join(event.step_key or "?" for event in step_failures) or "the run"
    send_run_alert(
        run.run_id,
        [
            FailedCheck(
                kind="step",
                name=steps,
                severity="blocking",
                details="\n".join(message.strip().splitlines()[:8]),
            )
        ],
        job_name=run.job_name,
    )
