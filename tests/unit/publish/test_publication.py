"""What one publication holds: comments, BIGINT counts, the meta schema, the Parquet copy, the
report, pseudonymised personal columns and file modes; and that a failure swaps nothing."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.publish import (
    PSEUDONYMISED_NOTE,
    PublishError,
    PublishOptions,
    current_parquet_folder,
    options_from_environment,
    pii_columns_from_manifest,
    publish_marts,
)

KEY = b"a-test-key-of-32-characters-long"


def _make_work_db(path: Path, version: int = 1) -> None:
    """A small working warehouse with comments, a HUGEINT count, an email, as-of date and audit."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "intermediate", "audit"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create or replace table intermediate.int_as_of_date as "
            "select date '2025-12-31' as as_of_date, 'latest_order' as as_of_date_source"
        )
        con.execute(
            "create or replace table marts.dim_customers as select range as customer_key, "
            "'person' || range || '@example.com' as primary_email, 'Ann' as first_name, "
            f"{version} as version from range(10)"
        )
        con.execute(
            "create or replace table marts.fct_orders as select range as order_id, "
            "range % 10 as customer_key, 'person' || (range % 10) || '@example.com' as email, "
            "range * 2.5 as net_revenue from range(30)"
        )
        # sum() of integers is HUGEINT in DuckDB: what the KPI marts used to publish.
        con.execute(
            "create or replace table marts.kpi_monthly as select date '2025-12-01' as month, "
            "sum(range) as orders from range(5)"
        )
        con.execute("comment on table marts.fct_orders is 'One row per order.'")
        con.execute("comment on column marts.fct_orders.net_revenue is 'Net revenue, USD.'")
        con.execute("comment on column marts.fct_orders.email is 'Email on the order.'")
        con.execute("comment on table marts.kpi_monthly is 'KPIs per month.'")
        con.execute("comment on column marts.kpi_monthly.orders is 'Valid orders.'")
        con.execute(
            "create or replace table audit.validation_results as select * from (values "
            "('run-1', 'fct_orders', 'expect_column_values_to_not_be_null', 'email', "
            "'blocking', true, 0), "
            "('run-1', 'fct_orders', 'expect_column_mean_to_be_between', 'net_revenue', "
            "'warning', false, null), "
            "('other-run', 'fct_orders', 'x', null, 'warning', false, 3)) "
            'as t(run_id, suite, expectation_type, "column", severity, success, unexpected_count)'
        )
    finally:
        con.close()


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _fake_report(bi: Path, out: Path) -> None:
    """A report writer that records which publication it saw (the real one is tested apart)."""
    (publication_id,) = _rows(bi, "select publication_id from meta.publication")[0]
    out.write_text(f"report of {publication_id}", encoding="utf-8")


