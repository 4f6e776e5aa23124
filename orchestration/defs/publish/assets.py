"""Write-audit-publish: copy the marts to the BI file after every blocking check passed."""

import json
from functools import partial

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from orchestration.defs.dbt.project import dbt_project
from orchestration.settings import get_settings
from orchestration.settings import value as setting_value

BI_ASSET_KEY = AssetKey(["bi", "marts"])
# Python assets that write into schema `marts` besides dbt.
PYTHON_MART_KEYS = [AssetKey(["marts", "customer_clv_model"])]


def audited_asset_keys() -> list[AssetKey]:
    """Every dbt model (from the manifest), plus Python-written marts.

    Not only the marts: Dagster runs a blocking check before the assets downstream of the
    checked asset, and only those. A check on a model no mart reads (row accounting, the
    quarantine list) would otherwise be free to run after the publication.
    """
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    keys = [
        AssetKey([node["config"].get("schema") or "main", node["name"]])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    ]
    return sorted(keys, key=lambda key: key.path) + PYTHON_MART_KEYS


def blocking_failures_for_run(duckdb_path, run_id: str) -> list[str]:
    """Blocking expectations that failed in this run (audit.validation_results)."""
    import duckdb

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'validation_results'"
        ).fetchone()[0]
        if not exists:
            return []
        rows = con.execute(
            """
            select suite || ': ' || expectation_type || coalesce(' (' || "column" || ')', '')
            from audit.validation_results
            where run_id = ? and severity = 'blocking' and not success
            order by suite
            """,
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows]


@asset(
    key=BI_ASSET_KEY,
    group_name="publish",
    deps=audited_asset_keys(),
    kinds={"duckdb"},
    description=(
        "The marts, published to CLM_BI_DUCKDB_PATH for BI tools: a new file replaced "
        "atomically, only when every blocking check of this run passed (it depends on every "
        "model, so Dagster runs all their blocking checks first). With it, the Parquet copy "
        "and the lifecycle report (docs/bi-users.md)."
    ),
)
def bi_marts(context: AssetExecutionContext) -> MaterializeResult:
    from orchestration.publish import PublishError, options_from_environment, publish_marts

    settings = get_settings()
    failures = blocking_failures_for_run(settings.duckdb_path, context.run_id)
    try:
        options = options_from_environment(
            settings.bi_duckdb_path,
            reporting_currency=settings.dbt_vars().get("reporting_currency") or None,
            manifest_path=dbt_project.manifest_path,
        )
        if setting_value("CLM_ENGINE") == "spark":
            # The validated Spark marts, read as Parquet (docs/spark.md, "What BI tools see").
            from orchestration.engines.spark_publish import publish_spark_marts

            publish = partial(publish_spark_marts, manifest_path=dbt_project.manifest_path)
        else:
            publish = publish_marts
        result = publish(
            settings.duckdb_path,
            settings.bi_duckdb_path,
            validation_passed=not failures,
            run_id=context.run_id,
            options=options,
        )
    except PublishError as error:
        # One clear line (the folder, the setting, the disk) instead of a traceback.
        raise Failure(description=f"Not published: {error}") from error
    if not result.published:
        # Dagster's blocking checks normally stop this step before it runs; this is the audit
        # of record, so a run that reaches here with failures fails loudly and alerts.
        raise Failure(
            description=f"Not published: {result.reason}",
            metadata={"blocking_failures": failures[:20], "bi_file": str(result.target)},
        )
    return MaterializeResult(
        metadata={
            "bi_file": str(result.target),
            "publication_id": str(result.publication_id),
            "parquet_dir": str(result.parquet_dir),
            "report": str(result.report_path),
            "pseudonymised_columns": sum(len(c) for c in result.pseudonymised_columns.values()),
            "tables": len(result.tables),
            "rows": sum(result.tables.values()),
            "published_at": str(result.published_at),
        }
    )
