"""The contract file, the settings and the README's generated sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration import contract, settings
from orchestration.settings import DBT_VARS, get_settings
from tools.readme import README, render_readme

LANDING_TABLES = {
    "crm": {"contacts", "support_tickets", "feedback"},
    "email": {"campaigns", "events"},
    "subscriptions": {"subscriptions"},
    "shop": {"customers", "orders", "order_lines", "refunds", "checkouts"},
    "marketing": {"ad_spend", "social_stats"},
}


def test_contract_has_the_thirteen_tables_of_the_landing_contract():
    found: dict[str, set[str]] = {}
    for table in contract.tables():
        found.setdefault(table.source, set()).add(table.name)
    assert found == LANDING_TABLES


def test_every_primary_key_column_is_required_except_nullable_campaign():
    for table in contract.tables():
        for key in table.primary_key:
            column = table.column(key)
            # The landing contract makes ad_spend's `campaign` part of the key but not required.
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


def test_dbt_project_defaults_are_the_registry_defaults(repo_root: Path):
    # A hand-run `dbt build` uses dbt_project.yml's vars; the runtime passes the registry's.
    import yaml

    project = yaml.safe_load((repo_root / "dbt_project.yml").read_text(encoding="utf-8"))
    assert set(project["vars"]) == set(DBT_VARS)
    for name, (default, _text) in DBT_VARS.items():
        assert str(project["vars"][name]) == default, name


def test_the_vars_passed_to_dbt_are_the_settings_in_force(monkeypatch: pytest.MonkeyPatch):
    import json

    from orchestration.dbt_cli import vars_argument

    monkeypatch.setenv("CLM_AS_OF_DATE", "2025-06-30")
    monkeypatch.setenv("CLM_REPORTING_CURRENCY", "eur")
    monkeypatch.setenv("CLM_DUCKDB_PATH", "somewhere/w.duckdb")
    flag, text = vars_argument()
    passed = json.loads(text)
    assert flag == "--vars"
    assert passed["as_of_date"] == "2025-06-30"
    assert passed["reporting_currency"] == "EUR"
    assert passed["attribution_window_days"] == "7"
    assert passed["clm_duckdb_path"] == str(settings.REPO_ROOT / "somewhere" / "w.duckdb")


@pytest.mark.parametrize(
    ("name", "bad", "problem"),
    [
        ("CLM_AS_OF_DATE", "2025-13-45", "not a calendar date"),
        ("CLM_AS_OF_DATE", "30/06/2025", "expected a date YYYY-MM-DD"),
        ("CLM_AT_RISK_AFTER_DAYS", "ninety", "expected a whole number"),
        ("CLM_AT_RISK_AFTER_DAYS", "0", "must be at least 1"),
        ("CLM_REPORTING_CURRENCY", "dollars", "3-letter ISO 4217"),
        ("CLM_SAMPLE_SCALE", "huge", "expected one of xs, s, m, l"),
        ("CLM_ALERT_SMTP_STARTTLS", "maybe", "expected true or false"),
        ("CLM_RUN_UNIT_TESTS", "worked_example", "expected true, false or tag:<dbt tag>"),
        ("CLM_RUN_UNIT_TESTS", "tag:", "expected true, false or tag:<dbt tag>"),
        ("CLM_ALERT_DAGSTER_URL", "localhost:3000", "http:// or https://"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, bad: str, problem: str
):
    monkeypatch.setenv(name, bad)
    with pytest.raises(settings.InvalidSettings) as raised:
        settings.check()
    message = str(raised.value)
    assert message.startswith(f"{name}=") and problem in message
    assert [error.name for error in raised.value.errors] == [name]


def test_every_invalid_value_is_named_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLM_AS_OF_DATE", "2025-13-45")
    monkeypatch.setenv("CLM_ALERT_RETRIES", "0")
    with pytest.raises(settings.InvalidSettings) as raised:
        settings.check()
    assert {error.name for error in raised.value.errors} == {"CLM_AS_OF_DATE", "CLM_ALERT_RETRIES"}
    assert len(str(raised.value).splitlines()) == 2


def test_typed_values_and_defaults(monkeypatch: pytest.MonkeyPatch):
    from datetime import date

    monkeypatch.delenv("CLM_AS_OF_DATE", raising=False)
    monkeypatch.setenv("CLM_MAX_UNIT_PRICE", " 120.5 ")
    monkeypatch.setenv("CLM_ALERT_SMTP_STARTTLS", "yes")
    assert settings.value("CLM_AS_OF_DATE") is None
    assert settings.value("CLM_AT_RISK_AFTER_DAYS") == 90
    assert settings.value("CLM_MAX_UNIT_PRICE") == 120.5
    assert settings.value("CLM_ALERT_SMTP_STARTTLS") is True
    monkeypatch.delenv("CLM_RUN_UNIT_TESTS", raising=False)
    assert settings.value("CLM_RUN_UNIT_TESTS") is False
    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", "Yes")
    assert settings.value("CLM_RUN_UNIT_TESTS") is True
    monkeypatch.setenv("CLM_RUN_UNIT_TESTS", " tag:worked_example ")
    assert settings.value("CLM_RUN_UNIT_TESTS") == "worked_example"
    monkeypatch.setenv("CLM_AS_OF_DATE", "2024-02-29")
    assert settings.value("CLM_AS_OF_DATE") == date(2024, 2, 29)


def test_every_setting_is_declared_once_with_a_kind_that_checks_it():
    names = [setting.name for setting in settings._DECLARED]
    assert len(names) == len(set(names)) == len(settings.registry())
    # No side dict of defaults next to the registry (the old `*_SETTINGS` blocks).
    blocks = [name for name, value in vars(settings).items() if name.endswith("_SETTINGS")]
    assert blocks == [], "declare these as Setting(...) in _DECLARED"
    for setting in settings.registry().values():
        assert setting.name.startswith("CLM_") and setting.description, setting.name
        setting.parse("")  # every default satisfies its own rule


@pytest.mark.parametrize(
    ("name", "bad", "problem"),
    [
        ("CLM_BI_STORAGE_VERSION", "latest", "storage version"),
        ("CLM_CLV_HOLDOUT_WEEKS", "-1", "at least 0"),
        ("CLM_CSV_ENCODING", "utf-8,ebcdic", "comma-separated list"),
        ("CLM_CURRENCY_RATE_FALLBACK", "closest", "none, nearest"),
        ("CLM_MAX_TEXT_LENGTH", "0", "at least 1"),
        ("CLM_DATA_DOCS_KEEP_RUNS", "all", "whole number"),
        ("CLM_UNIT_JUMP_FACTOR", "0.5", "at least 1"),
        ("CLM_PUBLISH_PSEUDONYMISE", "perhaps", "true or false"),
        ("CLM_ALERT_WEBHOOK_IDEMPOTENT", "sometimes", "true or false"),
    ],
)
def test_the_folded_settings_are_checked_at_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, bad: str, problem: str
):
    monkeypatch.setenv(name, bad)
    with pytest.raises(settings.InvalidSettings) as raised:
        settings.check()
    assert [error.name for error in raised.value.errors] == [name]
    assert problem in str(raised.value)


def test_staging_settings_reach_dbt_as_vars(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLM_CURRENCY_RATE_FALLBACK", "nearest")
    monkeypatch.setenv("CLM_MAX_TEXT_LENGTH", "250")
    passed = settings.dbt_vars()
    assert passed["currency_rate_fallback"] == "nearest"
    assert passed["max_text_length"] == "250"


def test_secrets_are_never_shown(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLM_ALERT_WEBHOOK_URL", "https://hooks.example/T000/secret-token")
    assert settings.shown("CLM_ALERT_WEBHOOK_URL") == "(set, hidden)"


def test_clm_settings_prints_every_variable_with_its_value(monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from orchestration.cli import main

    monkeypatch.setenv("CLM_AT_RISK_AFTER_DAYS", "60")
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0, result.output
    printed = {
        line.split("=", 1)[0] for line in result.output.splitlines() if line.startswith("CLM_")
    }
    assert printed == set(settings.registry())
    assert "CLM_AT_RISK_AFTER_DAYS=60    # set;" in result.output


def test_generated_doc_sections_are_up_to_date():
    from tools.readme import stale_files

    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README is stale: run `make docs` (clm docs)"
    assert stale_files() == [], "stale generated sections: run `make docs` (clm docs)"


def test_every_clm_variable_the_code_reads_is_documented(repo_root: Path):
    import re

    from tools.readme import documented_settings

    pattern = re.compile(r"\bCLM_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
    used = set()
    for path in [*(repo_root / "orchestration").rglob("*.py"), repo_root / "dbt_project.yml"]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    # Names the tests and the generator use for themselves are not settings of the product.
    used -= {"CLM_UPDATE_SNAPSHOTS"}
    missing = sorted(used - set(documented_settings()))
    assert not missing, f"documented nowhere (README settings table): {missing}"
