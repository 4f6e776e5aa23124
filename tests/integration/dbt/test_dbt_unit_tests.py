"""Every dbt unit test (hand-computed answers for each KPI, identity rule and staging rule).

dbt unit tests on DuckDB need their input relations to exist (dbt-core issues 10292, 11982): one
`dbt build --empty` on an empty raw layer builds each model empty after its parents and runs
its unit tests on their inline fixtures before it (unit tests ignore `--empty`). One dbt process
(a start-up and a project parse) instead of a build and then a test. The worked examples of
docs/kpis.md are among them, by name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.dbt_cli import (
    BUILTIN_GENERIC_TESTS,
    build_exclusion,
    unit_test_exclusion,
)
from orchestration.ingest.raw_schema import ensure_raw_schema
from orchestration.settings import REPO_ROOT

# docs/kpis.md's worked examples (CLV 4,800; CAC 20; cost per impression 0.10; conversion rate 5 %;
# AOV 60; engagement rate) live in these unit tests; they must exist, not only pass.
WORKED_EXAMPLES = {
    "kpi_monthly_aov_and_cac_worked_examples",
    "kpi_by_channel_cac_conversion_ltv_to_cac",
    "email_campaign_performance_worked_examples",
    "social_engagement_monthly_rate_and_followers",
    "customer_clv_formula_worked_example",
}


def tagged_unit_tests(manifest_path: Path, tag: str = "worked_example") -> set[str]:
    """The names of the manifest's unit tests with the dbt tag ``tag``."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        test["name"] for test in manifest["unit_tests"].values() if tag in test["config"]["tags"]
    }


def test_every_dbt_unit_test_passes(tmp_path: Path):
    database = tmp_path / "clm.duckdb"
    con = duckdb.connect(str(database))
    ensure_raw_schema(con)
    con.close()
    env = {
        **os.environ,
        "CLM_DUCKDB_PATH": str(database),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
    }
    env.pop("CLM_AS_OF_DATE", None)
    # Models, seeds, snapshots and unit tests: data tests on empty relations would only pass.
    tested = dbt("build", "--empty", "--exclude-resource-type", "test", env=env)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    outcomes = {
        result["unique_id"].split(".")[-1]: result["status"]
        for result in results["results"]
        if result["unique_id"].startswith("unit_test.")
    }
    failed = {name: status for name, status in outcomes.items() if status != "pass"}
    assert not failed, f"{failed}\n{tested.stdout[-4000:]}"
    assert tested.returncode == 0
    assert set(outcomes) >= WORKED_EXAMPLES, WORKED_EXAMPLES - set(outcomes)
    assert len(outcomes) >= 25


def test_a_tag_keeps_only_its_unit_tests_in_a_build(
    dbt_manifest: Path, monkeypatch: pytest.MonkeyPatch
):
    """CLM_RUN_UNIT_TESTS=tag:worked_example (what the Spark parity run sets, where dbt itself
    resolves the selection: tests/e2e/test_spark_pipeline.py): the build excludes every unit
    test but the tagged ones, and the worked examples and identity rules are among those, so
    they can never drop out of the Spark run unnoticed."""
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    tests = {test["name"] for test in manifest["unit_tests"].values()}
    tagged = tagged_unit_tests(dbt_manifest)
    identity = {name for name in tagged if name.startswith("test_identity_")}
    assert tagged >= WORKED_EXAMPLES and len(identity) >= 4

    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "tag:worked_example")
    exclusion = unit_test_exclusion()
    assert exclusion[0::2] == ["--exclude"] * (len(tests) - len(tagged))
    excluded = {selection.split(".")[-1] for selection in exclusion[1::2]}
    assert excluded == set(tests) - tagged
    assert all(selection.startswith("unit_test:") for selection in exclusion[1::2])

    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "true")
    assert unit_test_exclusion() == []
    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "false")
    assert unit_test_exclusion() == ["--exclude-resource-type", "unit_test"]
    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "tag:no_such_tag")
    with pytest.raises(ValueError, match="no dbt unit test has the tag 'no_such_tag'"):
        unit_test_exclusion()


def test_builds_leave_out_dbts_builtin_tests_only_when_asked(monkeypatch: pytest.MonkeyPatch):
    """CLM_RUN_BUILTIN_TESTS=false (the Spark parity run) adds one ``--exclude test_name:`` per
    built-in generic test to the unit tests' exclusion; the default adds nothing."""
    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "false")
    monkeypatch.delenv("CLM_RUN_BUILTIN_TESTS", raising=False)
    assert build_exclusion() == unit_test_exclusion()
    monkeypatch.setenv("CLM_RUN_BUILTIN_TESTS", "false")
    exclusion = build_exclusion()
    assert exclusion[:2] == unit_test_exclusion()
    assert exclusion[2::2] == ["--exclude"] * len(BUILTIN_GENERIC_TESTS)
    assert exclusion[3::2] == [f"test_name:{name}" for name in BUILTIN_GENERIC_TESTS]
    assert {"not_null", "unique", "accepted_values", "relationships"} == set(BUILTIN_GENERIC_TESTS)
