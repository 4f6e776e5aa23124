"""Alert settings, read from the environment (``CLM_ALERT_…``) with defaults.

Credentials (the webhook URL carries a token; the SMTP password) come only from the environment:
nothing here has a default secret, and neither value appears in ``repr`` or in the alert log.

A malformed value never raises (alerts must not break the pipeline): it is logged and the default
is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from orchestration.settings import ALERT_SETTINGS, REPO_ROOT, block

log = logging.getLogger(__name__)

# name -> (default, description), declared in the settings registry (the alert group and the
# delivery settings added with the per-attempt deadlines).
ALERT_ENV_VARS: dict[str, tuple[str, str]] = {**block("alerts"), **ALERT_SETTINGS}

_N = TypeVar("_N", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


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

    def text(name: str) -> str | None:
        value = (env.get(name) or "").strip()
        return value or None

    host = text("CLM_ALERT_SMTP_HOST")
    sender = text("CLM_ALERT_SMTP_FROM")
    recipients = tuple(
        address.strip()
        for address in (env.get("CLM_ALERT_SMTP_TO") or "").split(",")
        if address.strip()
    )
    if host and not (sender and recipients):
        log.warning("CLM_ALERT_SMTP_HOST is set but FROM/TO are not: email alerts are off")

    return AlertSettings(
        log_path=_path(text("CLM_ALERT_LOG_PATH") or ALERT_ENV_VARS["CLM_ALERT_LOG_PATH"][0]),
        webhook_url=text("CLM_ALERT_WEBHOOK_URL"),
        webhook_timeout=_number(env, "CLM_ALERT_WEBHOOK_TIMEOUT", float, minimum=0.1),
        smtp_host=host,
        smtp_port=_number(env, "CLM_ALERT_SMTP_PORT", int, minimum=1),
        smtp_from=sender,
        smtp_to=recipients,
        smtp_starttls=_flag(env, "CLM_ALERT_SMTP_STARTTLS"),
        smtp_user=text("CLM_ALERT_SMTP_USER"),
        # Not stripped: a password may legitimately have surrounding spaces.
        smtp_password=env.get("CLM_ALERT_SMTP_PASSWORD") or None,
        smtp_timeout=_number(env, "CLM_ALERT_SMTP_TIMEOUT", float, minimum=0.1),
        retries=_number(env, "CLM_ALERT_RETRIES", int, minimum=1),
        retry_backoff_seconds=_number(env, "CLM_ALERT_RETRY_BACKOFF_SECONDS", float, minimum=0.0),
        dagster_url=(text("CLM_ALERT_DAGSTER_URL") or "").rstrip("/") or None,
        delivery_budget_seconds=_number(
            env, "CLM_ALERT_DELIVERY_BUDGET_SECONDS", float, minimum=0.1
        ),
        webhook_idempotent=_flag(env, "CLM_ALERT_WEBHOOK_IDEMPOTENT"),
    )


def _path(value: str) -> Path:
    # Relative paths are relative to the repository, like every other path setting.
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _number(env: Mapping[str, str], name: str, kind: type[_N], *, minimum: _N) -> _N:
    default = kind(ALERT_ENV_VARS[name][0])
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        log.warning("%s=%r is not a valid %s; using %s", name, raw, kind.__name__, default)
        return default
    if value < minimum:
        log.warning("%s=%r is below %s; using %s", name, raw, minimum, minimum)
        return minimum
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or ALERT_ENV_VARS[name][0]).strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        log.warning("%s=%r is not true/false; using false", name, raw)
    return False
