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
    large = _results({}, "bbb", {"l": "not finished"})
    large["tiers"]["l"] = {**generated, "partial": True}
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
    table = (tmp_path / "merged.md").read_text(encoding="utf-8")
    assert "| l (partial) |" in table
    assert "Merged: tiers xs, s from `small.json` (commit aaa" in table
