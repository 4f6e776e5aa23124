"""The dbt sources YAML (``models/staging/<source>/_<source>__sources.yml``) rendered from the
landing contract, so the list of raw tables and their columns is written once
(``landing_contract.yml``). ``tests/unit/dbt/test_sources_yaml.py`` fails when the committed
files differ from this rendering: after changing the contract, run ``write_sources_yaml``
(``python -m orchestration.dbt_sources``) and commit the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from orchestration.contract import Column, Source, Table, sources
from orchestration.ingest.raw_schema import RAW_SCHEMA
from orchestration.settings import REPO_ROOT

# Raw rows are stamped with _loaded_at by the loader; a daily schedule loads every day, so a
# table not loaded for a day and a half is late and one not loaded for a week is broken.
FRESHNESS = {
    "warn_after": {"count": 36, "period": "hour"},
    "error_after": {"count": 7, "period": "day"},
}
LOADED_AT_FIELD = "_loaded_at"

# Load metadata on every raw row (docs/design.md, "Raw layer"; raw_schema.METADATA_COLUMNS).
METADATA_DESCRIPTIONS: dict[str, str] = {
    "_extra_columns": "JSON object of the file's columns the contract does not know (NULL when none); ignored downstream.",
    "_load_id": "Id of the file load (raw.load_manifest), increasing in load order.",
    "_file_name": "Path of the file relative to the landing dir.",
    "_line_number": "Line of the file where the row starts (CSV header = line 1; parquet: row index + 1).",
    "_loaded_at": "When the row was loaded (UTC).",
}

HEADER = (
    "# Generated from orchestration/landing_contract.yml by orchestration/dbt_sources.py.\n"
    "# Do not edit: change the contract, run `python -m orchestration.dbt_sources`, commit.\n"
)


class _Dumper(yaml.SafeDumper):
    """Block-style YAML with list items indented under their key (as yamllint and people like)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        super().increase_indent(flow, False)


def _column_doc(column: Column, table: Table) -> dict:
    description = column.description
    if column.staging_name:
        description = f"{description} Staged as `{column.staging_name}`."
    meta: dict = {"contract_type": column.type, "required": column.required}
    if column.values:
        # The one list of accepted values: dbt's contract_values test (macros/contract_values.sql)
        # reads it from here for the staging column.
        meta["accepted_values"] = list(column.values)
    doc: dict = {
        "name": column.name,
        "description": description,
        "data_type": "varchar",
        "config": {"meta": meta},
    }
    # Key columns are required, so the loader never lets them through empty: a cheap guard.
    if column.name in table.primary_key and column.required:
        doc["data_tests"] = ["not_null"]
    return doc


def _table_doc(table: Table) -> dict:
    columns = [_column_doc(column, table) for column in table.columns]
    columns += [
        {"name": name, "description": description}
        for name, description in METADATA_DESCRIPTIONS.items()
    ]
    meta: dict = {"primary_key": list(table.primary_key)}
    if table.version_by:
        meta["version_by"] = table.version_by
    return {
        "name": table.name,
        "identifier": table.raw_name,
        "description": table.description,
        "config": {"meta": meta},
        "columns": columns,
    }


def _find_source(name: str) -> Source:
    for source in sources():
        if source.name == name:
            return source
    raise KeyError(f"the landing contract has no source {name!r}")


def render_sources_yaml(source: str) -> str:
    """The ``_<source>__sources.yml`` text for one contract source."""
    contract_source = _find_source(source)
    document = {
        "version": 2,
        "sources": [
            {
                "name": contract_source.name,
                "description": contract_source.description,
                "schema": RAW_SCHEMA,
                "config": {
                    "loaded_at_field": LOADED_AT_FIELD,
                    "freshness": FRESHNESS,
                },
                "tables": [_table_doc(table) for table in contract_source.tables],
            }
        ],
    }
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def sources_yaml_path(project_dir: Path, source: str) -> Path:
    """Where the sources YAML of one source lives in the dbt project."""
    return project_dir / "models" / "staging" / source / f"_{source}__sources.yml"


def write_sources_yaml(project_dir: Path = REPO_ROOT) -> list[Path]:
    """Write every source's YAML into the dbt project; returns the paths written."""
    written = []
    for source in sources():
        path = sources_yaml_path(Path(project_dir), source.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_sources_yaml(source.name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_sources_yaml(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT):
        print(written_path)
