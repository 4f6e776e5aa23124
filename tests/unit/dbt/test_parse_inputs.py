"""What a dbt parse may read: the run's process keeps one parse across warehouse files and folders
(orchestration/dbt_in_process.py), which holds only while no file of the dbt project reads where
the files are. profiles.yml alone reads them, when dbt connects."""

from __future__ import annotations

import re

import pytest

from orchestration.dbt_cli import CONNECTION_ONLY_VARS, PROJECT_FILES, manifest_stamp
from orchestration.settings import REPO_ROOT


def _project_texts() -> dict[str, str]:
    """Every text file a parse reads but profiles.yml, relative path -> content."""
    texts = {}
    for name in PROJECT_FILES:
        path = REPO_ROOT / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for file in files:
            if file.is_file() and file.name != "profiles.yml" and file.suffix in (".sql", ".yml"):
                texts[str(file.relative_to(REPO_ROOT))] = file.read_text(encoding="utf-8")
    return texts


def test_the_project_has_files_to_check():
    texts = _project_texts()
    assert "dbt_project.yml" in texts
    assert sum(path.startswith("models/") for path in texts) >= 50


@pytest.mark.parametrize("name", CONNECTION_ONLY_VARS)
def test_no_project_file_reads_where_the_files_are(name: str):
    readers = [path for path, text in _project_texts().items() if name in text]
    assert readers == [], f"{name} is read while dbt parses: {readers}"


def test_no_project_file_reads_the_environment():
    # An env_var() in a model, macro or YAML file would make the parse depend on the
    # environment, which manifest_stamp(locations=False) leaves out.
    readers = [
        path for path, text in _project_texts().items() if re.search(r"\benv_var\s*\(", text)
    ]
    assert readers == [], readers


def test_profiles_yml_reads_the_warehouse_path_and_memory_limit():
    profiles = (REPO_ROOT / "profiles.yml").read_text(encoding="utf-8")
    assert all(name in profiles for name in CONNECTION_ONLY_VARS)


def test_a_kept_parse_follows_the_settings_and_the_database_name_only(
    isolated_env, monkeypatch: pytest.MonkeyPatch
):
    kept = manifest_stamp(locations=False)
    exact = manifest_stamp()
    # Elsewhere, same file name: the same kept parse, though dbt's own partial parse differs.
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(isolated_env / "elsewhere" / "clm.duckdb"))
    monkeypatch.setenv("CLM_LANDING_DIR", str(isolated_env / "other-landing"))
    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("CLM_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    assert manifest_stamp(locations=False) == kept
    assert manifest_stamp() != exact
    # A KPI setting is one of the --vars a parse reads; the file's name is the database's.
    monkeypatch.setenv("CLM_ATTRIBUTION_WINDOW_DAYS", "9")
    assert manifest_stamp(locations=False) != kept
    monkeypatch.delenv("CLM_ATTRIBUTION_WINDOW_DAYS")
    assert manifest_stamp(locations=False) == kept
    monkeypatch.setenv("CLM_DUCKDB_PATH", str(isolated_env / "elsewhere" / "shop.duckdb"))
    assert manifest_stamp(locations=False) != kept
