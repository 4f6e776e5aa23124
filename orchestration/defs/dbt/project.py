"""The one DbtProject of the repository and the translator from dbt nodes to Dagster assets."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.dbt_cli import target_dir, vars_argument
from orchestration.settings import REPO_ROOT

# dagster-dbt looks `dbt` up on PATH (also inside prepare_if_dev); use the venv's own dbt even
# when the venv is not activated, as under `make dev`.
_venv_bin = str(Path(sys.executable).parent)
if _venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _venv_bin + os.pathsep + os.environ.get("PATH", "")

# Under `dagster dev` the manifest is re-parsed on load (with the vars the build gets, so the
# build reuses that parse); elsewhere `clm run` / `make manifest` prepares it once.
dbt_project = DbtProject(
    project_dir=REPO_ROOT,
    profiles_dir=REPO_ROOT,
    target_path=target_dir(),
    prepare_project_cli_args=["parse", "--quiet", *vars_argument()],
)
dbt_project.prepare_if_dev()

# Sources that are written by Python assets of this project rather than by the loader.
PYTHON_SOURCES = {"clv"}


class ClmDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>`; raw sources `raw/<source>__<table>`; groups by folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source_name = dbt_resource_props["source_name"]
            if source_name in PYTHON_SOURCES:
                return AssetKey([source_name, dbt_resource_props["name"]])
            return AssetKey(["raw", dbt_resource_props["identifier"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type in ("seed", "snapshot"):
            return f"{resource_type}s"
        folders = list(dbt_resource_props["fqn"][1:-1])
        if not folders:
            return "dbt"
        if folders[0] == "marts" and len(folders) > 1:
            return f"marts_{folders[1]}"
        return folders[0]


# Source tests become checks of the raw assets (otherwise dagster-dbt logs each one as an
# observation with a warning, on every run).
translator = ClmDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        enable_code_references=False,
        enable_source_tests_as_checks=True,
    )
)
