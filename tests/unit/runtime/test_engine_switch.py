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


def test_small_data_settings_reach_spark_and_default_to_spark_own(tmp_path):
    from orchestration.engines.spark import RUNTIME_SETTINGS, spark_conf

    warehouse = tmp_path / "spark"
    with environment({"CLM_SPARK_WAREHOUSE_DIR": str(warehouse)}):
        default = spark_conf()
    with environment(
        {
            "CLM_SPARK_WAREHOUSE_DIR": str(warehouse),
            "CLM_SPARK_CODEGEN": "false",
            "CLM_SPARK_JAVA_OPTIONS": " -XX:+UseSerialGC  -Xss4m ",
        }
    ):
        small = spark_conf()
    derby_home = f"-Dderby.system.home={warehouse.resolve()}"
    # Spark's own code generation unless switched off; the metastore's location always first.
    assert "spark.sql.codegen.wholeStage" not in default
    assert "spark.sql.codegen.factoryMode" not in default
    assert default["spark.driver.extraJavaOptions"] == derby_home
    assert small["spark.sql.codegen.wholeStage"] == "false"
    assert small["spark.sql.codegen.factoryMode"] == "NO_CODEGEN"
    assert small["spark.driver.extraJavaOptions"] == f"{derby_home} -XX:+UseSerialGC -Xss4m"
    # Session settings: a client of a running server passes them on too.
    assert {"spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode"} <= RUNTIME_SETTINGS
