"""Resources shared by the assets. Paths are read from the environment when a step runs."""

from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_project

resources = {"dbt": DbtCliResource(project_dir=dbt_project)}
