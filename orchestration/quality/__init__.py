"""Data quality: Great Expectations suites (expectations/) run in SQL on the DuckDB warehouse.

Public API: ``validate_suite``, ``validate_all``, ``SuiteResult``, ``data_docs_index``,
``scaffold_suites`` (import it from ``orchestration.quality.scaffold``).
"""

from orchestration.quality.project import data_docs_index
from orchestration.quality.results import ExpectationOutcome, SuiteResult
from orchestration.quality.runner import blocking_failed, validate_all, validate_suite

__all__ = [
    "ExpectationOutcome",
    "SuiteResult",
    "blocking_failed",
    "data_docs_index",
    "validate_all",
    "validate_suite",
]
