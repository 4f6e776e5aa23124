"""The benchmark harness (``make bench``) on the smallest tier: what it measures and writes.

No timing is asserted: only that the measurements exist, are plausible in kind, and that the
JSON and Markdown results have the shape the README documents.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# benchmarks/ is not an installed package (tests import from the repository's packages only).
_spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_measure_sees_the_memory_of_the_whole_process_tree(tmp_path: Path) -> None:
    # A parent that starts a child holding ~200 MB: the tree's peak counts the child.
    child = "b = bytearray(200 * 2**20); import time; time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    result = bench.measure([sys.executable, "-c", parent], {}, tmp_path / "log.txt")
    assert result["exit_code"] == 0
    assert result["peak_tree_rss_mb"] >= 200
    assert result["max_process_rss_mb"] >= 200
    assert result["cpu_s"] >= 0 and result["wall_s"] > 0


def test_measure_reports_a_failing_command(tmp_path: Path) -> None:
    result = bench.measure([sys.executable, "-c", "raise SystemExit(3)"], {}, tmp_path / "log")
    assert result["exit_code"] == 3


def test_a_dagster_home_no_run_has_used_is_left_untouched(tmp_path: Path) -> None:
    # Before the first `clm run` of a tier the home is empty: no run, and no instance files or
    # Dagster warning made by the benchmark itself.
    home = tmp_path / "dagster_home"
    home.mkdir()
    assert bench.dagster_steps(home) == (None, [])
    assert list(home.iterdir()) == []


def test_steps_are_grouped_into_pipeline_phases() -> None:
    assert bench.phase_of("load_shop") == "load"
    assert bench.phase_of("dbt_warehouse") == "dbt"
    assert bench.phase_of("clv_model") == "clv"
    assert bench.phase_of("fct_orders_ge_orders") == "checks"
    assert bench.phase_of("bi_marts") == "publish"


def test_harness_writes_json_and_markdown_of_a_tier(tmp_path: Path) -> None:
    out = tmp_path / "results"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--tiers", "xs", "--parts", "generate",
         "--work-dir", str(tmp_path / "work"), "--out", str(out), "--machine", "test box",
         "--quiet"],
        cwd=REPO, check=True,
    )  # fmt: skip
    [json_path] = out.glob("*-test-box.json")
    results = json.loads(json_path.read_text(encoding="utf-8"))
    assert results["schema_version"] == 1
    assert {"hostname", "cpus", "memory_mb", "python", "commit"} <= set(results["machine"])
    generated = results["tiers"]["xs"]["generate"]
    assert generated["exit_code"] == 0
    assert {"wall_s", "cpu_s", "peak_tree_rss_mb", "max_process_rss_mb"} <= set(generated)
    assert generated["rows"] == sum(generated["rows_by_table"].values()) > 0
    assert generated["ids_by_kind"]["order"] > 0
    assert [p["tier"] for p in results["scaling"]] == ["xs"]
    assert set(results["not_run"]) == {"s", "m", "l"}
    table = json_path.with_suffix(".md").read_text(encoding="utf-8")
    assert "| tier | landing rows |" in table and "| xs |" in table


def _results(tiers: dict, commit: str, not_run: dict) -> dict:
    machine = {"hostname": "box", "cpus": 2, "cpu_model": "cpu", "memory_mb": 1, "python": "3",
               "commit": commit, "load_average_at_start": [1.0, 1.0, 1.0],
               "load_average_at_end": [2.0, 2.0, 2.0]}  # fmt: skip
    return {"schema_version": 1, "started_at": "2026-12-01T18:00:00+00:00",
            "finished_at": "2026-12-01T19:00:00+00:00", "machine": machine,
            "parts": ["generate"], "tiers": tiers, "not_run": not_run}  # fmt: skip


def test_results_files_merge_tier_by_tier_and_say_where_each_came_from(tmp_path: Path) -> None:
    generated = {"generate": {"wall_s": 1.0, "cpu_s": 1.0, "rows": 10}}
    small = _results({"xs": generated, "s": generated}, "aaa", {"m": "not in --tiers"})
    small["engines"] = {"spark": {"xs": {"full_run": {"wall_s": 9.0}}}}
    large = _results({}, "bbb", {"l": "not finished"})
    large["tiers"]["l"] = {**generated, "partial": True}
    large["engines"] = {"spark": {"s": {"full_run": {"wall_s": 19.0}}}}
    paths = []
    for name, data in (("small.json", small), ("large.json", large)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(data), encoding="utf-8")
    assert bench.main(["merge", str(tmp_path / "merged"), *map(str, paths)]) == 0
    merged = json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))
    assert list(merged["tiers"]) == ["xs", "s", "l"]
    assert merged["tiers"]["l"]["partial"] is True
    assert [f["commit"] for f in merged["machine"]["merged_from"]] == ["aaa", "bbb"]
    assert merged["not_run"] == {"m": "not in --tiers"}
    # every file's other-engine runs are kept
    assert list(merged["engines"]["spark"]) == ["xs", "s"]
    table = (tmp_path / "merged.md").read_text(encoding="utf-8")
    assert "| l (partial) |" in table
    assert "Merged: tiers xs, s from `small.json` (commit aaa" in table


# -- the dbt overhead baseline: the same models and data tests without dbt --------------------
def _model(name: str, sql: str, materialized: str = "table", parents: tuple = ()) -> dict:
    return {"resource_type": "model", "name": name, "relation_name": f'"w"."main"."{name}"',
            "config": {"materialized": materialized}, "compiled_code": sql,
            "depends_on": {"nodes": [f"model.p.{p}" for p in parents]}}  # fmt: skip


def _test(name: str, sql: str) -> dict:
    return {"resource_type": "test", "name": name, "config": {"fail_calc": "count(*)"},
            "compiled_code": sql, "depends_on": {"nodes": []}}  # fmt: skip


def _overhead_fixture(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A warehouse ``w.duckdb`` with a raw table; a manifest of two models (the view reads the
    table) and three data tests; run_results in which dbt ran two of them and skipped one."""
    import duckdb

    database = tmp_path / "w.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create table raw_orders as select range as order_id from range(10)")
    con.close()
    nodes = {
        "model.p.orders_view": _model(
            "orders_view", 'select * from "w"."main"."orders"', "view", ("orders",)
        ),
        "model.p.orders": _model("orders", 'select order_id from "w"."main"."raw_orders"'),
        "test.p.not_null_orders": _test(
            "not_null_orders", 'select * from "w"."main"."orders" where order_id is null'
        ),
        # Fails: 5 rows; a failing test is still a test that ran, not an error.
        "test.p.small_ids": _test(
            "small_ids", 'select * from "w"."main"."orders_view" where order_id >= 5'
        ),
        "test.p.skipped": _test("skipped", "select * from no_such_table"),
    }
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    run_results = tmp_path / "run_results.json"
    results = [{"unique_id": uid, "status": status} for uid, status in (
        ("model.p.orders", "success"), ("model.p.orders_view", "success"),
        ("test.p.not_null_orders", "pass"), ("test.p.small_ids", "fail"),
        ("test.p.skipped", "skipped"),
    )]  # fmt: skip
    run_results.write_text(json.dumps({"results": results}), encoding="utf-8")
    return database, manifest, run_results