def _options(tmp_path: Path, **overrides) -> PublishOptions:
    values = {
        "parquet_dir": tmp_path / "parquet",
        "report_path": tmp_path / "report.html",
        "report_writer": _fake_report,
        "reporting_currency": "USD",
    }
    values.update(overrides)
    return PublishOptions(**values)


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file (bytes) and symlink (target) under ``folder``."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def test_comments_counts_and_meta_are_published(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)

    result = publish_marts(
        work, bi, validation_passed=True, run_id="run-1", options=_options(tmp_path)
    )

    assert result.published
    assert _rows(
        bi, "select comment from duckdb_tables() where schema_name = 'marts' order by table_name"
    ) == [(None,), ("One row per order.",), ("KPIs per month.",)]
    comments = dict(
        _rows(
            bi,
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and comment is not null",
        )
    )
    assert comments == {
        "fct_orders.net_revenue": "Net revenue, USD.",
        "fct_orders.email": "Email on the order.",
        "kpi_monthly.orders": "Valid orders.",
    }
    assert _rows(bi, "select data_type from duckdb_columns() where column_name = 'orders'") == [
        ("BIGINT",)
    ]
    assert _rows(bi, "select orders from marts.kpi_monthly") == [(10,)]
    publication = _rows(
        bi,
        "select publication_id, run_id, as_of_date::varchar, as_of_date_source, "
        "reporting_currency, storage_version, pseudonymised, table_count from meta.publication",
    )
    assert publication == [
        (result.publication_id, "run-1", "2025-12-31", "latest_order", "USD", "v1.0.0", False, 3)
    ]
    assert _rows(
        bi, "select table_name, row_count from meta.published_tables order by table_name"
    ) == [("dim_customers", 10), ("fct_orders", 30), ("kpi_monthly", 1)]
    # Only this run's check results, read from audit.validation_results.
    assert _rows(
        bi,
        "select expectation_type, column_name, severity, success from meta.data_quality "
        "order by all",
    ) == [
        ("expect_column_mean_to_be_between", "net_revenue", "warning", False),
        ("expect_column_values_to_not_be_null", "email", "blocking", True),
    ]
    # Every meta column is documented too.
    assert _rows(
        bi,
        "select count(*) from duckdb_columns() where schema_name = 'meta' and comment is null",
    ) == [(0,)]


