"""Gamma-Gamma: published CDNOW estimates, gradient, conditional expected order value."""

from __future__ import annotations

import numpy as np
import pytest

from orchestration.clv import gamma_gamma, simulate
from orchestration.clv.bgnbd import BgNbdParams, ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaParams

# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": CDNOW, 946 repeat buyers.
PUBLISHED = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def _repeat_buyers(cdnow):
    keep = (cdnow.x > 0) & (cdnow.zbar > 0)
    return cdnow.x[keep], cdnow.zbar[keep]


def test_fit_reproduces_published_cdnow_parameters(cdnow) -> None:
    x, m = _repeat_buyers(cdnow)
    assert x.size == 946
    fit = gamma_gamma.fit(x, m)
    assert fit.converged, fit.message
    # Published to 2 decimals.
    assert fit.params.as_array() == pytest.approx(PUBLISHED.as_array(), abs=0.01)
    assert fit.log_likelihood >= gamma_gamma.log_likelihood(PUBLISHED, x, m) - 1e-9


def test_gradient_matches_finite_differences(cdnow) -> None:
    x, m = _repeat_buyers(cdnow)
    theta = np.array([5.0, 3.0, 12.0])
    objective = gamma_gamma._Objective(x, m)
    value, grad = objective(theta)
    ll = gamma_gamma.log_likelihood(GammaGammaParams(*theta), x, m)
    assert value == pytest.approx(-ll / x.size, rel=1e-12)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-6 * theta[i]
        up, down = objective(theta + step)[0], objective(theta - step)[0]
        assert grad[i] == pytest.approx((up - down) / (2 * step[i]), rel=1e-5, abs=1e-8)


def test_density_integrates_to_one() -> None:
    # f(m̄ | p, q, γ; x) is a density in m̄: a wrong constant would not integrate to 1.
    grid = np.linspace(1e-6, 2000.0, 400_001)
    for x in (1, 4):
        density = np.exp(gamma_gamma.log_likelihood_terms(PUBLISHED, np.full(grid.size, x), grid))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)


def test_recovers_simulated_parameters() -> None:
    true = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    customers = simulate.simulate(40_000, BgNbdParams(1.0, 2.0, 0.5, 3.0), true, 52.0, seed=5)
    keep = customers.x > 0
    fit = gamma_gamma.fit(customers.x[keep], customers.monetary[keep])
    assert fit.converged
    assert fit.params.as_array() == pytest.approx(true.as_array(), rel=0.15)


def test_conditional_expected_order_value() -> None:
    p = PUBLISHED
    population = p.p * p.gamma / (p.q - 1)
    assert p.population_mean_spend == pytest.approx(population)
    value = gamma_gamma.conditional_expected_order_value(p, [0, 1, 5, 50], [0.0, 100, 100, 100])
    # x = 0: the population mean; then a weighted mean moving towards m̄ = 100 as x grows.
    assert value[0] == pytest.approx(population)
    assert np.all(np.diff(value) > 0) and np.all(value[1:] < 100)
    assert value[1] == pytest.approx(p.p * (p.gamma + 100) / (p.p + p.q - 1))
    # Net refunds (m̄ ≤ 0) carry no spend information: population mean.
    refund = gamma_gamma.conditional_expected_order_value(p, [3], [-20.0])
    assert refund[0] == pytest.approx(population)
    # q ≤ 1: no population mean, so customers without repeat spend get NaN.
    undefined = gamma_gamma.conditional_expected_order_value(
        GammaGammaParams(2.0, 0.8, 10.0), [0, 3], [0.0, 50.0]
    )
    assert np.isnan(undefined[0]) and np.isfinite(undefined[1])


def test_broken_inputs_raise() -> None:
    with pytest.raises(ClvInputError, match="frequency > 0"):
        gamma_gamma.fit([1, 0], [10.0, 5.0])
    with pytest.raises(ClvInputError, match="NaN"):
        gamma_gamma.fit([1, 2], [10.0, np.nan])
    with pytest.raises(ValueError, match="cannot be fitted"):
        gamma_gamma.fit([], [])
