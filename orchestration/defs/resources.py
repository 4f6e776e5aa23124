"""Resources shared by the assets. Paths are read from the environment when a step runs."""

from dagster_dbt import DbtCliResource

from orchestration.dbt_cli import dbt_executable
from orchestration.defs.dbt.project import dbt_project

# The venv's dbt, so `dagster dev` works without activating the venv.
resources = {"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())}
