"""The dbt sources YAML and the staging models follow the landing contract.

``models/staging/<source>/_<source>__sources.yml`` is generated from
``orchestration/landing_contract.yml`` (``python -m orchestration.dbt_sources``); these tests fail
when a committed file differs from the rendering, or when a staging model's documented columns
or accepted values drift from the contract.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from orchestration.contract import sources, tables
from orchestration.dbt_sources import render_sources_yaml, sources_yaml_path, write_sources_yaml
from orchestration.settings import REPO_ROOT

SOURCE_NAMES = [source.name for source in sources()]


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_committed_sources_yaml_matches_the_contract(source: str) -> None:
    path = sources_yaml_path(REPO_ROOT, source)
    assert path.exists(), f"{path} is missing: run `python -m orchestration.dbt_sources`"
    assert path.read_text(encoding="utf-8") == render_sources_yaml(source), (
        f"{path.relative_to(REPO_ROOT)} differs from the landing contract: "
        "run `python -m orchestration.dbt_sources` and commit the result"
    )


def test_sources_yaml_describes_every_raw_table_and_column() -> None:
    for source in sources():
        document = yaml.safe_load(render_sources_yaml(source.name))
        (dbt_source,) = document["sources"]
        assert dbt_source["schema"] == "raw"
        assert dbt_source["config"]["loaded_at_field"] == "_loaded_at"
        assert set(dbt_source["config"]["freshness"]) == {"warn_after", "error_after"}
        by_name = {table["name"]: table for table in dbt_source["tables"]}
        for table in source.tables:
            rendered = by_name[table.name]
            assert rendered["identifier"] == table.raw_name
            columns = [column["name"] for column in rendered["columns"]]
            assert columns[: len(table.columns)] == list(table.column_names)
            assert {"_load_id", "_file_name", "_line_number", "_loaded_at"} <= set(columns)
            assert all(column.get("description") for column in rendered["columns"])


def test_write_sources_yaml_writes_one_file_per_source(tmp_path: Path) -> None:
    written = write_sources_yaml(tmp_path)
    assert [path.name for path in written] == [f"_{name}__sources.yml" for name in SOURCE_NAMES]
    for path, name in zip(written, SOURCE_NAMES, strict=True):
        assert path.read_text(encoding="utf-8") == render_sources_yaml(name)


def _models_yaml(source: str) -> dict[str, dict]:
    path = REPO_ROOT / "models" / "staging" / source / f"_{source}__models.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {model["name"]: model for model in document["models"]}


@pytest.mark.parametrize("table", tables(), ids=lambda table: table.raw_name)
def test_staging_model_documents_every_contract_column(table) -> None:
    model_name = f"stg_{table.source}__{table.name}"
    sql = (REPO_ROOT / "models" / "staging" / table.source / f"{model_name}.sql").read_text()
    model = _models_yaml(table.source)[model_name]
    documented = {column["name"]: column for column in model["columns"]}
    required = {"_load_id", "_file_name", "_line_number", "_loaded_at"}
    required |= {"quarantine_reason", "is_quarantined"}
    for column in table.columns:
        assert column.staged_as in documented, f"{model_name}: {column.staged_as} not documented"
        assert re.search(rf"\bas {column.staged_as}\b", sql), f"{model_name}: no {column.staged_as}"
        assert documented[column.staged_as].get("description")
        if column.values:
            # The values are the contract's, read by the contract_values test: never retyped.
            tests = documented[column.staged_as].get("data_tests", [])
            checked = [test["contract_values"] for test in tests if "contract_values" in test]
            assert checked, f"{model_name}.{column.staged_as}: no contract_values test"
            arguments = checked[0]["arguments"]
            assert arguments["source_table"] == f"{table.source}.{table.name}"
            assert arguments.get("contract_column", column.staged_as) == column.name
            assert checked[0]["config"]["where"] == "not is_quarantined"
            assert not [test for test in tests if "accepted_values" in test]
            for value in column.values:
                assert f"'{value}'" in sql, f"{model_name}: accepted value {value!r} not checked"
    assert required <= set(documented)
    assert all(column.get("description") for column in model["columns"])


def test_staging_tables_macro_lists_every_contract_table_with_its_key() -> None:
    macro = (REPO_ROOT / "macros" / "staging_rules.sql").read_text(encoding="utf-8")
    for table in tables():
        staged_key = [table.column(name).staged_as for name in table.primary_key]
        entry = (
            f"{{'source': '{table.source}', 'table': '{table.name}', "
            f"'model': 'stg_{table.source}__{table.name}', 'primary_key': {staged_key!r}"
        )
        assert entry in macro, f"staging_tables() lacks or misstates {table.raw_name}"
    assert macro.count("'model': 'stg_") == len(tables())
