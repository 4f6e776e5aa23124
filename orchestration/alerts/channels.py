"""The three deliveries. Each raises ``DeliveryError`` on failure; ``dispatch`` retries and logs.

Standard library only (http.client, smtplib, email), so alerting adds no dependency. Error messages
never contain the webhook URL (its path is the secret) nor the SMTP password.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestration.alerts.config import AlertSettings


class DeliveryError(Exception):
    """One delivery attempt failed; the message is safe to log (no secrets).

    ``may_have_arrived`` is True when the failure came after the message was sent (a timeout
    waiting for the answer): the receiver may have it, so only an idempotent retry is safe.
    """

    def __init__(self, message: str, *, may_have_arrived: bool = False) -> None:
        super().__init__(message)
        self.may_have_arrived = may_have_arrived


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


class _Deadline:
    """Abort a blocking socket conversation when its overall time is up.

    A socket timeout bounds each read, not the whole exchange: a server trickling one byte every
    few seconds would never trip it. A timer thread shuts the socket down at the deadline, so
    whatever read or write is blocked returns at once with an error.
    """

    def __init__(self, seconds: float, sock_of: Callable[[], socket.socket | None]) -> None:
        self.seconds = seconds
        self.expired = False
        self._sock_of = sock_of
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired = True
        sock = self._sock_of()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def post_webhook(
    url: str, payload: dict[str, Any], timeout: float, delivery_id: str | None = None
) -> int:
    """POST ``payload`` as JSON to a Slack-compatible incoming webhook; returns the HTTP status.

    ``timeout`` is the deadline of the whole attempt (connect, send, read), not of one socket
    read. ``delivery_id`` goes out as the ``Idempotency-Key`` header, so a receiver can discard
    a retry of a message it already has.

    Raises:
        DeliveryError: not http(s), a network error, the deadline or a non-2xx answer;
            ``may_have_arrived`` tells whether the server may have the message.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        # Only HTTP(S): never file:// or anything else a URL can name.
        raise DeliveryError(f"webhook URL must be http(s), got {parts.scheme or 'none'}")
    where = redact_url(url)
    body = json.dumps(payload, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body))}
    if delivery_id:
        headers["Idempotency-Key"] = delivery_id
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    sent = False
    deadline = _Deadline(timeout, lambda: connection.sock)
    try:
        with deadline:
            connection.connect()
            connection.request("POST", path, body=body, headers=headers)
            sent = True
            response = connection.getresponse()
            detail = response.read(200).decode("utf-8", "replace").strip()
            status = int(response.status)
    except (OSError, http.client.HTTPException, ValueError) as error:
        if deadline.expired or isinstance(error, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = f"{type(error).__name__}: {error}"
        raise DeliveryError(f"{where} unreachable: {reason}", may_have_arrived=sent) from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        # The server answered that it did not take the message: safe to send again.
        raise DeliveryError(f"{where} answered HTTP {status}: {detail}")
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

    ``settings.smtp_timeout`` is the deadline of the whole attempt (connect, TLS, login, send).
    The message's ``Message-ID`` is its delivery id: the same on every retry, so mail systems
    and people can tell a retry from a second alert. STARTTLS verifies the server certificate
    against the system's trust store (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` point it at a
    private CA). Login is only attempted when both user and password are set.

    Raises:
        DeliveryError: connection, TLS, authentication, refusal of every recipient or the
            deadline; ``may_have_arrived`` when the failure came while the message was sent.
    """
    if not settings.smtp_host:
        raise DeliveryError("no SMTP host configured")
    where = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
    smtp = smtplib.SMTP(timeout=settings.smtp_timeout)
    smtp._host = settings.smtp_host  # what STARTTLS verifies; set by the constructor's connect
    sending = False
    deadline = _Deadline(settings.smtp_timeout, lambda: getattr(smtp, "sock", None))
    try:
        with deadline:
            smtp.connect(settings.smtp_host, settings.smtp_port)
            smtp.ehlo()
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            sending = True
            refused = smtp.send_message(message)
            sending = False
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(
            f"{where} refused the login of {settings.smtp_user}: {error.smtp_code}"
        ) from None
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
        # The server answered with a refusal: it does not have the message.
        raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        reason = (
            f"no answer within {settings.smtp_timeout:g} s"
            if deadline.expired or isinstance(error, TimeoutError)
            else f"{type(error).__name__}: {error}"
        )
        raise DeliveryError(f"{where}: {reason}", may_have_arrived=sending) from None
    finally:
        with contextlib.suppress(OSError):
            smtp.close()
    if refused:
        # Some recipients got it; the rest are worth knowing about, not worth resending to all.
        raise DeliveryError(
            f"{where} refused recipients: {', '.join(sorted(refused))}", may_have_arrived=True
        )
