"""Write the GX suites from the dbt manifest, editing the files in place.

For every staging / intermediate / mart model of ``target/manifest.json`` (``dbt parse``):
- a table asset in ``great_expectations.yml`` (data source ``clm_duckdb``);
- a suite ``expectations/<model>.json`` holding
  - the model's dbt generic tests as GE expectations (``unique``, ``not_null``,
    ``accepted_values``, ``relationships`` → SQL referential integrity),
  - naming-convention ranges: every ``*_rate`` column within 0–1 (see RATES_WITHOUT_UPPER_BOUND,
    KPIS.md), every revenue column of a mart never negative,
  - the rules of ``rules.py`` (price plausibility, raw→staging reconciliation, freshness,
    volume, drift);
- a validation definition and a checkpoint (with the Data Docs action), named after the model.

Edit in place (STYLE.md): an expectation the scaffold generated carries ``meta.key``; running
again updates its kwargs, keeps its id and the reviewer's ``meta.severity`` / ``meta.threshold``,
adds what is missing and drops generated ones whose dbt test or rule is gone. Expectations
without ``meta.generated_by`` are hand-written and kept untouched. All ids are uuid5 of what they
name, so the output is byte-for-byte stable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestration.quality.project import (
    BATCH_DEFINITION_NAME,
    CONNECTION_STRING,
    DATA_DOCS_SITE,
    DATASOURCE_NAME,
    stable_id,
    suites_dir,
)
from orchestration.quality.results import Severity
from orchestration.quality.rules import RULES, Rule

GENERATOR = "scaffold"
LAYER_SCHEMAS = ("staging", "intermediate", "marts")
GX_VERSION = "1.24.1"
NATIVE_SEVERITY = {"blocking": "critical", "warning": "warning"}
SUMMARY_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 10}

YML_HEADER = """\
# Great Expectations 1.x file context of the Customer Lifecycle Warehouse.
# Assets (one per dbt model) are maintained by `clm quality scaffold`
# (orchestration/quality/scaffold.py); edit the rest by hand. The DuckDB path comes from
# CLM_DUCKDB_PATH at run time (orchestration/quality/project.py), never from this file.
# uncommitted/ (validation results, Data Docs) is git-ignored.
"""


@dataclass(frozen=True)
class Model:
    """A dbt model as the scaffold needs it."""

    unique_id: str
    name: str
    schema: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Generated:
    """One expectation the scaffold wants in a suite."""

    key: str
    expectation_type: str
    kwargs: dict[str, Any]
    severity: Severity
    description: str
    threshold: dict[str, Any] | None = None


def _models(manifest: dict[str, Any]) -> dict[str, Model]:
    models: dict[str, Model] = {}
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") != "model" or node.get("schema") not in LAYER_SCHEMAS:
            continue
        if (node.get("config") or {}).get("materialized") == "ephemeral":
            continue
        models[unique_id] = Model(
            unique_id=unique_id,
            name=node.get("alias") or node["name"],
            schema=node["schema"],
            columns=tuple(node.get("columns", {})),
        )
    return models


def depends_on(manifest: dict[str, Any], node_id: str, ancestor_id: str) -> bool:
    """True when ``node_id`` reads ``ancestor_id``, directly or through other nodes."""
    nodes = manifest.get("nodes", {})
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        current = stack.pop()
        for parent in (nodes.get(current) or {}).get("depends_on", {}).get("nodes", []):
            if parent == ancestor_id:
                return True
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return False


def _relation(model: Model) -> str:
    return f"{model.schema}.{model.name}"


def _severity(test_node: dict[str, Any]) -> Severity:
    # dbt's warn-severity tests map to our warnings; error (the project default) to blocking.
    return (
        "warning"
        if str(test_node.get("config", {}).get("severity", "")).lower() == "warn"
        else "blocking"
    )


def _parent_model(test_node: dict[str, Any], child: str, models: dict[str, Model]) -> Model | None:
    """The model a relationships test points to (the dependency that is not the child)."""
    candidates = [n for n in test_node.get("depends_on", {}).get("nodes", []) if n != child]
    to = str(test_node["test_metadata"]["kwargs"].get("to", ""))
    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", to)
    for unique_id in candidates:
        model = models.get(unique_id)
        if model and (match is None or model.name == match.group(1)):
            return model
    return None


def _relationship_from_parent(
    test_node: dict[str, Any], child: Model, parent: Model
) -> Generated | None:
    """The relationships test written for the parent's suite: used when the parent is built
    from the child (dim_customers from fct_orders), because a check may only read what is built
    before it runs, and the child's check runs before the parent exists."""
    kwargs = test_node["test_metadata"].get("kwargs") or {}
    column = str(kwargs.get("column_name") or test_node.get("column_name"))
    field = kwargs.get("field")
    if not field:
        return None
    where = (test_node.get("config") or {}).get("where")
    condition = f"({where}) and " if where else ""
    query = (
        f"with parent as (select * from {{batch}}) select child.{column} from "
        f"{_relation(child)} as child where {condition}child.{column} is not null and not exists "
        f"(select 1 from parent where parent.{field} = child.{column})"
    )
    return Generated(
        f"dbt:relationships:{child.name}.{column}->{field}",
        "unexpected_rows_expectation",
        {"unexpected_rows_query": query},
        _severity(test_node),
        f"dbt test relationships: every {child.name}.{column} is a {parent.name}.{field} "
        f"(checked here because {parent.name} is built from {child.name}).",
    )


