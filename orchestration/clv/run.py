"""Fit the CLV models on the warehouse's purchase summary and write the CLV tables.

Reads ``intermediate.int_customer_purchases_summarized`` (frequency = purchase days − 1,
recency_days = last − first purchase day, t_days = as_of_date − first purchase day,
monetary_value = mean net revenue of the purchase days after the first, 0 when none) and, for
the holdout report, ``intermediate.int_customer_purchase_days`` (one row per customer and
purchase day). Fits BG/NBD, MBG/NBD and Gamma-Gamma on everyone, runs the calibration/holdout
report (orchestration/clv/holdout.py), chooses the purchase model for repeat and for one-time
buyers from it, and writes, in one transaction, the tables of orchestration/clv/tables.py:
``clv.customer_clv_predictions`` (replaced), ``marts.customer_clv_model`` (replaced: the
current fit), ``marts.customer_clv_model_history`` (one row appended) and
``marts.clv_model_holdout`` (replaced). docs/clv.md describes all of it.

Degenerate data never raises: with no customers the predictions table is empty; with too few
repeat buyers (or a fit that does not converge) the affected prediction columns are NULL; in
both cases the model row says converged = false and the reason is logged. Too little history
for a holdout only leaves the holdout table empty (and MBG/NBD is used). Broken inputs (NULLs,
negative values, recency > T, duplicate customer keys) raise ClvInputError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.clv import bgnbd, gamma_gamma, holdout, predict, tables
from orchestration.clv._fitting import FloatArray
from orchestration.clv.bgnbd import ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaFit
from orchestration.clv.holdout import Choice, HoldoutReport
from orchestration.clv.purchase_models import (
    BGNBD,
    CANDIDATES,
    MBGNBD,
    PurchaseFit,
    PurchaseParams,
)

logger = logging.getLogger(__name__)

INPUT_TABLE = "intermediate.int_customer_purchases_summarized"
PURCHASE_DAYS_TABLE = "intermediate.int_customer_purchase_days"
# Below this many repeat buyers the drop-out and spend heterogeneity are not estimable in any
# useful sense (a handful of points for 4 resp. 3 parameters); such a fit is reported as not
# converged rather than published. The holdout's calibration period needs as many.
MIN_REPEAT_CUSTOMERS = 10
# An expected next order further away than this is no date anyone plans with: NULL.
MAX_NEXT_ORDER_DAYS = 36_525


@dataclass(frozen=True)
class ClvFitResult:
    """What one ``run_clv`` did: the fits (None when not attempted), counts, outcome."""

    as_of_date: date
    fitted_at: datetime
    time_unit: str
    horizon_months: int
    monthly_discount_rate: float
    customers: int
    repeat_customers: int
    purchase_fits: dict[str, PurchaseFit | None]
    gamma_gamma: GammaGammaFit | None
    holdout: HoldoutReport | None
    choice: Choice
    converged: bool
    reason: str | None
    predictions_with_clv: int

    @property
    def bgnbd(self) -> PurchaseFit | None:
        """The BG/NBD fit (None when not attempted or failed)."""
        return self.purchase_fits.get(BGNBD)

    @property
    def mbgnbd(self) -> PurchaseFit | None:
        """The MBG/NBD fit (None when not attempted or failed)."""
        return self.purchase_fits.get(MBGNBD)

    @property
    def log_likelihood(self) -> float | None:
        """BG/NBD log-likelihood in ``time_unit`` (the value stored in customer_clv_model)."""
        return self.bgnbd.log_likelihood if self.bgnbd else None


@dataclass(frozen=True)
class _Inputs:
    customer_key: pa.Array
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    monetary: FloatArray
    days_since_last_purchase: FloatArray


def _read_inputs(con: duckdb.DuckDBPyConnection, time_unit: str) -> _Inputs:
    """Read and validate the summary; recency and T converted from days to ``time_unit``."""
    table = con.sql(
        f"""
        select
            cast(customer_key as varchar) as customer_key,
            cast(frequency as double) as frequency,
            cast(recency_days as double) as recency_days,
            cast(t_days as double) as t_days,
            cast(monetary_value as double) as monetary_value,
        from {INPUT_TABLE}
        order by customer_key
        """
    ).to_arrow_table()
    keys = table.column("customer_key").combine_chunks()
    if keys.null_count:
        raise ClvInputError(f"{INPUT_TABLE}: {keys.null_count} rows have a NULL customer_key")
    if len(keys) != len(pc.unique(keys)):
        raise ClvInputError(f"{INPUT_TABLE}: customer_key is not unique")

    def column(name: str) -> FloatArray:
        values = table.column(name).combine_chunks()
        if values.null_count:
            raise ClvInputError(f"{INPUT_TABLE}: {values.null_count} NULL values in {name}")
        return values.to_numpy(zero_copy_only=False).astype(np.float64)

    days_per_unit = predict.DAYS_PER_UNIT[time_unit]
    recency_days, t_days = column("recency_days"), column("t_days")
    x, t_x, T = bgnbd.check_rfm(
        column("frequency"), recency_days / days_per_unit, t_days / days_per_unit
    )
    monetary = column("monetary_value")
    if not np.all(np.isfinite(monetary)):
        raise ClvInputError(f"{INPUT_TABLE}: monetary_value has NaN or infinite values")
    return _Inputs(
        customer_key=keys,
        x=x,
        t_x=t_x,
        T=T,
        monetary=monetary,
        days_since_last_purchase=t_days - recency_days,
    )


@dataclass(frozen=True)
class _Calibration:
    """The holdout's calibration summary (in time_unit) and each customer's holdout purchases."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    holdout_purchases: FloatArray


