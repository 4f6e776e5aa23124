"""CLM_DUCKDB_MEMORY_LIMIT and the spill folder on the connections a run opens (real DuckDB)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from orchestration import settings


def _limit_as_duckdb_shows(size: str) -> str:
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{size}'")
    shown = con.execute("select current_setting('memory_limit')").fetchone()[0]
    con.close()
    return shown


def test_the_working_connection_gets_the_limit_and_spills_beside_the_warehouse(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.warehouse import connect

    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", "64MB")
    warehouse = isolated_env / "warehouse" / "clm.duckdb"
    spill = isolated_env / "warehouse" / "clm.duckdb.tmp"
    with connect() as con:
        limit, folder = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert limit == _limit_as_duckdb_shows("64MB")
        assert folder == str(spill)
        # ~160 MB of rows under a 64 MB limit: DuckDB spills them into the folder.
        con.execute(
            "create temp table big as select range as x, random() as r from range(10_000_000)"
        )
        assert any(spill.iterdir())
        assert con.execute("select count(*) from big").fetchone()[0] == 10_000_000
    assert warehouse.exists()
    with connect(read_only=True) as con:  # readers get the same settings
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == limit


def test_the_default_limit_is_duckdbs_own(isolated_env: Path) -> None:
    from orchestration.warehouse import connect

    with connect() as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == _limit_as_duckdb_shows("80%")
    assert limit == duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("bad", ["lots", "2", "0GB", "2 PB", "-1GB", "0%", "120%"])
def test_a_limit_that_is_not_a_size_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", bad)
    with pytest.raises(settings.InvalidSettings, match="CLM_DUCKDB_MEMORY_LIMIT=.*memory size"):
        settings.check()


@pytest.mark.parametrize(
    ("given", "passed"), [("512mb", "512mb"), ("1.5 GiB", "1.5GiB"), ("50 %", "50%")]
)
def test_dbt_gets_the_limit_as_a_var(
    monkeypatch: pytest.MonkeyPatch, given: str, passed: str
) -> None:
    from orchestration.dbt_cli import vars_argument

    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", given)
    _flag, text = vars_argument()
    assert json.loads(text)["clm_duckdb_memory_limit"] == passed


def test_profiles_default_is_the_registry_default_and_spills_beside_the_warehouse() -> None:
    # A hand-run dbt reads the defaults written in profiles.yml; the runtime passes the var.
    profile = (settings.REPO_ROOT / "profiles.yml").read_text(encoding="utf-8")
    default = re.search(r"env_var\('CLM_DUCKDB_MEMORY_LIMIT', '([^']+)'\)", profile)
    assert default and default.group(1) == settings.declared("CLM_DUCKDB_MEMORY_LIMIT").default
    # config_options: given once when dbt opens the file (`settings` are re-set per cursor).
    options = profile.split("config_options:")[1]
    assert "memory_limit: \"{{ var('clm_duckdb_memory_limit'" in options
    assert re.search(r"temp_directory: .*clm_duckdb_path.* ~ '\.tmp'", options)


def test_a_second_connection_after_a_spill_keeps_the_folder(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB refuses `set temp_directory` (even to the same folder) once something spilled; a
    # second connection to the file in the same process shares the database, as GE's engine and
    # the runner's own connection do.
    from orchestration.warehouse import apply_limits, connect

    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", "64MB")
    with connect() as first:
        first.execute(
            "create temp table big as select range as x, random() as r from range(10_000_000)"
        )
        assert any((isolated_env / "warehouse" / "clm.duckdb.tmp").iterdir())
        with connect() as second:
            apply_limits(second.cursor())  # a DB-API cursor, as GE's checkout hook gets
            folder = second.execute("select current_setting('temp_directory')").fetchone()[0]
            assert folder == str(isolated_env / "warehouse" / "clm.duckdb.tmp")


def test_the_spill_folder_of_an_in_memory_connection_is_beside_the_warehouse(
    isolated_env: Path,
) -> None:
    from orchestration.warehouse import apply_limits

    con = duckdb.connect()  # the publication's build connection
    apply_limits(con, isolated_env / "it's" / "clm.duckdb")  # a quote stays in the literal
    limit, folder = con.execute(
        "select current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert (limit, folder) == (_limit_as_duckdb_shows("80%"), f"{isolated_env}/it's/clm.duckdb.tmp")
