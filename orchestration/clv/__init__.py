"""Predicted customer lifetime value and churn risk: buy-till-you-die models + Gamma-Gamma.

Modules: ``bgnbd`` and ``mbgnbd`` (the purchase/drop-out models BG/NBD and MBG/NBD),
``purchase_models`` (the two as candidates behind one interface), ``holdout`` (the
calibration/holdout report and the model choice), ``gamma_gamma`` (spend model), ``predict``
(discounted CLV over a horizon of months), ``tables`` (DDL and comments of the output tables,
mirrored by dbt's on-run-start hook), ``run`` (``run_clv``: read from DuckDB, fit, choose,
write), ``simulate`` (populations from known parameters, for tests and benchmarks).
docs/clv.md describes the models, the holdout report and the choice.

Design note — why the published likelihoods are implemented here rather than imported:
- pymc-marketing: current releases need Python ≥ 3.12 (this project is on 3.11); 0.19.2, the
  last for 3.11, is ~790 MB installed, needs a C compiler, and is Bayesian — its default priors
  do not give the maximum-likelihood estimates the published results are stated in.
- lifetimes: unmaintained; its dataset loader needs ``pkg_resources`` and it warns under
  pandas 3. btyd (its fork) does not import on Python 3.11.
So the BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam, Denizel & Filiztekin 2007) and
Gamma-Gamma (Fader, Hardie & Lee 2005; Fader & Hardie 2013) log-likelihoods are written directly
with numpy/scipy: vectorised, scipy.special (gammaln, betaln, digamma, hyp2f1), analytic
gradients, L-BFGS-B over log-parameters, log-sum-exp for the two terms of the purchase models,
and their likelihoods aggregated over unique (frequency, recency, T) rows so a million customers
fit in seconds. Tests check the published
CDNOW estimates of all three (tests/unit/clv).
"""

from orchestration.clv.bgnbd import BgNbdFit, BgNbdParams, ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaFit, GammaGammaParams
from orchestration.clv.mbgnbd import MbgNbdFit, MbgNbdParams
from orchestration.clv.run import ClvFitResult, run_clv
from orchestration.clv.tables import ensure_clv_tables

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "ClvFitResult",
    "ClvInputError",
    "GammaGammaFit",
    "GammaGammaParams",
    "MbgNbdFit",
    "MbgNbdParams",
    "ensure_clv_tables",
    "run_clv",
]