def _from_dbt_test(
    test_node: dict[str, Any], model: Model, models: dict[str, Model]
) -> Generated | None:
    meta = test_node.get("test_metadata") or {}
    name = meta.get("name")
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name") or test_node.get("column_name")
    if not column or name not in {"unique", "not_null", "accepted_values", "relationships"}:
        return None
    column = str(column)
    where = (test_node.get("config") or {}).get("where")
    # A model-level test on an expression (`a || ':' || b`) names no column GE can address;
    # like a `where`, it goes to SQL.
    as_sql = bool(where) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(column))
    severity = _severity(test_node)
    # A dbt `where` narrows the test; GE's column expectations cannot say that portably, so
    # the test becomes SQL with the same filter.
    condition = f"({where}) and " if where else ""
    if name == "not_null":
        key = f"dbt:not_null:{column}"
        description = f"dbt test not_null on {column}."
        if as_sql:
            query = f"select {column} from {{batch}} where {condition}{column} is null"
            return Generated(
                key,
                "unexpected_rows_expectation",
                {"unexpected_rows_query": query},
                severity,
                description,
            )
        return Generated(
            key, "expect_column_values_to_not_be_null", {"column": column}, severity, description
        )
    if name == "unique":
        key = f"dbt:unique:{column}"
        description = f"dbt test unique on {column}."
        if as_sql:
            query = (
                f"select {column} as value, count(*) as row_count from {{batch}} where {condition}"
                f"{column} is not null group by {column} having count(*) > 1"
            )
            return Generated(
                key,
                "unexpected_rows_expectation",
                {"unexpected_rows_query": query},
                severity,
                description,
            )
        return Generated(
            key, "expect_column_values_to_be_unique", {"column": column}, severity, description
        )
    if name == "accepted_values":
        values = list(kwargs.get("values") or [])
        key = f"dbt:accepted_values:{column}"
        description = f"dbt test accepted_values on {column}."
        if as_sql:
            listed = ", ".join(_sql_literal(v) for v in values)
            query = f"select {column} from {{batch}} where {condition}{column} not in ({listed})"
            return Generated(
                key,
                "unexpected_rows_expectation",
                {"unexpected_rows_query": query},
                severity,
                description,
            )
        return Generated(
            key,
            "expect_column_values_to_be_in_set",
            {"column": column, "value_set": values},
            severity,
            description,
        )
    # relationships: referential integrity in SQL, counted by child rows without a parent.
    parent = _parent_model(test_node, model.unique_id, models)
    field = kwargs.get("field")
    if parent is None or not field:
        return None
    # {batch} arrives already aliased (GE wraps it as a subquery), so alias it in a CTE.
    query = (
        f"with child as (select * from {{batch}}) select child.{column} from child "
        f"where {condition}child.{column} is not null and not exists "
        f"(select 1 from {_relation(parent)} as parent where parent.{field} = child.{column})"
    )
    return Generated(
        f"dbt:relationships:{column}->{parent.name}.{field}",
        "unexpected_rows_expectation",
        {"unexpected_rows_query": query},
        severity,
        f"dbt test relationships: every {column} is a {parent.name}.{field}.",
    )


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# KPIS.md rates whose numerator is not a subset of the denominator, so they can exceed 1 (or
# 100) in real data; a 0–1 rule would block publication of correct numbers.
RATES_WITHOUT_UPPER_BOUND = {
    "social_engagement_monthly.engagement_rate": "engagements / followers × 100 exceeds 100 when engagements outnumber "
    "followers (KPIS.md).",
    "subscription_metrics_monthly.subscription_churn_rate": "cancelled in month / active at start exceeds 1 when "
    "subscriptions start and cancel in the same month (KPIS.md).",
    "kpi_by_channel.conversion_rate": "kpi_by_channel's new customers / clicks counts customers a click did "
    "not bring, so it can exceed 1 (KPIS.md).",
}


