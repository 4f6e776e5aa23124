"""BG/NBD purchase model: log-likelihood, maximum-likelihood fit, P(alive), expected purchases.

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2), 275-284 (FHL below; the likelihood, E[X(t)] and the
conditional expectation eq. (10) are in its section 3); P(alive) from Fader, Hardie & Lee (2008),
"Computing P(alive) Using the BG/NBD Model" (brucehardie.com/notes/021); the overflow-free form of
eq. (10) follows Fader & Hardie (2013), "Overcoming the BG/NBD Model's #NUM! Error Problem"
(brucehardie.com/notes/027).
Customer summary: ``x`` repeat purchases, the last at ``t_x``, observed for ``T`` since the
first purchase (all in one time unit). Parameters: ``r, alpha`` (gamma heterogeneity of the
purchase rate) and ``a, b`` (beta heterogeneity of the drop-out probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, roots_jacobi

from orchestration.clv._fitting import FloatArray, aggregate_rows, factorize, minimize_log_params


class ClvInputError(ValueError):
    """The model inputs are broken (negative values, recency after T, NULLs, …)."""


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters (Fader, Hardie & Lee 2005, section 3)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)


@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD model: parameters, total log-likelihood, optimiser outcome."""

    params: BgNbdParams
    log_likelihood: float
    converged: bool
    message: str
    customers: int
    unique_rows: int


