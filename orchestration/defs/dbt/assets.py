"""dbt models, seeds and snapshots as Dagster assets (dbt tests become asset checks).

Two definitions over one manifest: the CLV mart and everything downstream of it read the
predictions the Python CLV asset writes, so they build after it; everything else builds first.
"""

import json
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import dbt_in_process
from orchestration.dbt_cli import build_exclusion, vars_argument
from orchestration.defs.dbt.project import dbt_project, translator
from orchestration.settings import value as setting_value

AFTER_CLV_SELECTION = "source:clv.customer_clv_predictions+"


def _load_manifest() -> dict[str, Any]:
    path = dbt_project.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {path}. Run `make manifest` (dbt parse) first; "
            "`make run`, `make dev` and `make test` do it for you."
        )
    return json.loads(path.read_text(encoding="utf-8"))


manifest = _load_manifest()
_has_clv_mart = any(
    node.get("resource_type") == "model" and node.get("name") == "customer_clv"
    for node in manifest["nodes"].values()
)


def _build(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    # `build` runs models, seeds, snapshots and their tests in DAG order, so a failing test
    # stops what depends on it.
    # `--vars` carries the settings in force (the same as the parse's, so nothing re-parses).
    # dbt's own log file gets warnings and errors only: at its default (debug) level writing
    # it costs dbt a sixth of its time; every node's result still reaches the run's log.
    args = ["build", "--log-level-file", "warn", *vars_argument(), *build_exclusion()]
    if setting_value("CLM_ENGINE") == "spark":
        yield from dbt.cli(args, context=context).stream()
    else:
        # In this process, on the manifest parsed once (dbt_in_process.py says why).
        yield from dbt_in_process.build(context, args)


@dbt_assets(
    manifest=manifest,
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=AFTER_CLV_SELECTION if _has_clv_mart else None,
    name="dbt_warehouse",
)
def dbt_warehouse(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Seeds, snapshots, staging, intermediate and marts up to the CLV model's inputs."""
    if setting_value("CLM_ENGINE") == "spark":
        # Raw is loaded into the working DuckDB file by each source's step; Spark's raw tables
        # are mirrored from it once, after every load, in one JVM (docs/spark.md).
        from orchestration.engines.spark_raw import mirror_raw_to_spark

        rows = mirror_raw_to_spark()
        context.log.info(f"raw mirrored to Spark: {sum(rows.values()):,} rows, {len(rows)} tables")
    yield from _build(context, dbt)


if _has_clv_mart:

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=translator,
        select=AFTER_CLV_SELECTION,
        name="dbt_after_clv",
    )
    def dbt_after_clv(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        """`customer_clv` and what reads it (dim_customers), after the CLV predictions."""
        yield from _build(context, dbt)