def _from_conventions(model: Model) -> list[Generated]:
    generated: list[Generated] = []
    for column in model.columns:
        unbounded = RATES_WITHOUT_UPPER_BOUND.get(f"{model.name}.{column}")
        if unbounded:
            generated.append(
                Generated(
                    f"range:rate:{column}",
                    "expect_column_values_to_be_between",
                    {"column": column, "min_value": 0},
                    "blocking",
                    f"{column} is never negative; {unbounded}",
                )
            )
        elif column.endswith("_rate"):
            # A ratio of a subset to its whole: outside 0–1 is a bug in the model.
            generated.append(
                Generated(
                    f"range:rate:{column}",
                    "expect_column_values_to_be_between",
                    {"column": column, "min_value": 0, "max_value": 1},
                    "blocking",
                    f"{column} is a rate between 0 and 1 (STYLE.md, KPIS.md).",
                )
            )
        elif model.schema == "marts" and "revenue" in column:
            generated.append(
                Generated(
                    f"range:non_negative:{column}",
                    "expect_column_values_to_be_between",
                    {"column": column, "min_value": 0},
                    "blocking",
                    f"{column} is never negative (KPIS.md: net revenue floored at 0).",
                )
            )
    return generated


def _from_rule(rule: Rule) -> Generated:
    return Generated(
        rule.key,
        rule.expectation_type,
        dict(rule.kwargs),
        rule.severity,
        rule.description,
        rule.threshold.meta() if rule.threshold else None,
    )


def generated_expectations(manifest: dict[str, Any]) -> dict[str, tuple[Model, list[Generated]]]:
    """Per model name: the model and every expectation the scaffold derives for it."""
    models = _models(manifest)
    by_model: dict[str, list[Generated]] = {uid: [] for uid in models}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node") or next(
            iter(node.get("depends_on", {}).get("nodes", [])), None
        )
        if attached not in models:
            continue
        if (node.get("test_metadata") or {}).get("name") == "relationships":
            parent = _parent_model(node, attached, models)
            if parent is not None and depends_on(manifest, parent.unique_id, attached):
                item = _relationship_from_parent(node, models[attached], parent)
                if item is not None:
                    by_model[parent.unique_id].append(item)
                continue
        item = _from_dbt_test(node, models[attached], models)
        if item is not None:
            by_model[attached].append(item)
    result: dict[str, tuple[Model, list[Generated]]] = {}
    for uid, model in models.items():
        items = by_model[uid] + _from_conventions(model)
        items += [_from_rule(r) for r in RULES if r.model == model.name]
        # dbt can declare the same test twice (model and column level); keep the first.
        unique: dict[str, Generated] = {}
        for item in sorted(items, key=lambda g: g.key):
            unique.setdefault(item.key, item)
        result[model.name] = (model, list(unique.values()))
    return result


