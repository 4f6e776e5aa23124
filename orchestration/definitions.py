"""Dagster entry point (`dagster dev` finds it through pyproject's [tool.dagster]).

Loads every asset, check, job, schedule and sensor from the `defs/` package; nothing is listed
by hand here. Resources come from `defs/resources.py`; the executor is set here.
"""

from dagster import Definitions, in_process_executor, load_from_defs_folder

from orchestration.defs.resources import resources
from orchestration.settings import REPO_ROOT

# One step at a time: DuckDB has a single writer, and `dbt build` fails if another step holds
# the file (docs/design.md, "One step at a time"). In-process also keeps `clm run` and `dagster dev` alike.
defs = Definitions.merge(
    load_from_defs_folder(project_root=REPO_ROOT),
    Definitions(resources=resources, executor=in_process_executor),
)
