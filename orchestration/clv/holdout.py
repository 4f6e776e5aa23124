"""Calibration/holdout report of the candidate purchase models, and the choice made from it.

Each run splits the customers' history at a cut-off (as_of_date minus the holdout): every
candidate (purchase_models.CANDIDATES) is fitted on the customers acquired up to the cut-off,
with their purchases up to the cut-off only, and predicts each one's purchases in the holdout
(the cut-off to as_of_date, a known length). Predictions are compared with what the customers
actually bought there, per customer (MAE, RMSE) and in total, for all of them and per
calibration-frequency bucket (Fader, Hardie & Lee 2005's validation, section 4).

The choice (``choose``; docs/clv.md "How the model is chosen"):
- repeat buyers (x ≥ 1) get the candidate with the lowest holdout RMSE per customer over the
  calibration customers with x ≥ 1 (bucket ``1+``);
- one-time buyers (x = 0) get the candidate with the lowest holdout RMSE over the calibration
  customers with x = 0 (bucket ``0``) among those whose P(alive) is an estimate for them, which
  excludes BG/NBD (its P(alive) is 1 for every one-time buyer by construction);
- ties (RMSE within 1e-9) go to the model listed first in ``PREFERENCE``, and without a holdout
  report (too little history) MBG/NBD is used for everyone; a candidate whose full fit failed
  is never chosen.
RMSE, not MAE: the models predict each customer's *expected* number of purchases, the value
that minimises the squared error; the absolute error is minimised by the median, which for
most customers is 0, so MAE rewards a model that under-predicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orchestration.clv._fitting import FloatArray
from orchestration.clv.bgnbd import ClvInputError
from orchestration.clv.purchase_models import BGNBD, CANDIDATES, MBGNBD, PurchaseFit

# (label, lowest x, highest x) of the calibration frequency; "1+" and "all" are the unions.
FREQUENCY_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8+", 8, np.inf),
    ("1+", 1, np.inf),
    ("all", 0, np.inf),
)
REPEAT_BUCKET = "1+"
ONE_TIME_BUCKET = "0"
# Ties and the no-report default: the model that gives every customer a churn estimate first.
PREFERENCE: tuple[str, ...] = (MBGNBD, BGNBD)
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class HoldoutRow:
    """One model × frequency bucket of the holdout comparison."""

    model: str
    frequency_bucket: str
    bucket_order: int
    customers: int
    actual_purchases: int
    predicted_purchases: float
    mae: float | None
    rmse: float | None


@dataclass(frozen=True)
class HoldoutReport:
    """The rows, each candidate's calibration fit (None if it failed) and why any failed."""

    rows: tuple[HoldoutRow, ...]
    fits: dict[str, PurchaseFit | None]
    reasons: tuple[str, ...] = field(default=())

    def rmse(self, model: str, bucket: str) -> float | None:
        """The holdout RMSE of ``model`` in ``bucket``; None when not computed or empty."""
        for row in self.rows:
            if row.model == model and row.frequency_bucket == bucket:
                return row.rmse
        return None


@dataclass(frozen=True)
class Choice:
    """The model used for repeat buyers and the one used for one-time buyers (None: none)."""

    repeat_buyers: str | None
    one_time_buyers: str | None


def _bucket_rows(model: str, x: FloatArray, actual: FloatArray, predicted: FloatArray):
    for order, (label, low, high) in enumerate(FREQUENCY_BUCKETS):
        inside = (x >= low) & (x <= high)
        count = int(inside.sum())
        error = predicted[inside] - actual[inside]
        yield HoldoutRow(
            model=model,
            frequency_bucket=label,
            bucket_order=order,
            customers=count,
            actual_purchases=int(actual[inside].sum()),
            predicted_purchases=float(predicted[inside].sum()),
            mae=float(np.abs(error).mean()) if count else None,
            rmse=float(np.sqrt(np.mean(error**2))) if count else None,
        )


def holdout_report(
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    actual: FloatArray,
    holdout_length: float,
    models: tuple[str, ...] = tuple(CANDIDATES),
) -> HoldoutReport:
    """Fit each candidate on the calibration summary and compare its holdout predictions.

    ``x, t_x, T`` describe the calibration period (up to the cut-off), ``actual`` the purchases
    each of those customers made in the holdout, of ``holdout_length`` (same time unit). A
    candidate that cannot be fitted is left out of the rows, with its reason.
    """
    actual_ = np.asarray(actual, dtype=np.float64).ravel()
    if actual_.shape != np.shape(x) or np.any(actual_ < 0) or not np.all(np.isfinite(actual_)):
        raise ClvInputError("holdout purchases must be one non-negative count per customer")
    rows: list[HoldoutRow] = []
    fits: dict[str, PurchaseFit | None] = {}
    reasons: list[str] = []
    for name in models:
        model = CANDIDATES[name]
        try:
            fit = model.fit(x, t_x, T)
        except ClvInputError:
            raise
        except (ValueError, ArithmeticError) as error:
            fits[name] = None
            reasons.append(f"holdout: {name} fit failed: {error}")
            continue
        if not fit.converged:
            fits[name] = None
            reasons.append(f"holdout: {name} fit did not converge: {fit.message}")
            continue
        predicted = model.expected_purchases(fit.params, holdout_length, x, t_x, T)
        if not np.all(np.isfinite(predicted)):
            fits[name] = None
            reasons.append(f"holdout: {name} predictions are not finite at {fit.params}")
            continue
        fits[name] = fit
        rows.extend(_bucket_rows(name, np.asarray(x, dtype=np.float64), actual_, predicted))
    return HoldoutReport(rows=tuple(rows), fits=fits, reasons=tuple(reasons))


def _best(report: HoldoutReport | None, bucket: str, eligible: list[str]) -> str | None:
    """The eligible model with the lowest RMSE in ``bucket``; PREFERENCE order breaks ties."""
    if not eligible:
        return None
    ranked = sorted(eligible, key=PREFERENCE.index)
    scored = [(report.rmse(name, bucket), name) for name in ranked] if report else []
    scored = [(rmse, name) for rmse, name in scored if rmse is not None]
    if not scored:
        return ranked[0]
    best = min(rmse for rmse, _ in scored)
    return next(name for rmse, name in scored if rmse <= best + TIE_TOLERANCE)


def choose(report: HoldoutReport | None, fitted: set[str]) -> Choice:
    """Apply the rule of the module docstring; ``fitted`` = candidates whose full fit worked."""
    available = [name for name in PREFERENCE if name in fitted]
    churn_capable = [name for name in available if CANDIDATES[name].gives_one_time_buyers_churn]
    repeat = _best(report, REPEAT_BUCKET, available)
    # Without a churn-capable model, one-time buyers fall back to the repeat buyers' model.
    one_time = _best(report, ONE_TIME_BUCKET, churn_capable) or repeat
    return Choice(repeat_buyers=repeat, one_time_buyers=one_time)


def is_chosen(choice: Choice, model: str, bucket: str) -> bool:
    """Whether ``model`` is the one used for the customers of ``bucket`` (all of them)."""
    if bucket == ONE_TIME_BUCKET:
        return model == choice.one_time_buyers
    if bucket == "all":
        return model == choice.repeat_buyers == choice.one_time_buyers
    return model == choice.repeat_buyers
