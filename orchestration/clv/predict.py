"""Discounted predicted CLV over a horizon of months, from a fitted purchase model + Gamma-Gamma.

predicted_clv = Σ_{m=1..H} (E[Y(t_m)] − E[Y(t_{m−1})]) · E[M] / (1 + d)^m

E[Y(t)] is the purchase model's conditional expected number of purchases in (T, T + t] (BG/NBD:
FHL 2005 eq. (10); MBG/NBD: orchestration/clv/mbgnbd.py), so the difference is the expected purchases in month m; E[M] is Gamma-Gamma's conditional
expected order value; d is the monthly discount rate (docs/kpis.md ``clv_monthly_discount_rate``),
applied at the end of each month. This is the discrete-time form of the discounted expected
residual transactions × margin of Fader, Hardie & Lee (2005, "RFM and CLV") without a margin:
docs/kpis.md asks for CLV in net revenue.

Months are converted to the model's time unit as an average month of 30.4375 days
(365.25 / 12; within 0.002 % of the Gregorian mean month 365.2425 / 12, far below model error),
so month m ends at t_m = m × 30.4375 days, or m × 30.4375 / 7 in weeks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from orchestration.clv import bgnbd
from orchestration.clv._fitting import FloatArray, group_rows
from orchestration.clv.bgnbd import ClvInputError
from orchestration.clv.purchase_models import BGNBD, CANDIDATES, PurchaseParams

DAYS_PER_MONTH = 30.4375
# How many days one unit of each supported time unit is.
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}


def units_per_month(time_unit: str) -> float:
    """Length of one month in ``time_unit`` ("days" or "weeks")."""
    try:
        return DAYS_PER_MONTH / DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, not {time_unit!r}"
        ) from None


class HorizonPurchases(NamedTuple):
    """Per customer: expected purchases over the horizon, and the same discounted monthly."""

    expected: FloatArray
    discounted: FloatArray


def horizon_purchases(
    params: PurchaseParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    horizon_months: int,
    monthly_discount_rate: float,
    time_unit: str = "days",
    model: str = BGNBD,
) -> HorizonPurchases:
    """E[Y(t_H)] and Σ_{m=1..H} (E[Y(t_m)] − E[Y(t_{m−1})]) / (1 + d)^m; both 0 for H = 0.

    ``model`` names the purchase model ``params`` belong to (purchase_models.CANDIDATES).
    Evaluated once per unique (x, T) row: eq. (10)'s 2F1 is the expensive part, and
    day-granular data repeats rows heavily.
    """
    purchase_model = CANDIDATES[model]
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a whole number ≥ 0")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1:
        raise ValueError("monthly_discount_rate must be finite and greater than -1")
    x_, t_x_, T_ = bgnbd.check_rfm(x, t_x, T)
    month = units_per_month(time_unit)
    if x_.size == 0:
        return HorizonPurchases(np.zeros(0), np.zeros(0))
    alive = purchase_model.probability_alive(params, x_, t_x_, T_)
    # Eq. (10) = P(alive) × a factor of (x, T, t) alone: evaluate that factor (and its 2F1)
    # once per unique (x, T) pair, of which day-granular data has few.
    (ux, uT), inverse, _ = group_rows(x_, T_)
    discounted = np.zeros_like(ux)
    previous = np.zeros_like(ux)
    for m in range(1, int(horizon_months) + 1):
        cumulative = purchase_model.expected_purchases_if_alive(params, m * month, ux, uT)
        discounted += (cumulative - previous) / (1.0 + monthly_discount_rate) ** m
        previous = cumulative
    return HorizonPurchases(
        expected=alive * previous[inverse], discounted=alive * discounted[inverse]
    )


def predicted_clv(
    params: PurchaseParams,
    expected_order_value: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    horizon_months: int,
    monthly_discount_rate: float,
    time_unit: str = "days",
    model: str = BGNBD,
) -> FloatArray:
    """Discounted expected net revenue over the next ``horizon_months`` months, per customer.

    ``x, t_x, T`` are in ``time_unit``. A horizon of 0 gives 0. NaN order values give NaN.
    """
    order_value = np.asarray(expected_order_value, dtype=np.float64).ravel()
    purchases = horizon_purchases(
        params, x, t_x, T, horizon_months, monthly_discount_rate, time_unit, model
    ).discounted
    if order_value.shape != purchases.shape:
        raise ClvInputError("expected_order_value must have one value per customer")
    return purchases * order_value
