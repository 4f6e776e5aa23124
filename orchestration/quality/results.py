"""Validation results: the Python shape (``SuiteResult``) and the audit tables in DuckDB.

``audit.validation_results`` gets one row per expectation per run, appended, so publishing,
alerts and the run summary read quality from SQL. ``audit.run_metrics`` keeps the metrics of
every validation run; ``audit.baseline_runs`` lists the runs that published with every check
passing, and only their metrics are the baseline the drift expectations compare with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import duckdb

Severity = Literal["blocking", "warning"]
SEVERITIES: tuple[Severity, ...] = ("blocking", "warning")
MAX_SAMPLE_VALUES = 10

AUDIT_DDL = """
create schema if not exists audit;
create table if not exists audit.validation_results (
    run_id varchar not null,
    validated_at timestamp not null,
    suite varchar not null,
    asset varchar,
    expectation_id varchar,
    expectation_type varchar not null,
    "column" varchar,
    severity varchar not null,
    success boolean not null,
    unexpected_count bigint,
    observed_value varchar,
    sample_values json,
    error varchar,
    data_docs_path varchar
);
alter table audit.validation_results add column if not exists rule varchar;
create table if not exists audit.run_metrics (
    run_id varchar not null,
    recorded_at timestamp not null,
    suite varchar not null,
    metric varchar not null,
    value double
);
create table if not exists audit.baseline_runs (
    run_id varchar not null,
    accepted_at timestamp not null
);
"""

VALIDATION_COLUMNS = (
    "run_id",
    "validated_at",
    "suite",
    "asset",
    "expectation_id",
    "expectation_type",
    '"column"',
    "severity",
    "success",
    "unexpected_count",
    "observed_value",
    "sample_values",
    "error",
    "data_docs_path",
    "rule",
)


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation, reduced to what the pipeline acts on."""

    expectation_id: str | None
    expectation_type: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int | None = None
    observed_value: Any = None
    sample_values: list[Any] = field(default_factory=list)
    description: str | None = None
    # Set when GE raised or returned no result: the outcome is then a failure, never a pass.
    error: str | None = None
    # The rule's key (``meta.key``, e.g. ``units:unit_price_jump``).
    rule: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    """The result of validating one suite against its table."""

    run_id: str
    suite: str
    asset: str
    validated_at: datetime
    outcomes: list[ExpectationOutcome]
    data_docs_path: str | None = None
    # Set when the validation could not run at all (missing table, broken config).
    error: str | None = None

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        """Failed expectations whose severity is ``blocking``."""
        return [o for o in self.outcomes if not o.success and o.severity == "blocking"]

    @property
    def warning_failures(self) -> list[ExpectationOutcome]:
        """Failed expectations whose severity is ``warning``."""
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def blocking_passed(self) -> bool:
        """True when the suite ran and no blocking expectation failed (warnings allowed)."""
        return self.error is None and not self.blocking_failures

    @property
    def success(self) -> bool:
        """True when every expectation passed."""
        return self.error is None and all(o.success for o in self.outcomes)

    def summary(self) -> str:
        """One line for logs and the run summary."""
        state = (
            "ok" if self.success else ("blocking FAILED" if not self.blocking_passed else "warn")
        )
        return (
            f"{self.suite}: {state} ({len(self.outcomes)} expectations, "
            f"{len(self.blocking_failures)} blocking and {len(self.warning_failures)} warning "
            f"failures{'; ' + self.error if self.error else ''})"
        )


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``audit`` and its tables if missing (the drift queries read run_metrics)."""
    con.execute(AUDIT_DDL)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, sort_keys=True)


def write_suite_result(con: duckdb.DuckDBPyConnection, result: SuiteResult) -> int:
    """Append one row per expectation (one error row if the suite could not run)."""
    ensure_audit_tables(con)
    rows = [
        (
            result.run_id,
            result.validated_at,
            result.suite,
            result.asset,
            outcome.expectation_id,
            outcome.expectation_type,
            outcome.column,
            outcome.severity,
            outcome.success,
            outcome.unexpected_count,
            _json_text(outcome.observed_value),
            _json_text(outcome.sample_values[:MAX_SAMPLE_VALUES]),
            outcome.error,
            result.data_docs_path,
            outcome.rule,
        )
        for outcome in result.outcomes
    ]
    if result.error is not None:
        # A suite that could not run is a blocking failure in the audit trail too, so publishing
        # (which reads this table) never mistakes "no rows" for "all passed".
        rows.append(
            (
                result.run_id,
                result.validated_at,
                result.suite,
                result.asset,
                None,
                "suite_could_not_run",
                None,
                "blocking",
                False,
                None,
                None,
                None,
                result.error,
                result.data_docs_path,
                None,
            )
        )
    if rows:
        con.executemany(
            f"insert into audit.validation_results ({', '.join(VALIDATION_COLUMNS)}) "
            f"values ({', '.join('?' for _ in VALIDATION_COLUMNS)})",
            rows,
        )
    return len(rows)


def record_run_metrics(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    recorded_at: datetime,
    suite: str,
    metrics: dict[str, float | None],
) -> None:
    """Append this run's metrics: the baseline of later runs once the run is accepted."""
    ensure_audit_tables(con)
    con.executemany(
        "insert into audit.run_metrics values (?, ?, ?, ?, ?)",
        [(run_id, recorded_at, suite, name, value) for name, value in sorted(metrics.items())],
    )


def accept_baseline(con: duckdb.DuckDBPyConnection, run_id: str, accepted_at: datetime) -> None:
    """Make ``run_id``'s metrics the drift baseline (call only for a clean, published run)."""
    ensure_audit_tables(con)
    exists = con.execute(
        "select count(*) from audit.baseline_runs where run_id = ?", [run_id]
    ).fetchone()
    if not exists or not exists[0]:
        con.execute("insert into audit.baseline_runs values (?, ?)", [run_id, accepted_at])
