"""Benchmark: fit BG/NBD, MBG/NBD + Gamma-Gamma and predict CLV for a million simulated customers.

Not a test. Simulates day-granular customers (integer recency and T, as the warehouse's
``int_customer_purchases_summarized`` has them) from known parameters, times each step and the
whole ``run_clv`` on an in-memory DuckDB (with ``int_customer_purchase_days``, so the run
includes the calibration/holdout report), and prints the recovered parameters next to the true
ones.

    .venv/bin/python benchmarks/clv_fit.py [--customers 1000000] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.clv import bgnbd, gamma_gamma, mbgnbd, predict, run_clv, simulate
from orchestration.clv.bgnbd import BgNbdParams
from orchestration.clv.gamma_gamma import GammaGammaParams

T_ = TypeVar("T_")

# Plausible e-commerce values in days: mean purchase rate r/α ≈ one every 100 days.
TRUE_BGNBD = BgNbdParams(r=0.5, alpha=50.0, a=0.8, b=2.5)
TRUE_GAMMA_GAMMA = GammaGammaParams(p=6.0, q=4.0, gamma=150.0)


def timed(label: str, function: Callable[[], T_]) -> T_:
    """Run ``function``, print wall-clock and CPU seconds (CPU: comparable on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<48} wall {wall:7.2f} s   cpu {cpu:7.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    n = args.customers
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(args.seed)
    # Two years of acquisition: first purchases spread over the last 730 days.
    T = rng.integers(0, 731, n).astype(np.float64)
    customers = timed(
        f"simulate {n:,} customers",
        lambda: simulate.simulate(
            n, TRUE_BGNBD, TRUE_GAMMA_GAMMA, T, seed=args.seed, whole_units=True
        ),
    )
    x, t_x, monetary = customers.x, customers.t_x, customers.monetary
    print(f"repeat buyers: {int((x > 0).sum()):,}")

    bg = timed("BG/NBD fit (aggregated likelihood)", lambda: bgnbd.fit(x, t_x, T))
    print(f"  unique (x, t_x, T) rows: {bg.unique_rows:,}; converged={bg.converged}")
    mbg = timed("MBG/NBD fit (aggregated likelihood)", lambda: mbgnbd.fit(x, t_x, T))
    print(f"  converged={mbg.converged}, {mbg.params}")
    spenders = (x > 0) & (monetary > 0)
    gg = timed("Gamma-Gamma fit", lambda: gamma_gamma.fit(x[spenders], monetary[spenders]))
    timed("P(alive)", lambda: bgnbd.probability_alive(bg.params, x, t_x, T))
    timed(
        "12-month discounted purchases",
        lambda: predict.horizon_purchases(bg.params, x, t_x, T, 12, 0.01, "days"),
    )

    con = duckdb.connect()
    con.execute("create schema intermediate")
    con.register(
        "simulated",
        pa.table(
            {
                "customer_key": [f"c{i:07d}" for i in range(n)],
                "frequency": x.astype(np.int64),
                "recency_days": t_x.astype(np.int64),
                "t_days": T.astype(np.int64),
                "monetary_value": monetary,
            }
        ),
    )
    con.execute(
        "create table intermediate.int_customer_purchases_summarized as select * from simulated"
    )
    # Purchase days consistent with the summary: first, last and evenly spread in between (the
    # holdout report re-summarises them at a cut-off; for timing, their exact days do not matter).
    repeat = x.astype(np.int64)
    owner = np.repeat(np.arange(n), repeat + 1)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(repeat + 1) - (repeat + 1), repeat + 1)
    offset = np.floor(t_x[owner] * rank / np.maximum(repeat[owner], 1))
    as_of = np.datetime64("2025-06-30")
    con.register(
        "simulated_days",
        pa.table(
            {
                "customer_key": [f"c{i:07d}" for i in owner],
                "purchase_date": as_of - (T[owner] - offset).astype("timedelta64[D]"),
                "net_revenue": np.ones(owner.size),
            }
        ),
    )
    con.execute(
        "create table intermediate.int_customer_purchase_days as "
        "select customer_key, cast(purchase_date as date) as purchase_date, net_revenue "
        "from simulated_days"
    )
    result = timed(
        "run_clv end to end (read, fit, predict, write)", lambda: run_clv(con, "2025-06-30")
    )
    print(f"  converged={result.converged}, predictions with CLV: {result.predictions_with_clv:,}")
    print(f"  model choice: {result.choice}; {result.reason or 'no remarks'}")

    print("\nparameter      true      fitted")
    for name, true, fitted in zip(
        ("r", "alpha", "a", "b"), TRUE_BGNBD.as_array(), bg.params.as_array(), strict=True
    ):
        print(f"{name:<8} {true:10.4f} {fitted:10.4f}")
    for name, true, fitted in zip(
        ("p", "q", "gamma"), TRUE_GAMMA_GAMMA.as_array(), gg.params.as_array(), strict=True
    ):
        print(f"{name:<8} {true:10.4f} {fitted:10.4f}")


if __name__ == "__main__":
    main()
