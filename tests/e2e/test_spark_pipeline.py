"""The same pipeline on Spark (``CLM_ENGINE=spark``), checked against the DuckDB run.

Both runs start from the same xs landing files (tests/e2e/conftest.py: ``clean_run`` on DuckDB,
``spark_run`` on a copy of its landing folder). The Spark run loads raw through the one loader,
mirrors it to Spark's raw tables, builds every dbt seed, snapshot and model on Spark with the
project's own data tests and the unit tests tagged worked_example, fits CLV from Spark and
writes it back, validates the Spark tables with Great Expectations and publishes Parquet plus a
BI file.
Parity: every published mart equals DuckDB's row for row (keys and text exactly, money and
counts exactly, the doubles of rates and CLV within 1e-6, the same column types), so does every
staging and intermediate table, the dbt and GE checks that ran on both come out the same, and
the run's summary says the same numbers.

dbt's built-in generic tests (not_null, unique, accepted_values, relationships) run on DuckDB
only (CLM_RUN_BUILTIN_TESTS=false on Spark): each is dbt-core's own SQL over one model's rows,
so with every model's rows equal its verdict is the same on both engines, and on Spark they
were half of the build.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from integration.dbt.test_dbt_unit_tests import WORKED_EXAMPLES, tagged_unit_tests
from support.pipeline import (
    FOREIGN_SETTINGS,
    CleanRun,
    dbt_run_results,
    environment,
    landing_digest,
)
from support.spark import SPARK_GROUP, utc_naive

from orchestration.dbt_cli import BUILTIN_GENERIC_TESTS

pytestmark = [pytest.mark.e2e, pytest.mark.spark, pytest.mark.xdist_group(SPARK_GROUP)]

# Columns that record when something ran, not what the data says: they differ between any two
# runs, on one engine or two.
RUN_TIME_COLUMNS = {"fitted_at", "recorded_at", "_loaded_at"}
# Outside DuckDB the latest-version filter is a subquery that leaves its row number behind
# (macros/deduplication.sql: Spark SQL has no `qualify` and no `select * except`); always 1.
SPARK_ONLY_COLUMNS = {"_version_rank"}
DOUBLE_TOLERANCE = 1e-6


@contextmanager
def _bi(run: CleanRun):
    with duckdb.connect(str(run.bi_file), read_only=True) as con:
        yield con


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    )


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> list[tuple]:
    """The table's rows, columns in ``columns``' order (by name: Spark may order them
    differently), sorted by the exact columns first so that both engines line up."""
    exact = [name for name, kind in columns.items() if kind not in ("DOUBLE", "FLOAT")]
    approximate = [name for name in columns if name not in exact]
    order = [f'"{name}"' for name in exact] + [f'round("{name}", 4)' for name in approximate]
    select = ", ".join(f'"{name}"' for name in columns)
    return con.execute(
        f'select {select} from marts."{table}" order by {", ".join(order) or "all"}'
    ).fetchall()


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=DOUBLE_TOLERANCE)
    return left == right


def _run_results(run: CleanRun) -> dict[str, str]:
    return dbt_run_results(run.outcome.run_id)


def _data_tests(manifest_path: Path) -> dict[str, bool]:
    """Every dbt data test of the manifest: unique_id -> whether it is one of dbt's built-in
    generic tests (the ones CLM_RUN_BUILTIN_TESTS=false leaves out)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        node["unique_id"]: (node.get("test_metadata") or {}).get("name") in BUILTIN_GENERIC_TESTS
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }


def test_the_spark_run_succeeds(spark_run):
    outcome = spark_run.outcome
    assert outcome.success, (outcome.failed_steps, outcome.errors)
    assert not outcome.failed_steps
    assert any(key.startswith("bi/") for key in outcome.materialized)


def test_every_process_of_the_run_shares_its_one_spark(spark_run):
    """One Spark for the whole run (engines/spark_server.py): a Spark Connect server whose
    tables a client in another process (what dbt-spark's session method opens) and the
    Python-side steps in this one both read; once it stops, its JVM (the one holding the
    metastore's lock) and its address are gone."""
    probe = spark_run.probe
    assert probe["remote"], "SPARK_REMOTE did not carry the server's address during the run"
    returncode, output, stderr = probe["client"]
    assert returncode == 0, stderr
    kind, client_rows = output
    assert kind == "pyspark.sql.connect.session", "the client got a JVM of its own"
    with _bi(spark_run) as con:
        published = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    assert int(client_rows) == probe["here"] == published > 0
    assert probe["variables_after"] == []
    assert probe["jvms_after"] == []


def test_both_runs_read_the_same_landing_files(clean_run, spark_run):
    assert landing_digest(spark_run.root / "landing") == landing_digest(clean_run.root / "landing")