def _read_calibration(
    con: duckdb.DuckDBPyConnection, as_of: date, cutoff: date, time_unit: str
) -> _Calibration:
    """Summarise the purchase days up to ``cutoff`` (customers acquired by then) and count each
    one's purchase days in (cutoff, as_of]: the same definitions as INPUT_TABLE, at the cut-off.
    """
    rows = con.execute(
        f"""
        with purchase_days as (
            select customer_key, purchase_date
            from {PURCHASE_DAYS_TABLE}
            where purchase_date <= $as_of
        )
        select
            cast(count(*) filter (where purchase_date <= $cutoff) - 1 as double) as frequency,
            cast(date_diff(
                'day',
                min(purchase_date),
                max(purchase_date) filter (where purchase_date <= $cutoff)
            ) as double) as recency_days,
            cast(date_diff('day', min(purchase_date), $cutoff) as double) as t_days,
            cast(count(*) filter (where purchase_date > $cutoff) as double) as holdout_purchases,
        from purchase_days
        group by customer_key
        having min(purchase_date) <= $cutoff
        order by customer_key
        """,
        {"as_of": as_of, "cutoff": cutoff},
    ).fetchnumpy()
    days_per_unit = predict.DAYS_PER_UNIT[time_unit]
    x, t_x, T = bgnbd.check_rfm(
        rows["frequency"],
        np.asarray(rows["recency_days"], dtype=np.float64) / days_per_unit,
        np.asarray(rows["t_days"], dtype=np.float64) / days_per_unit,
    )
    return _Calibration(
        x=x, t_x=t_x, T=T, holdout_purchases=np.asarray(rows["holdout_purchases"], dtype=float)
    )


