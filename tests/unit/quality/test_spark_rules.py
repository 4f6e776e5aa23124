"""The GE rules written for Spark SQL (orchestration/engines/spark_quality.py), and the DuckDB
path staying free of pyspark."""

from __future__ import annotations

import os
import subprocess
import sys

from orchestration.engines.spark_quality import spark_sql
from orchestration.quality.rules import DRIFT_METRICS, MAX_UNIT_PRICE, RULES, drift_query


def test_thresholds_become_the_values_in_force():
    rule = next(r for r in RULES if r.key == "range:unit_price_max")
    query = spark_sql(rule.query, {MAX_UNIT_PRICE.variable: 123})
    assert "getvariable" not in query.lower()
    assert "COALESCE(123, 5000)" in query
    assert "{batch}" in query


def test_the_drift_baseline_reads_the_temporary_views():
    query = spark_sql(drift_query(DRIFT_METRICS[0]), {})
    assert "audit." not in query
    assert "clm_audit_run_metrics" in query and "clm_audit_baseline_runs" in query


def test_every_rule_translates_and_keeps_its_batch():
    for rule in RULES:
        query = spark_sql(rule.query, {})
        assert "getvariable" not in query.lower(), rule.key
        assert ("{batch}" in query) == ("{batch}" in rule.query), rule.key


def test_the_duckdb_path_never_imports_pyspark(dbt_manifest):
    code = (
        "import sys\n"
        "import orchestration.definitions, orchestration.cli, orchestration.summary\n"
        "import orchestration.engines.spark_publish, orchestration.dbt_cli\n"
        "orchestration.dbt_cli.vars_argument()\n"
        "assert 'pyspark' not in sys.modules, 'pyspark imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "CLM_ENGINE": "duckdb"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_suites_built_by_the_same_dbt_step_are_validated_together(dbt_manifest):
    from orchestration.engines.spark_quality import suite_waves

    waves = sorted(sorted(wave) for wave in suite_waves(dbt_manifest))
    # ranges and operations read customer_clv / dim_customers, built after the CLV fit.
    assert waves == [["operations", "ranges"], ["reconciliation", "units"]]
