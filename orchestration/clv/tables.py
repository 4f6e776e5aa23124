"""DDL and comments of the CLV model's output tables, in one place.

- ``clv.customer_clv_predictions``: one row per customer of the last fit (replaced by every fit);
- ``marts.customer_clv_model``: the current fit, one row (replaced by every fit);
- ``marts.customer_clv_model_history``: one row appended per fit;
- ``marts.clv_model_holdout``: the last fit's calibration/holdout report, one row per candidate
  model × calibration-frequency bucket (replaced by every fit).

docs/clv.md describes them. dbt reads the predictions as a source and creates the predictions and
the current-fit table empty in an on-run-start hook (macros/clv_tables.sql) so that a plain
``dbt build`` works before the first fit: that macro mirrors ``PREDICTIONS_COLUMNS`` and
``MODEL_COLUMNS`` (a unit test compares them), so change columns here and there together. These
tables are written by Python, so their documentation lives in ``COMMENTS`` and is attached with
``comment on`` after every write (the publication copies comments to the BI file).
"""

from __future__ import annotations

import duckdb

from orchestration.sql import string_literal

CLV_SCHEMA = "clv"
MARTS_SCHEMA = "marts"
PREDICTIONS_TABLE = f"{CLV_SCHEMA}.customer_clv_predictions"
MODEL_TABLE = f"{MARTS_SCHEMA}.customer_clv_model"
HISTORY_TABLE = f"{MARTS_SCHEMA}.customer_clv_model_history"
HOLDOUT_TABLE = f"{MARTS_SCHEMA}.clv_model_holdout"

# (column, DuckDB type) in table order; the DDL below is generated from these.
PREDICTIONS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_key", "VARCHAR"),
    ("p_alive", "DOUBLE"),
    ("expected_purchases", "DOUBLE"),
    ("expected_order_value", "DOUBLE"),
    ("predicted_clv", "DOUBLE"),
    ("churn_probability", "DOUBLE"),
    ("expected_next_order_date", "DATE"),
)
MODEL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fitted_at", "TIMESTAMP"),  # UTC, naive like every *_at of the warehouse
    ("as_of_date", "DATE"),
    ("time_unit", "VARCHAR"),
    ("r", "DOUBLE"),
    ("alpha", "DOUBLE"),
    ("a", "DOUBLE"),
    ("b", "DOUBLE"),
    ("p", "DOUBLE"),
    ("q", "DOUBLE"),
    ("gamma", "DOUBLE"),
    ("customers", "BIGINT"),
    ("log_likelihood", "DOUBLE"),
    ("converged", "BOOLEAN"),
    ("mbgnbd_r", "DOUBLE"),
    ("mbgnbd_alpha", "DOUBLE"),
    ("mbgnbd_a", "DOUBLE"),
    ("mbgnbd_b", "DOUBLE"),
    ("mbgnbd_log_likelihood", "DOUBLE"),
    ("model_repeat_buyers", "VARCHAR"),
    ("model_one_time_buyers", "VARCHAR"),
    ("holdout_weeks", "INTEGER"),
    ("reason", "VARCHAR"),
)
HOLDOUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fitted_at", "TIMESTAMP"),
    ("as_of_date", "DATE"),
    ("calibration_end_date", "DATE"),
    ("holdout_days", "INTEGER"),
    ("model", "VARCHAR"),
    ("frequency_bucket", "VARCHAR"),
    ("bucket_order", "INTEGER"),
    ("customers", "BIGINT"),
    ("actual_purchases", "BIGINT"),
    ("predicted_purchases", "DOUBLE"),
    ("mae", "DOUBLE"),
    ("rmse", "DOUBLE"),
    ("is_chosen", "BOOLEAN"),
)

_MODELS = "'bgnbd' (BG/NBD) or 'mbgnbd' (MBG/NBD)"
_MODEL_COMMENTS: dict[str, str] = {
    "fitted_at": "When the fit ran (UTC).",
    "as_of_date": "The as_of_date the purchase summary was computed at.",
    "time_unit": "Time unit of alpha, mbgnbd_alpha and the log-likelihoods: days or weeks.",
    "r": "BG/NBD r: shape of the gamma distribution of purchase rates across customers "
    "(smaller = more heterogeneous).",
    "alpha": "BG/NBD alpha: rate (inverse scale) of that gamma distribution, in time_unit; "
    "r/alpha is the mean purchase rate per time_unit.",
    "a": "BG/NBD a: first shape of the beta distribution of the drop-out probability after "
    "a purchase; a/(a+b) is its mean.",
    "b": "BG/NBD b: second shape of the beta distribution of the drop-out probability.",
    "p": "Gamma-Gamma p: shape of the gamma distribution of one customer's order values.",
    "q": "Gamma-Gamma q: shape of the gamma distribution of the rate nu across customers.",
    "gamma": "Gamma-Gamma gamma: rate of that distribution; p*gamma/(q-1) is the population "
    "mean order value (reporting currency).",
    "customers": "Customers in the fit (one row each in clv.customer_clv_predictions).",
    "log_likelihood": "BG/NBD maximised log-likelihood (in time_unit).",
    "converged": "True when every model used for the predictions was fitted and converged; "
    "false: see reason, and the affected predictions are NULL.",
    "mbgnbd_r": "MBG/NBD r (same meaning as r, under the modified BG/NBD).",
    "mbgnbd_alpha": "MBG/NBD alpha, in time_unit (same meaning as alpha).",
    "mbgnbd_a": "MBG/NBD a: beta shape of the drop-out probability, which MBG/NBD also "
    "applies right after the first purchase.",
    "mbgnbd_b": "MBG/NBD b: second beta shape of the drop-out probability.",
    "mbgnbd_log_likelihood": "MBG/NBD maximised log-likelihood (in time_unit).",
    "model_repeat_buyers": f"Model used for customers with a repeat purchase: {_MODELS}; "
    "chosen by the lowest holdout RMSE (marts.clv_model_holdout).",
    "model_one_time_buyers": f"Model used for customers without a repeat purchase: {_MODELS}; "
    "BG/NBD only when no other model could be fitted.",
    "holdout_weeks": "Length of the holdout of marts.clv_model_holdout; 0 = no holdout report.",
    "reason": "Why something was not fitted, did not converge or has no holdout report; "
    "NULL when all went well.",
}
COMMENTS: dict[str, tuple[str, dict[str, str]]] = {
    PREDICTIONS_TABLE: (
        "Per customer, the last CLV fit: P(alive), churn probability, expected purchases, "
        "order value and discounted CLV over clv_horizon_months (docs/clv.md).",
        {
            "customer_key": "The resolved person.",
            "p_alive": "Probability the customer is still active at as_of_date under the "
            "chosen model (0-1; below 1 for one-time buyers under MBG/NBD).",
            "expected_purchases": "Expected purchase days in the next clv_horizon_months.",
            "expected_order_value": "Gamma-Gamma expected net revenue per purchase day "
            "(reporting currency).",
            "predicted_clv": "Expected net revenue over the next clv_horizon_months, "
            "discounted monthly at clv_monthly_discount_rate (reporting currency).",
            "churn_probability": "1 - p_alive.",
            "expected_next_order_date": "Last purchase date + the expected time between "
            "purchases if still active, (alpha + T)/(r + x) (docs/clv.md); NULL when no "
            "model was fitted.",
        },
    ),
    MODEL_TABLE: (
        "The current CLV fit, one row: parameters of BG/NBD, MBG/NBD and Gamma-Gamma, and "
        "which model each group of customers uses (history: customer_clv_model_history).",
        _MODEL_COMMENTS,
    ),
    HISTORY_TABLE: (
        "Every CLV fit, one row each, appended (same columns as customer_clv_model).",
        _MODEL_COMMENTS,
    ),
    HOLDOUT_TABLE: (
        "Calibration/holdout report of the last CLV fit: each candidate model fitted on the "
        "history up to calibration_end_date predicts each customer's purchases in the "
        "holdout; one row per model x calibration-frequency bucket (docs/clv.md).",
        {
            "fitted_at": "When the fit ran (UTC).",
            "as_of_date": "End of the holdout (the run's as_of_date).",
            "calibration_end_date": "Cut-off: as_of_date minus holdout_days; the models "
            "see purchases up to this date only.",
            "holdout_days": "Length of the holdout in days.",
            "model": _MODELS + ".",
            "frequency_bucket": "Repeat purchases up to calibration_end_date: 0, 1, 2-3, 4-7, "
            "8+, or the unions 1+ (repeat buyers) and all.",
            "bucket_order": "Sort order of frequency_bucket.",
            "customers": "Customers acquired up to calibration_end_date in the bucket.",
            "actual_purchases": "Their purchase days in the holdout.",
            "predicted_purchases": "The model's expected purchase days in the holdout, summed.",
            "mae": "Mean absolute error per customer (purchase days).",
            "rmse": "Root mean squared error per customer (purchase days).",
            "is_chosen": "This model is the one used for the customers of this bucket: bucket "
            "1+ decides repeat buyers, bucket 0 one-time buyers (docs/clv.md).",
        },
    ),
}


def _create(table: str, columns: tuple[tuple[str, str], ...], *, replace: bool) -> str:
    head = "create or replace table" if replace else "create table if not exists"
    body = ",\n".join(f"    {name} {type_.lower()}" for name, type_ in columns)
    return f"{head} {table} (\n{body}\n)"


SCHEMAS_DDL = (
    f"create schema if not exists {CLV_SCHEMA}",
    f"create schema if not exists {MARTS_SCHEMA}",
)
PREDICTIONS_DDL = _create(PREDICTIONS_TABLE, PREDICTIONS_COLUMNS, replace=False)
MODEL_DDL = _create(MODEL_TABLE, MODEL_COLUMNS, replace=False)
HISTORY_DDL = _create(HISTORY_TABLE, MODEL_COLUMNS, replace=False)
HOLDOUT_DDL = _create(HOLDOUT_TABLE, HOLDOUT_COLUMNS, replace=False)
# Used inside the replacing transaction of run_clv.
PREDICTIONS_REPLACE_DDL = _create(PREDICTIONS_TABLE, PREDICTIONS_COLUMNS, replace=True)
MODEL_REPLACE_DDL = _create(MODEL_TABLE, MODEL_COLUMNS, replace=True)
HOLDOUT_REPLACE_DDL = _create(HOLDOUT_TABLE, HOLDOUT_COLUMNS, replace=True)


def ddl_statements() -> tuple[str, ...]:
    """Every statement that creates the CLV tables empty if they do not exist, in order."""
    return (*SCHEMAS_DDL, PREDICTIONS_DDL, MODEL_DDL, HISTORY_DDL, HOLDOUT_DDL)


def comment_statements() -> tuple[str, ...]:
    """``comment on`` every CLV table and column (COMMENTS)."""
    statements = []
    for table, (table_comment, columns) in COMMENTS.items():
        statements.append(f"comment on table {table} is {string_literal(table_comment)}")
        statements.extend(
            f"comment on column {table}.{column} is {string_literal(text)}"
            for column, text in columns.items()
        )
    return tuple(statements)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``schema.name`` exists."""
    schema, name = table.split(".")
    query = (
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    )
    return bool(con.execute(query, [schema, name]).fetchone()[0])


def ensure_clv_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and the CLV tables, empty, when missing.

    A warehouse from before the history table kept every fit in customer_clv_model: when the
    history table is created, those rows move into it (by column name), so no fit is lost.
    """
    history_existed = table_exists(con, HISTORY_TABLE)
    for statement in ddl_statements():
        con.execute(statement)
    if not history_existed:
        existing = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                MODEL_TABLE.split("."),
            ).fetchall()
        }
        shared = [name for name, _ in MODEL_COLUMNS if name in existing]
        columns = ", ".join(shared)
        con.execute(f"insert into {HISTORY_TABLE} ({columns}) select {columns} from {MODEL_TABLE}")
