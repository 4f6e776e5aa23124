"""Great Expectations suites as Dagster asset checks, one per suite, on the suite's model.

Blocking checks (any failed `blocking` expectation) stop what depends on the asset, so the BI
publication does not happen. Every failed expectation is alerted from here: a failed check does
not fail the run (dagster issue 29896), so a run-failure sensor would never see it.
"""

import json
from collections.abc import Sequence

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    asset_check,
)

from orchestration.defs.dbt.project import dbt_project
from orchestration.settings import get_settings

# Python assets (not dbt models) that have suites.
PYTHON_ASSET_KEYS = {"customer_clv_model": AssetKey(["marts", "customer_clv_model"])}


def _manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def _asset_key(node: dict) -> AssetKey:
    return AssetKey([node["config"].get("schema") or "main", node["name"]])


def _model_asset_keys(manifest: dict) -> dict[str, AssetKey]:
    keys = {
        node["name"]: _asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot")
    }
    return {**keys, **PYTHON_ASSET_KEYS}


def _referenced_models(manifest: dict) -> dict[str, set[AssetKey]]:
    """Per model, the other models its dbt tests read (relationships): the suite generated from
    those tests queries them too, so its check must wait until they are built. A parent built
    from the model itself is left out: the scaffold checks that relationship in the parent's
    suite instead (a dependency on it would be a cycle)."""
    from orchestration.quality.scaffold import depends_on

    nodes = manifest["nodes"]
    referenced: dict[str, set[AssetKey]] = {}
    for test in nodes.values():
        attached = test.get("attached_node")
        if test["resource_type"] != "test" or not attached or attached not in nodes:
            continue
        for parent_id in test["depends_on"]["nodes"]:
            parent = nodes.get(parent_id)
            if (
                parent_id != attached
                and parent
                and parent["resource_type"] == "model"
                and not depends_on(manifest, parent_id, attached)
            ):
                referenced.setdefault(nodes[attached]["name"], set()).add(_asset_key(parent))
    return referenced


def _alert_failures(context: AssetCheckExecutionContext, result) -> None:
    from orchestration.alerts.dispatch import send_alert
    from orchestration.alerts.model import Alert

    failed = [o for o in result.outcomes if not o.success]
    if result.error:
        send_alert(
            Alert(
                title=f"{result.suite}: the suite could not run",
                severity="error",
                suite=result.suite,
                asset=result.asset,
                run_id=context.run.run_id,
                data_docs_url=result.data_docs_path,
                details=result.error,
            )
        )
    for outcome in failed:
        column = f"({outcome.column})" if outcome.column else ""
        send_alert(
            Alert(
                title=f"{result.suite}: {outcome.expectation_type}{column} failed",
                severity="error" if outcome.severity == "blocking" else "warning",
                suite=result.suite,
                expectation=f"{outcome.expectation_type}{column}",
                asset=result.asset,
                failing_rows=outcome.unexpected_count,
                sample_values=list(outcome.sample_values or []),
                data_docs_url=result.data_docs_path,
                run_id=context.run.run_id,
                details=outcome.error or (outcome.description or None),
            )
        )


def _suite_check(suite: str, asset_key: AssetKey, reads: set[AssetKey]) -> AssetChecksDefinition:
    @asset_check(
        asset=asset_key,
        name=f"ge_{suite}",
        additional_deps=sorted(reads - {asset_key}, key=lambda key: key.path),
        blocking=True,
        description=f"Great Expectations suite `{suite}` (expectations/gx/expectations).",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        from orchestration.quality.runner import validate_suite

        result = validate_suite(suite, get_settings().duckdb_path, run_id=context.run.run_id)
        context.log.info(result.summary())
        failed = [o for o in result.outcomes if not o.success]
        if failed or result.error:
            _alert_failures(context, result)
        blocking = bool(result.error or result.blocking_failures)
        return AssetCheckResult(
            passed=result.success,
            severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
            metadata={
                "expectations": len(result.outcomes),
                "blocking_failures": len(result.blocking_failures),
                "warning_failures": len(result.warning_failures),
                "failed": [
                    {
                        "expectation": o.expectation_type,
                        "column": o.column,
                        "severity": o.severity,
                        "unexpected_count": o.unexpected_count,
                        "sample_values": [str(v) for v in (o.sample_values or [])][:10],
                    }
                    for o in failed
                ],
                "error": result.error or "",
                "data_docs": result.data_docs_path or "",
            },
        )

    return _check


def build_suite_checks() -> Sequence[AssetChecksDefinition]:
    """One check per suite file whose name is a model (or Python asset) of this project."""
    from orchestration.quality.project import suite_names

    manifest = _manifest()
    keys = _model_asset_keys(manifest)
    reads = _referenced_models(manifest)
    return [
        _suite_check(suite, keys[suite], reads.get(suite, set()))
        for suite in suite_names()
        if suite in keys
    ]


suite_checks = build_suite_checks()
