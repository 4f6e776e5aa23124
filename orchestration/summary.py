"""The summary `clm run` prints: what was loaded, built, checked, predicted and published."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.alerts.config import load_alert_settings
from orchestration.pipeline import PipelineOutcome
from orchestration.quality.project import data_docs_index
from orchestration.settings import get_settings

# The latest month's headline KPIs (KPIS.md names) printed at the end of the summary.
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
    files_skipped_or_rejected: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_quarantined: int | None = None
    published: bool = False
    headline_month: str | None = None
    headline: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data_docs: Path | None = None
    alert_log: Path | None = None

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


def build_summary(outcome: PipelineOutcome, elapsed_seconds: float) -> RunSummary:
    """Read the warehouse (read-only, after the run released it) for the summary's numbers."""
    settings = get_settings()
    summary = RunSummary(outcome, elapsed_seconds, settings.duckdb_path, settings.bi_duckdb_path)
    summary.published = any(key.startswith("bi/") for key in outcome.materialized)
    summary.data_docs = data_docs_index()
    summary.alert_log = load_alert_settings().log_path
    if not settings.duckdb_path.exists():
        summary.notes.append("the warehouse file was not created")
        return summary
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        loads = (
            con.execute(
                """
            select
                count(*) filter (where status = 'loaded'),
                count(*) filter (where status <> 'loaded'),
                coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_rejected), 0)
            from raw.load_manifest
            where started_at >= ?
            """,
                [outcome.started_at],
            ).fetchone()
            if _scalar(con, "select count(*) from raw.load_manifest") is not None
            else None
        )
        if loads:
            (
                summary.files_loaded,
                summary.files_skipped_or_rejected,
                summary.rows_loaded,
                summary.rows_rejected,
            ) = (int(value) for value in loads)
        summary.rows_quarantined = _scalar(
            con, "select count(*) from intermediate.int_quarantined_rows_unioned"
        )
        try:
            cursor = con.execute(
                "select * from marts.kpi_monthly where orders > 0 order by month desc limit 1"
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
    return summary


def _format_value(value: object) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_summary(summary: RunSummary) -> str:
    """Plain text, a line per fact, for the terminal."""
    outcome = summary.outcome
    checks_failed = [c for c in outcome.checks if not c.passed]
    lines = [
        "",
        "══ clm run summary " + "═" * 50,
        f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'} "
        f"in {summary.elapsed_seconds:,.0f} s",
        f"files loaded: {summary.files_loaded} (skipped or rejected: "
        f"{summary.files_skipped_or_rejected})",
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
    for check in checks_failed[:15]:
        lines.append(f"  ✗ [{check.severity}] {check.asset} — {check.name}")
    for error in outcome.errors[:5]:
        step, _, text = error.partition(": ")
        innermost = text.split(" ← caused by: ")[-1].strip().splitlines() or ["?"]
        lines.append(f"  ! {step}: {innermost[0][:300]}")
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
    for note in summary.notes:
        lines.append(f"note: {note}")
    if summary.headline:
        lines.append(f"latest month {summary.headline_month}:")
        for name, value in summary.headline.items():
            lines.append(f"  {name:<24} {_format_value(value)}")
    lines.append("═" * 69)
    return "\n".join(lines)
