"""The ``lifetimes`` side of the CLV comparison; runs in the benchmark's own lifetimes venv.

    <lifetimes venv>/bin/python benchmarks/lifetimes_fit.py transactions.csv 2025-12-31 out.json

Only pandas and lifetimes 0.11.3 here (it predates pandas 2): no project imports.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data


def main(csv_path: str, as_of: str, out_path: str) -> None:
    """Summary (frequency, recency, T in days) from the transactions, then the BG/NBD fit."""
    started, cpu = time.perf_counter(), time.process_time()
    transactions = pd.read_csv(csv_path, parse_dates=["order_date"])
    summary = summary_data_from_transaction_data(
        transactions, "customer_key", "order_date", observation_period_end=as_of, freq="D"
    )
    inputs_s = time.perf_counter() - started
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(summary["frequency"], summary["recency"], summary["T"])
    result = {
        "customers": int(len(summary)),
        "inputs_s": round(inputs_s, 3),
        "total_s": round(time.perf_counter() - started, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "params": {k: round(float(fitter.params_[k]), 6) for k in ("r", "alpha", "a", "b")},
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(*sys.argv[1:4])
