"""Running the pipeline job in process (what `clm run` and the end-to-end test do)."""

from __future__ import annotations

import io
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dagster import DagsterEventType, DagsterInstance, LoggerDefinition, logger

from orchestration.dbt_cli import ANSI_ESCAPE


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
    # Metadata of each materialization (asset key -> plain values), e.g. the loader's counts.
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def instance_for_run() -> DagsterInstance:
    """The instance runs are stored in: ``DAGSTER_HOME`` when set (the Makefile sets it, so
    `make run` runs show in `dagster dev`), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


# Step events shown as progress lines on the terminal; everything else goes to the run's log.
_PROGRESS_EVENTS = {
    DagsterEventType.STEP_START.value: "▸",
    DagsterEventType.STEP_SUCCESS.value: "✓",
    DagsterEventType.STEP_FAILURE.value: "✗",
    DagsterEventType.STEP_SKIPPED.value: "–",
}


class _ProgressHandler(logging.Handler):
    """One line per step start/end, through ``progress``."""

    def __init__(self, progress: Callable[[str], None], terminal: TextIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress
        self.terminal = terminal  # stdout before the run's output went to its log file
        self.started: dict[str, float] = {}

    def show(self, line: str) -> None:
        with redirect_stdout(self.terminal):
            self.progress(line)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or event.event_type_value not in _PROGRESS_EVENTS:
            return
        step = event.step_key or "?"
        mark = _PROGRESS_EVENTS[event.event_type_value]
        if event.event_type_value == DagsterEventType.STEP_START.value:
            self.started[step] = time.monotonic()
            self.show(f"  {mark} {step}")
            return
        elapsed = time.monotonic() - self.started.get(step, time.monotonic())
        word = {"✓": "done", "✗": "FAILED", "–": "skipped"}[mark]
        self.show(f"  {mark} {step} {word}" + (f" ({elapsed:,.0f} s)" if mark != "–" else ""))


class _PlainFormatter(logging.Formatter):
    """Timestamped lines without colour codes, for the run's log file."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        text = meta.get("orig_message") or record.getMessage()
        step = meta.get("step_key") or ""
        stamp = self.formatTime(record, "%Y-%m-%d %H:%M:%S")
        line = f"{stamp} {record.levelname:<7} {step + ' ' if step else ''}{text}"
        return ANSI_ESCAPE.sub("", line)


def _run_loggers(
    progress: Callable[[str], None] | None, log_file: Path | None
) -> dict[str, LoggerDefinition]:
    """The loggers of a `clm run`: progress lines on the terminal, the full log in a file."""
    terminal = sys.stdout

    @logger(description="Progress per step on the terminal, full log in the run's log file.")
    def clm_logger(_init_context) -> logging.Logger:
        run_logger = logging.Logger("clm_run", level=logging.DEBUG)
        if progress is not None:
            run_logger.addHandler(_ProgressHandler(progress, terminal))
        if log_file is not None:
            handler = logging.FileHandler(log_file, encoding="utf-8")
            handler.setLevel(logging.INFO)
            handler.setFormatter(_PlainFormatter())
            run_logger.addHandler(handler)
        return run_logger

    return {"clm": clm_logger}


def _error_text(error) -> str:
    """The error and its causes, innermost last: Dagster wraps the real error in step errors."""
    parts = []
    while error is not None:
        parts.append(ANSI_ESCAPE.sub("", error.message).strip())
        error = error.cause
    return " ← caused by: ".join(parts) or "unknown error"


@contextmanager
def _quiet_python_warnings() -> Iterator[None]:
    """Library warnings (Dagster's beta/preview notices, GE's deprecations) are for us, not for
    the person running the pipeline: kept out of the terminal during the run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class _PlainFile(io.TextIOBase):
    """A text stream appending to a file with colour codes removed."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")

    def write(self, text: str) -> int:
        self._file.write(ANSI_ESCAPE.sub("", text))
        return len(text)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@contextmanager
def _output_to(log_file: Path | None) -> Iterator[None]:
    """What libraries print during the run (dbt's ~1,000 node lines, warnings) goes to the
    run's log file instead of the terminal; progress lines still reach the terminal
    (``_ProgressHandler`` writes to the stream captured before)."""
    if log_file is None:
        yield
        return
    stream = _PlainFile(log_file)
    try:
        with redirect_stdout(stream), redirect_stderr(stream):
            yield
    finally:
        stream.close()


@contextmanager
def one_spark_for_the_run(progress: Callable[[str], None] | None = None) -> Iterator[None]:
    """On Spark (and ``CLM_SPARK_CONNECT``), one Spark Connect server that every step of the run
    uses (engines/spark_server.py): one JVM start-up per run instead of one per step. Inside an
    outer block (``clm run`` opens one before parsing the manifest, so the parse gets the same
    ``--vars`` as the builds) it adds nothing."""
    from orchestration.settings import value

    if value("CLM_ENGINE") != "spark":
        yield
        return
    from orchestration.engines import spark, spark_server

    if not spark_server.enabled() or spark.remote():
        yield
        return
    with spark_server.connect_server() as address:
        if progress is not None:
            from orchestration.engines.spark_child import spark_log_path

            progress(
                f"» one Spark for this run: {address} (Spark Connect; log: {spark_log_path()})"
            )
        yield


def run_pipeline(
    instance: DagsterInstance | None = None,
    tags: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> PipelineOutcome:
    """Execute the `clm_pipeline` job in this process and collect what happened.

    The terminal gets one line per step (through ``progress``, if given); the full log goes to
    ``log_file`` (if given) and, as always, to the instance's event log.
    """
    from orchestration.definitions import defs
    from orchestration.defs.jobs import PIPELINE_JOB_NAME

    started_at = datetime.now(UTC).replace(tzinfo=None)
    job = defs.resolve_job_def(PIPELINE_JOB_NAME).with_logger_defs(_run_loggers(progress, log_file))
    with (
        one_spark_for_the_run(progress),
        _quiet_python_warnings(),
        _output_to(log_file),
    ):
        result = job.execute_in_process(
            run_config={"loggers": {"clm": {}}},
            instance=instance or instance_for_run(),
            raise_on_error=False,
            tags=dict(tags or {}),
        )
    outcome = PipelineOutcome(run_id=result.run_id, success=result.success, started_at=started_at)
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            key = event.asset_key.to_user_string()
            outcome.materialized.append(key)
            materialization = event.event_specific_data.materialization
            outcome.metadata[key] = {
                name: getattr(entry, "value", entry)
                for name, entry in (materialization.metadata or {}).items()
            }
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
