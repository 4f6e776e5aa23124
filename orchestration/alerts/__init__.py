"""Alerts: always to a JSON-lines log; to a Slack-compatible webhook and SMTP when configured.

``send_alert`` retries each delivery within a time budget and never raises into the pipeline;
``send_run_alert`` sends a run's one alert listing its failed checks. Settings come from the
environment (``CLM_ALERT_…``, see ``config.py``); credentials are never stored in the repository.
"""

from orchestration.alerts.config import AlertSettings, load_alert_settings
from orchestration.alerts.dispatch import DeliveryReport, DeliveryResult, send_alert
from orchestration.alerts.model import Alert, FailedCheck
from orchestration.alerts.run_alert import send_run_alert

__all__ = [
    "Alert",
    "AlertSettings",
    "DeliveryReport",
    "DeliveryResult",
    "FailedCheck",
    "load_alert_settings",
    "send_alert",
    "send_run_alert",
]
