"""Alert settings, read from the environment (``CLM_ALERT_…``) with defaults.

Credentials (the webhook URL carries a token; the SMTP password) come only from the environment:
nothing here has a default secret, and neither value appears in ``repr`` or in the alert log.

Every value comes from the settings registry (``orchestration/settings.py``, group "alerts"). A
malformed value never raises here (alerts must not break the pipeline, and `clm run` has already
refused it at start-up): it is logged, and a number below its minimum becomes the minimum,
anything else the default.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration import settings as registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go and how hard to try. Build it with ``load_alert_settings()``."""

    log_path: Path
    webhook_url: str | None = field(default=None, repr=False)  # the URL's path is a secret token
    webhook_timeout: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout: float = 10.0
    retries: int = 3
    retry_backoff_seconds: float = 0.5
    dagster_url: str | None = None
    delivery_budget_seconds: float = 30.0
    webhook_idempotent: bool = False

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from and self.smtp_to)


def load_alert_settings(environ: Mapping[str, str] | None = None) -> AlertSettings:
    """Alert settings from ``environ`` (default: ``os.environ``), read now, never raising."""
    env = os.environ if environ is None else environ

    def get(name: str) -> Any:
        return _value(env, name)

    host, sender = get("CLM_ALERT_SMTP_HOST") or None, get("CLM_ALERT_SMTP_FROM") or None
    recipients = tuple(
        address.strip() for address in get("CLM_ALERT_SMTP_TO").split(",") if address.strip()
    )
    if host and not (sender and recipients):
        log.warning("CLM_ALERT_SMTP_HOST is set but FROM/TO are not: email alerts are off")

    return AlertSettings(
        log_path=get("CLM_ALERT_LOG_PATH"),
        webhook_url=get("CLM_ALERT_WEBHOOK_URL").strip() or None,
        webhook_timeout=get("CLM_ALERT_WEBHOOK_TIMEOUT"),
        smtp_host=host,
        smtp_port=get("CLM_ALERT_SMTP_PORT"),
        smtp_from=sender,
        smtp_to=recipients,
        smtp_starttls=get("CLM_ALERT_SMTP_STARTTLS"),
        smtp_user=get("CLM_ALERT_SMTP_USER") or None,
        # A secret is not stripped: a password may legitimately have surrounding spaces.
        smtp_password=get("CLM_ALERT_SMTP_PASSWORD") or None,
        smtp_timeout=get("CLM_ALERT_SMTP_TIMEOUT"),
        retries=get("CLM_ALERT_RETRIES"),
        retry_backoff_seconds=get("CLM_ALERT_RETRY_BACKOFF_SECONDS"),
        dagster_url=get("CLM_ALERT_DAGSTER_URL").rstrip("/") or None,
        delivery_budget_seconds=get("CLM_ALERT_DELIVERY_BUDGET_SECONDS"),
        webhook_idempotent=get("CLM_ALERT_WEBHOOK_IDEMPOTENT"),
    )


def _value(env: Mapping[str, str], name: str) -> Any:
    """The registry's typed value; a malformed one is logged and replaced: a number below its
    minimum by the minimum, anything else by the default."""
    setting = registry.declared(name)
    try:
        return setting.parse(env.get(name) or "")
    except registry.SettingError as error:
        replacement = setting.parse("")
        if setting.minimum is not None:
            try:
                if float(env.get(name) or "") < setting.minimum:
                    replacement = type(replacement)(setting.minimum)
            except ValueError:
                pass
        log.warning("%s; using %s", error, replacement)
        return replacement