def test_parquet_copy_and_report_follow_each_publication(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    parquet = tmp_path / "parquet"
    ids = []
    for version in (1, 2, 3):
        _make_work_db(work, version)
        result = publish_marts(
            work, bi, validation_passed=True, run_id=f"run-{version}", options=_options(tmp_path)
        )
        ids.append(result.publication_id)
        current = current_parquet_folder(parquet)
        assert current == parquet / result.publication_id == result.parquet_dir
        assert (tmp_path / "report.html").read_text() == f"report of {result.publication_id}"
        versions = _rows(
            bi,
            f"select distinct version from read_parquet('{current}/marts/dim_customers.parquet')",
        )
        assert versions == [(version,)]
    # Every table and meta is there, with the BI file's rows.
    names = sorted(str(p.relative_to(current)) for p in current.rglob("*.parquet"))
    assert names == [
        "marts/dim_customers.parquet",
        "marts/fct_orders.parquet",
        "marts/kpi_monthly.parquet",
        "meta/data_quality.parquet",
        "meta/publication.parquet",
        "meta/published_tables.parquet",
    ]
    assert _rows(
        bi, f"select sum(net_revenue) from read_parquet('{current}/marts/fct_orders.parquet')"
    ) == _rows(bi, "select sum(net_revenue) from marts.fct_orders")
    # The previous folder stays for readers still on it; older ones are removed.
    assert sorted(p.name for p in parquet.iterdir()) == sorted([ids[1], ids[2], "current"])


def test_a_report_that_fails_swaps_nothing(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work, 1)
    assert publish_marts(
        work, bi, validation_passed=True, run_id="run-1", options=_options(tmp_path)
    ).published

    def broken_report(_bi: Path, out: Path) -> None:
        out.write_text("half a page")
        raise ValueError("plotting failed")

    _make_work_db(work, 2)
    before = _snapshot(tmp_path)
    with pytest.raises(PublishError, match="lifecycle report failed .ValueError: plotting failed"):
        publish_marts(
            work,
            bi,
            validation_passed=True,
            run_id="run-2",
            options=_options(tmp_path, report_writer=broken_report),
        )
    assert _snapshot(tmp_path) == before


def test_failed_validation_leaves_file_parquet_and_report_untouched(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work, 1)
    assert publish_marts(
        work, bi, validation_passed=True, run_id="run-1", options=_options(tmp_path)
    ).published
    _make_work_db(work, 2)
    before = _snapshot(tmp_path)
    result = publish_marts(
        work, bi, validation_passed=False, run_id="run-2", options=_options(tmp_path)
    )
    assert not result.published
    assert _snapshot(tmp_path) == before


def test_pseudonymised_publication_hashes_declared_columns_and_keeps_joins(
    tmp_path: Path,
) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    pii = {
        "marts.dim_customers": frozenset({"primary_email", "first_name"}),
        "marts.fct_orders": frozenset({"email"}),
    }
    result = publish_marts(
        work,
        bi,
        validation_passed=True,
        run_id="run-1",
        options=_options(tmp_path, pseudonymisation_key=KEY, pii_columns=pii),
    )
    assert result.pseudonymised_columns == {
        "marts.dim_customers": ["first_name", "primary_email"],
        "marts.fct_orders": ["email"],
    }
    expected = hmac.new(KEY, b"person3@example.com", hashlib.sha256).hexdigest()
    assert _rows(bi, "select primary_email from marts.dim_customers where customer_key = 3") == [
        (expected,)
    ]
    # No address left anywhere in the file or its Parquet copy.
    for table in ("dim_customers", "fct_orders"):
        assert _rows(bi, f"select count(*) from marts.{table} t where t::varchar like '%@%'") == [
            (0,)
        ]
    current = current_parquet_folder(tmp_path / "parquet")
    assert _rows(
        bi,
        f"select count(*) from read_parquet('{current}/marts/fct_orders.parquet') "
        "where email like '%@%'",
    ) == [(0,)]
    # Counting and joining still work: the same value gives the same hash in every table.
    assert _rows(
        bi,
        "select count(*) from marts.fct_orders o join marts.dim_customers c "
        "on o.email = c.primary_email and o.customer_key = c.customer_key",
    ) == [(30,)]
    assert _rows(bi, "select count(distinct email) from marts.fct_orders") == [(10,)]
    assert _rows(
        bi,
        "select comment from duckdb_columns() where table_name = 'fct_orders' "
        "and column_name = 'email'",
    ) == [(f"Email on the order. {PSEUDONYMISED_NOTE}",)]
    assert _rows(bi, "select pseudonymised from meta.publication") == [(True,)]
    # Columns not declared personal stay as they were.
    assert _rows(bi, "select sum(net_revenue) from marts.fct_orders") == _rows(
        work, "select sum(net_revenue) from marts.fct_orders"
    )


def test_pseudonymisation_needs_a_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLM_PUBLISH_PSEUDONYMISE", "true")
    monkeypatch.delenv("CLM_PSEUDONYMISATION_KEY", raising=False)
    with pytest.raises(PublishError, match="CLM_PSEUDONYMISATION_KEY is not set"):
        options_from_environment(
            tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=None
        )
    monkeypatch.setenv("CLM_PSEUDONYMISATION_KEY", "short")
    with pytest.raises(PublishError, match="shorter than 16"):
        options_from_environment(
            tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=None
        )
    monkeypatch.setenv("CLM_PUBLISH_PSEUDONYMISE", "perhaps")
    with pytest.raises(PublishError, match="true or false"):
        options_from_environment(
            tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=None
        )


def test_default_publication_is_in_clear(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CLM_PUBLISH_PSEUDONYMISE", "CLM_PSEUDONYMISATION_KEY", "CLM_BI_FILE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLM_BI_PARQUET_DIR", raising=False)
    monkeypatch.delenv("CLM_BI_REPORT_PATH", raising=False)
    options = options_from_environment(
        tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=None
    )
    assert options.pseudonymisation_key is None
    assert options.file_mode is None
    assert options.parquet_dir == tmp_path / "parquet"
    assert options.report_path == tmp_path / "lifecycle-report.html"


def test_every_personal_column_of_the_marts_is_declared(dbt_manifest: Path) -> None:
    """Columns that hold emails or names are declared ``pii`` once, in the marts' YAML."""
    import json

    declared = pii_columns_from_manifest(dbt_manifest)
    manifest = json.loads(dbt_manifest.read_text())
    personal = {"email", "primary_email", "emails", "first_name", "last_name", "phone"}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "marts":
            continue
        table = f"marts.{node['name']}"
        for column in node["columns"]:
            if column in personal or "phone" in column:
                assert column in declared.get(table, frozenset()), f"{table}.{column}"
    assert "email" in declared["marts.fct_orders"]
    assert {"primary_email", "first_name", "last_name"} <= declared["marts.dim_customers"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_modes_default_kept_and_configured(tmp_path: Path) -> None:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    _make_work_db(work)
    report = tmp_path / "report.html"

    publish_marts(work, bi, validation_passed=True, run_id="1", options=_options(tmp_path))
    assert _mode(bi) == 0o640
    assert _mode(report) == 0o640
    current = current_parquet_folder(tmp_path / "parquet")
    assert {_mode(p) for p in current.rglob("*.parquet")} == {0o640}
    assert _mode(current) == 0o750

    # An operator tightened the file: the next publication keeps it.
    os.chmod(bi, 0o600)
    publish_marts(work, bi, validation_passed=True, run_id="2", options=_options(tmp_path))
    assert _mode(bi) == 0o600
    assert _mode(report) == 0o600
    current = current_parquet_folder(tmp_path / "parquet")
    assert {_mode(p) for p in current.rglob("*.parquet")} == {0o600}
    assert _mode(current) == 0o700

    # CLM_BI_FILE_MODE wins over the previous file's mode.
    publish_marts(
        work, bi, validation_passed=True, run_id="3", options=_options(tmp_path, file_mode=0o644)
    )
    assert _mode(bi) == 0o644


@pytest.mark.parametrize(
    ("text", "mode"), [("0640", 0o640), ("600", 0o600), ("0o644", 0o644), ("", None)]
)
def test_the_file_mode_setting_is_octal(text: str, mode: int | None) -> None:
    assert settings.value("CLM_BI_FILE_MODE", {"CLM_BI_FILE_MODE": text}) == mode


@pytest.mark.parametrize("text", ["rw-r-----", "0999", "64"])
def test_a_file_mode_that_is_not_octal_names_the_setting(
    text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(settings.SettingError, match="CLM_BI_FILE_MODE.*octal file mode"):
        settings.value("CLM_BI_FILE_MODE", {"CLM_BI_FILE_MODE": text})
    # Publication says so in one line instead of failing half-way.
    monkeypatch.setenv("CLM_BI_FILE_MODE", text)
    with pytest.raises(PublishError, match="CLM_BI_FILE_MODE"):
        options_from_environment(
            tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=None
        )


def test_a_new_working_file_gets_the_file_mode(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.warehouse import connect

    monkeypatch.delenv("CLM_BI_FILE_MODE", raising=False)
    with connect() as con:
        con.execute("create table t as select 1 as x")
    path = isolated_env / "warehouse" / "clm.duckdb"
    assert _mode(path) == 0o640
    # An existing file keeps what the operator set.
    os.chmod(path, 0o600)
    with connect() as con:
        con.execute("select 1")
    assert _mode(path) == 0o600
    other = isolated_env / "warehouse" / "other.duckdb"
    monkeypatch.setenv("CLM_BI_FILE_MODE", "0600")
    with connect(other) as con:
        con.execute("select 1")
    assert _mode(other) == 0o600


def test_pseudonymisation_settings_read_the_personal_columns_from_the_manifest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dbt_manifest: Path
) -> None:
    monkeypatch.setenv("CLM_PUBLISH_PSEUDONYMISE", "true")
    monkeypatch.setenv("CLM_PSEUDONYMISATION_KEY", KEY.decode())
    options = options_from_environment(
        tmp_path / "bi.duckdb", reporting_currency="USD", manifest_path=dbt_manifest
    )
    assert options.pseudonymisation_key == KEY
    assert "email" in options.pii_columns["marts.fct_orders"]
    assert "first_name" in options.pii_columns["marts.dim_customers"]
