"""The contract file, the settings and the README's generated sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration import contract
from orchestration.readme import README, render_readme
from orchestration.settings import DBT_VARS, get_settings

LANDING_TABLES = {
    "crm": {"contacts", "support_tickets", "feedback"},
    "email": {"campaigns", "events"},
    "subscriptions": {"subscriptions"},
    "shop": {"customers", "orders", "order_lines", "refunds", "checkouts"},
    "marketing": {"ad_spend", "social_stats"},
}


def test_contract_has_the_thirteen_tables_of_landing_md():
    found: dict[str, set[str]] = {}
    for table in contract.tables():
        found.setdefault(table.source, set()).add(table.name)
    assert found == LANDING_TABLES


def test_every_primary_key_column_is_required_except_nullable_campaign():
    for table in contract.tables():
        for key in table.primary_key:
            column = table.column(key)
            # LANDING.md makes ad_spend's `campaign` part of the key but not required.
            assert column.required or (table.name, key) == ("ad_spend", "campaign")


def test_a_broken_contract_is_refused_with_the_table_named(tmp_path: Path):
    broken = tmp_path / "contract.yml"
    broken.write_text(
        "sources:\n  shop:\n    tables:\n      orders:\n        primary_key: [order_id]\n"
        "        columns:\n          - {name: order_id, type: money}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"shop\.orders.*unknown type 'money'"):
        contract.load_contract.__wrapped__(broken)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CLM_LANDING_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("CLM_AS_OF_DATE", "2025-06-30")
    monkeypatch.delenv("CLM_DUCKDB_PATH", raising=False)
    settings = get_settings()
    assert settings.landing_dir == tmp_path / "exports"
    assert settings.duckdb_path.parts[-2:] == ("warehouse", "clm.duckdb")
    assert settings.dbt_vars()["as_of_date"] == "2025-06-30"
    assert settings.dbt_vars()["reporting_currency"] == "USD"


def test_every_kpi_setting_is_a_dbt_var_read_from_the_environment(repo_root: Path):
    project = (repo_root / "dbt_project.yml").read_text(encoding="utf-8")
    for name, (default, _text) in DBT_VARS.items():
        assert f"{name}: \"{{{{ env_var('CLM_{name.upper()}', '{default}') }}}}\"" in project


def test_readme_generated_sections_are_up_to_date():
    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README is stale: run `make docs` (clm docs)"


def test_every_clm_variable_the_code_reads_is_documented(repo_root: Path):
    import re

    from orchestration.readme import documented_settings

    pattern = re.compile(r"\bCLM_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
    used = set()
    for path in [*(repo_root / "orchestration").rglob("*.py"), repo_root / "dbt_project.yml"]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    # Names the tests and the generator use for themselves are not settings of the product.
    used -= {"CLM_UPDATE_SNAPSHOTS"}
    missing = sorted(used - set(documented_settings()))
    assert not missing, f"documented nowhere (README settings table): {missing}"
