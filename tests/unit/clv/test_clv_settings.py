"""CLM_CLV_HOLDOUT_WEEKS: default, override, and a clear error for a bad value."""

from __future__ import annotations

import pytest

from orchestration import settings
from orchestration.defs.clv.assets import holdout_weeks


def test_default_and_override(monkeypatch) -> None:
    monkeypatch.delenv("CLM_CLV_HOLDOUT_WEEKS", raising=False)
    assert holdout_weeks() == int(settings.declared("CLM_CLV_HOLDOUT_WEEKS").default) == 26
    monkeypatch.setenv("CLM_CLV_HOLDOUT_WEEKS", "0")
    assert holdout_weeks() == 0
    monkeypatch.setenv("CLM_CLV_HOLDOUT_WEEKS", "13")
    assert holdout_weeks() == 13


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_value_names_the_setting(monkeypatch, value) -> None:
    monkeypatch.setenv("CLM_CLV_HOLDOUT_WEEKS", value)
    with pytest.raises(ValueError, match="CLM_CLV_HOLDOUT_WEEKS"):
        holdout_weeks()
