"""The pipeline job and its daily schedule. The job selects every asset (and so every check)."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from orchestration.defs.alerts.hooks import RUN_ALERT_HOOKS
from orchestration.defs.quality.data_docs import DATA_DOCS_HOOKS

PIPELINE_JOB_NAME = "clm_pipeline"

clm_pipeline = define_asset_job(
    name=PIPELINE_JOB_NAME,
    selection=AssetSelection.all(),
    description=(
        "Landing files → raw → dbt (staging, identity, marts) → CLV → Great Expectations → "
        "publish to the BI file. What `clm run` and `make run` execute."
    ),
    # The run's one alert, after its last step, in the run's own process (no daemon needed);
    # the run's Data Docs, rendered once after its last step.
    hooks=RUN_ALERT_HOOKS | DATA_DOCS_HOOKS,
)

daily_refresh = ScheduleDefinition(
    name="daily_refresh",
    job=clm_pipeline,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Refreshes the whole warehouse every day at 06:00 UTC (turn on in the UI).",
)
