"""MBG/NBD purchase model: log-likelihood, maximum-likelihood fit, P(alive), expected purchases.

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
customer base analysis", International Journal of Research in Marketing 24(3), 201-209 (the
"modified BG/NBD"; BDF below). It is BG/NBD (orchestration/clv/bgnbd.py) with one change: a
customer may also drop out right after the *first* purchase, at time 0, with the same
probability p as after every repeat purchase. So a one-time buyer who has not come back gets
P(alive) < 1, falling with the silence since that purchase, whereas BG/NBD gives every one-time
buyer P(alive) = 1.

Same summary ``(x, t_x, T)`` and parameter names as BG/NBD: ``r, alpha`` (gamma heterogeneity
of the purchase rate), ``a, b`` (beta heterogeneity of the drop-out probability). The likelihood
differs from BG/NBD's in two places (BDF section 2): B(a, b + x + 1) instead of B(a, b + x), and
the drop-out term a/(b + x)·(α + t_x)^−(r+x) is present for every customer, x = 0 included.
Published CDNOW (weeks) estimates: r = 0.525, α = 6.183, a = 0.891, b = 1.614 (the MBG/NBD
estimates reported for the CDNOW sample by BTYDplus and the lifetimes package's tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln

from orchestration.clv import bgnbd
from orchestration.clv._fitting import FloatArray
from orchestration.clv.bgnbd import BgNbdFit, BgNbdParams, ClvInputError


@dataclass(frozen=True)
class MbgNbdParams(BgNbdParams):
    """MBG/NBD parameters (BDF section 2): the same r, alpha, a, b as BG/NBD's, a distinct type
    so a fit of one model is never read as the other."""


@dataclass(frozen=True)
class MbgNbdFit(BgNbdFit):
    """A fitted MBG/NBD model: parameters, total log-likelihood, optimiser outcome."""

    params: MbgNbdParams


def _log_terms(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ln(A1·A2), ln A3 and ln A4 of the BDF likelihood L = A1·A2·(A3 + A4)."""
    r, alpha, a, b = params
    ln_a12 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1.0) - betaln(a, b)
    ln_a3 = -(r + x) * np.log(alpha + T)
    ln_a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return ln_a12, ln_a3, ln_a4


def log_likelihood_terms(
    params: MbgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood ln[A1·A2·(A3 + A4)], A3 + A4 added with log-sum-exp."""
    x_, t_x_, T_ = bgnbd.check_rfm(x, t_x, T)
    ln_a12, ln_a3, ln_a4 = _log_terms(params.as_array(), x_, t_x_, T_)
    return ln_a12 + np.logaddexp(ln_a3, ln_a4)


def log_likelihood(
    params: MbgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood (sum of the per-customer terms, optionally weighted)."""
    return bgnbd.weighted_total(log_likelihood_terms(params, x, t_x, T), weights)


class _Objective:
    """−LL/n and its analytic gradient in (r, alpha, a, b) over weighted unique rows.

    With w3, w4 the shares of A3 and A4 in A3 + A4 (from one expit, so nothing overflows):
    ∂/∂r = ψ(r+x) − ψ(r) + ln α − w3·ln(α+T) − w4·ln(α+t_x);
    ∂/∂α = r/α − (r+x)·(w3/(α+T) + w4/(α+t_x));
    ∂/∂a = ψ(a+b) − ψ(a+b+x+1) + w4/a;
    ∂/∂b = ψ(b+x+1) − ψ(a+b+x+1) − ψ(b) + ψ(a+b) − w4/(b+x).
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray):
        self.x, self.t_x, self.T, self.w = x, t_x, T, weights
        self.n = float(weights.sum())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = theta
        x, w = self.x, self.w
        ln_a12, ln_a3, ln_a4 = _log_terms(theta, x, self.t_x, self.T)
        ll = w @ (ln_a12 + np.logaddexp(ln_a3, ln_a4))
        w4 = expit(ln_a4 - ln_a3)
        w3 = 1.0 - w4
        log_alpha_T = np.log(alpha + self.T)
        log_alpha_tx = np.log(alpha + self.t_x)
        psi_abx1 = digamma(a + b + x + 1.0)
        psi_ab = digamma(a + b)
        d_r = w @ (
            digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_alpha_T - w4 * log_alpha_tx
        )
        d_alpha = w @ (r / alpha - (r + x) * (w3 / (alpha + self.T) + w4 / (alpha + self.t_x)))
        d_a = w @ (psi_ab - psi_abx1 + w4 / a)
        d_b = w @ (digamma(b + x + 1.0) - psi_abx1 - digamma(b) + psi_ab - w4 / (b + x))
        grad = np.array([d_r, d_alpha, d_a, d_b])
        return -float(ll) / self.n, -grad / self.n


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    initial: MbgNbdParams | None = None,
) -> MbgNbdFit:
    """Maximum-likelihood MBG/NBD fit over unique (x, t_x, T) rows weighted by their counts.

    Raises ClvInputError on broken inputs and ValueError when there are no customers or no
    repeat purchases (the purchase rate and the drop-out are then not separately identified).
    """
    return bgnbd.fit_model(x, t_x, T, initial, "MBG/NBD", _Objective, MbgNbdParams, MbgNbdFit)


def probability_alive(
    params: MbgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T) = A3 / (A3 + A4) = 1 / (1 + a/(b+x)·((α+T)/(α+t_x))^(r+x)).

    Below 1 for every customer, one-time buyers included, and falling with T − t_x; computed
    as expit(ln A3 − ln A4), which cannot overflow.
    """
    x_, t_x_, T_ = bgnbd.check_rfm(x, t_x, T)
    _, ln_a3, ln_a4 = _log_terms(params.as_array(), x_, t_x_, T_)
    return expit(ln_a3 - ln_a4)


def _as_bgnbd_if_alive(params: MbgNbdParams) -> BgNbdParams:
    """BG/NBD parameters whose "if alive" expectation equals MBG/NBD's.

    MBG/NBD's E[Y(t) | alive, x, T] is (a+b+x)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x)·2F1(r+x,
    b+x+1; a+b+x; z)] (BDF; the lifetimes package has the same expression): BG/NBD's eq. (10)
    factor with b replaced by b + 1. Reusing BG/NBD's overflow-free (Euler-transformed) form
    keeps one implementation of that 2F1.
    """
    return BgNbdParams(r=params.r, alpha=params.alpha, a=params.a, b=params.b + 1.0)


def expected_purchases_if_alive(
    params: MbgNbdParams, t: ArrayLike, x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | alive at T, x, T]: expected purchases in (T, T + t] of a customer still alive."""
    return bgnbd.expected_purchases_if_alive(_as_bgnbd_if_alive(params), t, x, T)


def expected_purchases(
    params: MbgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | alive, x, T]."""
    x_, t_x_, T_ = bgnbd.check_rfm(x, t_x, T)
    if np.any(np.asarray(t, dtype=np.float64) < 0):
        raise ClvInputError("the prediction period t must not be negative")
    return probability_alive(params, x_, t_x_, T_) * expected_purchases_if_alive(params, t, x_, T_)
