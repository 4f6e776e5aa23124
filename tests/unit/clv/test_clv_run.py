"""run_clv end to end on a small DuckDB file, and the output tables' DDL."""

from __future__ import annotations

import logging
import re
from datetime import date
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


def _create_input(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """The dbt model's interface (docs/ARCHITECTURE.md), created by hand."""
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
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (0,)


def test_run_clv_writes_predictions_and_appends_model_rows(con) -> None:
    rows = _simulated_rows(3000)
    _create_input(con, rows)
    result = run_clv(con, AS_OF)
    assert result.converged, result.reason
    assert result.customers == 3000 and result.predictions_with_clv == 3000

    predictions = con.execute(
        f"select count(*), count(distinct customer_key), count(predicted_clv), "
        f"min(p_alive), max(p_alive), min(predicted_clv) from {tables.PREDICTIONS_TABLE}"
    ).fetchone()
    assert predictions[:3] == (3000, 3000, 3000)
    assert 0 < predictions[3] <= predictions[4] <= 1 and predictions[5] >= 0
    # Columns and types are the interface, even though the table was replaced.
    assert _columns(con, tables.PREDICTIONS_TABLE) == list(tables.PREDICTIONS_COLUMNS)

    model = con.execute(f"select * from {tables.MODEL_TABLE}").fetchall()
    assert len(model) == 1
    row = dict(zip([name for name, _ in tables.MODEL_COLUMNS], model[0], strict=True))
    assert row["as_of_date"] == AS_OF and row["time_unit"] == "days"
    assert row["customers"] == 3000 and row["converged"] is True
    assert row["log_likelihood"] == pytest.approx(result.log_likelihood)
    assert row["alpha"] == pytest.approx(40.0, rel=0.3)  # simulated in days

    # A second fit appends a model row and replaces (not appends) the predictions.
    second = run_clv(con, "2025-07-01", horizon_months=6, time_unit="weeks")
    assert second.converged
    assert con.execute(f"select count(*) from {tables.MODEL_TABLE}").fetchone() == (2,)
    assert con.execute(f"select count(*) from {tables.PREDICTIONS_TABLE}").fetchone() == (3000,)
    alphas = con.execute(
        f"select time_unit, alpha from {tables.MODEL_TABLE} order by fitted_at"
    ).fetchall()
    assert alphas[1][0] == "weeks" and alphas[1][1] == pytest.approx(alphas[0][1] / 7, rel=1e-4)


def test_customer_without_repeat_purchase_gets_population_order_value(con) -> None:
    rows = _simulated_rows(1500)
    _create_input(con, rows)
    result = run_clv(con, AS_OF)
    gg = result.gamma_gamma.params
    one_timers = con.execute(
        f"""
        select distinct p_alive, expected_order_value from {tables.PREDICTIONS_TABLE}
        join intermediate.int_customer_purchases_summarized using (customer_key)
        where frequency = 0
        """
    ).fetchall()
    assert {round(p, 12) for p, _ in one_timers} == {1.0}
    assert {round(v, 9) for _, v in one_timers} == {round(gg.population_mean_spend, 9)}


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
    match = re.search(rf"create table if not exists {re.escape(table)} \((.*?)\)", sql, re.S)
    assert match, f"{table} not created"
    return [
        (name, type_.upper())
        for name, type_ in (line.split() for line in match.group(1).split(",") if line.strip())
    ]


def test_dbt_on_run_start_macro_mirrors_the_ddl() -> None:
    macro = REPO_ROOT / "macros" / "clv_tables.sql"
    if not macro.exists():
        pytest.skip("the dbt macro is not there yet")
    sql = macro.read_text()
    assert _ddl_columns(sql, tables.PREDICTIONS_TABLE) == list(tables.PREDICTIONS_COLUMNS)
    assert _ddl_columns(sql, tables.MODEL_TABLE) == list(tables.MODEL_COLUMNS)
