"""Alerts: always to a JSON-lines log; to a Slack-compatible webhook and SMTP when configured.

``send_alert`` retries each delivery a bounded number of times and never raises into the
pipeline. Settings come from the environment (``CLM_ALERT_…``, see ``config.py``); credentials are
never stored in the repository.
"""

from orchestration.alerts.config import AlertSettings, load_alert_settings
from orchestration.alerts.dispatch import DeliveryReport, DeliveryResult, send_alert
from orchestration.alerts.model import Alert

__all__ = [
    "Alert",
    "AlertSettings",
    "DeliveryReport",
    "DeliveryResult",
    "load_alert_settings",
    "send_alert",
]