def check_rfm(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Validate and convert (frequency, recency, T) to float64 arrays; raise ClvInputError."""
    x_, t_x_, T_ = (np.asarray(v, dtype=np.float64).ravel() for v in (x, t_x, T))
    if not (x_.shape == t_x_.shape == T_.shape):
        raise ClvInputError("frequency, recency and T must have the same length")
    for name, values in (("frequency", x_), ("recency", t_x_), ("T", T_)):
        if not np.all(np.isfinite(values)):
            raise ClvInputError(f"{name} has NULL, NaN or infinite values")
        if np.any(values < 0):
            raise ClvInputError(f"{name} has negative values (min {values.min()})")
    if np.any(x_ != np.round(x_)):
        raise ClvInputError("frequency must be a whole number of repeat purchases")
    if np.any(t_x_ > T_ * (1 + 1e-12)):
        raise ClvInputError("recency is greater than T for some customers")
    if np.any((x_ == 0) & (t_x_ != 0)):
        raise ClvInputError("recency must be 0 when frequency is 0")
    return x_, t_x_, T_


def _log_terms(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """ln(A1·A2), ln A3, ln A4 (−inf where x = 0) and the indicator x > 0 (FHL likelihood)."""
    r, alpha, a, b = params
    repeat = x > 0
    ln_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    ln_a2 = betaln(a, b + x) - betaln(a, b)  # = ln[Γ(a+b)Γ(b+x) / (Γ(b)Γ(a+b+x))]
    ln_a3 = -(r + x) * np.log(alpha + T)
    # b + x − 1 > 0 only matters where x ≥ 1; elsewhere put a harmless value then mask.
    b_x_1 = np.where(repeat, b + x - 1.0, 1.0)
    ln_a4 = np.where(repeat, np.log(a) - np.log(b_x_1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return ln_a1 + ln_a2, ln_a3, ln_a4, repeat


def log_likelihood_terms(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood (FHL section 3): ln[A1·A2·(A3 + δ(x>0)·A4)].

    A3 and A4 are added on the log scale (log-sum-exp) because both underflow for frequent
    buyers with large T.
    """
    x_, t_x_, T_ = check_rfm(x, t_x, T)
    ln_a12, ln_a3, ln_a4, _ = _log_terms(params.as_array(), x_, t_x_, T_)
    return ln_a12 + np.logaddexp(ln_a3, ln_a4)


def log_likelihood(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood (sum of the per-customer terms, optionally weighted)."""
    return weighted_total(log_likelihood_terms(params, x, t_x, T), weights)


def weighted_total(terms: np.ndarray, weights: ArrayLike | None = None) -> float:
    """Sum of per-customer log-likelihood terms, each counted ``weights`` times (1 when None);
    shared by the BG/NBD and MBG/NBD likelihoods."""
    w = np.ones_like(terms) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.dot(w, terms))


class _Objective:
    """−LL/n and its gradient in (r, alpha, a, b) over weighted (x, t_x, T) rows.

    The gradient comes from differentiating ln A1 + ln A2 + ln(A3 + δ·A4) term by term. For
    speed on ~10^5-10^6 rows, every transcendental function is evaluated on the unique values of
    the one column it depends on (x has ~10^2 distinct values, T and t_x ~10^3 in days) and
    gathered; only ln(A3 + A4) = ln A3 + softplus(ln A4 − ln A3) and the share of A4,
    expit(ln A4 − ln A3), are computed per row, and only for rows with x > 0 (A4 is 0 else).
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray):
        # Rows without a repeat purchase first, so the A4 terms work on one contiguous slice.
        order = np.argsort(x > 0, kind="stable")
        x, t_x, T, weights = x[order], t_x[order], T[order], weights[order]
        self.repeat = slice(int(np.count_nonzero(x == 0)), None)
        self.x_values, self.x_code = factorize(x)
        self.t_x_values, t_x_code = factorize(t_x)
        self.T_values, self.T_code = factorize(T)
        self.x = x
        self.x_code_repeat = self.x_code[self.repeat]
        self.t_x_code_repeat = t_x_code[self.repeat]
        self.weights = weights
        self.n = float(weights.sum())
        # Σ of the weights of each distinct x: terms that depend on x alone are summed this way.
        self.x_weights = np.bincount(self.x_code, weights=weights, minlength=self.x_values.size)

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = theta
        xv, w, wx, repeat = self.x_values, self.weights, self.x_weights, self.repeat
        # x-only parts: ln A1 + ln A2 and the digamma terms of their derivatives.
        ln_a12 = gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xv) - betaln(a, b)
        psi_ab_x = digamma(a + b) - digamma(a + b + xv)
        # b + x − 1 only matters where x ≥ 1 (A4); 1 elsewhere keeps the log finite.
        b_x_1 = np.where(xv > 0, b + xv - 1.0, 1.0)
        log_alpha_T = np.log(alpha + self.T_values)[self.T_code]
        log_alpha_tx = np.log(alpha + self.t_x_values)[self.t_x_code_repeat]
        r_x = r + self.x
        ln_a3 = -r_x * log_alpha_T
        ln_a4 = np.log(a) - np.log(b_x_1)[self.x_code_repeat] - r_x[repeat] * log_alpha_tx
        log_ratio = ln_a4 - ln_a3[repeat]
        # softplus(d) = ln(1 + e^d) and expit(d) from one exp(−|d|), which cannot overflow:
        # np.logaddexp + expit cost twice as much, and this loop is the whole fit's cost.
        decay = np.exp(-np.abs(log_ratio))
        ln_sum = ln_a3.copy()
        ln_sum[repeat] += np.maximum(log_ratio, 0.0) + np.log1p(decay)
        # Shares of A3 and A4 in (A3 + A4): the derivative of ln(A3 + A4) mixes theirs.
        w4 = np.where(log_ratio >= 0, 1.0, decay) / (1.0 + decay)
        w3 = np.ones_like(ln_a3)
        w3[repeat] -= w4
        w_rep = w[repeat]
        ll = wx @ ln_a12 + w @ ln_sum
        d_r = (
            wx @ (digamma(r + xv) - digamma(r) + np.log(alpha))
            - w @ (w3 * log_alpha_T)
            - w_rep @ (w4 * log_alpha_tx)
        )
        d_alpha = (
            r / alpha * self.n
            - w @ (r_x * w3 / (alpha + self.T_values)[self.T_code])
            - w_rep @ (r_x[repeat] * w4 / (alpha + self.t_x_values)[self.t_x_code_repeat])
        )
        d_a = wx @ psi_ab_x + (w_rep @ w4) / a
        d_b = wx @ (psi_ab_x + digamma(b + xv) - digamma(b)) - w_rep @ (
            w4 / b_x_1[self.x_code_repeat]
        )
        grad = np.array([d_r, d_alpha, d_a, d_b])
        return -float(ll) / self.n, -grad / self.n


