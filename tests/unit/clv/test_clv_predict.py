"""Discounted predicted CLV over a horizon."""

from __future__ import annotations

import numpy as np
import pytest

from orchestration.clv import bgnbd, predict
from orchestration.clv.bgnbd import BgNbdParams

WEEKS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
DAYS = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
X, T_X, T = np.array([0, 1, 2, 7]), np.array([0.0, 10.0, 30.43, 35.0]), np.array([39.0] * 4)
ORDER_VALUE = np.array([35.0, 30.0, 25.0, 50.0])


def clv(horizon: int, rate: float, params: BgNbdParams = WEEKS, unit: str = "weeks"):
    scale = 7.0 if unit == "days" else 1.0
    return predict.predicted_clv(
        params, ORDER_VALUE, X, T_X * scale, T * scale, horizon, rate, unit
    )


def test_horizon_zero_is_zero() -> None:
    assert clv(0, 0.01) == pytest.approx(np.zeros(4))


def test_undiscounted_clv_is_expected_purchases_times_order_value() -> None:
    months = 12 * predict.DAYS_PER_MONTH / 7
    expected = bgnbd.expected_purchases(WEEKS, months, X, T_X, T)
    assert clv(12, 0.0) == pytest.approx(expected * ORDER_VALUE, rel=1e-12)


def test_discounting_lowers_clv_and_longer_horizons_raise_it() -> None:
    assert np.all(clv(12, 0.01) < clv(12, 0.0))
    assert np.all(clv(12, 0.05) < clv(12, 0.01))
    assert np.all(clv(24, 0.01) > clv(12, 0.01))
    assert np.all(clv(12, 0.01) > 0)


def test_time_unit_does_not_change_predictions() -> None:
    assert clv(12, 0.01, DAYS, "days") == pytest.approx(clv(12, 0.01), rel=1e-9)


def test_one_month_by_hand() -> None:
    month = predict.DAYS_PER_MONTH / 7
    by_hand = bgnbd.expected_purchases(WEEKS, month, X, T_X, T) * ORDER_VALUE / 1.01
    assert clv(1, 0.01) == pytest.approx(by_hand, rel=1e-12)


def test_horizon_purchases_expected_is_the_horizon_total() -> None:
    result = predict.horizon_purchases(WEEKS, X, T_X, T, 6, 0.02, "weeks")
    months = 6 * predict.DAYS_PER_MONTH / 7
    assert result.expected == pytest.approx(bgnbd.expected_purchases(WEEKS, months, X, T_X, T))
    assert np.all(result.discounted < result.expected)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="time_unit"):
        predict.units_per_month("months")
    with pytest.raises(ValueError, match="horizon_months"):
        clv(-1, 0.01)
    with pytest.raises(ValueError, match="discount"):
        clv(12, -1.0)
