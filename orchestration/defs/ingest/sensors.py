"""Start a pipeline run when new files appear in the landing folder."""

import hashlib

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.contract import FILE_FORMATS
from orchestration.defs.jobs import clm_pipeline
from orchestration.settings import get_settings


def landing_fingerprint() -> tuple[str, int]:
    """A hash of every data file's path, size and mtime in the landing folder, and the count."""
    landing = get_settings().landing_dir
    digest = hashlib.sha256()
    count = 0
    if landing.is_dir():
        for path in sorted(p for p in landing.rglob("*") if p.is_file()):
            if path.suffix.lower() not in FILE_FORMATS:
                continue
            stat = path.stat()
            digest.update(
                f"{path.relative_to(landing)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
            )
            count += 1
    return digest.hexdigest(), count


@sensor(
    job=clm_pipeline,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Runs the pipeline when files are added to (or changed in) CLM_LANDING_DIR.",
)
def new_landing_files(context: SensorEvaluationContext):
    fingerprint, count = landing_fingerprint()
    if count == 0:
        return SkipReason(f"no data files in {get_settings().landing_dir}")
    if fingerprint == context.cursor:
        return SkipReason("no new landing files since the last run request")
    context.update_cursor(fingerprint)
    # The run key makes a repeated evaluation with the same files a no-op.
    return RunRequest(run_key=fingerprint, tags={"clm/trigger": "new_landing_files"})
