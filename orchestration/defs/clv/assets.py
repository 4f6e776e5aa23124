"""Predicted CLV (BG/NBD + Gamma-Gamma) as a Python asset between two dbt steps."""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from orchestration.settings import get_settings
from orchestration.warehouse import connect

PREDICTIONS_KEY = AssetKey(["clv", "customer_clv_predictions"])
MODEL_KEY = AssetKey(["marts", "customer_clv_model"])
INPUT_KEYS = [
    AssetKey(["intermediate", "int_customer_purchases_summarized"]),
    AssetKey(["intermediate", "int_as_of_date"]),
]


@multi_asset(
    name="clv_model",
    specs=[
        AssetSpec(
            PREDICTIONS_KEY,
            group_name="clv",
            deps=INPUT_KEYS,
            kinds={"python", "duckdb"},
            description="Per customer: p_alive, expected purchases and order value, "
            "predicted CLV over clv_horizon_months (read by dbt's customer_clv).",
        ),
        AssetSpec(
            MODEL_KEY,
            group_name="clv",
            deps=INPUT_KEYS,
            kinds={"python", "duckdb"},
            description="One row per fit: parameters r, alpha, a, b, p, q, gamma, "
            "log-likelihood, convergence.",
        ),
    ],
)
def clv_model(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """Fit BG/NBD and Gamma-Gamma on each customer's purchase days and predict CLV."""
    from orchestration.clv.run import run_clv

    settings = get_settings().dbt_vars()
    with connect() as con:
        as_of_date = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()[0]
        result = run_clv(
            con,
            as_of_date,
            horizon_months=int(settings["clv_horizon_months"]),
            monthly_discount_rate=float(settings["clv_monthly_discount_rate"]),
        )
    if not result.converged:
        context.log.warning(f"CLV model did not converge or was not fitted: {result.reason}")
    yield MaterializeResult(
        asset_key=PREDICTIONS_KEY,
        metadata={
            "customers": result.customers,
            "predictions_with_clv": result.predictions_with_clv,
            "as_of_date": str(result.as_of_date),
        },
    )
    bgnbd = result.bgnbd.params if result.bgnbd else None
    gamma_gamma = result.gamma_gamma.params if result.gamma_gamma else None
    yield MaterializeResult(
        asset_key=MODEL_KEY,
        metadata={
            "converged": result.converged,
            "reason": result.reason or "",
            "log_likelihood": result.log_likelihood,
            "repeat_customers": result.repeat_customers,
            "bgnbd": str(bgnbd),
            "gamma_gamma": str(gamma_gamma),
        },
    )
