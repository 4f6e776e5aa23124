"""Data quality: Great Expectations suites (expectations/) run in SQL on the DuckDB warehouse.

Structure is dbt's (tests in the models' YAML); the suites here hold the statistical and
operational rules of ``rules.py``. Public API: ``validate_suite``, ``validate_all``,
``SuiteResult``, ``data_docs_index``; ``suites.write_suites`` writes the GE project.
"""

from orchestration.quality.project import data_docs_index
from orchestration.quality.results import ExpectationOutcome, SuiteResult
from orchestration.quality.runner import validate_all, validate_suite

__all__ = [
    "ExpectationOutcome",
    "SuiteResult",
    "data_docs_index",
    "validate_all",
    "validate_suite",
]
