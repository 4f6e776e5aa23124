"""Real servers on 127.0.0.1 for the alert tests: an HTTP webhook receiver and (with aiosmtpd)
an SMTP server. No mocks: the code under test talks to them over sockets."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on right now (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookServer:
    """An HTTP server that records every POST and answers with ``statuses`` in turn.

    After the list is used up it keeps answering with its last status.
    """

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[ReceivedPost] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with recorder._lock:
                    recorder.received.append(ReceivedPost(self.path, dict(self.headers), body))
                    index = min(len(recorder.received), len(recorder.statuses)) - 1
                    status = recorder.statuses[index]
                reply = b"ok" if status < 400 else b"server error"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/services/T000/B000/secret-token-xyz"

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class SmtpRecorder:
    """aiosmtpd handler and authenticator that keep what arrived (aiosmtpd imported by callers)."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.mails: list[ReceivedMail] = []
        self.logins: list[tuple[str, bool]] = []
        self._user, self._password = user, password

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = login == self._user and auth_data.password.decode() == self._password
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every entry of a JSON-lines alert log."""
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextmanager
def smtp_server(recorder: SmtpRecorder, **options: Any) -> Iterator[int]:
    """Run an aiosmtpd server on 127.0.0.1 in a thread; yields its port."""
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class SlowHttpServer:
    """A TCP server on 127.0.0.1 that takes every request and answers badly: never (``mode=
    "silent"``), or one byte of an HTTP answer every ``interval`` seconds (``"trickle"``).

    Counts the requests it read in full (``requests``), so a test can tell how many POSTs the
    client made. Used as ``with SlowHttpServer("silent") as server: … server.url …``.
    """

    def __init__(self, mode: str, interval: float = 1.0) -> None:
        if mode not in ("silent", "trickle"):
            raise ValueError(mode)
        self.mode, self.interval = mode, interval
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}/services/T000/B000/secret-token-xyz"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.2)
            data = b""
            while b"\r\n\r\n" not in data and not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(body) < length and not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                body += chunk
            self.requests.append(head + b"\r\n\r\n" + body)
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            sent = 0
            while not self._stop.is_set():
                if self.mode == "trickle" and sent < len(answer):
                    try:
                        conn.sendall(answer[sent : sent + 1])
                    except OSError:
                        return
                    sent += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> SlowHttpServer:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
