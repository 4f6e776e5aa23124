"""The GE-on-DuckDB fix: expectations compute in SQL, a violation fails with its count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.quality.gx_duckdb_fix import apply_duckdb_fix, is_applied, remove_duckdb_fix
from orchestration.quality.runner import outcome_from_result


@pytest.fixture()
def table_with_null(tmp_path: Path) -> Path:
    """staging.t: column `name` has one NULL out of three rows, `id` none."""
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "create schema staging; create table staging.t as "
        "select * from (values (1, 'a'), (2, null), (3, 'c')) as v(id, name)"
    )
    con.close()
    return path


@pytest.fixture()
def unpatched() -> Iterator[None]:
    """GE as installed, for the duration of one test; the fix is restored afterwards."""
    remove_duckdb_fix()
    try:
        yield
    finally:
        apply_duckdb_fix()


def _validate(path: Path) -> list[dict]:
    """Validate a violated and a satisfied not-null expectation on staging.t."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql("w", connection_string=f"duckdb:///{path}")
    asset = source.add_table_asset("t", table_name="t", schema_name="staging")
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    try:
        return [
            {"success": r.success, "result": dict(r.result)}
            for r in (
                batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="name")),
                batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="id")),
            )
        ]
    finally:
        source.get_execution_engine().close()
        source.get_engine().dispose()


def test_violated_expectation_fails_with_unexpected_count(table_with_null: Path) -> None:
    """With the fix: the NULL is found (fails, unexpected_count 1), the clean column passes."""
    apply_duckdb_fix()
    violated, satisfied = _validate(table_with_null)
    assert violated["success"] is False
    assert violated["result"]["unexpected_count"] == 1
    assert violated["result"]["element_count"] == 3
    assert violated["result"]["partial_unexpected_list"] == [None]
    assert satisfied["success"] is True
    assert satisfied["result"]["unexpected_count"] == 0


def test_unpatched_ge_still_returns_no_result_on_duckdb(
    table_with_null: Path, unpatched: None
) -> None:
    """The bug the fix works around (GE issues 10738, 11579) is still in the installed GE.

    When this test fails, GE and duckdb-engine fixed it: remove gx_duckdb_fix.py.
    """
    violated, satisfied = _validate(table_with_null)
    assert violated == {"success": False, "result": {}}
    assert satisfied == {"success": False, "result": {}}


def test_apply_is_idempotent() -> None:
    """Applying twice wraps GE's query method once."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    apply_duckdb_fix()
    first = SqlAlchemyExecutionEngine._execute_query_with_recovery
    apply_duckdb_fix()
    assert SqlAlchemyExecutionEngine._execute_query_with_recovery is first
    assert is_applied()


def _result(success: bool, result: dict, exception_info: dict | None = None):
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    config = ExpectationConfiguration(
        type="expect_column_values_to_not_be_null",
        kwargs={"column": "name"},
        meta={"severity": "warning"},
    )
    return ExpectationValidationResult(
        success=success,
        expectation_config=config,
        result=result,
        exception_info=exception_info
        or {"raised_exception": False, "exception_message": None, "exception_traceback": None},
    )


def test_expectation_without_result_is_a_failure() -> None:
    """`success: true` with an empty result (the bug's signature) never counts as a pass."""
    outcome = outcome_from_result(_result(True, {}))
    assert outcome.success is False
    assert outcome.error == "expectation returned no result"
    assert outcome.severity == "warning"


def test_metric_exception_is_a_failure() -> None:
    """A metric that raised is a failure carrying the message."""
    info = {"metric_id": {"exception_message": "boom", "exception_traceback": "..."}}
    outcome = outcome_from_result(_result(True, {"element_count": 3}, info))
    assert outcome.success is False
    assert "boom" in (outcome.error or "")


def test_satisfied_result_is_a_pass() -> None:
    """A real result with success is a pass."""
    outcome = outcome_from_result(
        _result(True, {"element_count": 3, "unexpected_count": 0, "partial_unexpected_list": []})
    )
    assert outcome.success is True
    assert outcome.unexpected_count == 0
