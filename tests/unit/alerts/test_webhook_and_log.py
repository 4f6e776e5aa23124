"""send_alert against a real HTTP server on 127.0.0.1, and the JSON-lines log."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from support.servers import WebhookServer, free_port, read_log

from orchestration.alerts import Alert, send_alert

EXPECTED_IN_MESSAGE = (
    "fct_orders.warning",  # suite
    "expect_column_values_to_be_between(net_revenue, min_value=0)",  # expectation
    "Failing rows: 37",
    "-12.5",
    "-0.01",
    "EUR -3",  # sample values
    "data_docs/local_site/index.html",  # Data Docs
    "8d3f0c2a-run",  # Dagster run
)


def test_webhook_post_names_suite_expectation_count_samples_and_where(alert, make_settings):
    with WebhookServer() as server:
        settings = make_settings(webhook_url=server.url, dagster_url="http://127.0.0.1:3000/")
        report = send_alert(alert, settings)

    assert report.delivered
    assert report.result("webhook").attempts == 1
    assert len(server.received) == 1
    post = server.received[0]
    assert post.path == "/services/T000/B000/secret-token-xyz"
    assert post.headers["Content-Type"].startswith("application/json")
    body = post.json()
    for expected in EXPECTED_IN_MESSAGE:
        assert expected in body["text"], expected
    assert "http://127.0.0.1:3000/runs/8d3f0c2a-run" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    assert "fct_orders.warning" in body["blocks"][1]["text"]["text"]


def test_webhook_answering_500_twice_then_200_is_retried_and_delivered(
    alert, make_settings, caplog
):
    caplog.set_level(logging.WARNING, logger="orchestration.alerts")
    with WebhookServer(statuses=[500, 500, 200]) as server:
        report = send_alert(alert, make_settings(webhook_url=server.url, retries="3"))

    result = report.result("webhook")
    assert result.delivered and result.attempts == 3
    assert len(server.received) == 3
    assert [post.body for post in server.received] == [server.received[0].body] * 3
    assert len(result.errors) == 2 and all("HTTP 500" in error for error in result.errors)
    assert sum("webhook attempt" in record.message for record in caplog.records) == 2
    (entry,) = read_log(report.log_path)
    assert entry["deliveries"] == [
        {"channel": "webhook", "delivered": True, "attempts": 3, "errors": result.errors}
    ]


def test_webhook_always_failing_returns_normally_and_the_log_keeps_the_alert(
    alert, make_settings, caplog
):
    caplog.set_level(logging.WARNING, logger="orchestration.alerts")
    with WebhookServer(statuses=[503]) as server:
        report = send_alert(alert, make_settings(webhook_url=server.url, retries="4"))

    assert not report.delivered and report.logged
    assert len(server.received) == 4
    (entry,) = read_log(report.log_path)
    assert entry["alert_id"] == alert.alert_id
    assert entry["suite"] == "fct_orders.warning"
    assert entry["failing_rows"] == 37
    assert entry["sample_values"] == [-12.5, -0.01, "EUR -3"]
    (delivery,) = entry["deliveries"]
    assert delivery["channel"] == "webhook" and delivery["delivered"] is False
    assert delivery["attempts"] == 4 and len(delivery["errors"]) == 4
    assert any("not delivered after 4 attempts" in r.message for r in caplog.records)
    # The webhook's token is a secret: it is in neither the log file nor Python logging.
    assert "secret-token-xyz" not in report.log_path.read_text()
    assert "secret-token-xyz" not in caplog.text


def test_webhook_on_a_closed_port_returns_normally_and_records_the_failure(alert, make_settings):
    url = f"http://127.0.0.1:{free_port()}/hook"
    report = send_alert(alert, make_settings(webhook_url=url, retries="2"))

    result = report.result("webhook")
    assert not result.delivered and result.attempts == 2
    assert "unreachable" in result.errors[0]
    (entry,) = read_log(report.log_path)
    assert entry["deliveries"][0]["delivered"] is False


def test_webhook_that_never_answers_times_out(alert, make_settings):
    # A listening socket that never accepts: the connection hangs until the timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        settings = make_settings(webhook_url=url, retries="1", webhook_timeout="0.3")
        report = send_alert(alert, settings)
    assert not report.result("webhook").delivered
    assert report.logged


def test_non_http_webhook_url_is_refused(alert, make_settings, tmp_path: Path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("do not read")
    report = send_alert(alert, make_settings(webhook_url=secret_file.as_uri(), retries="1"))
    assert not report.result("webhook").delivered
    assert "must be http(s)" in report.result("webhook").errors[0]


def test_log_only_when_nothing_is_configured_and_lines_are_appended(alert, make_settings):
    settings = make_settings()
    assert not settings.webhook_enabled and not settings.smtp_enabled
    first = send_alert(alert, settings)
    second = send_alert(Alert(title="second", failing_rows=None), settings)

    assert first.delivered and second.delivered and first.results == []
    # Parent directories were created; one line per alert, in order.
    entries = read_log(settings.log_path)
    assert [entry["title"] for entry in entries] == [alert.title, "second"]
    assert entries[1]["failing_rows"] is None and entries[1]["deliveries"] == []


def test_unwritable_log_never_raises_and_the_alert_goes_to_python_logging(
    alert, make_settings, tmp_path: Path, caplog
):
    blocked = tmp_path / "is_a_directory.jsonl"
    blocked.mkdir()
    with WebhookServer() as server:
        settings = make_settings(webhook_url=server.url, log_path=str(blocked))
        report = send_alert(alert, settings)

    assert len(server.received) == 1  # delivery still happened
    assert not report.logged and report.log_error
    assert not report.delivered
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert any(alert.title in record.getMessage() for record in errors)


def test_sample_values_that_are_not_json_are_logged_as_text(make_settings):
    from datetime import date
    from decimal import Decimal

    odd = Alert(title="odd", sample_values=[Decimal("1.10"), date(2026, 1, 2), b"\x00"])
    report = send_alert(odd, make_settings())
    (entry,) = read_log(report.log_path)
    assert entry["sample_values"] == ["1.10", "2026-01-02", "b'\\x00'"]


@pytest.mark.parametrize("retries", ["0", "-1", "abc"])
def test_retries_is_at_least_one_attempt(alert, make_settings, retries):
    with WebhookServer(statuses=[500]) as server:
        report = send_alert(alert, make_settings(webhook_url=server.url, retries=retries))
    expected = 3 if retries == "abc" else 1  # malformed -> default 3; too small -> 1
    assert report.result("webhook").attempts == expected == len(server.received)
