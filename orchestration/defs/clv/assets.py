"""Predicted CLV (BG/NBD or MBG/NBD + Gamma-Gamma) as a Python asset between two dbt steps."""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from orchestration import settings as registry
from orchestration.settings import get_settings
from orchestration.warehouse import connect

PREDICTIONS_KEY = AssetKey(["clv", "customer_clv_predictions"])
MODEL_KEY = AssetKey(["marts", "customer_clv_model"])
HISTORY_KEY = AssetKey(["marts", "customer_clv_model_history"])
HOLDOUT_KEY = AssetKey(["marts", "clv_model_holdout"])
INPUT_KEYS = [
    AssetKey(["intermediate", "int_customer_purchases_summarized"]),
    AssetKey(["intermediate", "int_customer_purchase_days"]),
    AssetKey(["intermediate", "int_as_of_date"]),
]


def holdout_weeks() -> int:
    """CLM_CLV_HOLDOUT_WEEKS, a whole number ≥ 0 (``SettingError``, a ValueError, names it)."""
    return registry.value("CLM_CLV_HOLDOUT_WEEKS")


def _spec(key: AssetKey, description: str) -> AssetSpec:
    return AssetSpec(
        key, group_name="clv", deps=INPUT_KEYS, kinds={"python", "duckdb"}, description=description
    )


@multi_asset(
    name="clv_model",
    specs=[
        _spec(
            PREDICTIONS_KEY,
            "Per customer: p_alive, churn_probability, expected purchases, order value and "
            "next order date, predicted CLV over clv_horizon_months (read by dbt's "
            "customer_clv).",
        ),
        _spec(
            MODEL_KEY,
            "The current fit, one row: parameters r, alpha, a, b (BG/NBD), mbgnbd_* "
            "(MBG/NBD), p, q, gamma (Gamma-Gamma), log-likelihoods, the model chosen for "
            "repeat and one-time buyers.",
        ),
        _spec(HISTORY_KEY, "Every fit, one row each (the columns of customer_clv_model)."),
        _spec(
            HOLDOUT_KEY,
            "Calibration/holdout report: each candidate's predicted vs actual purchases in "
            "the last CLM_CLV_HOLDOUT_WEEKS, per calibration-frequency bucket.",
        ),
    ],
)
def clv_model(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """Fit the purchase models and Gamma-Gamma on each customer's purchase days, predict CLV."""
    from orchestration.clv.run import run_clv

    settings = get_settings().dbt_vars()
    weeks = holdout_weeks()
    if registry.value("CLM_ENGINE") == "spark":
        # Inputs read from and outputs written to Spark tables (docs/spark.md).
        from orchestration.engines.spark_clv import run_clv_on_spark

        result = run_clv_on_spark(
            horizon_months=int(settings["clv_horizon_months"]),
            monthly_discount_rate=float(settings["clv_monthly_discount_rate"]),
            holdout_weeks=weeks,
        )
    else:
        with connect() as con:
            as_of_date = con.execute(
                "select as_of_date from intermediate.int_as_of_date"
            ).fetchone()[0]
            result = run_clv(
                con,
                as_of_date,
                horizon_months=int(settings["clv_horizon_months"]),
                monthly_discount_rate=float(settings["clv_monthly_discount_rate"]),
                holdout_weeks=weeks,
            )
    if not result.converged:
        context.log.warning(f"CLV model did not converge or was not fitted: {result.reason}")
    elif result.reason:
        context.log.warning(f"CLV model: {result.reason}")
    yield MaterializeResult(
        asset_key=PREDICTIONS_KEY,
        metadata={
            "customers": result.customers,
            "predictions_with_clv": result.predictions_with_clv,
            "as_of_date": str(result.as_of_date),
        },
    )
    bgnbd = result.bgnbd.params if result.bgnbd else None
    mbgnbd = result.mbgnbd.params if result.mbgnbd else None
    gamma_gamma = result.gamma_gamma.params if result.gamma_gamma else None
    model_metadata = {
        "converged": result.converged,
        "reason": result.reason or "",
        "log_likelihood": result.log_likelihood,
        "repeat_customers": result.repeat_customers,
        "bgnbd": str(bgnbd),
        "mbgnbd": str(mbgnbd),
        "gamma_gamma": str(gamma_gamma),
        "model_repeat_buyers": str(result.choice.repeat_buyers),
        "model_one_time_buyers": str(result.choice.one_time_buyers),
    }
    yield MaterializeResult(asset_key=MODEL_KEY, metadata=model_metadata)
    yield MaterializeResult(asset_key=HISTORY_KEY, metadata={"as_of_date": str(result.as_of_date)})
    yield MaterializeResult(
        asset_key=HOLDOUT_KEY,
        metadata={
            "holdout_weeks": weeks,
            "rows": len(result.holdout.rows) if result.holdout else 0,
        },
    )
