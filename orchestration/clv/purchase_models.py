"""The candidate purchase (buy-till-you-die) models, behind one small interface.

Each candidate fits on ``(x, t_x, T)`` and predicts P(alive) and expected purchases in
(T, T + t]. The holdout report (orchestration/clv/holdout.py) compares them and run_clv uses the
chosen one. ``gives_one_time_buyers_churn`` says whether the model's P(alive) of a customer
without a repeat purchase is an estimate: BG/NBD's is 1 by construction, whatever the silence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from numpy.typing import ArrayLike

from orchestration.clv import bgnbd, mbgnbd
from orchestration.clv._fitting import FloatArray

BGNBD = "bgnbd"
MBGNBD = "mbgnbd"


class PurchaseParams(Protocol):
    """r, alpha, a, b: the four parameters both candidates share by name."""

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> FloatArray: ...


class PurchaseFit(Protocol):
    """What a candidate's ``fit`` returns."""

    params: Any
    log_likelihood: float
    converged: bool
    message: str


@dataclass(frozen=True)
class PurchaseModel:
    """One candidate: its name, label, fitter and predictors."""

    name: str
    label: str
    gives_one_time_buyers_churn: bool
    fit: Callable[[ArrayLike, ArrayLike, ArrayLike], PurchaseFit]
    probability_alive: Callable[[Any, ArrayLike, ArrayLike, ArrayLike], FloatArray]
    expected_purchases: Callable[[Any, ArrayLike, ArrayLike, ArrayLike, ArrayLike], FloatArray]
    expected_purchases_if_alive: Callable[[Any, ArrayLike, ArrayLike, ArrayLike], FloatArray]


CANDIDATES: dict[str, PurchaseModel] = {
    BGNBD: PurchaseModel(
        name=BGNBD,
        label="BG/NBD (Fader, Hardie & Lee 2005)",
        gives_one_time_buyers_churn=False,
        fit=bgnbd.fit,
        probability_alive=bgnbd.probability_alive,
        expected_purchases=bgnbd.expected_purchases,
        expected_purchases_if_alive=bgnbd.expected_purchases_if_alive,
    ),
    MBGNBD: PurchaseModel(
        name=MBGNBD,
        label="MBG/NBD (Batislam, Denizel & Filiztekin 2007)",
        gives_one_time_buyers_churn=True,
        fit=mbgnbd.fit,
        probability_alive=mbgnbd.probability_alive,
        expected_purchases=mbgnbd.expected_purchases,
        expected_purchases_if_alive=mbgnbd.expected_purchases_if_alive,
    ),
}
