"""Right to erasure end to end (issue 12): `clm erase`, then a rebuild from the original files.

A copy of the session's clean `clm run` warehouse (the xs sample loaded, built, validated,
predicted) and of its landing files; one person with many orders is erased with the real CLI.
Then the warehouse file is thrown away and rebuilt from the ORIGINAL landing files, keeping
only the tombstone file: no table may contain any of the person's identifiers, the loader must
account for their rows as "erased (tombstone)", and the KPIs must change by exactly that
person's contribution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from support.dbt import dbt

from orchestration.settings import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("erasure")]


def clm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, f"clm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def dbt_build(env: dict[str, str]) -> None:
    """Every model, seed and snapshot from raw. Data and unit tests are left to `clm erase`'s own
    rebuild (and the other suites): this test reads tables, and they are two thirds of a build."""
    result = dbt("build", "--quiet", "--exclude-resource-type", "test", "unit_test", env=env)
    assert result.returncode == 0, result.stdout[-4000:]


def read(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def traces(path: Path, identifiers: set[str], emails: set[str]) -> list[str]:
    """Every table column of the file holding one of the identifiers (or an email inside)."""
    found = []
    columns = read(
        path,
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns as c "
        "inner join information_schema.tables as t on c.table_schema = t.table_schema "
        "and c.table_name = t.table_name where c.data_type = 'VARCHAR'",
    )
    lowered = sorted(value.lower() for value in identifiers)
    con = duckdb.connect(str(path), read_only=True)
    try:
        for schema, table, column in columns:
            value = f'lower("{column}")'
            checks = [f"{value} in ({', '.join('?' for _ in lowered)})"]
            checks += [f"contains({value}, ?)" for _ in emails]
            (count,) = con.execute(
                f'select count(*) from "{schema}"."{table}" where {" or ".join(checks)}',
                [*lowered, *sorted(emails)],
            ).fetchone()
            if count:
                found.append(f"{schema}.{table}.{column}: {count}")
    finally:
        con.close()
    return found


KPI_QUERIES = {
    "orders": "select count(*) from marts.fct_orders",
    "net_revenue": "select sum(net_revenue) from marts.fct_orders",
    "customers": "select count(*) from marts.dim_customers",
    "monthly_net_revenue": "select sum(net_revenue) from marts.kpi_monthly",
}


# session scope: xdist may interleave other modules' tests on this worker, which would
# tear a module fixture down and run it again
@pytest.fixture(scope="session")
def erased(tmp_path_factory: pytest.TempPathFactory, clean_run) -> dict:
    root = tmp_path_factory.mktemp("erasure")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLM_") and key not in ("DAGSTER_HOME", "DBT_TARGET_PATH")
    }
    env.update(
        {
            "CLM_LANDING_DIR": str(root / "landing"),
            "CLM_DUCKDB_PATH": str(root / "warehouse" / "clm.duckdb"),
            "CLM_BI_DUCKDB_PATH": str(root / "warehouse" / "bi.duckdb"),
            "CLM_TOMBSTONE_PATH": str(root / "keep" / "tombstones.json"),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
        }
    )
    warehouse = root / "warehouse" / "clm.duckdb"
    shutil.copytree(clean_run.root / "landing", root / "landing")
    warehouse.parent.mkdir()
    shutil.copy(clean_run.warehouse, warehouse)

    # the KPIs' date stays the same whoever is erased (it defaults to the latest order)
    env["CLM_AS_OF_DATE"] = str(
        read(warehouse, "select as_of_date from intermediate.int_as_of_date")[0][0]
    )

    # the customer with the most orders, and everything identity links to them
    customer_key, email = read(
        warehouse,
        "select customer_key, any_value(email) from marts.fct_orders "
        "where customer_key is not null group by customer_key order by count(*) desc, "
        "customer_key limit 1",
    )[0]
    identifiers = {
        value
        for (value,) in read(
            warehouse,
            "select identifier_value from intermediate.int_identities_resolved "
            "where customer_key = ?",
            [customer_key],
        )
    }
    order_ids = {
        value
        for (value,) in read(
            warehouse,
            "select order_id from marts.fct_orders where customer_key = ?",
            [customer_key],
        )
    }
    emails = {
        value
        for (value,) in read(
            warehouse,
            "select identifier_value from intermediate.int_identities_resolved "
            "where customer_key = ? and identifier_type = 'email'",
            [customer_key],
        )
    }
    before = {name: read(warehouse, sql)[0][0] for name, sql in KPI_QUERIES.items()}
    contribution = {
        "orders": len(order_ids),
        "net_revenue": read(
            warehouse,
            "select sum(net_revenue) from marts.fct_orders where customer_key = ?",
            [customer_key],
        )[0][0],
        "customers": 1,
    }

    # erase with a differently written address: emails compare trimmed and lower-cased
    erased_output = clm("erase", "--email", f"  {email.upper()} ", env=env).stdout
    after_erase_traces = traces(warehouse, identifiers | order_ids | {customer_key}, emails)
    after_erase = {name: read(warehouse, sql)[0][0] for name, sql in KPI_QUERIES.items()}

    # a fresh warehouse from the original landing files; only the tombstone file is kept
    for path in (root / "warehouse").iterdir():
        path.unlink()
    load_output = clm("load", env=env).stdout
    dbt_build(env)
    return {
        "root": root,
        "warehouse": warehouse,
        "customer_key": customer_key,
        "identifiers": identifiers | order_ids | {customer_key},
        "emails": emails,
        "before": before,
        "contribution": contribution,
        "erased_output": erased_output,
        "after_erase_traces": after_erase_traces,
        "after_erase": after_erase,
        "load_output": load_output,
    }


def test_erase_removes_the_person_from_every_layer(erased):
    assert "erased " in erased["erased_output"]
    assert erased["after_erase_traces"] == []


def test_a_rebuild_from_the_original_files_does_not_bring_them_back(erased):
    assert traces(erased["warehouse"], erased["identifiers"], erased["emails"]) == []
    rejected = read(
        erased["warehouse"],
        "select count(*), count(distinct reason) from raw.load_rejects "
        "where reason = 'erased (tombstone)'",
    )[0]
    assert rejected[0] > erased["contribution"]["orders"]
    unbalanced = read(
        erased["warehouse"], "select file_name from raw.load_reconciliation where not is_balanced"
    )
    assert unbalanced == []


def test_kpis_change_only_by_that_persons_contribution(erased):
    after = {name: read(erased["warehouse"], sql)[0][0] for name, sql in KPI_QUERIES.items()}
    before, contribution = erased["before"], erased["contribution"]
    assert after["orders"] == before["orders"] - contribution["orders"]
    assert after["customers"] == before["customers"] - contribution["customers"]
    assert after["net_revenue"] == before["net_revenue"] - contribution["net_revenue"]
    assert (
        after["monthly_net_revenue"] == before["monthly_net_revenue"] - contribution["net_revenue"]
    )
    # the erasure's own rebuild and the rebuild from the files agree
    assert after == erased["after_erase"]


def test_the_audit_log_and_tombstones_hold_no_personal_data(erased):
    path = erased["root"] / "keep" / "tombstones.json"
    text = path.read_text(encoding="utf-8")
    for value in erased["identifiers"] | erased["emails"]:
        assert value.lower() not in text.lower()
    store = json.loads(text)
    (entry,) = store["erasures"]
    assert entry["identifiers"]["email"] == len(erased["emails"])
    assert entry["rows_deleted"]["marts.fct_orders"] == erased["contribution"]["orders"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
