"""The publication of the shared xs run, seen by its users: a DuckDB 1.x client, Parquet readers,
a person opening the lifecycle report in Chromium, and `clm sql` / `clm report`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from support.browser import chromium, dump_dom, screenshot
from support.duckdb1 import DUCKDB1_VERSION, duckdb1_python
from support.pipeline import FOREIGN_SETTINGS

from orchestration.publish import current_parquet_folder
from orchestration.report import build_charts
from orchestration.report.data import load_report_data
from orchestration.report.html import status_from_dom
from orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

# Where the browser test keeps its screenshot (target/ is not committed).
SCREENSHOT = REPO_ROOT / "target" / "test-output" / "lifecycle-report.png"

# Run by the DuckDB 1.x interpreter: every table of the BI file, its rows and its comments.
READ_EVERYTHING = r"""
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
out = {"version": duckdb.__version__, "tables": {}}
for schema, name, comment in con.execute(
    "select schema_name, table_name, comment from duckdb_tables() order by all"
).fetchall():
    rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
    columns = con.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    out["tables"][f"{schema}.{name}"] = {
        "rows": len(rows), "comment": comment,
        "columns": [{"name": c, "type": t, "comment": k} for c, t, k in columns],
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def bi_file(clean_run) -> Path:
    assert clean_run.outcome.success, clean_run.outcome.errors
    return clean_run.bi_file


def _dbt_mart_models(manifest: Path) -> set[str]:
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        f"marts.{node['name']}"
        for node in nodes
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }


def test_a_duckdb_1x_client_reads_every_mart_and_its_comments(
    bi_file: Path, dbt_manifest: Path
) -> None:
    python = duckdb1_python()
    result = subprocess.run(
        [str(python), "-c", READ_EVERYTHING, str(bi_file)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    assert seen["version"] == DUCKDB1_VERSION

    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        expected = {
            f"{schema}.{name}": count
            for schema, name, count in con.execute(
                "select schema_name, table_name, row_count from meta.published_tables"
            ).fetchall()
        }
    finally:
        con.close()
    # Every published mart, with every row, read by the 1.x client.
    assert {table: seen["tables"][table]["rows"] for table in expected} == expected
    assert {"meta.publication", "meta.published_tables", "meta.data_quality"} <= set(seen["tables"])
    # Every model dbt built into marts has its table and column comments (dbt's docs).
    models = _dbt_mart_models(dbt_manifest)
    assert models <= set(expected), models - set(expected)
    for table in sorted(models):
        info = seen["tables"][table]
        assert info["comment"], f"{table} has no comment"
        undocumented = [c["name"] for c in info["columns"] if not c["comment"]]
        assert undocumented == [], f"{table}: {undocumented}"
    # Counts are BIGINT, never HUGEINT.
    wide = [
        (table, column["name"])
        for table, info in seen["tables"].items()
        for column in info["columns"]
        if column["type"] in {"HUGEINT", "UHUGEINT"}
    ]
    assert wide == []


def test_meta_says_as_of_which_date_and_which_run(clean_run, bi_file: Path) -> None:
    con = duckdb.connect(str(bi_file), read_only=True)
    work = duckdb.connect(str(clean_run.warehouse), read_only=True)
    try:
        as_of, currency, run_id, storage = con.execute(
            "select as_of_date, reporting_currency, run_id, storage_version from meta.publication"
        ).fetchone()
        assert (
            as_of
            == work.execute("select as_of_date from intermediate.int_as_of_date").fetchone()[0]
        )
        assert currency == "USD"
        assert storage == "v1.0.0"
        # The run of record is one whose checks the working warehouse holds, and they are the
        # ones published.
        checks = con.execute(
            "select count(*), count(*) filter (not success) from meta.data_quality"
        )
        total, failed = checks.fetchone()
        assert total > 0 and failed == 0
        recorded = work.execute(
            "select count(*) from audit.validation_results where run_id = ?", [run_id]
        ).fetchone()[0]
        assert recorded == total
    finally:
        con.close()
        work.close()


def test_the_parquet_copy_holds_the_same_marts(bi_file: Path) -> None:
    folder = current_parquet_folder(bi_file.parent / "parquet")
    assert folder is not None and folder.is_dir()
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        publication_id = con.execute("select publication_id from meta.publication").fetchone()[0]
        assert folder.name == publication_id
        for schema, name, count in con.execute(
            "select schema_name, table_name, row_count from meta.published_tables"
        ).fetchall():
            path = folder / schema / f"{name}.parquet"
            in_parquet = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
            assert in_parquet == count, path
    finally:
        con.close()


def test_every_chart_has_a_title_axis_units_and_the_as_of_date(bi_file: Path) -> None:
    data = load_report_data(bi_file)
    charts = build_charts(data)
    missing = [(chart.key, chart.missing) for chart in charts if chart.figure is None]
    assert missing == [], "the xs sample has data for every chart"
    for chart in charts:
        layout = chart.figure.layout
        assert f"as of {data.as_of_date.isoformat()}" in layout.title.text, chart.key
        assert layout.xaxis.title.text and layout.yaxis.title.text, chart.key


@pytest.mark.skipif(chromium() is None, reason="Chromium is missing: run `make browser`")
def test_the_report_draws_every_chart_in_chromium_without_errors(bi_file: Path) -> None:
    report = bi_file.parent / "lifecycle-report.html"
    html = report.read_text(encoding="utf-8")
    # Self-contained: no script, style sheet or image to fetch (and Chromium runs with every
    # host unresolvable, see support/browser.py).
    assert "<script src" not in html and "<link" not in html and "<img" not in html
    status = status_from_dom(dump_dom(report))
    shot = screenshot(report, SCREENSHOT, width=1400, height=3900)
    assert status["errors"] == [], status
    assert status["charts"] == 13 and status["drawn"] == status["charts"], (status, shot)
    assert shot.stat().st_size > 50_000  # a blank page is a few KB
    print(f"screenshot of the report: {shot}")


def _clm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
    return subprocess.run(
        [str(Path(sys.executable).with_name("clm")), *args],
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_clm_sql_queries_the_bi_file_read_only(clean_run, bi_file: Path) -> None:
    result = _clm(
        clean_run.env,
        "sql",
        "select count(*) as months, sum(new_customers) as customers from marts.kpi_monthly",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        months, customers = con.execute(
            "select count(*), sum(new_customers) from marts.kpi_monthly"
        ).fetchone()
    finally:
        con.close()
    assert result.stdout.splitlines() == ["months,customers", f"{months},{customers}"]
    refused = _clm(clean_run.env, "sql", "create table marts.scribble as select 1 as x")
    assert refused.returncode != 0
    assert "read-only" in refused.stderr.lower()


def test_clm_report_rebuilds_the_report_from_the_bi_file(clean_run, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _clm(clean_run.env, "report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    published = (clean_run.bi_file.parent / "lifecycle-report.html").read_text(encoding="utf-8")
    # Same publication, same page (plotly's div ids are ours, so the pages are equal).
    assert html == published