def _expectation_json(
    suite: str, item: Generated, existing: dict[str, Any] | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "generated_by": GENERATOR,
        "key": item.key,
        "severity": item.severity,
        # What the scaffold chose: a `severity` that differs from it is a reviewer's decision
        # and survives the next scaffold; one that equals it follows the generator.
        "generated_severity": item.severity,
    }
    if item.threshold is not None:
        meta["threshold"] = item.threshold
    if existing is not None:
        old_meta = existing.get("meta") or {}
        old_severity = old_meta.get("severity")
        if old_severity in NATIVE_SEVERITY and old_severity != old_meta.get(
            "generated_severity", item.severity
        ):
            meta["severity"] = old_severity
        if "threshold" in old_meta and item.threshold is not None:
            meta["threshold"] = old_meta["threshold"]  # a tuned default stays tuned
        # Anything else a reviewer added to meta (notes, tickets) stays too.
        meta = {**{k: v for k, v in old_meta.items() if k not in meta}, **meta}
    entry = dict(existing or {})
    entry.update(
        {
            "id": (existing or {}).get("id") or stable_id("expectation", suite, item.key),
            "type": item.expectation_type,
            "kwargs": item.kwargs,
            "meta": meta,
            "severity": NATIVE_SEVERITY[meta["severity"]],
            "description": item.description,
        }
    )
    return entry


def _write_json(path: Path, data: dict[str, Any]) -> bool:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def update_suite(gx: Path, model: Model, items: list[Generated]) -> bool:
    """Edit one suite file in place; True when the file changed."""
    path = suites_dir(gx) / f"{model.name}.json"
    suite: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = {item.key: item for item in items}
    expectations: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in suite.get("expectations", []):
        meta = entry.get("meta") or {}
        if meta.get("generated_by") != GENERATOR:
            expectations.append(entry)  # hand-written: never touched
            continue
        key = meta.get("key")
        if key in wanted and key not in seen:
            expectations.append(_expectation_json(model.name, wanted[key], entry))
            seen.add(key)
        # else: its dbt test or rule is gone, so the generated expectation goes too
    for key, item in wanted.items():
        if key not in seen:
            expectations.append(_expectation_json(model.name, item, None))
    suite.update(
        {
            "name": model.name,
            "id": suite.get("id") or stable_id("suite", model.name),
            "expectations": expectations,
            "notes": suite.get("notes"),
        }
    )
    suite["meta"] = {
        **(suite.get("meta") or {}),
        "great_expectations_version": GX_VERSION,
        "clm": {"model": model.name, "schema": model.schema, "dbt_unique_id": model.unique_id},
    }
    return _write_json(path, suite)


def _asset_config(model: Model) -> dict[str, Any]:
    return {
        "type": "table",
        "id": stable_id("asset", model.name),
        "batch_metadata": {},
        "batch_definitions": {
            BATCH_DEFINITION_NAME: {
                "id": stable_id("batch_definition", model.name),
                "partitioner": None,
            }
        },
        "table_name": model.name,
        "schema_name": model.schema,
    }


def base_config() -> dict[str, Any]:
    """The context's config: stores, Data Docs and the DuckDB data source (no assets yet)."""
    return {
        "config_version": 4.0,
        "config_variables_file_path": "uncommitted/config_variables.yml",
        "plugins_directory": "plugins/",
        "stores": {
            "expectations_store": {
                "class_name": "ExpectationsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "expectations/",
                },
            },
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "uncommitted/validations/",
                },
            },
            "checkpoint_store": {
                "class_name": "CheckpointStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "suppress_store_backend_id": True,
                    "base_directory": "checkpoints/",
                },
            },
            "validation_definition_store": {
                "class_name": "ValidationDefinitionStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "validation_definitions/",
                },
            },
        },
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "data_docs_sites": {
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": f"uncommitted/data_docs/{DATA_DOCS_SITE}/",
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        "analytics_enabled": False,
        # Progress bars would flood the pipeline's logs (one per metric batch).
        "progress_bars": {"globally": False, "metric_calculations": False},
        "data_context_id": stable_id("data_context"),
        "fluent_datasources": {
            DATASOURCE_NAME: {
                "type": "sql",
                "id": stable_id("datasource", DATASOURCE_NAME),
                "connection_string": CONNECTION_STRING,
                "assets": {},
            }
        },
    }


