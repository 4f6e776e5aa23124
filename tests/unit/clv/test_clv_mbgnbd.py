"""MBG/NBD: published CDNOW estimates, gradient, P(alive) of one-time buyers, expectations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import hyp2f1

from orchestration.clv import bgnbd, mbgnbd, simulate
from orchestration.clv.bgnbd import BgNbdParams, ClvInputError
from orchestration.clv.mbgnbd import MbgNbdParams

# MBG/NBD on the CDNOW sample (weeks), as reported by BTYDplus (Platzer) and asserted to three
# decimals by the lifetimes package's tests: r, alpha, a, b.
PUBLISHED = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)


def test_fit_reproduces_published_cdnow_parameters(cdnow) -> None:
    fit = mbgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)
    assert fit.converged, fit.message
    assert fit.params.as_array() == pytest.approx(PUBLISHED.as_array(), abs=1e-3)
    assert fit.customers == 2357
    # The MLE is at least as likely as the published (rounded) parameters, and barely more.
    at_published = mbgnbd.log_likelihood(PUBLISHED, cdnow.x, cdnow.t_x, cdnow.T)
    assert at_published - 1e-9 <= fit.log_likelihood <= at_published + 0.01


def test_bgnbd_and_mbgnbd_fit_cdnow_about_equally_well(cdnow) -> None:
    # Batislam et al. report the two fit CDNOW-like data almost identically; the BG/NBD
    # published LL is −9582.4.
    mbg = mbgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)
    bg = bgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)
    assert abs(mbg.log_likelihood - bg.log_likelihood) < 5.0


def test_weighted_likelihood_equals_per_customer_sum(cdnow) -> None:
    x, t_x, T = cdnow.x[:400], cdnow.t_x[:400], cdnow.T[:400]
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    weighted = mbgnbd.log_likelihood(PUBLISHED, rows[:, 0], rows[:, 1], rows[:, 2], counts)
    assert weighted == pytest.approx(mbgnbd.log_likelihood(PUBLISHED, x, t_x, T), rel=1e-12)


def test_gradient_matches_finite_differences(cdnow) -> None:
    theta = np.array([0.4, 5.0, 0.9, 1.8])
    objective = mbgnbd._Objective(cdnow.x, cdnow.t_x, cdnow.T, np.ones_like(cdnow.x))
    value, grad = objective(theta)
    ll = mbgnbd.log_likelihood(MbgNbdParams(*theta), cdnow.x, cdnow.t_x, cdnow.T)
    assert value == pytest.approx(-ll / cdnow.x.size, rel=1e-12)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-6 * theta[i]
        up, down = objective(theta + step), objective(theta - step)
        assert grad[i] == pytest.approx((up[0] - down[0]) / (2 * step[i]), rel=1e-5, abs=1e-8)


def test_likelihood_is_a_distribution_over_one_time_buyers() -> None:
    # For x = 0 the likelihood is P(X(T) = 0) (no density in t_x): compare with the
    # closed form B(a, b+1)/B(a, b)·(α/(α+T))^r + a/b·B(a, b+1)/B(a, b), i.e.
    # P(die at 0) + P(alive at 0)·P(no purchase in (0, T]).
    p = PUBLISHED
    T = np.array([1.0, 10.0, 39.0])
    survive = p.b / (p.a + p.b)  # E[1 − p] for p ~ beta(a, b)
    expected = (1 - survive) + survive * (p.alpha / (p.alpha + T)) ** p.r
    likelihood = np.exp(mbgnbd.log_likelihood_terms(p, [0, 0, 0], [0, 0, 0], T))
    assert likelihood == pytest.approx(expected, rel=1e-12)


def test_one_time_buyers_get_p_alive_below_one_falling_with_silence() -> None:
    p = PUBLISHED
    T = np.array([0.0, 5.0, 20.0, 39.0, 78.0])
    alive = mbgnbd.probability_alive(p, np.zeros(5), np.zeros(5), T)
    assert np.all(alive < 1.0) and np.all(alive > 0.0)
    assert np.all(np.diff(alive) < 0)
    formula = 1.0 / (1.0 + p.a / p.b * ((p.alpha + T) / p.alpha) ** p.r)
    assert alive == pytest.approx(formula, rel=1e-12)
    # BG/NBD, by contrast, cannot tell a lapsed one-time buyer from a fresh one.
    bg = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert bgnbd.probability_alive(bg, np.zeros(5), np.zeros(5), T) == pytest.approx(1.0)


def test_probability_alive_properties() -> None:
    p = PUBLISHED
    recency = mbgnbd.probability_alive(p, [3] * 3, [5.0, 20.0, 38.0], [39.0] * 3)
    assert np.all(np.diff(recency) > 0)
    extreme = mbgnbd.probability_alive(p, [500, 500, 0], [1.0, 1000.0, 0.0], [1000.0] * 3)
    assert np.all(np.isfinite(extreme)) and np.all((extreme >= 0) & (extreme <= 1))


def test_expected_purchases_match_the_direct_2f1_form(cdnow) -> None:
    # The conditional expectation with its untransformed 2F1 (the lifetimes package and BDF
    # give this form) where it is still finite.
    p = PUBLISHED
    x, t_x, T, t = cdnow.x, cdnow.t_x, cdnow.T, 39.0
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    z = t / (alpha + T + t)
    direct = (
        (a + b + x)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, z))
        * mbgnbd.probability_alive(p, x, t_x, T)
    )
    assert mbgnbd.expected_purchases(p, t, x, t_x, T) == pytest.approx(direct, rel=1e-9)


def test_holdout_predictions_match_simulated_purchases_in_total() -> None:
    # Data simulated from MBG/NBD itself: fitted on the calibration period, the model's
    # expected holdout purchases sum to what the simulated customers actually bought.
    true = BgNbdParams(r=0.5, alpha=6.0, a=0.9, b=1.6)
    T = np.random.default_rng(5).uniform(20, 40, 30_000)
    sim = simulate.simulate_with_holdout(30_000, true, T, 39.0, seed=6, modified=True)
    fit = mbgnbd.fit(sim.x, sim.t_x, sim.T)
    assert fit.converged
    predicted = mbgnbd.expected_purchases(fit.params, 39.0, sim.x, sim.t_x, sim.T)
    assert predicted.sum() == pytest.approx(sim.holdout_purchases.sum(), rel=0.05)
    # And the one-time buyers' P(alive) tracks who actually came back in the holdout.
    one_time = sim.x == 0
    alive = mbgnbd.probability_alive(fit.params, sim.x, sim.t_x, sim.T)[one_time]
    came_back = sim.holdout_purchases[one_time] > 0
    assert alive[came_back].mean() > alive[~came_back].mean()


def test_recovers_simulated_parameters() -> None:
    true = BgNbdParams(r=0.5, alpha=6.0, a=0.9, b=1.6)
    # Recency to a tenth of a unit, whole T: fewer unique rows, a faster fit, no visible bias.
    T = np.round(np.random.default_rng(100).uniform(20, 80, 50_000))
    sim = simulate.simulate_with_holdout(50_000, true, T, 0.0, seed=0, modified=True)
    fit = mbgnbd.fit(sim.x, np.round(sim.t_x, 1), sim.T)
    assert fit.converged
    assert fit.params.as_array() == pytest.approx(true.as_array(), rel=0.1)


def test_broken_inputs_and_degenerate_data() -> None:
    with pytest.raises(ClvInputError, match="greater than T"):
        mbgnbd.log_likelihood(PUBLISHED, [2], [6.0], [5.0])
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        mbgnbd.fit([0, 0], [0, 0], [5, 6])
    with pytest.raises(ClvInputError, match="must not be negative"):
        mbgnbd.expected_purchases(PUBLISHED, -1.0, [1], [1.0], [2.0])
