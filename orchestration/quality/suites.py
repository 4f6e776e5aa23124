"""Write the Great Expectations project (``expectations/gx``) from the rules in ``rules.py``.

A handful of suites, one per concern (``rules.SUITES``): each gets a table asset of data source
``clm_duckdb``, a suite file holding its rules, a validation definition and a checkpoint (with
the Data Docs action), all named after the suite. Ids are uuid5 of what they name, so writing
again gives the same bytes; ``tests/unit/quality/test_suites.py`` fails when the committed files
differ from what this module writes. After changing a rule run
``python -m orchestration.quality.suites`` and commit the result.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from orchestration.quality.project import (
    BATCH_DEFINITION_NAME,
    CONNECTION_STRING,
    DATA_DOCS_SITE,
    DATASOURCE_NAME,
    gx_dir,
    stable_id,
)
from orchestration.quality.rules import RULES, SUITES, Rule, Suite

GX_VERSION = "1.24.1"
NATIVE_SEVERITY = {"blocking": "critical", "warning": "warning"}
SUMMARY_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
GENERATED_FOLDERS = ("expectations", "validation_definitions", "checkpoints")

YML_HEADER = """\
# Great Expectations 1.x file context of the Customer Lifecycle Warehouse.
# Written by orchestration/quality/suites.py from orchestration/quality/rules.py: do not edit,
# change the rules and run `python -m orchestration.quality.suites`. The DuckDB path comes from
# CLM_DUCKDB_PATH at run time (orchestration/quality/project.py), never from this file.
# uncommitted/ (validation results, Data Docs) is git-ignored.
"""


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


def _expectation(suite: Suite, rule: Rule) -> dict[str, Any]:
    meta: dict[str, Any] = {"key": rule.key, "severity": rule.severity}
    if rule.thresholds:
        meta["thresholds"] = [threshold.meta() for threshold in rule.thresholds]
    return {
        "id": stable_id("expectation", suite.name, rule.key),
        "type": "unexpected_rows_expectation",
        "kwargs": {"unexpected_rows_query": rule.query},
        "meta": meta,
        "severity": NATIVE_SEVERITY[rule.severity],
        "description": rule.description,
        "notes": None,
        "rendered_content": [],
    }


def render(suite: Suite) -> dict[str, dict[str, Any]]:
    """The three JSON documents of one suite: suite, validation definition, checkpoint."""
    rules = [rule for rule in RULES if rule.suite == suite.name]
    document = {
        "name": suite.name,
        "id": stable_id("suite", suite.name),
        "expectations": [_expectation(suite, rule) for rule in rules],
        "meta": {
            "great_expectations_version": GX_VERSION,
            "clm": {"relation": suite.relation, "reads": list(suite.reads)},
        },
        "notes": suite.description,
    }
    validation = {
        "name": suite.name,
        "id": stable_id("validation_definition", suite.name),
        "data": {
            "datasource": {"name": DATASOURCE_NAME, "id": stable_id("datasource", DATASOURCE_NAME)},
            "asset": {"name": suite.name, "id": stable_id("asset", suite.name)},
            "batch_definition": {
                "name": BATCH_DEFINITION_NAME,
                "id": stable_id("batch_definition", suite.name),
            },
        },
        "suite": {"name": suite.name, "id": document["id"]},
    }
    checkpoint = {
        "name": suite.name,
        "id": stable_id("checkpoint", suite.name),
        "validation_definitions": [{"name": suite.name, "id": validation["id"]}],
        # Data Docs are rendered once per run (quality/runner.build_data_docs), not per suite.
        "actions": [],
        "result_format": SUMMARY_RESULT_FORMAT,
    }
    return {
        "expectations": document,
        "validation_definitions": validation,
        "checkpoints": checkpoint,
    }


def render_config() -> str:
    """``great_expectations.yml``: stores, Data Docs and one table asset per suite."""
    config = base_config()
    config["fluent_datasources"][DATASOURCE_NAME]["assets"] = {
        suite.name: {
            "type": "table",
            "id": stable_id("asset", suite.name),
            "batch_metadata": {},
            "batch_definitions": {
                BATCH_DEFINITION_NAME: {
                    "id": stable_id("batch_definition", suite.name),
                    "partitioner": None,
                }
            },
            "table_name": suite.table,
            "schema_name": suite.schema,
        }
        for suite in sorted(SUITES, key=lambda s: s.name)
    }
    return YML_HEADER + yaml.safe_dump(config, sort_keys=False, width=100)


def rendered_files() -> dict[str, str]:
    """Every file of the GE project, by path relative to ``gx/``."""
    files = {"great_expectations.yml": render_config()}
    for suite in SUITES:
        for folder, data in render(suite).items():
            text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            files[f"{folder}/{suite.name}.json"] = text
    # GE writes a random store id here on first open; a committed, stable one keeps a fresh
    # clone's first run from leaving an untracked file.
    files["expectations/.ge_store_backend_id"] = (
        f"store_backend_id = {stable_id('expectations_store')}\n"
    )
    files[".gitignore"] = "uncommitted/\n"
    return files


def write_suites(gx: Path | None = None) -> list[Path]:
    """Write the GE project into ``gx`` (default: the project's), removing stale suite files."""
    gx = gx or gx_dir()
    files = rendered_files()
    for folder in GENERATED_FOLDERS:
        for stale in (gx / folder).glob("*.json"):
            if f"{folder}/{stale.name}" not in files:
                stale.unlink()
    written = []
    for relative, text in files.items():
        path = gx / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def prune_history(gx: Path, suite: str, keep: int) -> None:
    """Keep the newest ``keep`` validation runs of ``suite`` in the results and Data Docs.

    GE stores results as ``<suite>/<run name>/<run time>/…`` under both folders; older runs are
    removed, so the Data Docs index (rebuilt by the next checkpoint) lists a bounded history.
    """
    roots = (
        gx / "uncommitted" / "validations" / suite,
        gx / "uncommitted" / "data_docs" / DATA_DOCS_SITE / "validations" / suite,
    )
    for root in roots:
        if not root.is_dir():
            continue
        runs = sorted(
            (path for path in root.iterdir() if path.is_dir()),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        for old in runs[max(keep, 0) :]:
            shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    for written_path in write_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(written_path)