def test_direct_sql_runs_the_models_in_dependency_order(tmp_path: Path) -> None:
    import duckdb

    database, manifest, _ = _overhead_fixture(tmp_path)
    result = bench.direct_sql(database, manifest)
    assert (result["models"], result["tests"], result["failed"]) == (2, 0, [])
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("select count(*) from orders_view").fetchone()[0] == 10
    con.close()


def test_direct_sql_with_tests_runs_every_data_test_dbt_build_ran(tmp_path: Path) -> None:
    database, manifest, run_results = _overhead_fixture(tmp_path)
    report = tmp_path / "direct.json"
    # As the benchmark runs it: the helper command, in its own process.
    command = ["direct-sql", str(database), str(manifest), str(report), "--with-tests",
               str(run_results)]  # fmt: skip
    assert bench.main(command) == 0
    result = json.loads(report.read_text(encoding="utf-8"))
    assert (result["models"], result["tests"]) == (2, 2)  # the skipped test is not run
    assert result["failed"] == [] and result["tests_with_failures"] == 1
    assert result["wall_s"] >= result["models_wall_s"] >= 0
    # Without run_results: every compiled test of the manifest (the broken one errors).
    result = bench.direct_sql(database, manifest, tmp_path / "missing.json", with_tests=True)
    assert result["tests"] == 3
    assert [f.get("test") for f in result["failed"]] == ["skipped"]


def _run(wall: float, cpu: float, **extra: object) -> dict:
    return {"wall_s": wall, "cpu_s": cpu, **extra}


def test_dbt_build_is_compared_with_the_models_and_the_tests_run_directly() -> None:
    overhead = {
        "dbt_run": _run(30.0, 20.0),
        "dbt_build": _run(90.0, 60.0),
        "direct_sql": _run(10.0, 10.0, models=2),
        "direct_sql_with_tests": _run(40.0, 30.0, models=2, tests=457),
    }
    ratios = bench.overhead_ratios(overhead)
    assert ratios == {"ratio_dbt_run_to_direct": 3.0, "ratio_cpu_dbt_run_to_direct": 2.0,
                      "ratio_dbt_build_to_direct": 2.25, "ratio_cpu_dbt_build_to_direct": 2.0}  # fmt: skip
    results = _results({"s": {"generate": {"wall_s": 1.0, "rows": 10},
                              "dbt_overhead": {**overhead, **ratios}}}, "ccc", {})  # fmt: skip
    results["scaling"] = bench.scaling(results["tiers"])
    table = bench.markdown(results)
    assert "| s | 2 | 457 | 10.00 / 40.00 | 30.00 | 90.00 | 3.00 | 2.25 |" in table
    # A results file from before: dbt build against the models alone, and it says so.
    del overhead["direct_sql_with_tests"]
    assert bench.overhead_ratios(overhead)["ratio_cpu_dbt_build_to_direct"] == 6.0
    results["tiers"]["s"]["dbt_overhead"] = overhead
    table = bench.markdown(results)
    assert "| s | 2 | – | 10.00 / – |" in table
    assert "Tiers s: `dbt build` / direct is against the models' SQL alone" in table
