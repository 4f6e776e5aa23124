"""The alert and how it reads: one plain-text message for every channel, plus Slack blocks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SEVERITIES = ("info", "warning", "error", "critical")

# Enough examples to recognise the problem; a message with hundreds of values gets skipped.
MAX_SAMPLES_SHOWN = 10
MAX_SAMPLE_CHARS = 80
# A step's error is shown by its first lines: the cause, not the whole traceback.
MAX_DETAIL_LINES = 8


@dataclass(frozen=True)
class FailedCheck:
    """One failed check of a run, as the run's alert lists it.

    Attributes:
        kind: "dbt test", "GE rule" or "step" (a step that failed with an error).
        name: the dbt test, the GE suite and rule, or the step.
        severity: "blocking" or "warning".
        asset: the table or asset checked.
        failing_rows: rows that broke the rule; None when not counted.
        sample_values: a few offending rows or values.
        details: the rule's description, or the first lines of a step's error.
        failing_since: run id of the first of the consecutive runs this check has failed in,
            when that is an earlier run ("still failing since run …").
    """

    kind: str
    name: str
    severity: str
    asset: str | None = None
    failing_rows: int | None = None
    sample_values: list[Any] = field(default_factory=list)
    details: str | None = None
    failing_since: str | None = None

    @property
    def fingerprint(self) -> str:
        """What identifies the failure across runs (not its counts or samples)."""
        return f"{self.kind}|{self.name}|{self.asset or ''}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "severity": self.severity,
            "asset": self.asset,
            "failing_rows": self.failing_rows,
            "sample_values": json.loads(json.dumps(list(self.sample_values), default=str)),
            "details": self.details,
            "failing_since": self.failing_since,
        }


@dataclass(frozen=True)
class Alert:
    """One failed (or noteworthy) check, with what is needed to act on it.

    Attributes:
        title: one line, e.g. "fct_orders: net_revenue has negative values".
        severity: one of ``SEVERITIES``.
        suite: the Great Expectations suite (or check group) that failed.
        expectation: the expectation / check, e.g. "expect_column_values_to_be_unique(email)".
        asset: the Dagster asset or dbt model checked.
        failing_rows: how many rows broke the rule; None when the check does not count rows.
        sample_values: a few of the offending values (JSON-serialisable; others are shown via str).
        data_docs_url: the Data Docs page of the validation (path or URL).
        run_url: the Dagster run's page.
        run_id: the Dagster run id (linked when ``CLM_ALERT_DAGSTER_URL`` is set and no run_url).
        details: optional free text (the observed value, the threshold …).
        created_at: when the alert was raised (UTC).
        alert_id: unique id, to match log lines, emails and webhook posts; also the delivery id
            every attempt carries, so a receiver can drop a retry it already has.
        checks: a run's failed checks, when the alert reports a whole run.
        fingerprint: stable key of the failure (same set of failed checks = same key), for
            de-duplication by the receiver.
    """

    title: str
    severity: str = "error"
    suite: str | None = None
    expectation: str | None = None
    asset: str | None = None
    failing_rows: int | None = None
    sample_values: list[Any] = field(default_factory=list)
    data_docs_url: str | None = None
    run_url: str | None = None
    run_id: str | None = None
    details: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    alert_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    checks: tuple[FailedCheck, ...] = ()
    fingerprint: str | None = None

    def where_to_look(self, dagster_url: str | None = None) -> list[str]:
        """Data Docs page and Dagster run, as "label: location" lines."""
        places = []
        if self.data_docs_url:
            places.append(f"Data Docs: {self.data_docs_url}")
        run_url = self.run_url
        if not run_url and self.run_id and dagster_url:
            run_url = f"{dagster_url.rstrip('/')}/runs/{self.run_id}"
        if run_url:
            places.append(f"Dagster run: {run_url}")
        elif self.run_id:
            places.append(f"Dagster run id: {self.run_id}")
        return places

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes ISO 8601, samples made JSON-safe)."""
        return {
            "alert_id": self.alert_id,
            "created_at": self.created_at.isoformat(),
            "severity": self.severity,
            "title": self.title,
            "suite": self.suite,
            "expectation": self.expectation,
            "asset": self.asset,
            "failing_rows": self.failing_rows,
            "sample_values": json.loads(json.dumps(list(self.sample_values), default=str)),
            "data_docs_url": self.data_docs_url,
            "run_url": self.run_url,
            "run_id": self.run_id,
            "details": self.details,
            "fingerprint": self.fingerprint,
            "checks": [check.to_dict() for check in self.checks],
        }


