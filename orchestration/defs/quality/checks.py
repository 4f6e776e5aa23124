"""Great Expectations suites as Dagster asset checks, one per suite (``quality/rules.SUITES``).

A suite reads a few tables; its check sits on the one of them built last (no other table it
reads is downstream of it) and waits for the others, so it never runs before its data exists.
Blocking checks (any failed `blocking` rule) stop what depends on the asset, and the BI
publication depends on every model. Failures are alerted once per run, after the checks, by the
job's hooks (``defs/alerts``), not from here.
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
from orchestration.quality.rules import SUITES, Suite
from orchestration.settings import get_settings
from orchestration.settings import value as setting_value


def _manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def _node_ids_by_relation(manifest: dict) -> dict[str, str]:
    return {
        f"{node['config'].get('schema') or 'main'}.{node['name']}": unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot")
    }


def _ancestors(manifest: dict, node_id: str) -> set[str]:
    nodes, seen, stack = manifest["nodes"], set(), [node_id]
    while stack:
        for parent in (nodes.get(stack.pop()) or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def home_relation(suite: Suite, manifest: dict) -> str:
    """The relation the suite's check sits on: one of its reads that none of the others is
    built from (so waiting for the others cannot form a cycle)."""
    ids = _node_ids_by_relation(manifest)
    reads = [relation for relation in suite.reads if relation in ids]
    for candidate in reads:
        if not any(ids[candidate] in _ancestors(manifest, ids[other]) for other in reads):
            return candidate
    raise ValueError(f"suite {suite.name}: none of {suite.reads} is a dbt model of this project")


def _key(relation: str) -> AssetKey:
    return AssetKey(relation.split("."))


def _suite_check(suite: Suite, home: str) -> AssetChecksDefinition:
    @asset_check(
        asset=_key(home),
        name=f"ge_{suite.name}",
        additional_deps=[_key(r) for r in suite.reads if r != home],
        blocking=True,
        description=f"Great Expectations suite `{suite.name}`: {suite.description}",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        # Data Docs: rendered once after the run's last step (data_docs.py), not per suite.
        if setting_value("CLM_ENGINE") == "spark":
            # GE's Spark data source on the Spark tables (docs/spark.md).
            from orchestration.engines.spark_quality import validate_suite_on_spark as validate

            options: dict[str, bool] = {}
        else:
            from orchestration.quality.runner import validate_suite as validate

            options = {"data_docs": False}

        result = validate(
            suite.name, get_settings().duckdb_path, run_id=context.run.run_id, **options
        )
        context.log.info(result.summary())
        failed = [o for o in result.outcomes if not o.success]
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
                        "rule": o.rule,
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
    """One check per suite of ``rules.SUITES``."""
    manifest = _manifest()
    return [_suite_check(suite, home_relation(suite, manifest)) for suite in SUITES]


suite_checks = build_suite_checks()
