"""BG/NBD: published CDNOW estimates, likelihood value, P(alive), expected purchases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import hyp2f1

from orchestration.clv import bgnbd, simulate
from orchestration.clv.bgnbd import BgNbdParams, ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaParams

# Fader, Hardie & Lee (2005), CDNOW sample, weeks: the published MLE and log-likelihood.
PUBLISHED = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_LL = -9582.4


def test_fit_reproduces_published_cdnow_parameters(cdnow) -> None:
    fit = bgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)
    assert fit.converged, fit.message
    # Published to 3 decimals: the fit must round to the same numbers (within 1e-3).
    assert fit.params.as_array() == pytest.approx(PUBLISHED.as_array(), abs=1e-3)
    assert fit.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.05)
    assert fit.customers == 2357
    assert fit.unique_rows < fit.customers  # the aggregation did something


def test_log_likelihood_at_published_parameters(cdnow) -> None:
    ll = bgnbd.log_likelihood(PUBLISHED, cdnow.x, cdnow.t_x, cdnow.T)
    assert ll == pytest.approx(PUBLISHED_LL, abs=0.05)
    fitted = bgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)
    assert fitted.log_likelihood >= ll - 1e-9  # the MLE is at least as likely as the rounding


def test_weighted_likelihood_equals_per_customer_sum(cdnow) -> None:
    x, t_x, T = cdnow.x[:300], cdnow.t_x[:300], cdnow.T[:300]
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    weighted = bgnbd.log_likelihood(PUBLISHED, rows[:, 0], rows[:, 1], rows[:, 2], counts)
    assert weighted == pytest.approx(bgnbd.log_likelihood(PUBLISHED, x, t_x, T), rel=1e-12)


def test_gradient_matches_finite_differences(cdnow) -> None:
    theta = np.array([0.3, 5.0, 0.9, 2.0])
    objective = bgnbd._Objective(cdnow.x, cdnow.t_x, cdnow.T, np.ones_like(cdnow.x))
    value, grad = objective(theta)
    ll = bgnbd.log_likelihood(BgNbdParams(*theta), cdnow.x, cdnow.t_x, cdnow.T)
    assert value == pytest.approx(-ll / cdnow.x.size, rel=1e-12)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-6 * theta[i]
        up, down = objective(theta + step), objective(theta - step)
        assert grad[i] == pytest.approx((up[0] - down[0]) / (2 * step[i]), rel=1e-5, abs=1e-8)


def test_time_unit_only_rescales_alpha_and_the_likelihood(cdnow) -> None:
    # In days alpha is 7× larger, and the likelihood (a density in t_x) changes by −Σx·ln 7.
    days = BgNbdParams(PUBLISHED.r, PUBLISHED.alpha * 7, PUBLISHED.a, PUBLISHED.b)
    ll_days = bgnbd.log_likelihood(days, cdnow.x, cdnow.t_x * 7, cdnow.T * 7)
    ll_weeks = bgnbd.log_likelihood(PUBLISHED, cdnow.x, cdnow.t_x, cdnow.T)
    assert ll_days == pytest.approx(ll_weeks - cdnow.x.sum() * np.log(7), rel=1e-12)


def test_recovers_simulated_parameters() -> None:
    true = BgNbdParams(r=0.5, alpha=5.0, a=0.8, b=2.5)
    rng = np.random.default_rng(7)
    customers = simulate.simulate(
        20_000, true, GammaGammaParams(6.0, 4.0, 15.0), rng.uniform(26, 78, 20_000), seed=1
    )
    fit = bgnbd.fit(customers.x, customers.t_x, customers.T)
    assert fit.converged
    assert fit.params.as_array() == pytest.approx(true.as_array(), rel=0.15)


def test_probability_alive_properties() -> None:
    p = PUBLISHED
    # No repeat purchase: cannot have dropped out (drop-out happens only after a repeat one).
    assert bgnbd.probability_alive(p, [0, 0], [0, 0], [1.0, 100.0]) == pytest.approx([1, 1])
    # Longer silence since the last purchase → less likely alive.
    silence = bgnbd.probability_alive(p, [3] * 4, [10.0] * 4, [10.0, 20.0, 40.0, 80.0])
    assert np.all(np.diff(silence) < 0)
    assert silence[0] <= 1.0 and silence[-1] > 0.0
    # More recent last purchase (same x, T) → more likely alive.
    recency = bgnbd.probability_alive(p, [3] * 3, [5.0, 20.0, 38.0], [39.0] * 3)
    assert np.all(np.diff(recency) > 0)
    # Extreme histories stay in [0, 1] without overflow.
    extreme = bgnbd.probability_alive(p, [500, 500], [1.0, 1000.0], [1000.0, 1000.0])
    assert np.all(np.isfinite(extreme)) and np.all((extreme >= 0) & (extreme <= 1))


def test_expected_purchases_match_the_direct_form_of_eq_10(cdnow) -> None:
    # The implementation uses Euler's transformation of eq. (10)'s 2F1; check it against the
    # untransformed formula where that is still finite.
    p = PUBLISHED
    x, t_x, T, t = cdnow.x, cdnow.t_x, cdnow.T, 39.0
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    z = t / (alpha + T + t)
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
        * bgnbd.probability_alive(p, x, t_x, T)
    )
    assert bgnbd.expected_purchases(p, t, x, t_x, T) == pytest.approx(direct, rel=1e-9)


def test_unconditional_expectation_matches_the_formula_and_simulation() -> None:
    p = PUBLISHED
    t = np.array([10.0, 39.0, 78.0])
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    formula = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert bgnbd.expected_purchases_unconditional(p, t) == pytest.approx(formula, rel=1e-9)
    customers = simulate.simulate(200_000, p, GammaGammaParams(6.0, 4.0, 15.0), 39.0, seed=3)
    assert customers.x.mean() == pytest.approx(formula[1], rel=0.03)


def test_expected_purchases_grow_with_t_and_start_at_zero() -> None:
    t = np.array([0.0, 1.0, 5.0, 20.0, 52.0, 104.0])
    values = bgnbd.expected_purchases(PUBLISHED, t, 2, 30.43, 38.86)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    # Frequent buyers do not overflow (the reason for the transformed 2F1).
    heavy = bgnbd.expected_purchases(PUBLISHED, 52.0, [300, 1000], [300.0, 999.0], [300, 1000])
    assert np.all(np.isfinite(heavy)) and np.all(heavy > 0)


def test_a_equal_to_one_is_handled() -> None:
    near = bgnbd.expected_purchases(BgNbdParams(0.3, 5.0, 1.0, 2.0), 10.0, 2, 5.0, 20.0)
    left = bgnbd.expected_purchases(BgNbdParams(0.3, 5.0, 1.0 - 1e-4, 2.0), 10.0, 2, 5.0, 20.0)
    assert np.isfinite(near).all() and near == pytest.approx(left, rel=1e-3)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1], [1.0], [-1.0], "negative"),
        ([-1], [0.0], [5.0], "negative"),
        ([2], [6.0], [5.0], "greater than T"),
        ([0], [3.0], [5.0], "recency must be 0"),
        ([1.5], [1.0], [5.0], "whole number"),
        ([1], [np.nan], [5.0], "NaN"),
    ],
)
def test_broken_inputs_raise(x, t_x, T, message) -> None:
    with pytest.raises(ClvInputError, match=message):
        bgnbd.log_likelihood(PUBLISHED, x, t_x, T)


def test_fit_refuses_data_without_repeat_purchases() -> None:
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        bgnbd.fit([0, 0, 0], [0, 0, 0], [5, 6, 7])
    with pytest.raises(ValueError, match="no customers"):
        bgnbd.fit([], [], [])


def test_integral_form_equals_eq_10_and_covers_degenerate_estimates(cdnow) -> None:
    # E[Y(t) | alive] = E_p[(1/p)(1 − (1 + pt/(α+T))^−(r+x))], p ~ beta(a, b + x): the
    # quadrature fallback must agree with eq. (10) where eq. (10) is finite…
    t = np.full(cdnow.x.size, 39.0)
    by_2f1 = bgnbd.expected_purchases_if_alive(PUBLISHED, 39.0, cdnow.x, cdnow.T)
    by_quadrature = bgnbd._if_alive_by_quadrature(PUBLISHED, t, cdnow.x, cdnow.T)
    assert by_quadrature == pytest.approx(by_2f1, rel=1e-8)
    # …and give the homogeneous limit where the 2F1 form overflows (r, α, a, b → ∞ with
    # λ = r/α and p = a/(a+b) fixed): (1/p)(1 − e^(−λpt)).
    degenerate = BgNbdParams(r=1e7, alpha=1e8, a=4e5, b=6e5)
    values = bgnbd.expected_purchases_if_alive(degenerate, 39.0, np.array([0.0, 2.0]), 30.0)
    rate, p = 0.1, 0.4
    assert values == pytest.approx((1 - np.exp(-rate * p * 39.0)) / p, rel=1e-3)
