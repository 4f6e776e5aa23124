"""Predicted customer lifetime value: BG/NBD + Gamma-Gamma, fitted by maximum likelihood.

Modules: ``bgnbd`` (purchase/drop-out model), ``gamma_gamma`` (spend model), ``predict``
(discounted CLV over a horizon of months), ``tables`` (DDL of the output tables, mirrored by
dbt's on-run-start hook), ``run`` (``run_clv``: read the summary from DuckDB, fit, write).

Design note — why the published likelihoods are implemented here rather than imported:
- pymc-marketing: current releases need Python ≥ 3.12 (this project is on 3.11); 0.19.2, the
  last for 3.11, is ~790 MB installed, needs a C compiler, and is Bayesian — its default priors
  do not give the maximum-likelihood estimates the published results are stated in.
- lifetimes: unmaintained; its dataset loader needs ``pkg_resources`` and it warns under
  pandas 3. btyd (its fork) does not import on Python 3.11.
So the BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lee 2005; Fader &
Hardie 2013) log-likelihoods are written directly with numpy/scipy: vectorised, scipy.special
(gammaln, betaln, digamma, hyp2f1), analytic gradients, L-BFGS-B over log-parameters,
log-sum-exp for the two BG/NBD terms, and the BG/NBD likelihood aggregated over unique
(frequency, recency, T) rows so a million customers fit in seconds. Tests check the published
CDNOW estimates (tests/unit/clv).
"""

from orchestration.clv.bgnbd import BgNbdFit, BgNbdParams, ClvInputError
from orchestration.clv.gamma_gamma import GammaGammaFit, GammaGammaParams
from orchestration.clv.run import ClvFitResult, run_clv
from orchestration.clv.tables import ensure_clv_tables

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "ClvFitResult",
    "ClvInputError",
    "GammaGammaFit",
    "GammaGammaParams",
    "ensure_clv_tables",
    "run_clv",
]
