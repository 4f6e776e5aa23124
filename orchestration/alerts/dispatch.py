"""``send_alert``: log always, deliver where configured, retry, never raise into the pipeline."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.alerts.channels import (
    DeliveryError,
    append_jsonl,
    build_email,
    post_webhook,
    send_email,
)
from orchestration.alerts.config import AlertSettings, load_alert_settings
from orchestration.alerts.model import Alert, render_text, slack_payload, subject

log = logging.getLogger(__name__)


@dataclass
class DeliveryResult:
    """How one channel went: delivered or not, after how many attempts, with which errors."""

    channel: str
    delivered: bool
    attempts: int
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "errors": self.errors,
        }


@dataclass
class DeliveryReport:
    """What ``send_alert`` did with one alert."""

    alert: Alert
    results: list[DeliveryResult]
    log_path: Path
    logged: bool
    log_error: str | None = None

    @property
    def delivered(self) -> bool:
        """Logged, and every configured channel delivered."""
        return self.logged and all(result.delivered for result in self.results)

    def result(self, channel: str) -> DeliveryResult | None:
        """The result of ``channel`` ("webhook", "smtp"), None when it was not configured."""
        return next((result for result in self.results if result.channel == channel), None)


def send_alert(alert: Alert, settings: AlertSettings | None = None) -> DeliveryReport:
    """Send ``alert`` to the webhook and SMTP when configured, then append it to the alert log.

    Each delivery is tried ``settings.retries`` times with exponential backoff; every failed
    attempt is logged (Python logging) and recorded in the log entry's ``deliveries``. Nothing
    raises to the caller: a failure to deliver, a malformed setting, even a failure to write the
    log (then the whole alert is written to Python logging at ERROR instead).

    The log line is written after the deliveries so it carries their outcome (worst case it waits
    ``CLM_ALERT_DELIVERY_BUDGET_SECONDS`` per channel); it is written in a ``finally`` so even an
    interrupt during a delivery leaves the alert in the log.

    Args:
        alert: the alert.
        settings: alert settings; default: ``load_alert_settings()`` from the environment now.
    """
    if settings is None:
        try:
            settings = load_alert_settings()
        except Exception:  # noqa: BLE001 - alerting must not fail the pipeline
            log.exception("could not read alert settings; logging the alert with defaults")
            settings = load_alert_settings({})  # the defaults: log only

    results: list[DeliveryResult] = []
    try:
        text = render_text(alert, settings.dagster_url)
        if settings.webhook_enabled:
            payload = slack_payload(alert, settings.dagster_url)
            url = settings.webhook_url or ""
            results.append(
                _with_retries(
                    "webhook",
                    lambda seconds: post_webhook(url, payload, seconds, alert.alert_id),
                    settings.webhook_timeout,
                    settings,
                    alert,
                    idempotent=settings.webhook_idempotent,
                )
            )
        if settings.smtp_enabled:
            message = build_email(settings, subject(alert), text)
            results.append(
                _with_retries(
                    "smtp",
                    lambda seconds: send_email(replace(settings, smtp_timeout=seconds), message),
                    settings.smtp_timeout,
                    settings,
                    alert,
                    idempotent=False,  # mail servers do not drop a repeated Message-ID
                )
            )
    except Exception:  # noqa: BLE001 - a bug here must still not break the pipeline
        log.exception("alert %s: delivery crashed", alert.alert_id)
        results.append(DeliveryResult("internal", False, 0, ["delivery crashed; see the log"]))
    finally:
        logged, log_error = _write_log(alert, results, settings.log_path)

    return DeliveryReport(
        alert=alert,
        results=results,
        log_path=settings.log_path,
        logged=logged,
        log_error=log_error,
    )


def _with_retries(
    channel: str,
    attempt: Callable[[float], object],
    timeout: float,
    settings: AlertSettings,
    alert: Alert,
    *,
    idempotent: bool,
) -> DeliveryResult:
    """Run ``attempt`` up to ``settings.retries`` times, backing off 1×, 2×, 4× … in between.

    Every attempt gets ``timeout`` seconds in all, cut to what is left of the channel's budget
    (``settings.delivery_budget_seconds``); no attempt starts once the budget is spent. An
    attempt that failed after the message went out (``may_have_arrived``) is retried only when
    the channel is idempotent: otherwise the receiver could get the alert twice.
    """
    attempts = max(1, settings.retries)
    budget_ends = time.monotonic() + settings.delivery_budget_seconds
    errors: list[str] = []
    number = 0
    while number < attempts:
        left = budget_ends - time.monotonic()
        if left <= 0.05:
            errors.append(f"time budget of {settings.delivery_budget_seconds:g} s spent")
            break
        number += 1
        try:
            attempt(min(timeout, left))
        except Exception as error:  # noqa: BLE001 - DeliveryError, or a bug: both are retried
            message = str(error) if isinstance(error, DeliveryError) else repr(error)
            errors.append(message)
            log.warning(
                "alert %s: %s attempt %d/%d failed: %s",
                alert.alert_id,
                channel,
                number,
                attempts,
                message,
            )
            if getattr(error, "may_have_arrived", False) and not idempotent:
                errors.append("not retried: the receiver may already have the message")
                break
            if number < attempts:
                pause = settings.retry_backoff_seconds * 2 ** (number - 1)
                time.sleep(max(0.0, min(pause, budget_ends - time.monotonic())))
            continue
        if errors:
            log.info("alert %s: %s delivered on attempt %d", alert.alert_id, channel, number)
        return DeliveryResult(channel, True, number, errors)
    log.error("alert %s: %s not delivered after %d attempts", alert.alert_id, channel, number)
    return DeliveryResult(channel, False, number, errors)


def _write_log(alert: Alert, results: list[DeliveryResult], path: Path) -> tuple[bool, str | None]:
    """Append the alert and its delivery outcome to the JSON-lines log; never raises."""
    record: dict[str, Any] = {}
    try:
        record = {
            **alert.to_dict(),
            "logged_at": datetime.now(UTC).isoformat(),
            "deliveries": [result.to_dict() for result in results],
        }
        append_jsonl(path, record)
        return True, None
    except Exception as error:  # noqa: BLE001 - the last resort is Python logging
        log.error(
            "alert %s could not be written to the alert log %s (%s); the alert: %s",
            alert.alert_id,
            path,
            error,
            record or alert,
        )
        return False, f"{type(error).__name__}: {error}"