_P = TypeVar("_P", bound="BgNbdParams")
_F = TypeVar("_F", bound="BgNbdFit")


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    initial: BgNbdParams | None = None,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit over unique (x, t_x, T) rows weighted by their counts.

    Raises ClvInputError on broken inputs and ValueError when there are no customers or no
    repeat purchases (the drop-out process is then not identified). The caller decides what a
    degenerate fit means for the pipeline.
    """
    return fit_model(x, t_x, T, initial, "BG/NBD", _Objective, BgNbdParams, BgNbdFit)


def fit_model(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    initial: _P | None,
    model: str,
    objective: type,
    params: type[_P],
    result: type[_F],
) -> _F:
    """The maximum-likelihood fit of a four-parameter (r, alpha, a, b) purchase model of the
    BG/NBD family, given its ``objective`` (negative mean log-likelihood and gradient)."""
    x_, t_x_, T_ = check_rfm(x, t_x, T)
    if x_.size == 0:
        raise ValueError("no customers to fit")
    if not np.any(x_ > 0):
        raise ValueError(f"no customer has a repeat purchase: {model} is not identified")
    (ux, utx, uT), weights = aggregate_rows(x_, t_x_, T_)
    n = float(weights.sum())
    if initial is None:
        # Start near a one-parameter moment match: mean rate ≈ (x + 1) / T → alpha = r / rate.
        mean_t = max(float(np.average(uT, weights=weights)), 1e-3)
        initial = params(r=1.0, alpha=mean_t / (float(x_.mean()) + 1.0), a=0.5, b=1.5)
    outcome = minimize_log_params(
        objective(ux, utx, uT, weights), initial.as_array(), total_weight=n
    )
    r, alpha, a, b = (float(v) for v in outcome.theta)
    return result(
        params=params(r=r, alpha=alpha, a=a, b=b),
        log_likelihood=outcome.log_likelihood,
        converged=outcome.converged,
        message=outcome.message,
        customers=int(n),
        unique_rows=int(ux.size),
    )


def probability_alive(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T) (Fader, Hardie & Lee 2008 note).

    1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)) = A3 / (A3 + A4), computed as
    expit(ln A3 − ln A4) so it never overflows. Exactly 1 for x = 0: in BG/NBD a customer can
    only drop out right after a repeat purchase.
    """
    x_, t_x_, T_ = check_rfm(x, t_x, T)
    _, ln_a3, ln_a4, repeat = _log_terms(params.as_array(), x_, t_x_, T_)
    return np.where(repeat, expit(ln_a3 - np.where(repeat, ln_a4, 0.0)), 1.0)


def expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (eq. (10)).

    Eq. (10) is P(alive)·(a+b+x−1)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x)·2F1(r+x, b+x; a+b+x−1; z)]
    with z = t/(α+T+t). Its 2F1 grows like (1−z)^(a−1−r−x) and so overflows for frequent buyers;
    Euler's transformation 2F1(A,B;C;z) = (1−z)^(C−A−B)·2F1(C−A, C−B; C; z) turns the product
    into (1−z)^(a−1)·2F1(a+b−1−r, a−1; a+b+x−1; z), which stays O(1). The formula holds for
    a < 1 too (CDNOW's a = 0.79); at a = 1 it is 0/0, so a is nudged off 1 by 1e-7.
    """
    x_, t_x_, T_ = check_rfm(x, t_x, T)
    return probability_alive(params, x_, t_x_, T_) * expected_purchases_if_alive(params, t, x_, T_)


def expected_purchases_if_alive(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Eq. (10) without its P(alive) factor: (a+b+x−1)/(a−1)·[1 − (1−z)^(a−1)·2F1(…; z)].

    Depends on (x, T) only, not on t_x, which lets predictions evaluate the costly 2F1 once per
    unique (x, T) pair. Where the 2F1 form is not finite, which happens only at degenerate
    estimates (r, α or a, b in the thousands and beyond: almost no heterogeneity left), the same
    expectation is integrated numerically instead (``_if_alive_by_quadrature``).
    """
    x_ = np.asarray(x, dtype=np.float64)
    T_ = np.asarray(T, dtype=np.float64)
    t_ = np.asarray(t, dtype=np.float64)
    if np.any(t_ < 0):
        raise ClvInputError("the prediction period t must not be negative")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-7:
        a = 1.0 + 1e-7
    one_minus_z = (alpha + T_) / (alpha + T_ + t_)
    z = t_ / (alpha + T_ + t_)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x_ - 1.0, z)
        value = (a + b + x_ - 1.0) / (a - 1.0) * (1.0 - one_minus_z ** (a - 1.0) * hyp)
    broken = ~np.isfinite(value)
    if np.any(broken):
        t_b, x_b, T_b = (np.broadcast_to(v, value.shape)[broken] for v in (t_, x_, T_))
        value = np.array(value, dtype=np.float64, copy=True)
        value[broken] = _if_alive_by_quadrature(params, t_b, x_b, T_b)
    return value


# Gauss-Jacobi nodes for _if_alive_by_quadrature: exact for polynomials of degree < 96 in p.
_QUADRATURE_NODES = 48
# Above this a + b + x the beta distribution of p is so narrow that its mean stands for it
# (relative error of order 1 / (a + b + x)), and the Gauss-Jacobi weights overflow anyway.
_POINT_MASS_ABOVE = 500.0


def _if_alive_by_quadrature(
    params: BgNbdParams, t: FloatArray, x: FloatArray, T: FloatArray
) -> FloatArray:
    """E[Y(t) | alive, x, T] as an integral over the drop-out probability p.

    A customer alive at T with rate λ and drop-out probability p makes (1/p)(1 − e^(−λpt))
    expected purchases in (T, T+t]; given the history, λ ~ gamma(r + x, α + T) and p ~
    beta(a, b + x) independently (FHL section 3), and averaging e^(−λpt) over λ gives
    (1 + pt/(α+T))^−(r+x). The remaining integral over p is Gauss-Jacobi quadrature with the
    beta density as its weight, per distinct x.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    out = np.empty_like(x, dtype=np.float64)
    for value in np.unique(x):
        rows = x == value
        b_x = b + value
        weights = None
        if a + b_x <= _POINT_MASS_ABOVE:
            nodes, weights = roots_jacobi(_QUADRATURE_NODES, b_x - 1.0, a - 1.0)
            p = (1.0 + nodes) / 2.0  # weight (1−u)^(b+x−1)(1+u)^(a−1) ∝ beta(a, b+x) in p
        if weights is None or not np.all(np.isfinite(weights)) or weights.sum() <= 0:
            p, weights = np.array([a / (a + b_x)]), np.array([1.0])
        weights = weights / weights.sum()
        scaled = p[:, None] * t[rows][None, :] / (alpha + T[rows][None, :])
        per_node = -np.expm1(-(r + value) * np.log1p(scaled)) / p[:, None]
        out[rows] = weights @ per_node
    return out


def expected_purchases_unconditional(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """E[X(t)] for a customer just acquired (FHL section 3); eq. (10) with x = t_x = T = 0."""
    t_ = np.atleast_1d(np.asarray(t, dtype=np.float64))
    zeros = np.zeros_like(t_)
    return expected_purchases(params, t_, zeros, zeros, zeros)
