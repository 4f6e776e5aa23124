"""The summary `clm run` prints: what was loaded, built, checked, predicted and published."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.pipeline import PipelineOutcome
from orchestration.settings import get_settings
from orchestration.settings import value as setting_value

# The latest month's headline KPIs (docs/kpis.md names) printed after a published run.
HEADLINE_KPIS = (
    "new_customers",
    "active_customers",
    "orders",
    "net_revenue",
    "aov",
    "marketing_spend",
    "cac",
    "repeat_purchase_rate",
    "cart_abandonment_rate",
    "nps",
)


@dataclass
class RunSummary:
    outcome: PipelineOutcome
    elapsed_seconds: float
    warehouse_path: Path
    bi_path: Path
    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_quarantined: int | None = None
    published: bool = False
    headline_month: str | None = None
    headline: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data_docs: Path | None = None
    alert_log: Path | None = None
    log_file: Path | None = None

    @property
    def models_built(self) -> int:
        return sum(
            1
            for key in self.outcome.materialized
            if key.split("/")[0] in ("staging", "intermediate", "marts", "seeds", "snapshots")
        )

    @property
    def blocking_failures(self) -> list[str]:
        return [
            f"{check.asset}: {check.name}"
            for check in self.outcome.checks
            if not check.passed and check.severity == "ERROR"
        ]

    @property
    def succeeded(self) -> bool:
        return self.outcome.success and not self.blocking_failures


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    try:
        row = con.execute(sql, params or []).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _file_counts(summary: RunSummary) -> bool:
    """Files and rows from the loader's materializations of this run; False if there are none."""
    loads = [
        meta for key, meta in summary.outcome.metadata.items() if key.startswith("raw/") and meta
    ]
    if not loads:
        return False
    for meta in loads:
        summary.files_loaded += int(meta.get("files_loaded") or 0)
        summary.files_skipped += int(meta.get("files_skipped") or 0)
        summary.files_rejected += int(meta.get("files_rejected") or 0)
        summary.rows_loaded += int(meta.get("rows_loaded") or 0)
        summary.rows_rejected += int(meta.get("rows_rejected") or 0)
    return True


def build_summary(outcome: PipelineOutcome, elapsed_seconds: float) -> RunSummary:
    """What the run did, from its events and the warehouse (read-only, after the run released
    it). Never raises: whatever cannot be read becomes a note."""
    settings = get_settings()
    summary = RunSummary(outcome, elapsed_seconds, settings.duckdb_path, settings.bi_duckdb_path)
    try:
        _fill(summary)
    except Exception as error:  # the summary must never hide the run's own outcome
        summary.notes.append(f"part of the summary could not be read: {error}")
    return summary


def _fill(summary: RunSummary) -> None:
    outcome = summary.outcome
    summary.published = any(key.startswith("bi/") for key in outcome.materialized)
    summary.alert_log = setting_value("CLM_ALERT_LOG_PATH")
    from orchestration.quality.project import data_docs_index

    summary.data_docs = data_docs_index()
    from_events = _file_counts(summary)
    if not summary.warehouse_path.exists():
        summary.notes.append("the warehouse file was not created")
        return
    try:
        con = duckdb.connect(str(summary.warehouse_path), read_only=True)
    except duckdb.Error as error:
        summary.notes.append(f"the warehouse could not be read: {error}")
        return
    try:
        loads = (
            con.execute(
                """
            select
                count(*) filter (where status = 'loaded'),
                count(*) filter (where status in ('empty', 'duplicate')),
                count(*) filter (where status = 'rejected'),
                coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_rejected), 0)
            from raw.load_manifest
            where started_at >= ?
            """,
                [outcome.started_at],
            ).fetchone()
            if not from_events
            and _scalar(con, "select count(*) from raw.load_manifest") is not None
            else None
        )
        if loads:
            (
                summary.files_loaded,
                summary.files_skipped,
                summary.files_rejected,
                summary.rows_loaded,
                summary.rows_rejected,
            ) = (int(value) for value in loads)
        quarantined, kpis = "intermediate.int_quarantined_rows_unioned", "marts.kpi_monthly"
        if setting_value("CLM_ENGINE") == "spark":
            # The models are Spark tables: read their Parquet files (docs/spark.md).
            from orchestration.engines.spark_publish import parquet_relation

            quarantined = parquet_relation(*quarantined.split(".")) or quarantined
            kpis = parquet_relation(*kpis.split(".")) or kpis
        summary.rows_quarantined = _scalar(con, f"select count(*) from {quarantined}")
        if not summary.succeeded:
            # The marts may be half rebuilt or from an earlier run: no KPIs under FAILED.
            return
        try:
            cursor = con.execute(
                f"select * from {kpis} where orders > 0 order by month desc limit 1"
            )
            row = cursor.fetchone()
            if row:
                columns = [column[0] for column in cursor.description]
                record = dict(zip(columns, row, strict=True))
                summary.headline_month = str(record.get("month"))
                summary.headline = {k: record[k] for k in HEADLINE_KPIS if k in record}
        except duckdb.Error:
            summary.notes.append("marts.kpi_monthly is not built yet")
    finally:
        con.close()