def update_context_config(gx: Path, models: Iterable[Model]) -> bool:
    """Add the models' assets to ``great_expectations.yml`` (keeping everything else)."""
    path = gx / "great_expectations.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else base_config()
    datasources = config.setdefault("fluent_datasources", {})
    datasource = datasources.setdefault(
        DATASOURCE_NAME, base_config()["fluent_datasources"][DATASOURCE_NAME]
    )
    assets = datasource.get("assets") or {}
    for model in models:
        assets[model.name] = {
            **_asset_config(model),
            **{
                k: v
                for k, v in (assets.get(model.name) or {}).items()
                if k not in ("table_name", "schema_name")
            },
        }
    datasource["assets"] = dict(sorted(assets.items()))
    text = YML_HEADER + yaml.safe_dump(config, sort_keys=False, width=100)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def update_validation_files(gx: Path, model: Model) -> list[Path]:
    """The validation definition and checkpoint of one model; returns the files changed."""
    suite_path = suites_dir(gx) / f"{model.name}.json"
    suite_id = json.loads(suite_path.read_text(encoding="utf-8"))["id"]
    validation = {
        "name": model.name,
        "id": stable_id("validation_definition", model.name),
        "data": {
            "datasource": {"name": DATASOURCE_NAME, "id": stable_id("datasource", DATASOURCE_NAME)},
            "asset": {"name": model.name, "id": stable_id("asset", model.name)},
            "batch_definition": {
                "name": BATCH_DEFINITION_NAME,
                "id": stable_id("batch_definition", model.name),
            },
        },
        "suite": {"name": model.name, "id": suite_id},
    }
    checkpoint = {
        "name": model.name,
        "id": stable_id("checkpoint", model.name),
        "validation_definitions": [{"name": model.name, "id": validation["id"]}],
        "actions": [{"name": "update_data_docs", "type": "update_data_docs", "site_names": []}],
        "result_format": SUMMARY_RESULT_FORMAT,
    }
    changed = []
    for path, data in (
        (gx / "validation_definitions" / f"{model.name}.json", validation),
        (gx / "checkpoints" / f"{model.name}.json", checkpoint),
    ):
        if _write_json(path, data):
            changed.append(path)
    return changed


def scaffold_suites(manifest_path: Path | str, gx_dir: Path | str) -> list[Path]:
    """Bring the GX project in ``gx_dir`` in line with the dbt manifest; return changed files."""
    gx = Path(gx_dir)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    plan = generated_expectations(manifest)
    changed: list[Path] = []
    models = [model for model, _items in plan.values()]
    if update_context_config(gx, models):
        changed.append(gx / "great_expectations.yml")
    for name in sorted(plan):
        model, items = plan[name]
        # Intermediate models get a suite only when there is something to check (dbt tests or
        # a rule); staging models and marts always get one (ARCHITECTURE.md).
        suite_file = suites_dir(gx) / f"{model.name}.json"
        if model.schema == "intermediate" and not items and not suite_file.exists():
            continue
        if update_suite(gx, model, items):
            changed.append(suites_dir(gx) / f"{model.name}.json")
        changed.extend(update_validation_files(gx, model))
    # GE writes a random store id here on first open; a committed, stable one avoids an
    # untracked file after every fresh clone's first run.
    backend_id = suites_dir(gx) / ".ge_store_backend_id"
    if not backend_id.exists():
        backend_id.write_text(f"store_backend_id = {stable_id('expectations_store')}\n")
        changed.append(backend_id)
    gitignore = gx / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("uncommitted/\n", encoding="utf-8")
        changed.append(gitignore)
    return changed
