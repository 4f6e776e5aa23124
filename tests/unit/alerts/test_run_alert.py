"""One alert per run and channel, with real servers: every failure listed, repeats marked as
"still failing since", never sent twice for one run, always sent again on the next run."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

from support.servers import SmtpRecorder, WebhookServer, read_log, smtp_server

from orchestration.alerts.model import FailedCheck
from orchestration.alerts.run_alert import already_alerted, send_run_alert


def _forty_failures() -> list[FailedCheck]:
    checks = [
        FailedCheck(
            "GE rule",
            f"ranges: range:table_{n:02d}",
            "warning",
            asset=f"marts.table_{n:02d}",
            failing_rows=n + 1,
            sample_values=[{"month": "2026-01-01", "broken": "rate outside 0-1"}],
        )
        for n in range(38)
    ]
    checks.append(FailedCheck("dbt test", "unique_fct_orders_order_id", "blocking", failing_rows=2))
    checks.append(
        FailedCheck(
            "step",
            "dbt_warehouse",
            "blocking",
            details="DagsterDbtCliRuntimeError: dbt build failed\nline 2\n" + "trace\n" * 50,
        )
    )
    return checks


def test_forty_failures_send_one_message_per_channel(make_settings):
    recorder = SmtpRecorder()
    with WebhookServer() as webhook, smtp_server(recorder) as port:
        settings = make_settings(
            webhook_url=webhook.url,
            smtp_host="127.0.0.1",
            smtp_port=str(port),
            smtp_from="warehouse@example.com",
            smtp_to="data-team@example.com",
        )
        report = send_run_alert(
            "run-1", _forty_failures(), job_name="clm_pipeline", settings=settings
        )

    assert report is not None and report.delivered
    assert len(webhook.received) == 1 and len(recorder.mails) == 1
    body = webhook.received[0].json()
    text = body["text"]
    assert "40 failed (2 blocking, 38 warning)" in text
    assert all(f"range:table_{n:02d}" in text for n in range(38))
    assert "[blocking] dbt test unique_fct_orders_order_id" in text
    assert "failing rows 2" in text and "rate outside 0-1" in text
    assert "DagsterDbtCliRuntimeError: dbt build failed" in text
    assert text.count("trace") <= 8  # the first lines of the error, not the traceback
    # Blocking first.
    assert text.index("unique_fct_orders_order_id") < text.index("range:table_00")
    assert body["delivery_id"] == report.alert.alert_id
    assert webhook.received[0].headers["Idempotency-Key"] == report.alert.alert_id
    mail = message_from_bytes(recorder.mails[0].content, policy=default_policy)
    assert "not published" in mail["Subject"] and "unique_fct_orders_order_id" in mail["Subject"]
    (entry,) = read_log(report.log_path)
    assert entry["fingerprint"] == report.alert.fingerprint and len(entry["checks"]) == 40


def test_repeats_alert_again_marked_still_failing_and_one_run_alerts_once(make_settings):
    with WebhookServer() as webhook:
        settings = make_settings(webhook_url=webhook.url)
        failures = _forty_failures()
        first = send_run_alert("run-1", failures[:2], settings=settings)
        again = send_run_alert("run-1", failures[:2], settings=settings)
        second = send_run_alert("run-2", failures[:3], settings=settings)
        clean = send_run_alert("run-3", [], settings=settings)
        after_clean = send_run_alert("run-4", failures[:1], settings=settings)

    assert first is not None and again is None and clean is None
    assert already_alerted("run-1", settings) and already_alerted("run-3", settings)
    assert len(webhook.received) == 3  # run-1, run-2, run-4: never twice for one run
    first_text, second_text, fourth_text = (post.json()["text"] for post in webhook.received)
    assert "still failing" not in first_text
    assert second_text.count("still failing since run run-1") == 2
    assert "range:table_02 on marts.table_02: failing rows 3\n" in second_text
    assert first.alert.fingerprint != second.alert.fingerprint
    # A clean run in between: the failure is new again.
    assert "still failing" not in fourth_text
    assert after_clean.alert.fingerprint == send_run_alert_fingerprint(failures[:1])


def send_run_alert_fingerprint(checks: list[FailedCheck]) -> str:
    from orchestration.alerts.run_alert import fingerprint

    return fingerprint(checks)