def _format_value(value: object) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else str(value)


# Lines of a failed step's error shown in the summary (the full text is in the run's log).
ERROR_LINES = 40


def format_summary(summary: RunSummary) -> str:
    """Plain text, a line per fact, for the terminal."""
    outcome = summary.outcome
    checks_failed = [c for c in outcome.checks if not c.passed]
    status = "succeeded" if summary.succeeded else "FAILED"
    lines = [
        "",
        "══ clm run summary " + "═" * 50,
        f"run {outcome.run_id}: {status} in {summary.elapsed_seconds:,.0f} s",
        f"files loaded: {summary.files_loaded}   skipped (already loaded, empty or duplicate): "
        f"{summary.files_skipped}   rejected: {summary.files_rejected}",
        f"rows loaded: {summary.rows_loaded:,}   rows rejected: {summary.rows_rejected:,}"
        + (
            f"   rows quarantined: {summary.rows_quarantined:,}"
            if summary.rows_quarantined is not None
            else ""
        ),
        f"models built: {summary.models_built}   assets materialized: {len(outcome.materialized)}",
        f"checks passed: {len(outcome.checks) - len(checks_failed)}   failed: {len(checks_failed)}"
        f" (blocking: {len(summary.blocking_failures)})",
    ]
    for check in checks_failed:
        lines.append(f"  ✗ [{check.severity}] {check.asset} — {check.name}")
    for error in outcome.errors:
        step, _, text = error.partition(": ")
        lines.append(f"  ! step {step} failed:")
        error_lines = [line for line in text.replace(" ← caused by: ", "\n").splitlines()]
        error_lines = [line.rstrip() for line in error_lines if line.strip()]
        for line in error_lines[:ERROR_LINES]:
            lines.append(f"      {line}")
        if len(error_lines) > ERROR_LINES:
            lines.append(f"      … {len(error_lines) - ERROR_LINES} more lines in the run's log")
    if summary.published:
        lines.append(f"published for BI: {summary.bi_path}")
    else:
        lines.append(
            f"NOT published: {summary.bi_path} was left as it was"
            + (" (blocking checks failed)" if summary.blocking_failures else "")
        )
    lines.append(f"warehouse: {summary.warehouse_path}")
    lines.append(f"data docs: {summary.data_docs}")
    lines.append(f"alert log: {summary.alert_log}")
    if summary.log_file:
        lines.append(f"run log: {summary.log_file}")
    for note in summary.notes:
        lines.append(f"note: {note}")
    if summary.headline:
        lines.append(f"latest month {summary.headline_month}:")
        for name, value in summary.headline.items():
            lines.append(f"  {name:<24} {_format_value(value)}")
    lines.append("═" * 69)
    return "\n".join(lines)
