"""Fixtures of the CLV tests: the CDNOW sample summary (data/README.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Cdnow:
    """The 2,357 CDNOW sample customers, in weeks."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    zbar: np.ndarray


@pytest.fixture(scope="session")
def cdnow() -> Cdnow:
    with (DATA_DIR / "cdnow_customers_summary.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    column = lambda name: np.array([float(row[name]) for row in rows])  # noqa: E731
    return Cdnow(x=column("x"), t_x=column("t_x"), T=column("T"), zbar=column("zbar"))