def _run_holdout(
    con: duckdb.DuckDBPyConnection, as_of: date, holdout_weeks: int, time_unit: str
) -> tuple[HoldoutReport | None, str | None]:
    """The holdout report, or None and why there is none."""
    if holdout_weeks == 0:
        return None, "holdout report switched off (holdout_weeks = 0)"
    if not tables.table_exists(con, PURCHASE_DAYS_TABLE):
        return None, f"no holdout report: {PURCHASE_DAYS_TABLE} does not exist"
    cutoff = as_of - timedelta(weeks=holdout_weeks)
    calibration = _read_calibration(con, as_of, cutoff, time_unit)
    repeat = int(np.count_nonzero(calibration.x > 0))
    if repeat < MIN_REPEAT_CUSTOMERS:
        return None, (
            f"no holdout report: only {repeat} repeat buyers up to {cutoff} "
            f"(< {MIN_REPEAT_CUSTOMERS}); shorten CLM_CLV_HOLDOUT_WEEKS"
        )
    report = holdout.holdout_report(
        calibration.x,
        calibration.t_x,
        calibration.T,
        calibration.holdout_purchases,
        holdout_weeks * 7 / predict.DAYS_PER_UNIT[time_unit],
    )
    return report, "; ".join(report.reasons) or None


def _fit_purchase_model(
    name: str, inputs: _Inputs, repeat_customers: int
) -> tuple[PurchaseFit | None, str | None]:
    """Fit one candidate on everyone: (fit or None, why it cannot be used or None)."""
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        return None, (
            f"only {repeat_customers} repeat buyers (< {MIN_REPEAT_CUSTOMERS}): {name} not fitted"
        )
    try:
        fit = CANDIDATES[name].fit(inputs.x, inputs.t_x, inputs.T)
    except ClvInputError:
        raise
    except (ValueError, ArithmeticError) as error:
        logger.exception("%s fit failed", name)
        return None, f"{name} fit failed: {error}"
    if not fit.converged:
        return fit, f"{name} fit did not converge: {fit.message}"
    return fit, None


def _fit_gamma_gamma(inputs: _Inputs) -> tuple[GammaGammaFit | None, str | None]:
    spenders = (inputs.x > 0) & (inputs.monetary > 0)
    count = int(spenders.sum())
    if count < MIN_REPEAT_CUSTOMERS:
        return None, (
            f"only {count} repeat buyers with a positive spend (< {MIN_REPEAT_CUSTOMERS}): "
            "Gamma-Gamma not fitted"
        )
    try:
        fit = gamma_gamma.fit(inputs.x[spenders], inputs.monetary[spenders])
    except ClvInputError:
        raise
    except (ValueError, ArithmeticError) as error:
        logger.exception("Gamma-Gamma fit failed")
        return None, f"Gamma-Gamma fit failed: {error}"
    if not fit.converged:
        return fit, f"Gamma-Gamma fit did not converge: {fit.message}"
    if fit.params.q <= 1.0:
        # E[M] for customers without repeat purchases is pγ/(q−1): undefined, so their value is NULL.
        logger.warning(
            "Gamma-Gamma q = %.4g ≤ 1: no population mean spend; customers without repeat "
            "purchases get a NULL expected_order_value",
            fit.params.q,
        )
    return fit, None


def expected_days_between_purchases(
    params: PurchaseParams, x: FloatArray, T: FloatArray, days_per_unit: float
) -> FloatArray:
    """(α + T)/(r + x) in days: 1 / E[λ | alive, x, T], the expected time between purchases of
    a customer still active (the purchase rate's posterior is gamma(r + x, α + T) in BG/NBD and
    MBG/NBD alike).
    """
    return (params.alpha + T) / (params.r + x) * days_per_unit


def _nullable(values: FloatArray) -> pa.Array:
    """NaN → NULL, so that "not predicted" reads as NULL in SQL rather than as NaN."""
    return pa.array(values, type=pa.float64(), mask=~np.isfinite(values))


def _next_order_dates(as_of: date, days_since_last: FloatArray, interval: FloatArray) -> pa.Array:
    """as_of − days since the last purchase + the interval, rounded to days; NULL if unknown."""
    offset = interval - days_since_last
    known = np.isfinite(offset) & (interval <= MAX_NEXT_ORDER_DAYS)
    epoch_days = (as_of - date(1970, 1, 1)).days + np.round(np.where(known, offset, 0.0))
    return pa.array(epoch_days.astype(np.int32), type=pa.date32(), mask=~known)


