"""Simulate customer summaries from known BG/NBD and Gamma-Gamma parameters.

For tests (parameter recovery) and benchmarks/clv_fit.py; fully vectorised, no per-customer
loop. The generative story is the models' own (FHL 2005 section 3; the Gamma-Gamma note):
- λ ~ gamma(r, rate α), p ~ beta(a, b) per customer;
- repeat purchases arrive as a Poisson(λ) process after the first purchase at time 0;
- after each repeat purchase the customer drops out with probability p, so the number of repeat
  purchases made before dropping out is J ~ geometric(p) on {1, 2, …};
- observed x = min(J, N) where N ~ Poisson(λT) counts arrivals in (0, T]; given N = n, the
  arrival times are uniform order statistics on (0, T], so t_x = T · beta(x, n − x + 1);
- spend per transaction ~ gamma(p_spend, rate ν), ν ~ gamma(q, rate γ): the mean of x of them is
  gamma(p_spend · x, rate ν · x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from orchestration.clv._fitting import FloatArray
from orchestration.clv.bgnbd import BgNbdParams
from orchestration.clv.gamma_gamma import GammaGammaParams


@dataclass(frozen=True)
class SimulatedCustomers:
    """Per-customer frequency, recency, T and mean repeat spend (0 when x = 0)."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    monetary: FloatArray


def simulate(
    n: int,
    bgnbd_params: BgNbdParams,
    gamma_gamma_params: GammaGammaParams,
    T: FloatArray | float,
    seed: int = 0,
    whole_units: bool = False,
) -> SimulatedCustomers:
    """Simulate ``n`` customers observed for ``T`` (scalar or per customer).

    ``whole_units`` floors t_x to whole time units, as day-granular warehouse data is (T should
    then be whole too); the model is continuous, so this slightly biases a fit, by design only in
    benchmarks.
    """
    rng = np.random.default_rng(seed)
    T_ = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    bg, gg = bgnbd_params, gamma_gamma_params
    rate = rng.gamma(bg.r, 1.0 / bg.alpha, n)
    dropout = rng.beta(bg.a, bg.b, n)
    arrivals = rng.poisson(rate * T_)
    before_dropout = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    x = np.minimum(arrivals, before_dropout)
    repeat = x > 0
    t_x = np.zeros(n)
    t_x[repeat] = T_[repeat] * rng.beta(x[repeat], arrivals[repeat] - x[repeat] + 1)
    if whole_units:
        t_x = np.floor(t_x)
    nu = rng.gamma(gg.q, 1.0 / gg.gamma, n)
    monetary = np.zeros(n)
    monetary[repeat] = rng.gamma(gg.p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return SimulatedCustomers(x=x.astype(np.float64), t_x=t_x, T=T_, monetary=monetary)


@dataclass(frozen=True)
class SimulatedHoldout:
    """Calibration summary (x, t_x, T) and the purchases each customer made in the holdout."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    holdout_purchases: FloatArray


def simulate_purchases(
    n: int,
    params: BgNbdParams,
    span: FloatArray | float,
    seed: int = 0,
    modified: bool = False,
) -> tuple[NDArray[np.intp], FloatArray]:
    """Repeat-purchase times of ``n`` customers over (0, span], first purchase at time 0.

    ``modified=False`` is BG/NBD's story (drop-out only after a repeat purchase, so the number of
    repeat purchases made while alive is J ~ geometric(p) on {1, 2, …}); ``modified=True`` is
    MBG/NBD's (drop-out possible right after the first purchase too: J − 1, on {0, 1, …}). The
    arrivals of the Poisson(λ) process over the span are drawn as uniform order statistics and
    the first min(J, N) of them are purchases. Returns (customer index, time), sorted by both.
    """
    rng = np.random.default_rng(seed)
    span_ = np.broadcast_to(np.asarray(span, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = np.clip(rng.beta(params.a, params.b, n), 1e-12, 1.0)
    alive_purchases = rng.geometric(dropout) - (1 if modified else 0)
    arrivals = rng.poisson(rate * span_)
    made = np.minimum(arrivals, alive_purchases)
    owner = np.repeat(np.arange(n), arrivals)
    times = rng.uniform(0.0, 1.0, owner.size) * span_[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    start = np.cumsum(arrivals) - arrivals
    kept = np.arange(owner.size) - start[owner] < made[owner]
    return owner[kept], times[kept]


def simulate_with_holdout(
    n: int,
    params: BgNbdParams,
    T: FloatArray | float,
    holdout: float,
    seed: int = 0,
    modified: bool = False,
) -> SimulatedHoldout:
    """Simulate purchases over (0, T + holdout] (``simulate_purchases``) and split them at T."""
    T_ = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    owner, times = simulate_purchases(n, params, T_ + holdout, seed=seed, modified=modified)
    in_calibration = times <= T_[owner]
    x = np.bincount(owner[in_calibration], minlength=n).astype(np.float64)
    t_x = np.zeros(n)
    np.maximum.at(t_x, owner[in_calibration], times[in_calibration])
    holdout_purchases = np.bincount(owner[~in_calibration], minlength=n).astype(np.float64)
    return SimulatedHoldout(x=x, t_x=t_x, T=T_, holdout_purchases=holdout_purchases)
