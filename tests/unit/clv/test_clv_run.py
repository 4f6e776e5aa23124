"""run_clv end to end on a small DuckDB file, and the output tables' DDL and comments."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from orchestration.clv import ClvInputError, ensure_clv_tables, run_clv, simulate, tables
from orchestration.clv.bgnbd import BgNbdParams
from orchestration.clv.gamma_gamma import GammaGammaParams
from orchestration.settings import REPO_ROOT

AS_OF = date(2025, 6, 30)
# Purchase process of the simulated warehouses, in days.
SIMULATED = BgNbdParams(r=0.4, alpha=40.0, a=0.8, b=2.5)


def _create_input(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """The dbt model's interface (docs/design.md), created by hand."""
    con.execute("create schema if not exists intermediate")
    con.execute(
        """
        create or replace table intermediate.int_customer_purchases_summarized (
            customer_key varchar,
            frequency bigint,
            recency_days bigint,
            t_days bigint,
            monetary_value double
        )
        """
    )
    if rows:
        # Through Arrow: executemany inserts row by row and takes seconds for a few thousand.
        names = ["customer_key", "frequency", "recency_days", "t_days", "monetary_value"]
        batch = pa.table(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)))
        con.register("input_rows", batch)
        con.execute(
            "insert into intermediate.int_customer_purchases_summarized select * from input_rows"
        )
        con.unregister("input_rows")


def _simulated_rows(n: int, seed: int = 11) -> list[tuple]:
    """Day-granular customers: integer recency and T, as the dbt model produces them."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 720, n).astype(float)
    customers = simulate.simulate(
        n,
        BgNbdParams(r=0.4, alpha=40.0, a=0.8, b=2.5),
        GammaGammaParams(p=6.0, q=4.0, gamma=150.0),
        T,
        seed=seed,
        whole_units=True,
    )
    return [
        (f"c{i:05d}", int(x), int(t_x), int(t), float(m))
        for i, (x, t_x, t, m) in enumerate(
            zip(customers.x, customers.t_x, customers.T, customers.monetary, strict=True)
        )
    ]


def _create_purchase_days(
    con: duckdb.DuckDBPyConnection,
    n: int,
    seed: int = 11,
    modified: bool = False,
    params: BgNbdParams = SIMULATED,
) -> None:
    """Both CLV inputs from simulated purchase days (day-granular, as dbt builds them):
    ``int_customer_purchase_days`` and, summarised from it the way the dbt model does,
    ``int_customer_purchases_summarized``."""
    rng = np.random.default_rng(seed)
    span = rng.integers(1, 720, n).astype(float)  # days from the first purchase to AS_OF
    owner, times = simulate.simulate_purchases(n, params, span, seed=seed, modified=modified)
    customer = np.concatenate([np.arange(n), owner])
    day = np.concatenate([np.zeros(n), np.floor(times)])
    first = np.datetime64(AS_OF) - span.astype("timedelta64[D]")
    purchase_date = first[customer] + day.astype("timedelta64[D]")
    # Gamma-Gamma's own assumptions: each customer's spend is Gamma(p, ν) with ν ~ Gamma(q, γ)
    # per customer (p=6, q=4, γ=30: a mean order of 60). Spend without that heterogeneity
    # has its optimum at q, γ → ∞, where whether the fit stops depends on the CPU.
    nu = rng.gamma(4.0, 1.0 / 30.0, n)
    revenue = rng.gamma(6.0, 1.0 / nu[customer])
    con.execute("create schema if not exists intermediate")
    con.register(
        "simulated_days",
        pa.table(
            {
                "customer_key": [f"c{i:05d}" for i in customer],
                "purchase_date": purchase_date,
                "net_revenue": revenue,
            }
        ),
    )
    con.execute(
        """
        create or replace table intermediate.int_customer_purchase_days as
        select customer_key, cast(purchase_date as date) as purchase_date,
            sum(net_revenue) as net_revenue
        from simulated_days
        group by all
        """
    )
    con.unregister("simulated_days")
    con.execute(
        f"""
        create or replace table intermediate.int_customer_purchases_summarized as
        with numbered as (
            select *, row_number() over (
                partition by customer_key order by purchase_date
            ) as purchase_number
            from intermediate.int_customer_purchase_days
        )
        select
            customer_key,
            count(*) - 1 as frequency,
            date_diff('day', min(purchase_date), max(purchase_date)) as recency_days,
            date_diff('day', min(purchase_date), date '{AS_OF}') as t_days,
            coalesce(avg(net_revenue) filter (where purchase_number > 1), 0) as monetary_value
        from numbered
        group by customer_key
        """
    )


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "clm.duckdb"))
    yield connection
    connection.close()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = ? and table_name = ? order by ordinal_position
        """,
        [schema, name],
    ).fetchall()


def test_ensure_clv_tables_creates_the_interface_and_is_idempotent(con) -> None:
    ensure_clv_tables(con)
    ensure_clv_tables(con)
    assert _columns(con, tables.PREDICTIONS_TABLE) == list(tables.PREDICTIONS_COLUMNS)
    assert _columns(con, tables.MODEL_TABLE) == list(tables.MODEL_COLUMNS)
    assert _columns(con, tables.HISTORY_TABLE) == list(tables.MODEL_COLUMNS)
    assert _columns(con, tables.HOLDOUT_TABLE) == list(tables.HOLDOUT_COLUMNS)
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (0,)


def test_every_column_of_every_clv_table_is_documented() -> None:
    for table, columns in (
        (tables.PREDICTIONS_TABLE, tables.PREDICTIONS_COLUMNS),
        (tables.MODEL_TABLE, tables.MODEL_COLUMNS),
        (tables.HISTORY_TABLE, tables.MODEL_COLUMNS),
        (tables.HOLDOUT_TABLE, tables.HOLDOUT_COLUMNS),
    ):
        table_comment, column_comments = tables.COMMENTS[table]
        assert table_comment
        assert set(column_comments) == {name for name, _ in columns}, table


def test_run_clv_writes_predictions_current_fit_history_and_holdout(con) -> None:
    _create_purchase_days(con, 3000)
    result = run_clv(con, AS_OF, holdout_weeks=26)
    assert result.converged, result.reason
    assert result.customers == 3000 and result.predictions_with_clv == 3000

    predictions = con.execute(
        f"select count(*), count(distinct customer_key), count(predicted_clv), "
        f"min(p_alive), max(p_alive), min(predicted_clv), "
        f"max(abs(churn_probability - (1 - p_alive))), count(expected_next_order_date) "
        f"from {tables.PREDICTIONS_TABLE}"
    ).fetchone()
    assert predictions[:3] == (3000, 3000, 3000)
    assert 0 < predictions[3] <= predictions[4] <= 1 and predictions[5] >= 0
    assert predictions[6] < 1e-12 and predictions[7] == 3000
    # Columns and types are the interface, even though the table was replaced.
    assert _columns(con, tables.PREDICTIONS_TABLE) == list(tables.PREDICTIONS_COLUMNS)

    model = con.execute(f"select * from {tables.MODEL_TABLE}").fetchall()
    assert len(model) == 1
    row = dict(zip([name for name, _ in tables.MODEL_COLUMNS], model[0], strict=True))
    assert row["as_of_date"] == AS_OF and row["time_unit"] == "days"
    assert row["customers"] == 3000 and row["converged"] is True
    assert row["log_likelihood"] == pytest.approx(result.log_likelihood)
    assert row["alpha"] == pytest.approx(40.0, rel=0.3)  # simulated in days
    assert row["mbgnbd_log_likelihood"] == pytest.approx(result.mbgnbd.log_likelihood)
    assert row["model_one_time_buyers"] == "mbgnbd"
    assert row["model_repeat_buyers"] in {"bgnbd", "mbgnbd"}
    assert row["holdout_weeks"] == 26

    # The holdout report: 2 models × 7 buckets, counted independently here from purchase days.
    cutoff = AS_OF - timedelta(weeks=26)
    acquired, bought = con.execute(
        """
        select count(distinct customer_key) filter (where first_day <= $cutoff),
            count(*) filter (where first_day <= $cutoff and purchase_date > $cutoff)
        from (
            select *, min(purchase_date) over (partition by customer_key) as first_day
            from intermediate.int_customer_purchase_days
        )
        """,
        {"cutoff": cutoff},
    ).fetchone()
    report = con.execute(
        f"select model, frequency_bucket, customers, actual_purchases, predicted_purchases, "
        f"is_chosen, calibration_end_date, holdout_days from {tables.HOLDOUT_TABLE} "
        f"order by model, bucket_order"
    ).fetchall()
    assert len(report) == 14
    for model_name, bucket, customers, actual, predicted, chosen, end, days in report:
        assert end == cutoff and days == 182
        if bucket == "all":
            assert (customers, actual) == (acquired, bought)
            # The holdout total is predicted to within 15 % by either model.
            assert predicted == pytest.approx(bought, rel=0.15)
        if bucket == "0":
            assert chosen == (model_name == "mbgnbd")
        if bucket == "1+":
            assert chosen == (model_name == row["model_repeat_buyers"])
    buckets = {(m, b): c for m, b, c, *_ in report}
    for model_name in ("bgnbd", "mbgnbd"):
        parts = sum(buckets[(model_name, b)] for b in ("0", "1", "2-3", "4-7", "8+"))
        assert parts == buckets[(model_name, "all")]
        assert buckets[(model_name, "0")] + buckets[(model_name, "1+")] == parts

    # A second fit replaces the current fit, appends to the history, replaces the predictions.
    second = run_clv(con, "2025-07-01", horizon_months=6, time_unit="weeks")
    assert second.converged
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (1,)
    assert con.execute(f"select count(*) from {tables.HISTORY_TABLE}").fetchone() == (2,)
    assert con.execute(f"select count(*) from {tables.PREDICTIONS_TABLE}").fetchone() == (3000,)
    assert con.execute(f"select count(*) from {tables.HOLDOUT_TABLE}").fetchone() == (14,)
    assert con.execute(f"select time_unit from {tables.MODEL_TABLE}").fetchone() == ("weeks",)
    alphas = con.execute(
        f"select time_unit, alpha from {tables.HISTORY_TABLE} order by fitted_at"
    ).fetchall()
    assert alphas[1][0] == "weeks" and alphas[1][1] == pytest.approx(alphas[0][1] / 7, rel=1e-4)