def _write(
    con: duckdb.DuckDBPyConnection,
    predictions: pa.Table,
    model_row: tuple[object, ...],
    holdout_rows: list[tuple[object, ...]],
) -> None:
    """Replace predictions, current fit and holdout report, append the history row, comment
    every table: one transaction (all or nothing)."""
    con.execute("begin transaction")
    try:
        con.execute(tables.PREDICTIONS_REPLACE_DDL)
        con.register("clv_predictions_new", predictions)
        try:
            con.execute(
                f"insert into {tables.PREDICTIONS_TABLE} "
                f"select {', '.join(name for name, _ in tables.PREDICTIONS_COLUMNS)} "
                "from clv_predictions_new"
            )
        finally:
            con.unregister("clv_predictions_new")
        placeholders = ", ".join("?" for _ in tables.MODEL_COLUMNS)
        con.execute(tables.MODEL_REPLACE_DDL)
        con.execute(f"insert into {tables.MODEL_TABLE} values ({placeholders})", model_row)
        con.execute(f"insert into {tables.HISTORY_TABLE} values ({placeholders})", model_row)
        con.execute(tables.HOLDOUT_REPLACE_DDL)
        if holdout_rows:
            con.executemany(
                f"insert into {tables.HOLDOUT_TABLE} values "
                f"({', '.join('?' for _ in tables.HOLDOUT_COLUMNS)})",
                holdout_rows,
            )
        for statement in tables.comment_statements():
            con.execute(statement)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def run_clv(
    con: duckdb.DuckDBPyConnection,
    as_of_date: date | str,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit: str = "days",
    holdout_weeks: int = 26,
) -> ClvFitResult:
    """Fit the models on the purchase summary, write predictions, model rows, holdout report.

    ``as_of_date`` is the date the summary was computed at (recorded, not recomputed).
    ``time_unit`` ("days" or "weeks") only rescales alpha and the log-likelihoods; predictions
    do not depend on it. ``expected_purchases`` is over the next ``horizon_months`` months.
    ``holdout_weeks`` is the holdout of the calibration/holdout report (0: none).
    """
    as_of = date.fromisoformat(as_of_date) if isinstance(as_of_date, str) else as_of_date
    predict.units_per_month(time_unit)  # validates time_unit before anything is read
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a whole number ≥ 0")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1:
        raise ValueError("monthly_discount_rate must be finite and greater than -1")
    if holdout_weeks < 0 or int(holdout_weeks) != holdout_weeks:
        raise ValueError("holdout_weeks must be a whole number ≥ 0")

    fitted_at = datetime.now(UTC).replace(tzinfo=None)
    tables.ensure_clv_tables(con)
    inputs = _read_inputs(con, time_unit)
    n = int(inputs.x.size)
    repeat_customers = int(np.count_nonzero(inputs.x > 0))
    days_per_unit = predict.DAYS_PER_UNIT[time_unit]

    nan = np.full(n, np.nan)
    p_alive, expected, discounted, interval = nan, nan.copy(), nan.copy(), nan.copy()
    order_value, clv = nan, nan
    fits: dict[str, PurchaseFit | None] = {}
    gg_fit: GammaGammaFit | None = None
    report: HoldoutReport | None = None
    choice = Choice(repeat_buyers=None, one_time_buyers=None)
    reasons: list[str] = []  # what makes the fit unusable: converged = false
    notes: list[str] = []  # what the model row should say but does not affect predictions
    if n == 0:
        reasons.append(f"{INPUT_TABLE} is empty: no customers to fit")
    else:
        usable: set[str] = set()
        fit_reasons: dict[str, str] = {}
        for name in CANDIDATES:
            fit, why = _fit_purchase_model(name, inputs, repeat_customers)
            fits[name] = fit
            if why is None:
                usable.add(name)
            else:
                fit_reasons[name] = why
        if usable:
            report, holdout_note = _run_holdout(con, as_of, int(holdout_weeks), time_unit)
            if holdout_note:
                notes.append(holdout_note)
            choice = holdout.choose(report, usable)
            notes.extend(fit_reasons.values())
        else:
            reasons.extend(fit_reasons.values())
        p_alive = nan.copy()
        groups = ((choice.repeat_buyers, inputs.x > 0), (choice.one_time_buyers, inputs.x == 0))
        for name, members in groups:
            if name is None or not members.any():
                continue
            params = fits[name].params
            x, t_x, T = inputs.x[members], inputs.t_x[members], inputs.T[members]
            p_alive[members] = CANDIDATES[name].probability_alive(params, x, t_x, T)
            purchases = predict.horizon_purchases(
                params, x, t_x, T, horizon_months, monthly_discount_rate, time_unit, name
            )
            expected[members] = purchases.expected
            discounted[members] = purchases.discounted
            interval[members] = expected_days_between_purchases(params, x, T, days_per_unit)
        if usable:
            gg_fit, gg_reason = _fit_gamma_gamma(inputs)
            if gg_reason is None and gg_fit is not None:
                order_value = gamma_gamma.conditional_expected_order_value(
                    gg_fit.params, inputs.x, inputs.monetary
                )
                clv = discounted * order_value
            else:
                reasons.append(str(gg_reason))

    converged = not reasons
    reason = "; ".join([*reasons, *notes]) or None
    if reasons:
        logger.warning("CLV fit as of %s not converged: %s", as_of, reason)
    elif notes:
        logger.warning("CLV fit as of %s: %s", as_of, "; ".join(notes))

    predictions = pa.table(
        {
            "customer_key": inputs.customer_key,
            "p_alive": _nullable(p_alive),
            "expected_purchases": _nullable(expected),
            "expected_order_value": _nullable(order_value),
            "predicted_clv": _nullable(clv),
            "churn_probability": _nullable(1.0 - p_alive),
            "expected_next_order_date": _next_order_dates(
                as_of, inputs.days_since_last_purchase, interval
            ),
        }
    )
    bg, mbg = fits.get(BGNBD), fits.get(MBGNBD)
    gg = gg_fit.params if gg_fit else None
    model_row = (
        fitted_at,
        as_of,
        time_unit,
        *(bg.params.as_array().tolist() if bg else [None] * 4),
        *(gg.as_array().tolist() if gg else [None] * 3),
        n,
        bg.log_likelihood if bg else None,
        converged,
        *(mbg.params.as_array().tolist() if mbg else [None] * 4),
        mbg.log_likelihood if mbg else None,
        choice.repeat_buyers,
        choice.one_time_buyers,
        int(holdout_weeks),
        reason,
    )
    holdout_rows = []
    if report is not None:
        cutoff = as_of - timedelta(weeks=int(holdout_weeks))
        holdout_rows = [
            (
                fitted_at,
                as_of,
                cutoff,
                int(holdout_weeks) * 7,
                row.model,
                row.frequency_bucket,
                row.bucket_order,
                row.customers,
                row.actual_purchases,
                row.predicted_purchases,
                row.mae,
                row.rmse,
                holdout.is_chosen(choice, row.model, row.frequency_bucket),
            )
            for row in report.rows
        ]
    _write(con, predictions, model_row, holdout_rows)
    with_clv = int(np.count_nonzero(np.isfinite(clv)))
    logger.info(
        "CLV fit as of %s: %d customers (%d repeat), converged=%s, %d with predicted_clv, "
        "model for repeat buyers %s, for one-time buyers %s",
        as_of,
        n,
        repeat_customers,
        converged,
        with_clv,
        choice.repeat_buyers,
        choice.one_time_buyers,
    )
    return ClvFitResult(
        as_of_date=as_of,
        fitted_at=fitted_at,
        time_unit=time_unit,
        horizon_months=int(horizon_months),
        monthly_discount_rate=float(monthly_discount_rate),
        customers=n,
        repeat_customers=repeat_customers,
        purchase_fits=fits,
        gamma_gamma=gg_fit,
        holdout=report,
        choice=choice,
        converged=converged,
        reason=reason,
        predictions_with_clv=with_clv,
    )