def subject(alert: Alert) -> str:
    """A short one-line subject: severity, suite, title."""
    where = f" [{alert.suite}]" if alert.suite else ""
    return f"[CLM {alert.severity.upper()}]{where} {alert.title}"


def format_samples(values: list[Any]) -> str:
    """The first ``MAX_SAMPLES_SHOWN`` values, each cut to ``MAX_SAMPLE_CHARS``."""
    if not values:
        return "(none recorded)"
    shown = [_short(value) for value in values[:MAX_SAMPLES_SHOWN]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")


def _render_check(check: FailedCheck) -> list[str]:
    failing = "not counted" if check.failing_rows is None else str(check.failing_rows)
    since = f", still failing since run {check.failing_since}" if check.failing_since else ""
    lines = [
        f"- [{check.severity}] {check.kind} {check.name}"
        + (f" on {check.asset}" if check.asset else "")
        + f": failing rows {failing}{since}"
    ]
    if check.sample_values:
        lines.append(f"    examples: {format_samples(check.sample_values)}")
    if check.details:
        lines.extend(f"    {line}" for line in check.details.splitlines()[:MAX_DETAIL_LINES])
    return lines


def _render_run(alert: Alert, dagster_url: str | None) -> str:
    blocking = sum(check.severity == "blocking" for check in alert.checks)
    lines = [
        subject(alert),
        "",
        f"{len(alert.checks)} failed ({blocking} blocking, {len(alert.checks) - blocking} warning):",
    ]
    for check in alert.checks:
        lines.extend(_render_check(check))
    if alert.details:
        lines.append(f"Details: {alert.details}")
    places = alert.where_to_look(dagster_url)
    lines.append("Where to look:")
    lines.extend(f"  - {place}" for place in places or ["(no Data Docs page or run recorded)"])
    lines.append(
        f"Raised at {alert.created_at.isoformat()} (alert {alert.alert_id}, "
        f"fingerprint {alert.fingerprint or '-'})"
    )
    return "\n".join(lines)


def render_text(alert: Alert, dagster_url: str | None = None) -> str:
    """The message body every channel uses: what failed, how badly, examples, where to look."""
    if alert.checks:
        return _render_run(alert, dagster_url)
    failing = "not counted" if alert.failing_rows is None else str(alert.failing_rows)
    lines = [
        subject(alert),
        "",
        f"Suite: {alert.suite or '-'}",
        f"Expectation: {alert.expectation or '-'}",
        f"Asset/model: {alert.asset or '-'}",
        f"Failing rows: {failing}",
        f"Example values: {format_samples(alert.sample_values)}",
    ]
    if alert.details:
        lines.append(f"Details: {alert.details}")
    places = alert.where_to_look(dagster_url)
    lines.append("Where to look:")
    lines.extend(f"  - {place}" for place in places or ["(no Data Docs page or run recorded)"])
    lines.append(f"Raised at {alert.created_at.isoformat()} (alert {alert.alert_id})")
    return "\n".join(lines)


def slack_payload(alert: Alert, dagster_url: str | None = None) -> dict[str, Any]:
    """Slack incoming-webhook JSON: ``text`` (all of it, for any compatible receiver) + blocks."""
    text = render_text(alert, dagster_url)
    body = text.split("\n", 2)[2] if text.count("\n") >= 2 else text
    return {
        "text": text,
        # The receiver's handle to drop a retried delivery, and to group repeats of a failure.
        "delivery_id": alert.alert_id,
        "fingerprint": alert.fingerprint,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject(alert)[:150]}},
            # Slack limits a section's text to 3000 characters.
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn_escape(body)[:3000]}},
        ],
    }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= MAX_SAMPLE_CHARS else text[: MAX_SAMPLE_CHARS - 1] + "…"


def _mrkdwn_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
