"""Faults of the alert channels, with real servers on 127.0.0.1: a webhook that never answers,
one that answers one byte at a time, an SMTP server that never greets. Alerting must finish
within its configured budget, never raise, keep the alert in the log, and not resend a message
the receiver may already have unless the receiver is idempotent.

The bounds below are the budgets plus a generous margin: without an overall deadline per
attempt the trickling webhook alone would hold an alert for minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.servers import SlowHttpServer, WebhookServer, read_log

from orchestration.alerts import Alert, load_alert_settings, send_alert
from orchestration.alerts.model import FailedCheck
from orchestration.alerts.run_alert import send_run_alert

TIMEOUT, BUDGET, MARGIN = 1.0, 2.5, 4.0


def _settings(tmp_path: Path, **env: str):
    values = {
        "CLM_ALERT_LOG_PATH": str(tmp_path / "alerts.jsonl"),
        "CLM_ALERT_WEBHOOK_TIMEOUT": str(TIMEOUT),
        "CLM_ALERT_SMTP_TIMEOUT": str(TIMEOUT),
        "CLM_ALERT_DELIVERY_BUDGET_SECONDS": str(BUDGET),
        "CLM_ALERT_RETRIES": "5",
        "CLM_ALERT_RETRY_BACKOFF_SECONDS": "0.05",
        **env,
    }
    return load_alert_settings(values)


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_slow_webhook_costs_one_attempt_within_its_deadline(tmp_path: Path, mode: str) -> None:
    with SlowHttpServer(mode, interval=0.5) as server:
        settings = _settings(tmp_path, CLM_ALERT_WEBHOOK_URL=server.url)
        started = time.monotonic()
        report = send_alert(Alert(title="fct_orders: 3 rows broke a rule"), settings)
        elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + MARGIN, elapsed
    result = report.result("webhook")
    assert not result.delivered and result.attempts == 1
    assert "no answer within 1 s" in result.errors[0]
    assert "may already have" in result.errors[-1]
    # The request went out once: a retry could have doubled the alert at the receiver.
    assert len(server.requests) == 1
    assert b"secret-token-xyz" not in str(result.errors).encode()
    (entry,) = read_log(report.log_path)
    assert entry["deliveries"][0]["delivered"] is False


def test_idempotent_webhook_is_retried_with_one_delivery_id_until_the_budget(
    tmp_path: Path,
) -> None:
    with SlowHttpServer("silent") as server:
        settings = _settings(
            tmp_path, CLM_ALERT_WEBHOOK_URL=server.url, CLM_ALERT_WEBHOOK_IDEMPOTENT="true"
        )
        started = time.monotonic()
        report = send_alert(Alert(title="kpi_monthly: rate outside 0-1"), settings)
        elapsed = time.monotonic() - started

    assert elapsed < BUDGET + MARGIN, elapsed
    result = report.result("webhook")
    assert not result.delivered and 2 <= result.attempts < 5
    assert "budget" in result.errors[-1]
    keys = {
        line.split(b":", 1)[1].strip()
        for request in server.requests
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"idempotency-key:")
    }
    assert len(server.requests) == result.attempts and keys == {report.alert.alert_id.encode()}


def test_silent_smtp_server_and_silent_webhook_together_stay_within_budget(
    tmp_path: Path,
) -> None:
    """The run alert, both channels hanging: each channel is bounded, the run goes on."""
    with SlowHttpServer("silent") as webhook, SlowHttpServer("silent") as smtp:
        smtp_port = smtp.url.split(":")[2].split("/")[0]
        settings = _settings(
            tmp_path,
            CLM_ALERT_WEBHOOK_URL=webhook.url,
            CLM_ALERT_SMTP_HOST="127.0.0.1",
            CLM_ALERT_SMTP_PORT=smtp_port,
            CLM_ALERT_SMTP_FROM="warehouse@example.com",
            CLM_ALERT_SMTP_TO="data-team@example.com",
        )
        checks = [
            FailedCheck("GE rule", f"units: rule {n}", "blocking", failing_rows=n)
            for n in range(40)
        ]
        started = time.monotonic()
        report = send_run_alert("run-slow", checks, settings=settings)
        elapsed = time.monotonic() - started

    assert report is not None and not report.delivered and report.logged
    assert elapsed < 2 * BUDGET + MARGIN, elapsed
    # SMTP never greeted, so nothing was sent: retrying is safe and bounded by the budget.
    assert report.result("smtp").attempts >= 2
    assert "budget" in report.result("smtp").errors[-1]
    (entry,) = read_log(report.log_path)
    assert len(entry["checks"]) == 40


def test_a_run_that_fails_alerts_once_with_its_cause(
    isolated_env: Path, dbt_manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clm run` while another process holds the warehouse: the run fails, and its one alert
    names the failing step and DuckDB's lock error, without any daemon."""
    from dagster import DagsterInstance

    from orchestration.pipeline import run_pipeline

    customers = isolated_env / "landing" / "shop" / "customers"
    customers.mkdir(parents=True)
    (customers / "customers_2026-01-01_full.csv").write_text(
        "shop_customer_id,email,created_at\nC1,ada@example.com,2026-01-01T10:00:00Z\n",
        encoding="utf-8",
    )
    warehouse = os.environ["CLM_DUCKDB_PATH"]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(600)",
            warehouse,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with WebhookServer() as webhook:
            monkeypatch.setenv("CLM_ALERT_WEBHOOK_URL", webhook.url)
            outcome = run_pipeline(DagsterInstance.ephemeral())
    finally:
        holder.kill()
        holder.wait(timeout=30)

    assert not outcome.success
    assert len(webhook.received) == 1, [post.json()["text"] for post in webhook.received]
    text = webhook.received[0].json()["text"]
    assert "not published" in text
    failed_step = outcome.failed_steps[0]
    assert f"[blocking] step {failed_step}" in text
    assert "lock" in text.lower(), text
    (entry,) = read_log(Path(os.environ["CLM_ALERT_LOG_PATH"]))
    assert entry["run_id"] == outcome.run_id
