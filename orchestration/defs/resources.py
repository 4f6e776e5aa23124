"""Resources shared by the assets. Paths are read from the environment when a step runs."""

import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.dbt_cli import dbt_executable
from orchestration.defs.dbt.project import dbt_project


class ClmDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two costs paid on every `dbt build` step that this
    project does not use (several seconds per step, measured with `make bench`'s profile).
    The dbt steps use it on Spark only; on DuckDB they build in the run's own process
    (orchestration/dbt_in_process.py)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt runs `dbt --version` (a dbt start-up) to learn it; the venv's own dbt is
        # the installed dbt-core.
        if Path(self.dbt_executable) == Path(sys.executable).with_name("dbt"):
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        # An in-process dbt adapter is only used to fetch row counts or column metadata, which
        # these assets do not ask for; the build itself runs in the dbt process.
        return None


# The venv's dbt, so `dagster dev` works without activating the venv.
resources = {"dbt": ClmDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())}
