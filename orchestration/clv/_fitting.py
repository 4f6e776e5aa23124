"""Shared fitting helpers: row aggregation and log-parameterised maximum likelihood.

Both models are fitted the same way: minimise the negative mean log-likelihood over
``log(theta)`` (so every parameter stays positive without constraints) with L-BFGS-B and the
analytic gradient, falling back to Nelder-Mead when L-BFGS-B reports failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Box on log(theta): wide enough never to bind on real data (1e-8 .. 1e8), narrow enough that
# gammaln/exp stay finite when the optimiser probes far out on degenerate data.
LOG_BOUND = float(np.log(1e8))


@dataclass(frozen=True)
class MinimizeOutcome:
    """What a log-parameterised fit produced."""

    theta: FloatArray
    log_likelihood: float
    converged: bool
    message: str
    iterations: int


def factorize(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Sorted unique values and, per element, the index of its value (values[codes] == input)."""
    unique, codes = np.unique(np.asarray(values, dtype=np.float64), return_inverse=True)
    return unique, codes.ravel()


def group_rows(
    *columns: FloatArray,
) -> tuple[tuple[FloatArray, ...], NDArray[np.intp], FloatArray]:
    """Unique rows of equal-length columns, each input row's index among them, their counts.

    Rows are keyed by combining per-column integer codes (re-compressed after each column so
    the key never overflows): ``np.unique(axis=0)`` sorts row views and is many times slower.
    """
    arrays = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    if not arrays or arrays[0].size == 0:
        return tuple(np.empty(0) for _ in arrays), np.empty(0, dtype=np.intp), np.empty(0)
    key = _whole_number_key(arrays)
    if key is None:
        key = np.zeros(arrays[0].size, dtype=np.int64)
        for column in arrays:
            values, codes = factorize(column)
            _, key = np.unique(key * values.size + codes, return_inverse=True)
            key = key.ravel().astype(np.int64)
    _, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    unique = tuple(column[first] for column in arrays)
    return unique, inverse.ravel(), counts.astype(np.float64)


def _whole_number_key(arrays: list[FloatArray]) -> NDArray[np.int64] | None:
    """One int64 per row that orders the rows as the columns do (lexicographically), when every
    column holds whole numbers ≥ 0 and the product of their ranges fits in 62 bits; else None.

    Frequency, recency and T in days always qualify. Then one sort groups the rows instead of
    one per column and one more for the combined codes (the general path above), which was a
    quarter of a fit's time at tier s and grows with the number of customers.
    """
    key: NDArray[np.int64] | None = None
    span = 1
    for column in arrays:
        if not (np.all(np.isfinite(column)) and column.min() >= 0):
            return None
        whole = column.astype(np.int64)
        if not np.array_equal(whole, column):
            return None
        top = int(whole.max()) + 1
        span *= top
        if span >= 2**62:
            return None
        key = whole if key is None else key * top + whole
    return key


def aggregate_rows(*columns: FloatArray) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """Unique rows of the given equal-length columns and how many times each occurs.

    The likelihoods are sums over customers of a function of a few columns, so customers with
    identical rows contribute identical terms: evaluating each unique row once, weighted by its
    count, gives the same value. Day-granular data (integer recency and T) has far fewer unique
    rows than customers, which is what makes a 1M-customer fit take seconds.
    """
    unique, _, counts = group_rows(*columns)
    return unique, counts


def minimize_log_params(
    neg_mean_ll_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    total_weight: float,
) -> MinimizeOutcome:
    """Minimise a negative *mean* log-likelihood over ``log(theta)``.

    ``neg_mean_ll_and_grad(theta)`` returns ``(-LL/n, -dLL/dtheta/n)`` in the natural
    parameters; this wraps it for the log scale (chain rule: d/dlog(theta) = theta * d/dtheta).
    Working with the mean keeps the gradient O(1) whatever the number of customers, so the
    optimiser's absolute tolerances mean the same thing at 2k and at 1M customers.
    """

    def objective(log_theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(log_theta)
        value, grad = neg_mean_ll_and_grad(theta)
        if not np.isfinite(value):
            # Let the line search back off instead of stopping on inf/nan.
            return 1e300, np.zeros_like(log_theta)
        return value, grad * theta

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(theta0)
    x0 = np.clip(np.log(theta0), -LOG_BOUND, LOG_BOUND)
    result = optimize.minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )
    if not result.success:
        logger.info("L-BFGS-B did not converge (%s); retrying with Nelder-Mead", result.message)
        nelder = optimize.minimize(
            lambda z: objective(z)[0],
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            # Bounded: on a likelihood that keeps rising towards a limit (e.g. a, b → ∞, a
            # homogeneous drop-out) an unbounded search runs for minutes; the outcome is "not
            # converged" either way.
            options={"maxfev": 500 * len(theta0), "xatol": 1e-10, "fatol": 1e-14},
        )
        if nelder.fun <= result.fun:
            result = nelder
    theta = np.exp(result.x)
    value = float(objective(result.x)[0])
    converged = bool(result.success) and value < 1e300
    at_bound = np.abs(result.x) >= LOG_BOUND - 1e-6
    message = str(result.message)
    if np.any(at_bound):
        # A parameter at the box edge is a limit, not an interior maximum: not "converged".
        converged = False
        message = f"parameter(s) at the optimisation bound: {np.flatnonzero(at_bound).tolist()}"
    return MinimizeOutcome(
        theta=theta,
        log_likelihood=-value * total_weight,
        converged=converged,
        message=message,
        iterations=int(getattr(result, "nit", 0)),
    )