def test_one_time_buyers_who_lapsed_get_p_alive_below_one(con) -> None:
    _create_purchase_days(con, 2000, seed=5)
    result = run_clv(con, AS_OF)
    assert result.converged, result.reason
    one_timers = con.execute(
        f"""
        select t_days, p_alive, churn_probability
        from {tables.PREDICTIONS_TABLE}
        join intermediate.int_customer_purchases_summarized using (customer_key)
        where frequency = 0
        order by t_days
        """
    ).fetchnumpy()
    t_days, p_alive = one_timers["t_days"], one_timers["p_alive"]
    lapsed = t_days > 180
    assert lapsed.sum() > 100
    assert np.all(p_alive[lapsed] < 1.0) and np.all(one_timers["churn_probability"][lapsed] > 0)
    # The longer the silence since their only purchase, the less likely they are still active.
    assert np.all(np.diff(p_alive) <= 1e-12) and p_alive[-1] < p_alive[0]


def test_expected_next_order_date_is_last_purchase_plus_expected_gap(con) -> None:
    _create_purchase_days(con, 1500, seed=3)
    run_clv(con, AS_OF)
    model = con.execute(
        f"select model_repeat_buyers, model_one_time_buyers, r, alpha, mbgnbd_r, mbgnbd_alpha "
        f"from {tables.MODEL_TABLE}"
    ).fetchone()
    params = {"bgnbd": (model[2], model[3]), "mbgnbd": (model[4], model[5])}
    rows = con.execute(
        f"""
        select frequency, t_days, date '{AS_OF}' - cast(t_days - recency_days as integer) as last_purchase,
            expected_next_order_date
        from {tables.PREDICTIONS_TABLE}
        join intermediate.int_customer_purchases_summarized using (customer_key)
        """
    ).fetchall()
    for x, t_days, last_purchase, next_date in rows:
        r, alpha = params[model[0] if x > 0 else model[1]]
        gap = (alpha + t_days) / (r + x)  # days: alpha and T are in days
        assert next_date == last_purchase + timedelta(days=round(gap)), (x, t_days)


def test_without_enough_history_there_is_no_holdout_and_mbgnbd_is_used(con, caplog) -> None:
    _create_purchase_days(con, 1500, seed=4)
    with caplog.at_level(logging.WARNING, logger="orchestration.clv.run"):
        result = run_clv(con, AS_OF, holdout_weeks=104)
    assert result.converged, result.reason
    assert result.holdout is None and "no holdout report" in result.reason
    assert "no holdout report" in caplog.text
    assert con.execute(f"select count(*) from {tables.HOLDOUT_TABLE}").fetchone() == (0,)
    assert con.execute(
        f"select model_repeat_buyers, model_one_time_buyers, reason like '%holdout%' "
        f"from {tables.MODEL_TABLE}"
    ).fetchone() == ("mbgnbd", "mbgnbd", True)


def test_history_keeps_the_fits_of_an_older_warehouse(con) -> None:
    # Before the history table, customer_clv_model had one row per fit (13 columns).
    con.execute("create schema marts")
    con.execute(
        "create table marts.customer_clv_model (fitted_at timestamp, as_of_date date, "
        "time_unit varchar, r double, alpha double, a double, b double, p double, q double, "
        "gamma double, customers bigint, log_likelihood double, converged boolean)"
    )
    con.execute(
        "insert into marts.customer_clv_model values "
        "('2025-01-01 10:00', '2024-12-31', 'days', 0.4, 40, 0.8, 2.5, 6, 4, 150, 100, -5, true), "
        "('2025-02-01 10:00', '2025-01-31', 'days', 0.5, 41, 0.8, 2.5, 6, 4, 150, 110, -6, true)"
    )
    _create_purchase_days(con, 800, seed=6)
    run_clv(con, AS_OF)
    history = con.execute(
        f"select as_of_date, customers, model_repeat_buyers is null "
        f"from {tables.HISTORY_TABLE} order by fitted_at"
    ).fetchall()
    assert history == [
        (date(2024, 12, 31), 100, True),
        (date(2025, 1, 31), 110, True),
        (AS_OF, 800, False),
    ]
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (1,)


