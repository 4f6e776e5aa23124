"""The three deliveries. Each raises ``DeliveryError`` on failure; ``dispatch`` retries and logs.

Standard library only (urllib, smtplib, email), so alerting adds no dependency. Error messages
never contain the webhook URL (its path is the secret) nor the SMTP password.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestration.alerts.config import AlertSettings


class DeliveryError(Exception):
    """One delivery attempt failed; the message is safe to log (no secrets)."""


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line to ``path``, creating parent directories.

    One ``write`` on an ``O_APPEND`` descriptor, so lines from concurrent processes do not
    interleave on a local file system.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, default=str, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to {path}: {written} of {len(line)} bytes")
    finally:
        os.close(fd)


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…`` — enough to tell which endpoint, without the token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}/…"


def post_webhook(url: str, payload: dict[str, Any], timeout: float) -> int:
    """POST ``payload`` as JSON to a Slack-compatible incoming webhook; returns the HTTP status.

    Raises:
        DeliveryError: not http(s), a network error, a timeout or a non-2xx answer.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        # urllib would also open file:// and ftp:// URLs; a webhook is only ever HTTP.
        raise DeliveryError(f"webhook URL must be http(s), got {urlsplit(url).scheme or 'none'}")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    where = redact_url(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as error:
        detail = error.read(200).decode("utf-8", "replace").strip()
        raise DeliveryError(f"{where} answered HTTP {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{where} unreachable: {type(error).__name__}: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"{where} answered HTTP {status}")
    return status


def build_email(settings: AlertSettings, subject: str, body: str) -> EmailMessage:
    """A plain-text email from ``CLM_ALERT_SMTP_FROM`` to every ``CLM_ALERT_SMTP_TO``."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from or ""
    message["To"] = ", ".join(settings.smtp_to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="clm.alerts")
    message.set_content(body)
    return message


def send_email(settings: AlertSettings, message: EmailMessage) -> None:
    """Send ``message`` over SMTP with optional STARTTLS and login.

    STARTTLS verifies the server certificate against the system's trust store (``SSL_CERT_FILE``
    and ``SSL_CERT_DIR`` point it at a private CA). Login is only attempted when both user and
    password are set.

    Raises:
        DeliveryError: connection, TLS, authentication or refusal of every recipient.
    """
    if not settings.smtp_host:
        raise DeliveryError("no SMTP host configured")
    where = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(
            f"{where} refused the login of {settings.smtp_user}: {error.smtp_code}"
        ) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None
    if refused:
        # Some recipients got it; the rest are worth knowing about, not worth resending to all.
        raise DeliveryError(f"{where} refused recipients: {', '.join(sorted(refused))}")
