"""Fixtures of the alert tests: a typical alert and settings built from an environment dict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration.alerts import Alert, AlertSettings, load_alert_settings


@pytest.fixture
def alert() -> Alert:
    return Alert(
        title="fct_orders has orders with negative net revenue",
        severity="error",
        suite="fct_orders.warning",
        expectation="expect_column_values_to_be_between(net_revenue, min_value=0)",
        asset="fct_orders",
        failing_rows=37,
        sample_values=[-12.5, -0.01, "EUR -3"],
        data_docs_url="file:///srv/clm/gx/uncommitted/data_docs/local_site/index.html",
        run_id="8d3f0c2a-run",
    )


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., AlertSettings]:
    """Settings from ``CLM_ALERT_…`` values, with the log in tmp_path and fast retries."""

    def build(**env: str) -> AlertSettings:
        values = {
            "CLM_ALERT_LOG_PATH": str(tmp_path / "logs" / "nested" / "alerts.jsonl"),
            "CLM_ALERT_RETRY_BACKOFF_SECONDS": "0.01",
            "CLM_ALERT_WEBHOOK_TIMEOUT": "2",
            "CLM_ALERT_SMTP_TIMEOUT": "5",
        }
        values.update({f"CLM_ALERT_{name.upper()}": value for name, value in env.items()})
        return load_alert_settings(values)

    return build
