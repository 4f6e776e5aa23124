"""send_alert by email against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from support.servers import SmtpRecorder, free_port, read_log, smtp_server

from orchestration.alerts import send_alert

# Tests below require AUTH over plain text on loopback on purpose; aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "smtp_from": "clm-alerts@example.com",
        "smtp_to": "data-team@example.com, oncall@example.com",
        **extra,
    }


def test_email_names_suite_expectation_count_samples_and_where(alert, make_settings):
    recorder = SmtpRecorder()
    with smtp_server(recorder) as port:
        report = send_alert(alert, make_settings(**smtp_env(port)))

    assert report.delivered and report.result("smtp").attempts == 1
    (mail,) = recorder.mails
    assert mail.mail_from == "clm-alerts@example.com"
    assert mail.rcpt_tos == ["data-team@example.com", "oncall@example.com"]
    message = message_from_bytes(mail.content, policy=policy.default)
    assert "fct_orders.warning" in message["Subject"]
    assert "negative net revenue" in message["Subject"]
    body = message.get_content()
    for expected in (
        "Suite: fct_orders.warning",
        "Expectation: expect_column_values_to_be_between(net_revenue, min_value=0)",
        "Failing rows: 37",
        "-12.5",
        "EUR -3",
        "Data Docs: file:///srv/clm/gx/uncommitted/data_docs/local_site/index.html",
        "Dagster run id: 8d3f0c2a-run",
    ):
        assert expected in body, expected


def test_login_is_used_when_user_and_password_are_set(alert, make_settings):
    recorder = SmtpRecorder(user="clm", password="s3cret-from-env")
    options = {
        "authenticator": recorder.authenticate,
        "auth_required": True,
        "auth_require_tls": False,
    }
    with smtp_server(recorder, **options) as port:
        settings = make_settings(**smtp_env(port, smtp_user="clm", smtp_password="s3cret-from-env"))
        report = send_alert(alert, settings)

    assert report.delivered
    assert recorder.logins == [("clm", True)]
    assert len(recorder.mails) == 1


def test_wrong_password_is_retried_recorded_and_never_raises(alert, make_settings, caplog):
    recorder = SmtpRecorder(user="clm", password="right")
    options = {
        "authenticator": recorder.authenticate,
        "auth_required": True,
        "auth_require_tls": False,
    }
    with smtp_server(recorder, **options) as port:
        settings = make_settings(
            **smtp_env(port, smtp_user="clm", smtp_password="wrong-pw-xyz", retries="2")
        )
        report = send_alert(alert, settings)

    result = report.result("smtp")
    assert not result.delivered and result.attempts == 2
    assert "refused the login" in result.errors[0]
    assert recorder.mails == []
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN), on each of the 2 attempts.
    assert len(recorder.logins) >= 2 and all(not ok for _user, ok in recorder.logins)
    (entry,) = read_log(report.log_path)
    assert entry["deliveries"][0]["channel"] == "smtp"
    assert "wrong-pw-xyz" not in report.log_path.read_text() and "wrong-pw-xyz" not in caplog.text


def test_smtp_on_a_closed_port_returns_normally(alert, make_settings):
    report = send_alert(alert, make_settings(**smtp_env(free_port(), retries="2")))
    assert not report.result("smtp").delivered
    assert report.logged and read_log(report.log_path)[0]["deliveries"][0]["attempts"] == 2


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with ``cryptography`` (already installed)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_with_login_verifies_the_server_certificate(
    alert, make_settings, tmp_path: Path, monkeypatch
):
    pytest.importorskip("cryptography")
    cert, key = _self_signed_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    # The client trusts the system store; point it at our certificate as a private CA would be.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    recorder = SmtpRecorder(user="clm", password="pw")
    options = {
        "tls_context": server_context,
        "require_starttls": True,
        "authenticator": recorder.authenticate,
        "auth_required": True,
    }
    with smtp_server(recorder, **options) as port:
        settings = make_settings(
            **smtp_env(port, smtp_starttls="true", smtp_user="clm", smtp_password="pw")
        )
        report = send_alert(alert, settings)
        # Without STARTTLS the server refuses (require_starttls): proves TLS was really used.
        plain = send_alert(
            alert,
            make_settings(**smtp_env(port, smtp_user="clm", smtp_password="pw", retries="1")),
        )

    assert report.delivered, report.results
    assert len(recorder.mails) == 1 and recorder.logins[0] == ("clm", True)
    assert not plain.result("smtp").delivered


def test_starttls_refuses_an_untrusted_certificate(alert, make_settings, tmp_path: Path):
    pytest.importorskip("cryptography")
    cert, key = _self_signed_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    recorder = SmtpRecorder()
    with smtp_server(recorder, tls_context=server_context, require_starttls=True) as port:
        report = send_alert(
            alert, make_settings(**smtp_env(port, smtp_starttls="true", retries="1"))
        )
    assert not report.result("smtp").delivered
    assert "CERTIFICATE_VERIFY_FAILED" in report.result("smtp").errors[0]
    assert recorder.mails == []
