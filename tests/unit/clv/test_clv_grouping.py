"""Grouping customers into unique (x, t_x, T) rows, and the BLAS threads of the fit."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from orchestration.clv import _fitting


def _by_columns(*columns: np.ndarray) -> tuple:
    """The general path: one code per column, combined (what non-whole inputs take)."""
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    key = np.zeros(arrays[0].size, dtype=np.int64)
    for column in arrays:
        values, codes = _fitting.factorize(column)
        _, key = np.unique(key * values.size + codes, return_inverse=True)
    _, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    return tuple(c[first] for c in arrays), inverse.ravel(), counts.astype(np.float64)


def test_whole_day_rows_group_as_the_general_path_does() -> None:
    rng = np.random.default_rng(7)
    T = rng.integers(0, 800, 5000).astype(float)
    t_x = np.floor(T * rng.random(5000))
    x = np.where(t_x > 0, rng.integers(1, 30, 5000), 0).astype(float)
    (ux, utx, uT), inverse, counts = _fitting.group_rows(x, t_x, T)
    (gx, gtx, gT), g_inverse, g_counts = _by_columns(x, t_x, T)
    for fast, general in ((ux, gx), (utx, gtx), (uT, gT), (inverse, g_inverse), (counts, g_counts)):
        np.testing.assert_array_equal(fast, general)
    assert counts.sum() == 5000 and ux.size < 5000


@pytest.mark.parametrize("odd", [0.5, -1.0, 2.0**62])
def test_rows_that_are_not_small_whole_numbers_take_the_general_path(odd: float) -> None:
    x = np.array([0.0, 1.0, 1.0, odd, odd])
    T = np.array([3.0, 4.0, 4.0, 5.0, 5.0])
    assert _fitting._whole_number_key([x, T]) is None
    (ux, uT), inverse, counts = _fitting.group_rows(x, T)
    assert sorted(counts.tolist()) == [1.0, 2.0, 2.0]
    np.testing.assert_array_equal(ux[inverse], x)
    np.testing.assert_array_equal(uT[inverse], T)


@pytest.mark.parametrize(("preset", "expected"), [(None, "1"), ("3", "3")])
def test_importing_the_package_keeps_openblas_to_one_thread_unless_set(
    preset: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = "import orchestration, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr
