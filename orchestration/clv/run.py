"""Fit BG/NBD + Gamma-Gamma on the warehouse's purchase summary and write the CLV tables.

Reads ``intermediate.int_customer_purchases_summarized`` (KPIS.md ``customer_clv``: frequency =
purchase days − 1, recency_days = last − first purchase day, t_days = as_of_date − first purchase
day, monetary_value = mean net revenue of the purchase days after the first, 0 when none).
Writes, in one transaction, ``clv.customer_clv_predictions`` (replaced) and one appended row of
``marts.customer_clv_model`` (orchestration/clv/tables.py).

Degenerate data never raises: with no customers the predictions table is empty; with too few
repeat buyers (or a fit that does not converge) the affected prediction columns are NULL; in
both cases the model row says converged = false and the reason is logged. Broken inputs (NULLs,
negative values, recency > T, duplicate customer keys) raise ClvInputError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.clv import bgnbd, gamma_gamma, predict, tables
from orchestration.clv._fitting import FloatArray
from orchestration.clv.bgnbd import BgNbdFit, ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaFit

logger = logging.getLogger(__name__)

INPUT_TABLE = "intermediate.int_customer_purchases_summarized"
# Below this many repeat buyers the drop-out and spend heterogeneity are not estimable in any
# useful sense (a handful of points for 4 resp. 3 parameters); such a fit is reported as not
# converged rather than published.
MIN_REPEAT_CUSTOMERS = 10


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
    bgnbd: BgNbdFit | None
    gamma_gamma: GammaGammaFit | None
    converged: bool
    reason: str | None
    predictions_written: int
    predictions_with_clv: int

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
    x, t_x, T = bgnbd.check_rfm(
        column("frequency"),
        column("recency_days") / days_per_unit,
        column("t_days") / days_per_unit,
    )
    monetary = column("monetary_value")
    if not np.all(np.isfinite(monetary)):
        raise ClvInputError(f"{INPUT_TABLE}: monetary_value has NaN or infinite values")
    return _Inputs(customer_key=keys, x=x, t_x=t_x, T=T, monetary=monetary)


def _fit_bgnbd(inputs: _Inputs, repeat_customers: int) -> tuple[BgNbdFit | None, str | None]:
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        return None, (
            f"only {repeat_customers} repeat buyers (< {MIN_REPEAT_CUSTOMERS}): BG/NBD not fitted"
        )
    try:
        fit = bgnbd.fit(inputs.x, inputs.t_x, inputs.T)
    except ClvInputError:
        raise
    except (ValueError, ArithmeticError) as error:
        logger.exception("BG/NBD fit failed")
        return None, f"BG/NBD fit failed: {error}"
    if not fit.converged:
        return fit, f"BG/NBD fit did not converge: {fit.message}"
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
        # E[M] for customers without repeat spend is pγ/(q−1): undefined, so their value is NULL.
        logger.warning(
            "Gamma-Gamma q = %.4g ≤ 1: no population mean spend; customers without repeat "
            "purchases get a NULL expected_order_value",
            fit.params.q,
        )
    return fit, None


def _nullable(values: FloatArray) -> pa.Array:
    """NaN → NULL, so that "not predicted" reads as NULL in SQL rather than as NaN."""
    return pa.array(values, type=pa.float64(), mask=~np.isfinite(values))


def _write(
    con: duckdb.DuckDBPyConnection,
    predictions: pa.Table,
    model_row: tuple[object, ...],
) -> None:
    """Replace the predictions and append the model row in one transaction (all or nothing)."""
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
        con.execute(f"insert into {tables.MODEL_TABLE} values ({placeholders})", model_row)
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
) -> ClvFitResult:
    """Fit both models on the purchase summary, write predictions and the model row.

    ``as_of_date`` is the date the summary was computed at (recorded, not recomputed).
    ``time_unit`` ("days" or "weeks") only rescales alpha and the log-likelihood; predictions
    do not depend on it. ``expected_purchases`` is over the next ``horizon_months`` months.
    """
    as_of = date.fromisoformat(as_of_date) if isinstance(as_of_date, str) else as_of_date
    predict.units_per_month(time_unit)  # validates time_unit before anything is read
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a whole number ≥ 0")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1:
        raise ValueError("monthly_discount_rate must be finite and greater than -1")

    fitted_at = datetime.now(UTC).replace(tzinfo=None)
    tables.ensure_clv_tables(con)
    inputs = _read_inputs(con, time_unit)
    n = int(inputs.x.size)
    repeat_customers = int(np.count_nonzero(inputs.x > 0))

    nan = np.full(n, np.nan)
    p_alive, expected, order_value, clv = nan, nan, nan, nan
    bg_fit: BgNbdFit | None = None
    gg_fit: GammaGammaFit | None = None
    reasons: list[str] = []
    if n == 0:
        reasons.append(f"{INPUT_TABLE} is empty: no customers to fit")
    else:
        bg_fit, bg_reason = _fit_bgnbd(inputs, repeat_customers)
        if bg_reason is None and bg_fit is not None:
            params = bg_fit.params
            p_alive = bgnbd.probability_alive(params, inputs.x, inputs.t_x, inputs.T)
            purchases = predict.horizon_purchases(
                params,
                inputs.x,
                inputs.t_x,
                inputs.T,
                horizon_months,
                monthly_discount_rate,
                time_unit,
            )
            expected = purchases.expected
            gg_fit, gg_reason = _fit_gamma_gamma(inputs)
            if gg_reason is None and gg_fit is not None:
                order_value = gamma_gamma.conditional_expected_order_value(
                    gg_fit.params, inputs.x, inputs.monetary
                )
                clv = purchases.discounted * order_value
            else:
                reasons.append(str(gg_reason))
        else:
            reasons.append(str(bg_reason))

    converged = not reasons
    reason = "; ".join(reasons) if reasons else None
    if reason:
        logger.warning("CLV fit as of %s not converged: %s", as_of, reason)

    predictions = pa.table(
        {
            "customer_key": inputs.customer_key,
            "p_alive": _nullable(p_alive),
            "expected_purchases": _nullable(expected),
            "expected_order_value": _nullable(order_value),
            "predicted_clv": _nullable(clv),
        }
    )
    bg = bg_fit.params if bg_fit else None
    gg = gg_fit.params if gg_fit else None
    model_row = (
        fitted_at,
        as_of,
        time_unit,
        *(bg.as_array().tolist() if bg else [None] * 4),
        *(gg.as_array().tolist() if gg else [None] * 3),
        n,
        bg_fit.log_likelihood if bg_fit else None,
        converged,
    )
    _write(con, predictions, model_row)
    with_clv = int(np.count_nonzero(np.isfinite(clv)))
    logger.info(
        "CLV fit as of %s: %d customers (%d repeat), converged=%s, %d with predicted_clv",
        as_of,
        n,
        repeat_customers,
        converged,
        with_clv,
    )
    return ClvFitResult(
        as_of_date=as_of,
        fitted_at=fitted_at,
        time_unit=time_unit,
        horizon_months=int(horizon_months),
        monthly_discount_rate=float(monthly_discount_rate),
        customers=n,
        repeat_customers=repeat_customers,
        bgnbd=bg_fit,
        gamma_gamma=gg_fit,
        converged=converged,
        reason=reason,
        predictions_written=n,
        predictions_with_clv=with_clv,
    )