def test_raw_is_mirrored_row_for_row(spark_run):
    warehouse = Path(spark_run.env["CLM_SPARK_WAREHOUSE_DIR"])
    with duckdb.connect(str(spark_run.warehouse), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        ]
        loaded = {
            name: con.execute(f'select count(*) from raw."{name}"').fetchone()[0] for name in names
        }
    assert loaded["shop__orders"] > 0
    with duckdb.connect() as con:
        mirrored = {
            name: con.execute(
                f"select count(*) from read_parquet('{warehouse}/raw.db/{name}/*.parquet')"
            ).fetchone()[0]
            for name in names
        }
    assert mirrored == loaded


def test_every_dbt_node_that_runs_passes_on_spark(spark_run, dbt_manifest):
    statuses = _run_results(spark_run)
    # Exposures and saved queries are "no-op" in a build: only what dbt executes is judged.
    executed = {"seed", "snapshot", "model", "test", "unit_test"}
    failed = {
        node: status
        for node, status in statuses.items()
        if node.split(".")[0] in executed and status not in ("success", "pass")
    }
    assert not failed, failed
    kinds = Counter(node.split(".")[0] for node in statuses)
    assert kinds["seed"] == 2
    assert kinds["snapshot"] == 2
    assert kinds["model"] >= 63
    # The project's own data tests (contract_values, the singular tests) and no built-in one.
    tests = _data_tests(dbt_manifest)
    ran = {node for node in statuses if node.startswith("test.")}
    assert ran == {node for node, builtin in tests.items() if not builtin}
    assert len(ran) >= 15 and sum(tests.values()) >= 400


def test_identity_and_kpi_unit_tests_pass_on_spark(spark_run, dbt_manifest):
    outcomes = {
        node.split(".")[-1]: status
        for node, status in _run_results(spark_run).items()
        if node.startswith("unit_test.")
    }
    # The run keeps the unit tests tagged worked_example (CLM_RUN_UNIT_TESTS), and only them.
    assert set(outcomes) == tagged_unit_tests(dbt_manifest)
    assert set(outcomes) >= WORKED_EXAMPLES, WORKED_EXAMPLES - set(outcomes)
    identity = {name for name in outcomes if name.startswith("test_identity_")}
    assert len(identity) >= 4
    assert all(outcomes[name] == "pass" for name in WORKED_EXAMPLES | identity), outcomes


def test_checks_come_out_the_same_on_both_engines(clean_run, spark_run, dbt_manifest):
    def checks(run: CleanRun) -> dict[tuple[str, str], bool]:
        return {(check.asset, check.name): check.passed for check in run.outcome.checks}

    builtin = {
        node.split(".")[2] for node, is_builtin in _data_tests(dbt_manifest).items() if is_builtin
    }
    duckdb_checks, spark_checks = checks(clean_run), checks(spark_run)
    assert len(duckdb_checks) > 400
    # Every GE check and every dbt test but the built-in ones (which ran on DuckDB only).
    both = {key: passed for key, passed in duckdb_checks.items() if key[1] not in builtin}
    assert len(both) >= 15 and any(name.startswith("ge_") for _asset, name in both)
    assert spark_checks == both


