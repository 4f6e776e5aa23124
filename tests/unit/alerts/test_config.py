"""Alert settings from the environment."""

from __future__ import annotations

from orchestration.alerts import load_alert_settings
from orchestration.settings import REPO_ROOT


def test_defaults_log_only():
    settings = load_alert_settings({})
    assert settings.log_path == REPO_ROOT / "warehouse" / "alerts.jsonl"
    assert not settings.webhook_enabled and not settings.smtp_enabled
    assert settings.smtp_port == 25 and settings.retries == 3 and not settings.smtp_starttls


def test_smtp_settings_and_secrets_stay_out_of_repr():
    settings = load_alert_settings(
        {
            "CLM_ALERT_SMTP_HOST": "mail.internal",
            "CLM_ALERT_SMTP_PORT": "587",
            "CLM_ALERT_SMTP_FROM": "clm@example.com",
            "CLM_ALERT_SMTP_TO": " data@example.com, ,oncall@example.com ",
            "CLM_ALERT_SMTP_STARTTLS": "True",
            "CLM_ALERT_SMTP_USER": "clm",
            "CLM_ALERT_SMTP_PASSWORD": "hunter2",
            "CLM_ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T/B/tok3n",
        }
    )
    assert settings.smtp_enabled and settings.webhook_enabled
    assert settings.smtp_port == 587 and settings.smtp_starttls
    assert settings.smtp_to == ("data@example.com", "oncall@example.com")
    assert "hunter2" not in repr(settings) and "tok3n" not in repr(settings)


def test_email_needs_from_and_to():
    assert not load_alert_settings({"CLM_ALERT_SMTP_HOST": "mail"}).smtp_enabled


def test_malformed_values_fall_back_to_defaults():
    settings = load_alert_settings(
        {
            "CLM_ALERT_SMTP_PORT": "twenty-five",
            "CLM_ALERT_SMTP_STARTTLS": "maybe",
            "CLM_ALERT_RETRIES": "0",
            "CLM_ALERT_LOG_PATH": "/tmp/h-alerts/x/alerts.jsonl",
        }
    )
    assert settings.smtp_port == 25 and not settings.smtp_starttls and settings.retries == 1
    assert str(settings.log_path) == "/tmp/h-alerts/x/alerts.jsonl"


def test_delivery_budget_and_idempotent_webhook():
    defaults = load_alert_settings({})
    assert defaults.delivery_budget_seconds == 30.0 and not defaults.webhook_idempotent
    settings = load_alert_settings(
        {"CLM_ALERT_DELIVERY_BUDGET_SECONDS": "4.5", "CLM_ALERT_WEBHOOK_IDEMPOTENT": "yes"}
    )
    assert settings.delivery_budget_seconds == 4.5 and settings.webhook_idempotent
