"""Alerts on failed runs. Failed expectations alert from their checks (defs/quality), because a
failed asset check does not fail a Dagster run (dagster issue 29896) and so never reaches a
run-failure sensor."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from orchestration.alerts.dispatch import send_alert
from orchestration.alerts.model import Alert


@run_failure_sensor(
    name="alert_on_run_failure",
    monitor_all_code_locations=False,
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends an alert (log, webhook, email) for every failed run of this project.",
)
def alert_on_run_failure(context: RunFailureSensorContext) -> None:
    failure = context.failure_event
    message = failure.message if failure else "the run failed"
    step_failures = context.get_step_failure_events()
    steps = ", ".join(event.step_key or "?" for event in step_failures) or "unknown step"
    send_alert(
        Alert(
            title=f"Pipeline run failed: {context.dagster_run.job_name} ({steps})",
            severity="error",
            asset=steps,
            run_id=context.dagster_run.run_id,
            details=(message or "")[:2000],
        )
    )