def test_every_mart_equals_duckdbs_row_for_row(clean_run, spark_run):
    with _bi(clean_run) as duck, _bi(spark_run) as spark:
        tables = [
            name
            for (name,) in duck.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        spark_tables = {
            name
            for (name,) in spark.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert set(tables) == spark_tables
        assert {"fct_orders", "kpi_monthly", "customer_clv", "customer_segments"} <= set(tables)
        differences: dict[str, str] = {}
        for table in tables:
            columns = {
                name: kind
                for name, kind in _columns(duck, table).items()
                if name not in RUN_TIME_COLUMNS
            }
            spark_columns = {
                name: kind
                for name, kind in _columns(spark, table).items()
                if name not in RUN_TIME_COLUMNS
            }
            if set(columns) != set(spark_columns):
                differences[table] = f"columns {sorted(set(columns) ^ set(spark_columns))}"
                continue
            # BI tools see the same column types whichever engine built the marts.
            retyped = {
                name: f"{kind} on DuckDB, {spark_columns[name]} on Spark"
                for name, kind in columns.items()
                if spark_columns[name] != kind
            }
            if retyped:
                differences[table] = f"column types {retyped}"
                continue
            left, right = _rows(duck, table, columns), _rows(spark, table, columns)
            difference = _first_difference(list(columns), left, right, _same)
            if difference:
                differences[table] = difference
        assert not differences, differences


def _first_difference(
    names: list[str], left: list[tuple], right: list[tuple], equal: Callable[[Any, Any], bool]
) -> str | None:
    """How DuckDB's rows (``left``) and Spark's (``right``), in the same order, first differ."""
    if len(left) != len(right):
        return f"{len(left)} rows on DuckDB, {len(right)} on Spark"
    for left_row, right_row in zip(left, right, strict=True):
        unequal = [
            f"{names[i]}: {a!r} != {b!r}"
            for i, (a, b) in enumerate(zip(left_row, right_row, strict=True))
            if not equal(a, b)
        ]
        if unequal:
            return f"first differing row: {unequal[:5]}"
    return None


def _comparable(value: Any) -> Any:
    """A value as both engines' tables give it to Python: times in UTC without a zone,
    decimals without trailing zeros."""
    if isinstance(value, Decimal):
        return value.normalize()
    return utc_naive(value)


def _sorted_rows(rows: list[tuple]) -> list[tuple]:
    def key(row: tuple) -> tuple:
        return tuple(
            (value is None, repr(round(value, 4) if isinstance(value, float) else value))
            for value in row
        )

    return sorted((tuple(_comparable(value) for value in row) for row in rows), key=key)


def _close(left: Any, right: Any) -> bool:
    """Equal, or the same number within DOUBLE_TOLERANCE when either engine stores a double."""
    numbers = (int, float, Decimal)
    either_double = isinstance(left, float) or isinstance(right, float)
    if either_double and isinstance(left, numbers) and isinstance(right, numbers):
        return _same(float(left), float(right))
    return left == right


@pytest.mark.parametrize("schema", ["staging", "intermediate"])
def test_every_model_before_the_marts_equals_duckdbs_row_for_row(clean_run, spark_run, schema):
    """The tables the built-in tests would have checked on Spark, read from Spark's Parquet
    files: the same tables, columns and rows as the DuckDB run's."""
    warehouse = Path(spark_run.env["CLM_SPARK_WAREHOUSE_DIR"]) / f"{schema}.db"
    with (
        duckdb.connect(str(clean_run.warehouse), read_only=True) as duck,
        duckdb.connect() as spark,
    ):
        tables = [
            name
            for (name,) in duck.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [schema],
            ).fetchall()
        ]
        assert len(tables) >= 10
        assert {path.name for path in warehouse.iterdir() if path.is_dir()} == set(tables)
        differences: dict[str, str] = {}
        for table in tables:
            columns = [
                name
                for (name,) in duck.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in RUN_TIME_COLUMNS
            ]
            files = f"read_parquet('{warehouse / table}/*.parquet')"
            spark_columns = {
                name
                for (name, *_rest) in spark.execute(f"describe select * from {files}").fetchall()
            }
            if spark_columns - RUN_TIME_COLUMNS - SPARK_ONLY_COLUMNS != set(columns):
                differences[table] = f"columns {sorted(spark_columns ^ set(columns))}"
                continue
            for helper in spark_columns & SPARK_ONLY_COLUMNS:
                ranks = spark.execute(f"select distinct {helper} from {files}").fetchall()
                assert ranks == [(1,)], (table, helper, ranks)
            select = ", ".join(f'"{name}"' for name in columns)
            left = _sorted_rows(duck.execute(f'select {select} from {schema}."{table}"').fetchall())
            right = _sorted_rows(spark.execute(f"select {select} from {files}").fetchall())
            difference = _first_difference(columns, left, right, _close)
            if difference:
                differences[table] = difference
        assert not differences, differences


def test_the_summary_says_the_same_numbers(clean_run, spark_run):
    from orchestration.summary import build_summary

    def numbers(run: CleanRun) -> dict[str, Any]:
        with environment(run.env, remove=FOREIGN_SETTINGS):
            summary = build_summary(run.outcome, 0.0)
        return {
            "files_loaded": summary.files_loaded,
            "rows_loaded": summary.rows_loaded,
            "rows_rejected": summary.rows_rejected,
            "rows_quarantined": summary.rows_quarantined,
            "headline_month": summary.headline_month,
            "headline": summary.headline,
        }

    duckdb_numbers = numbers(clean_run)
    assert duckdb_numbers["rows_loaded"] > 0 and duckdb_numbers["headline"]
    assert numbers(spark_run) == duckdb_numbers


def test_marts_are_parquet_in_sparks_warehouse_layout(spark_run):
    warehouse = Path(spark_run.env["CLM_SPARK_WAREHOUSE_DIR"])
    folder = warehouse / "marts.db" / "fct_orders"
    assert sorted(folder.glob("*.parquet")), f"no Parquet files in {folder}"
    with duckdb.connect() as con:
        parquet = con.execute(
            f"select count(*), count(distinct order_id) from read_parquet('{folder}/*.parquet')"
        ).fetchone()
    with _bi(spark_run) as con:
        published = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    assert parquet == (published, published)
    assert published > 0
    assert (warehouse / "snapshots.db" / "snp_crm__contacts").is_dir()
