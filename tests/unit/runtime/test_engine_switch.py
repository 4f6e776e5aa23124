"""CLM_ENGINE reaches every dbt call through one place, orchestration/dbt_cli.vars_argument."""

from __future__ import annotations

import json

from support.pipeline import environment

from orchestration.dbt_cli import vars_argument


def test_duckdb_runs_the_default_target():
    with environment({"CLM_ENGINE": "duckdb"}):
        arguments = vars_argument()
    assert "--target" not in arguments
    assert "clm_spark_conf" not in json.loads(arguments[arguments.index("--vars") + 1])


def test_spark_runs_the_spark_target_with_the_spark_configuration(tmp_path):
    warehouse = tmp_path / "spark"
    with environment({"CLM_ENGINE": "spark", "CLM_SPARK_WAREHOUSE_DIR": str(warehouse)}):
        arguments = vars_argument()
    assert arguments[:2] == ["--target", "spark"]
    values = json.loads(arguments[arguments.index("--vars") + 1])
    assert values["clm_spark_conf"]["spark.sql.warehouse.dir"] == str(warehouse.resolve())
    # The KPI vars are there as on DuckDB.
    assert "clv_horizon_months" in values
