"""Gamma-Gamma spend model: log-likelihood, maximum-likelihood fit, conditional order value.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
Journal of Marketing Research 42(4), 415-430, and Fader & Hardie (2013), "The Gamma-Gamma Model
of Monetary Value" (brucehardie.com/notes/025; "the note" below).

A customer's spend per transaction is gamma(p, ν); ν varies across customers as gamma(q, γ).
The observed ``m̄``, the mean of a customer's ``x`` repeat transactions, is then gamma(p·x, ν·x)
given ν, and integrating ν out gives the likelihood below. The model assumes spend is
independent of the purchase process, and it is fitted only on customers with x > 0 and m̄ > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from orchestration.clv._fitting import FloatArray, factorize, minimize_log_params
from orchestration.clv.bgnbd import ClvInputError


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters (the note): shape p; q, gamma of ν's distribution."""

    p: float
    q: float
    gamma: float

    def as_array(self) -> FloatArray:
        return np.array([self.p, self.q, self.gamma], dtype=np.float64)

    @property
    def population_mean_spend(self) -> float:
        """E[Z] = p·γ/(q−1) (the note): the expected order value of an unseen customer.

        Infinite when q ≤ 1 (the mean of ν's inverse does not exist).
        """
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model: parameters, total log-likelihood, optimiser outcome."""

    params: GammaGammaParams
    log_likelihood: float
    converged: bool
    message: str
    customers: int


def _check(x: ArrayLike, m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x_, m_ = (np.asarray(v, dtype=np.float64).ravel() for v in (x, m))
    if x_.shape != m_.shape:
        raise ClvInputError("frequency and monetary value must have the same length")
    if not (np.all(np.isfinite(x_)) and np.all(np.isfinite(m_))):
        raise ClvInputError("frequency or monetary value has NULL, NaN or infinite values")
    if np.any(x_ <= 0) or np.any(m_ <= 0):
        raise ClvInputError("Gamma-Gamma needs frequency > 0 and monetary value > 0")
    return x_, m_


def log_likelihood_terms(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """Per-customer ln f(m̄ | p, q, γ; x) (the note, the marginal density of m̄).

    f = Γ(px+q)/(Γ(px)Γ(q)) · γ^q · x^(px) · m̄^(px−1) / (γ + x·m̄)^(px+q).
    """
    x_, m_ = _check(x, m)
    p, q, gamma = params.p, params.q, params.gamma
    px = p * x_
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + px * np.log(x_)
        + (px - 1.0) * np.log(m_)
        - (px + q) * np.log(gamma + x_ * m_)
    )


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> float:
    """Total Gamma-Gamma log-likelihood over customers."""
    return float(np.sum(log_likelihood_terms(params, x, m)))


class _Objective:
    """−LL/n and its gradient in (p, q, gamma).

    Spend is continuous, so rows cannot be aggregated; instead the gammaln/digamma terms, which
    depend on x alone, are evaluated per distinct x (~10^2 values) and summed with the count of
    each, and (px − 1)·ln m̄ sums to p·Σx·ln m̄ − Σ ln m̄, constants computed once. Per row and
    evaluation there is only ln(γ + x·m̄).
    """

    def __init__(self, x: FloatArray, m: FloatArray):
        self.x, self.m = x, m
        self.n = float(x.size)
        self.x_values, codes = factorize(x)
        self.x_counts = np.bincount(codes, minlength=self.x_values.size).astype(np.float64)
        self.log_x_values = np.log(self.x_values)
        log_m = np.log(m)
        self.sum_x_log_m = float(x @ log_m)
        self.sum_log_m = float(log_m.sum())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, gamma = theta
        xv, counts = self.x_values, self.x_counts
        px = p * xv
        log_gxm = np.log(gamma + self.x * self.m)
        ll = (
            counts @ (gammaln(px + q) - gammaln(px) + px * self.log_x_values)
            - self.n * (gammaln(q) - q * np.log(gamma))
            + p * self.sum_x_log_m
            - self.sum_log_m
            - (p * self.x + q) @ log_gxm
        )
        psi_pxq = digamma(px + q)
        d_p = (
            counts @ (xv * (psi_pxq - digamma(px) + self.log_x_values))
            + self.sum_x_log_m
            - self.x @ log_gxm
        )
        d_q = counts @ psi_pxq - self.n * (digamma(q) - np.log(gamma)) - log_gxm.sum()
        d_gamma = self.n * q / gamma - np.sum((p * self.x + q) / (gamma + self.x * self.m))
        grad = np.array([d_p, d_q, d_gamma])
        return -float(ll) / self.n, -grad / self.n


def fit(x: ArrayLike, m: ArrayLike, initial: GammaGammaParams | None = None) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on customers with x > 0 and m̄ > 0 only.

    Raises ValueError
    when there are no such customers; ClvInputError when the inputs are broken.
    """
    x_, m_ = _check(x, m)
    if x_.size == 0:
        raise ValueError("no repeat buyer with a positive spend: Gamma-Gamma cannot be fitted")
    # Scale-free start: with p = 1 and q = 2, E[Z] = γ, so γ starts at the mean spend.
    initial = initial or GammaGammaParams(p=1.0, q=2.0, gamma=float(np.mean(m_)))
    outcome = minimize_log_params(
        _Objective(x_, m_),
        initial.as_array(),
        total_weight=float(x_.size),
    )
    p, q, gamma = (float(v) for v in outcome.theta)
    return GammaGammaFit(
        params=GammaGammaParams(p=p, q=q, gamma=gamma),
        log_likelihood=outcome.log_likelihood,
        converged=outcome.converged,
        message=outcome.message,
        customers=int(x_.size),
    )


def conditional_expected_order_value(
    params: GammaGammaParams, x: ArrayLike, m: ArrayLike
) -> FloatArray:
    """E[M | p, q, γ; m̄, x] = p·(γ + x·m̄)/(p·x + q − 1) (the note).

    A weighted mean of the population mean pγ/(q−1) and the customer's own m̄, the weight on m̄
    growing with x. For x = 0 it is the population mean. Customers with x > 0 but m̄ ≤ 0 (net
    refunds) carry no usable spend information, so they also get the population mean. NaN
    where the expression is undefined (p·x + q ≤ 1, i.e. q ≤ 1 for x = 0).
    """
    x_ = np.asarray(x, dtype=np.float64).ravel()
    m_ = np.asarray(m, dtype=np.float64).ravel()
    if x_.shape != m_.shape:
        raise ClvInputError("frequency and monetary value must have the same length")
    informative = (x_ > 0) & (m_ > 0)
    x_eff = np.where(informative, x_, 0.0)
    m_eff = np.where(informative, m_, 0.0)
    p, q, gamma = params.p, params.q, params.gamma
    denominator = p * x_eff + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = p * (gamma + x_eff * m_eff) / denominator
    return np.where(denominator > 0, value, np.nan)