def test_the_tables_carry_their_comments(con) -> None:
    _create_purchase_days(con, 800, seed=7)
    run_clv(con, AS_OF)
    for table, (table_comment, columns) in tables.COMMENTS.items():
        schema, name = table.split(".")
        stored = con.execute(
            "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        assert stored == (table_comment,)
        comments = dict(
            con.execute(
                "select column_name, comment from duckdb_columns() "
                "where schema_name = ? and table_name = ?",
                [schema, name],
            ).fetchall()
        )
        assert comments == columns


def test_customer_without_repeat_purchase_gets_population_order_value(con) -> None:
    _create_purchase_days(con, 1500)
    result = run_clv(con, AS_OF)
    gg = result.gamma_gamma.params
    values = con.execute(
        f"""
        select distinct expected_order_value from {tables.PREDICTIONS_TABLE}
        join intermediate.int_customer_purchases_summarized using (customer_key)
        where frequency = 0
        """
    ).fetchall()
    assert {round(v, 9) for (v,) in values} == {round(gg.population_mean_spend, 9)}


def test_no_customers_writes_empty_predictions_and_unconverged_model_row(con, caplog) -> None:
    _create_input(con, [])
    with caplog.at_level(logging.WARNING, logger="orchestration.clv.run"):
        result = run_clv(con, AS_OF)
    assert not result.converged and "no customers" in result.reason
    assert "no customers" in caplog.text
    assert con.execute(f"select count(*) from {tables.PREDICTIONS_TABLE}").fetchone() == (0,)
    model = con.execute(
        f"select customers, converged, r, p, log_likelihood from {tables.MODEL_TABLE}"
    ).fetchall()
    assert model == [(0, False, None, None, None)]


def test_too_few_repeat_buyers_gives_null_predictions(con) -> None:
    rows = [(f"c{i}", 0, 0, 30 + i, 0.0) for i in range(50)]
    rows += [("r1", 1, 10, 40, 20.0), ("r2", 2, 5, 60, 30.0)]
    _create_input(con, rows)
    result = run_clv(con, AS_OF)
    assert not result.converged and "repeat buyers" in result.reason
    counts = con.execute(
        f"select count(*), count(p_alive), count(predicted_clv) from {tables.PREDICTIONS_TABLE}"
    ).fetchone()
    assert counts == (52, 0, 0)
    assert con.execute(f"select converged from {tables.MODEL_TABLE}").fetchall() == [(False,)]


def test_too_few_spenders_keeps_purchase_predictions(con) -> None:
    # Enough repeat buyers for BG/NBD, but their spend nets to 0: no Gamma-Gamma.
    rows = [(key, x, t_x, t, 0.0) for key, x, t_x, t, _ in _simulated_rows(800)]
    _create_input(con, rows)
    result = run_clv(con, AS_OF)
    assert not result.converged and "Gamma-Gamma" in result.reason
    counts = con.execute(
        f"select count(*), count(p_alive), count(expected_purchases), count(predicted_clv) "
        f"from {tables.PREDICTIONS_TABLE}"
    ).fetchone()
    assert counts == (800, 800, 800, 0)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("bad", 1, 5, -3, 10.0), "negative"),
        (("bad", 1, 50, 30, 10.0), "greater than T"),
        ((None, 1, 5, 30, 10.0), "NULL customer_key"),
        (("c00000", 1, 5, 30, 10.0), "not unique"),
        (("bad", 1, None, 30, 10.0), "NULL values in recency_days"),
    ],
)
def test_broken_inputs_raise_and_write_nothing(con, row, message) -> None:
    _create_input(con, [*_simulated_rows(200), row])
    with pytest.raises(ClvInputError, match=message):
        run_clv(con, AS_OF)
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (0,)


def test_invalid_arguments_raise(con) -> None:
    _create_input(con, _simulated_rows(100))
    with pytest.raises(ValueError, match="time_unit"):
        run_clv(con, AS_OF, time_unit="months")
    with pytest.raises(ValueError, match="horizon_months"):
        run_clv(con, AS_OF, horizon_months=-1)


def _ddl_columns(sql: str, table: str) -> list[tuple[str, str]]:
    """The (name, TYPE) pairs the macro's one column list (``clv_prediction_tables``) gives
    ``table``; both engines' DDL is rendered from that list."""
    match = re.search(rf"'{re.escape(table)}': \[(.*?)\]", sql, re.S)
    assert match, f"{table} not created"
    return [
        (name, type_.upper()) for name, type_ in re.findall(r"\('(\w+)', '(\w+)'\)", match.group(1))
    ]


def test_dbt_on_run_start_macro_mirrors_the_ddl() -> None:
    sql = (REPO_ROOT / "macros" / "clv_tables.sql").read_text()
    assert _ddl_columns(sql, tables.PREDICTIONS_TABLE) == list(tables.PREDICTIONS_COLUMNS)
    assert _ddl_columns(sql, tables.MODEL_TABLE) == list(tables.MODEL_COLUMNS)
