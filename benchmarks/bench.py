"""`make bench`: how long the pipeline takes and how much memory it needs, per sample-data tier.

For every tier (xs, s, m, l; ``--tiers``) in a fresh work folder: generate the landing files,
run ``clm run`` (the real Dagster job: load → dbt → CLV → Great Expectations → publish), and
read where the time went from the run's Dagster step events and dbt's ``run_results.json``. Then,
per tier: the daily incremental run (``--increment-tiers``: the next day's files after the full
run, then ``clm run`` again, then once more with nothing new), the dbt overhead (the models'
compiled SQL run directly in one DuckDB session vs ``dbt run`` / ``dbt build`` of the same
models on a copy of the same warehouse) and the CLV inputs + BG/NBD fit vs the ``lifetimes``
package on the same transactions (lifetimes 0.11.3 predates pandas 2, so it runs from a
throw-away virtual environment the benchmark creates). Writes
``<out>/<date>-<machine>.json`` and a Markdown table beside it.

Memory: ``peak_tree_rss_mb`` is the peak of the summed resident memory of the command and all
its descendants, sampled from /proc every 0.2 s (a shorter peak can be missed);
``max_process_rss_mb`` is the largest single process (``wait4``'s ``ru_maxrss``, exact). CPU is
user + system time of the command and its descendants (comparable on a busy machine, unlike
wall time).

    .venv/bin/python -m benchmarks.bench --tiers xs s [--increment-tiers m l] [--parts ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENGINES = ("duckdb", "spark")
PARTS = ("generate", "run", "increment", "dbt-overhead", "clv", "lifetimes")
# lifetimes 0.11.3 (2020) with the newest pandas / numpy / scipy it works with on Python 3.11.
LIFETIMES_PINS = ("lifetimes==0.11.3", "pandas==1.5.3", "numpy==1.26.4", "scipy==1.11.4")
SAMPLE_SECONDS = 0.2
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- measuring one command ----------------------------------------------------------------------
def _process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, ()))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and its descendants now."""
    total = 0
    for pid in _process_tree(root):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def measure(
    command: Sequence[str | Path], env: dict[str, str], log: Path, cwd: Path = REPO
) -> dict[str, Any]:
    """Run ``command`` to the end; its wall and CPU seconds, peak memory and exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(part) for part in command], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(process.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "command": " ".join(
            Path(str(command[0])).name if i == 0 else str(c) for i, c in enumerate(command)
        ),  # fmt: skip
        "exit_code": process.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_tree_rss_mb": round(peak / 2**20, 1),
        "max_process_rss_mb": round(usage.ru_maxrss / 1024, 1),
        # The machine's 1-minute load average when the command ended: on a shared machine
        # wall seconds stretch with it (compare CPU seconds and ratios).
        "load_average_1m": round(os.getloadavg()[0], 2),
        "log": str(log),
    }


# -- what a `clm run` did -----------------------------------------------------------------------
def phase_of(step_key: str) -> str:
    """The pipeline phase of a Dagster step key."""
    if step_key.startswith("load_") or step_key == "landing_files":
        return "load"
    if "ge_" in step_key:
        return "checks"
    if step_key.startswith("dbt_"):
        return "dbt"
    if "clv" in step_key:
        return "clv"
    if "bi_" in step_key or "publish" in step_key:
        return "publish"
    return "other"


def dagster_steps(dagster_home: Path) -> tuple[str | None, list[dict[str, Any]]]:
    """The latest run of a Dagster home: its id and each step's wall seconds and outcome."""
    from dagster import DagsterEventType, DagsterInstance

    if not (dagster_home / "dagster.yaml").is_file():
        # No `clm run` has used this home yet (it writes the file): no run to read, and opening
        # an instance here would only print Dagster's "no dagster.yaml" warning.
        return None, []
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs(limit=1)
            if not runs:
                return None, []
            run_id = runs[0].run_id
            starts: dict[str, float] = {}
            steps: list[dict[str, Any]] = []
            ends = {
                DagsterEventType.STEP_SUCCESS: "success",
                DagsterEventType.STEP_FAILURE: "failure",
            }
            for entry in instance.all_logs(run_id):
                event = entry.dagster_event
                if event is None or not entry.step_key:
                    continue
                if event.event_type == DagsterEventType.STEP_START:
                    starts[entry.step_key] = entry.timestamp
                elif event.event_type in ends and entry.step_key in starts:
                    steps.append(
                        {
                            "step": entry.step_key,
                            "phase": phase_of(entry.step_key),
                            "status": ends[event.event_type],
                            "wall_s": round(entry.timestamp - starts[entry.step_key], 2),
                        }
                    )
            return run_id, steps
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def dbt_results(run_id: str | None) -> dict[str, Any]:
    """Per-model seconds from the run_results.json of the run's dbt invocations (then removed)."""
    from orchestration.dbt_cli import run_target_dirs

    models: list[dict[str, Any]] = []
    totals = {"models_s": 0.0, "tests_s": 0.0, "other_s": 0.0, "invocations": 0}
    if not run_id:
        return {"models": models, **totals}
    for folder in run_target_dirs(run_id):
        results = folder / "run_results.json"
        if results.exists():
            totals["invocations"] += 1
            for result in json.loads(results.read_text(encoding="utf-8"))["results"]:
                kind, seconds = result["unique_id"].split(".")[0], result["execution_time"]
                if kind == "model":
                    models.append(
                        {
                            "model": result["unique_id"].split(".")[-1],
                            "status": result["status"],
                            "seconds": round(seconds, 3),
                        }
                    )
                key = {"model": "models_s", "test": "tests_s"}.get(kind, "other_s")
                totals[key] += seconds
        shutil.rmtree(folder, ignore_errors=True)
    models.sort(key=lambda m: -m["seconds"])
    return {"models": models, **{k: round(v, 2) for k, v in totals.items()}}


def pipeline_run(
    name: str, env: dict[str, str], tier_dir: Path, dagster_home: Path
) -> dict[str, Any]:
    """``clm run`` measured, with its steps, phases and dbt models."""
    previous_run_id, _ = dagster_steps(dagster_home)
    result = measure([BIN / "clm", "run"], env, tier_dir / f"{name}.log")
    run_id, steps = dagster_steps(dagster_home)
    if run_id == previous_run_id:  # `clm run` found nothing new and started no Dagster run
        run_id, steps = None, []
    phases: dict[str, float] = {}
    for step in steps:
        phases[step["phase"]] = round(phases.get(step["phase"], 0.0) + step["wall_s"], 2)
    # Before the first step: dbt parse, Dagster start-up and definitions loading.
    phases["outside_steps"] = round(result["wall_s"] - sum(s["wall_s"] for s in steps), 2)
    summary = _summary_lines(Path(result["log"]))
    nothing_new = any(line.startswith("» nothing new since run") for line in summary)
    return {**result, "run_id": run_id, "phases": phases, "steps": steps,
            "dbt": dbt_results(run_id), "summary": summary,
            "skipped_nothing_new": nothing_new}  # fmt: skip


def _summary_lines(log: Path, keep: int = 12) -> list[str]:
    """The last lines ``clm run`` printed (its summary), for the record."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line[:200] for line in lines[-keep:]]


# -- the dbt overhead ---------------------------------------------------------------------------
def _model_nodes(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The built models (table, view, incremental) in dependency order."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["config"].get("materialized") in ("table", "view", "incremental")
        and node.get("compiled_code")
    }
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    return ordered


def _test_nodes(manifest: dict[str, Any], run_results: Path | None) -> list[dict[str, Any]]:
    """The data tests ``dbt build`` ran (from its ``run_results.json``: exactly what it
    executed, source and seed tests included); every compiled test of the manifest without it."""
    tests = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node.get("compiled_code")
    }
    if run_results is None or not run_results.exists():
        return [tests[uid] for uid in sorted(tests)]
    ran = [
        result["unique_id"]
        for result in json.loads(run_results.read_text(encoding="utf-8"))["results"]
        if result["unique_id"] in tests and result["status"] != "skipped"
    ]
    return [tests[uid] for uid in ran]


def direct_sql(
    database: Path, manifest_path: Path, run_results: Path | None = None, with_tests: bool = False
) -> dict[str, Any]:
    """Run every model's compiled SQL in one DuckDB session (what dbt would send, no dbt).

    ``with_tests``: then every data test ``dbt build`` ran, in the same session, as dbt's test
    materialization sends it: its failure count (``fail_calc``, default ``count(*)``) over the
    compiled test query. That is the fair baseline of ``dbt build``, which runs both."""
    import duckdb

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = _model_nodes(manifest)
    tests = _test_nodes(manifest, run_results) if with_tests else []
    con = duckdb.connect(str(database))
    con.execute("set TimeZone = 'UTC'")
    started, cpu = time.perf_counter(), time.process_time()
    failed = []
    for node in nodes:
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        try:
            con.execute(
                f"create or replace {kind} {node['relation_name']} as ({node['compiled_code']})"
            )
        except duckdb.Error as error:
            failed.append({"model": node["name"], "error": str(error).splitlines()[0][:200]})
    models_s = time.perf_counter() - started
    tests_with_failures = 0
    for node in tests:
        fail_calc = node["config"].get("fail_calc") or "count(*)"
        try:
            failures = con.execute(
                f"select {fail_calc} from ({node['compiled_code']}) as dbt_internal_test"
            ).fetchone()[0]
        except duckdb.Error as error:
            failed.append({"test": node["name"], "error": str(error).splitlines()[0][:200]})
            continue
        tests_with_failures += bool(failures)
    con.close()
    return {"models": len(nodes), "tests": len(tests), "failed": failed,
            "tests_with_failures": tests_with_failures, "models_wall_s": round(models_s, 3),
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu}  # fmt: skip


def dbt_overhead(tier_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """``dbt run`` and ``dbt build`` of the models vs their SQL run directly, same data."""
    source = Path(env["CLM_DUCKDB_PATH"])
    dbt = [BIN / "dbt", "--no-use-colors"]
    common = ["--full-refresh", "--project-dir", REPO, "--profiles-dir", REPO]
    out: dict[str, Any] = {}
    for name, args in (
        ("dbt_run", ["run", *common]),
        ("dbt_build", ["build", *common, "--resource-type", "model", "--resource-type", "test"]),
    ):
        # The copy keeps the file name: dbt's relation names carry the database (file stem).
        folder = tier_dir / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(source, folder / source.name)
        copy_env = {**env, "CLM_DUCKDB_PATH": str(folder / source.name)}
        out[name] = measure(
            [*dbt, *args, "--target-path", folder / "target"], copy_env, folder / "dbt.log"
        )
    # The same SQL without dbt: the models alone (vs `dbt run`), then the models and every
    # data test `dbt build` ran (vs `dbt build`), each on its own copy in one DuckDB session.
    build_target = tier_dir / "dbt_build" / "target"
    for name, manifest, extra in (
        ("direct_sql", tier_dir / "dbt_run" / "target" / "manifest.json", []),
        ("direct_sql_with_tests", build_target / "manifest.json",
         ["--with-tests", build_target / "run_results.json"]),
    ):  # fmt: skip
        folder = tier_dir / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(source, folder / source.name)
        report = folder / "direct.json"
        out[name] = measure(
            [sys.executable, "-m", "benchmarks.bench", "direct-sql", folder / source.name,
             manifest, report, *extra],
            env, folder / "direct.log",
        )  # fmt: skip
        if report.exists():
            detail = json.loads(report.read_text(encoding="utf-8"))
            keys = ("models", "tests", "failed", "tests_with_failures", "models_wall_s")
            out[name].update({k: detail[k] for k in keys})
    for folder_name in ("dbt_run", "dbt_build", "direct_sql", "direct_sql_with_tests"):
        for path in (tier_dir / folder_name).glob("*.duckdb*"):
            path.unlink()
    out.update(overhead_ratios(out))
    return out


def overhead_ratios(out: dict[str, Any]) -> dict[str, float]:
    """dbt / direct, wall and CPU: ``dbt run`` against the models' SQL, ``dbt build`` against
    the models' and the data tests' SQL (``direct_sql_with_tests``; the models alone when a
    results file predates it)."""
    build_baseline = out.get("direct_sql_with_tests") or out["direct_sql"]
    ratios = {}
    for dbt_name, direct in (("dbt_run", out["direct_sql"]), ("dbt_build", build_baseline)):
        # On a shared machine the wall ratios follow the load; the CPU ratios much less.
        for prefix, key in (("ratio", "wall_s"), ("ratio_cpu", "cpu_s")):
            ratios[f"{prefix}_{dbt_name}_to_direct"] = round(
                out[dbt_name][key] / (direct[key] or float("nan")), 2
            )
    return ratios


# -- CLV vs lifetimes ---------------------------------------------------------------------------
def _relation(name: str) -> str:
    manifest = json.loads((REPO / "target" / "manifest.json").read_text(encoding="utf-8"))
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] == name:
            return node["relation_name"]
    raise LookupError(f"model {name} not in target/manifest.json")


def export_transactions(database: Path, folder: Path) -> tuple[Path, Path, str, int]:
    """The valid orders the CLV model reads (customer, UTC order date, as of), as CSV + parquet."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=True)
    as_of = con.execute(f"select as_of_date from {_relation('int_as_of_date')}").fetchone()[0]
    con.execute(
        f"""create temp table transactions as
        select customer_key, order_date from {_relation("fct_orders")}
        where is_valid_order and customer_key is not null and order_date <= ?
        order by customer_key, order_date""",
        [as_of],
    )
    rows = con.execute("select count(*) from transactions").fetchone()[0]
    csv_path, parquet_path = folder / "transactions.csv", folder / "transactions.parquet"
    con.execute(f"copy transactions to '{csv_path}' (header true)")
    con.execute(f"copy transactions to '{parquet_path}' (format parquet)")
    con.close()
    return csv_path, parquet_path, str(as_of), rows


def clv_ours(parquet_path: Path, as_of: str) -> dict[str, Any]:
    """The project's CLV inputs (int_customer_purchases_summarized's definition) + BG/NBD fit."""
    import duckdb

    from orchestration.clv import bgnbd

    # Opening the in-memory database (~10-30 ms: DuckDB builds its catalog) is set-up, like the
    # imports on both sides: timed on its own, outside the inputs + fit. In the pipeline the CLV
    # step reads from the warehouse connection it already holds.
    opened = time.perf_counter()
    con = duckdb.connect()
    connect_s = time.perf_counter() - opened
    started, cpu = time.perf_counter(), time.process_time()
    table = con.execute(
        f"""with days as (
            select distinct customer_key, order_date from read_parquet('{parquet_path}')
        )
        select count(*) - 1 as frequency,
            date_diff('day', min(order_date), max(order_date)) as recency,
            date_diff('day', min(order_date), cast(? as date)) as t
        from days group by customer_key""",
        [as_of],
    ).fetchnumpy()
    inputs_s = time.perf_counter() - started
    fit = bgnbd.fit(
        table["frequency"].astype(float), table["recency"].astype(float), table["t"].astype(float)
    )
    params = fit.params
    return {"customers": len(table["frequency"]), "connect_s": round(connect_s, 3),
            "inputs_s": round(inputs_s, 3),
            "total_s": round(time.perf_counter() - started, 3),
            "cpu_s": round(time.process_time() - cpu, 3), "converged": bool(fit.converged),
            "params": {k: round(float(getattr(params, k)), 6) for k in ("r", "alpha", "a", "b")}}  # fmt: skip


def lifetimes_python(work: Path, env: dict[str, str]) -> tuple[Path | None, str]:
    """A throw-away virtual environment with lifetimes 0.11.3 (made once per work folder)."""
    venv = work / "lifetimes-venv"
    python = venv / "bin" / "python"
    if python.exists() and (venv / ".ok").exists():
        return python, "reused"
    shutil.rmtree(venv, ignore_errors=True)
    log = work / "lifetimes-venv.log"
    made = measure([sys.executable, "-m", "venv", venv], env, log)
    if made["exit_code"] == 0:
        made = measure([python, "-m", "pip", "install", "--quiet", *LIFETIMES_PINS], env, log)
    if made["exit_code"] != 0:
        return None, f"could not install {' '.join(LIFETIMES_PINS)}: see {log}"
    (venv / ".ok").touch()
    return python, "installed"


def clv_comparison(
    tier_dir: Path, env: dict[str, str], work: Path, with_lifetimes: bool
) -> dict[str, Any]:
    """Ours vs lifetimes on the same transactions: seconds, ratio, parameters side by side."""
    csv_path, parquet_path, as_of, rows = export_transactions(
        Path(env["CLM_DUCKDB_PATH"]), tier_dir / "clv"
    )
    report = tier_dir / "clv" / "ours.json"
    ours = measure(
        [sys.executable, "-m", "benchmarks.bench", "clv-ours", parquet_path, as_of, report],
        env, tier_dir / "clv" / "ours.log",
    )  # fmt: skip
    out: dict[str, Any] = {"transactions": rows, "as_of": as_of, "ours": ours}
    if report.exists():
        ours.update(json.loads(report.read_text(encoding="utf-8")))
    if not with_lifetimes:
        out["lifetimes"] = {"skipped": "not asked for (--parts without lifetimes)"}
        return out
    python, how = lifetimes_python(work, env)
    if python is None:
        out["lifetimes"] = {"skipped": how}
        return out
    report = tier_dir / "clv" / "lifetimes.json"
    theirs = measure(
        [python, REPO / "benchmarks" / "lifetimes_fit.py", csv_path, as_of, report],
        {**env, "PYTHONPATH": ""}, tier_dir / "clv" / "lifetimes.log",
    )  # fmt: skip
    if report.exists():
        theirs.update(json.loads(report.read_text(encoding="utf-8")))
    out["lifetimes"] = {**theirs, "environment": how, "pins": list(LIFETIMES_PINS)}
    if "total_s" in theirs and "total_s" in ours:
        out["speedup_total"] = round(theirs["total_s"] / max(ours["total_s"], 1e-9), 1)
        # CPU seconds of the same spans (in-process): on a loaded machine far steadier than wall.
        out["speedup_cpu"] = round(theirs["cpu_s"] / max(ours["cpu_s"], 1e-9), 1)
        out["max_param_difference"] = round(
            max(abs(ours["params"][k] - theirs["params"][k]) for k in ours["params"]), 6
        )
    return out


# -- one tier -----------------------------------------------------------------------------------
def tier_env(tier_dir: Path) -> dict[str, str]:
    """The environment of a tier's runs: its own landing, warehouse, BI file and Dagster home."""
    env = {
        **os.environ,
        "CLM_LANDING_DIR": str(tier_dir / "landing"),
        "CLM_DUCKDB_PATH": str(tier_dir / "warehouse" / "clm.duckdb"),
        "CLM_BI_DUCKDB_PATH": str(tier_dir / "warehouse" / "bi.duckdb"),
        "DAGSTER_HOME": str(tier_dir / "dagster_home"),
        "CLM_ALERT_LOG_PATH": str(tier_dir / "warehouse" / "alerts.jsonl"),
        "DBT_PROFILES_DIR": str(REPO),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
    }
    env.pop("CLM_AS_OF_DATE", None)
    return env


def generate(tier: str, tier_dir: Path, env: dict[str, str], seed: int, day_after: bool) -> dict:
    """The generator, measured; with what it wrote."""
    name = "generate_day_after" if day_after else "generate"
    manifest = tier_dir / f"{name}.json"
    command = [sys.executable, "-m", "tools.generator", tier_dir / "landing", "--scale", tier,
               "--seed", str(seed), "--quiet", "--manifest", manifest]  # fmt: skip
    result = measure([*command, *(["--day-after"] if day_after else [])], env,
                     tier_dir / f"{name}.log")  # fmt: skip
    if manifest.exists():
        written = json.loads(manifest.read_text(encoding="utf-8"))
        result.update(
            files=len(written["files"]),
            rows=sum(written["rows_by_table"].values()),
            rows_by_table=written["rows_by_table"],
            ids_by_kind=written["ids_by_kind"],
        )
    return result


def _save_partial(args: argparse.Namespace, tier: str, out: dict[str, Any]) -> None:
    """Write what a tier measured so far (marked ``partial``): a long tier that does not finish
    still leaves its first parts on record."""
    save = getattr(args, "save_partial", None)
    if save is not None:
        save(tier, {**out, "partial": True})


def run_tier(tier: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement of one tier, in a fresh folder."""
    tier_dir = args.work_dir / tier
    shutil.rmtree(tier_dir, ignore_errors=True)
    (tier_dir / "dagster_home").mkdir(parents=True)
    env = tier_env(tier_dir)
    out: dict[str, Any] = {}
    parts = set(args.parts)
    say = print if not args.quiet else (lambda *_: None)
    say(f"[{tier}] generate")
    out["generate"] = generate(tier, tier_dir, env, args.seed, day_after=False)
    _save_partial(args, tier, out)
    if "run" not in parts:
        return out
    say(f"[{tier}] clm run (full)")
    out["full_run"] = pipeline_run("full_run", env, tier_dir, tier_dir / "dagster_home")
    _save_partial(args, tier, out)
    if "increment" in parts and tier in args.increment_tiers:
        say(f"[{tier}] day-after increment, clm run, clm run with nothing new")
        out["increment_generate"] = generate(tier, tier_dir, env, args.seed, day_after=True)
        out["incremental_run"] = pipeline_run(
            "incremental_run", env, tier_dir, tier_dir / "dagster_home"
        )
        out["nothing_new_run"] = pipeline_run(
            "nothing_new_run", env, tier_dir, tier_dir / "dagster_home"
        )
        _save_partial(args, tier, out)
    if "clv" in parts:
        say(f"[{tier}] CLV inputs + fit vs lifetimes")
        try:
            out["clv"] = clv_comparison(tier_dir, env, args.work_dir, "lifetimes" in parts)
        except Exception as error:  # a benchmark part failing must not lose the others
            out["clv"] = {"error": f"{type(error).__name__}: {error}"}
        _save_partial(args, tier, out)
    if "dbt-overhead" in parts:
        say(f"[{tier}] dbt overhead")
        try:
            out["dbt_overhead"] = dbt_overhead(tier_dir, env)
        except Exception as error:
            out["dbt_overhead"] = {"error": f"{type(error).__name__}: {error}"}
    return out


def run_engine_tier(tier: str, engine: str, args: argparse.Namespace) -> dict[str, Any]:
    """The full run of one tier with ``CLM_ENGINE=engine`` (docs/spark.md, "Benchmarks"), in
    its own folder: generate, then ``clm run``."""
    tier_dir = args.work_dir / f"{tier}-{engine}"
    shutil.rmtree(tier_dir, ignore_errors=True)
    (tier_dir / "dagster_home").mkdir(parents=True)
    env = {**tier_env(tier_dir), "CLM_ENGINE": engine,
           "CLM_SPARK_WAREHOUSE_DIR": str(tier_dir / "warehouse" / "spark")}  # fmt: skip
    if not args.quiet:
        print(f"[{tier} on {engine}] generate, clm run (full)")
    out: dict[str, Any] = {"generate": generate(tier, tier_dir, env, args.seed, day_after=False)}
    out["full_run"] = pipeline_run("full_run", env, tier_dir, tier_dir / "dagster_home")
    return out


def engines_markdown(results: dict[str, Any]) -> list[str]:
    """Full run per tier and engine: DuckDB (the tiers above) next to the other engines."""
    if not results.get("engines"):
        return []
    engines = {"duckdb": results["tiers"], **results["engines"]}
    lines = ["", "## Full run per engine (`CLM_ENGINE`)", "",
             "| tier | engine | run wall s | run CPU s | peak RSS tree MB | exit code "
             "| outside steps s | load s | dbt s | CLV s | checks s | publish s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    tiers = dict.fromkeys(t for per_tier in engines.values() for t in per_tier)
    for tier in tiers:
        for engine, per_tier in engines.items():
            run = (per_tier.get(tier) or {}).get("full_run")
            if not run:
                continue
            ph = run.get("phases", {})
            lines.append("| " + " | ".join(_cell(v) for v in (
                tier, engine, run.get("wall_s"), run.get("cpu_s"), run.get("peak_tree_rss_mb"),
                run.get("exit_code"), ph.get("outside_steps"), ph.get("load"), ph.get("dbt"),
                ph.get("clv"), ph.get("checks"), ph.get("publish"),
            )) + " |")  # fmt: skip
    return lines


# -- the report ---------------------------------------------------------------------------------
def scaling(tiers: dict[str, Any]) -> list[dict[str, Any]]:
    """Time and memory vs landing rows, tier by tier, with the marginal cost per million rows."""
    points, previous = [], None
    for tier, result in tiers.items():
        run = result.get("full_run")
        rows = result["generate"].get("rows", 0)
        point = {"tier": tier, "landing_rows": rows,
                 "wall_s": run["wall_s"] if run else None, "cpu_s": run["cpu_s"] if run else None,
                 "peak_tree_rss_mb": run["peak_tree_rss_mb"] if run else None,
                 "marginal_cpu_s_per_million_rows": None}  # fmt: skip
        if (
            run
            and previous
            and rows > previous["landing_rows"]
            and run["cpu_s"] is not None
            and previous["cpu_s"] is not None
        ):
            point["marginal_cpu_s_per_million_rows"] = round(
                (run["cpu_s"] - previous["cpu_s"]) / ((rows - previous["landing_rows"]) / 1e6), 1
            )
        points.append(point)
        previous = point if run else previous
    return points


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    memory = 0
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    with open("/proc/cpuinfo", encoding="ascii") as handle:
        names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
    cpu = names[0] if names else platform.processor()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {"hostname": socket.gethostname(), "cpus": os.cpu_count(), "cpu_model": cpu,
            "memory_mb": memory, "python": platform.python_version(), "commit": commit,
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            # the project's settings the runs inherit (a memory cap changes every figure)
            "settings": {k: v for k, v in sorted(os.environ.items()) if k.startswith("CLM_")}}  # fmt: skip


def _seconds(value: float | None) -> str:
    """Short spans (the CLV comparison) to the millisecond: two decimals hide a 10x ratio."""
    return "–" if value is None else f"{value:.3f}"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables (what benchmarks/README.md shows)."""
    m = results["machine"]
    lines = [
        f"# Benchmark {results['started_at'][:10]} on {m['hostname']}",
        "",
        f"{m['cpus']} cores ({m['cpu_model']}), {m['memory_mb']:,} MB, Python {m['python']}, "
        f"commit {m['commit']}, load average at start {m['load_average_at_start']}, "
        f"at end {m.get('load_average_at_end', '–')}. "
        "Wall times depend on the load of the machine; CPU seconds and ratios less so.",
        "",
        "Settings in force: "
        + (", ".join(f"`{k}={v}`" for k, v in m.get("settings", {}).items()) or "the defaults")
        + ".",
        "",
        *(
            f"Merged: tiers {', '.join(f['tiers'])} from `{f['file']}` (commit {f['commit']}, "
            f"{f['started_at']} to {f['finished_at']}, load average {f['load_average_at_start']} "
            f"at start, {f['load_average_at_end']} at end"
            + "".join(f", `{k}={v}`" for k, v in f.get("settings", {}).items())
            + ")."
            for f in m.get("merged_from", [])
        ),
        "",
        "## Full run per tier (`clm run` on freshly generated data)",
        "",
        "| tier | landing rows | generate s | run wall s | run CPU s | peak RSS tree MB "
        "| outside steps s | load s | dbt s | CLV s | checks s | publish s | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tier, r in results["tiers"].items():
        run = r.get("full_run") or {}
        ph = run.get("phases", {})
        lines.append("| " + " | ".join(_cell(v) for v in (
            tier + (" (partial)" if r.get("partial") else ""), r["generate"].get("rows"),
            r["generate"]["wall_s"], run.get("wall_s"),
            run.get("cpu_s"), run.get("peak_tree_rss_mb"), ph.get("outside_steps"),
            ph.get("load"), ph.get("dbt"), ph.get("clv"), ph.get("checks"), ph.get("publish"),
            run.get("load_average_1m"),
        )) + " |")  # fmt: skip
    incremental = {t: r for t, r in results["tiers"].items() if r.get("incremental_run")}
    if incremental:
        lines += ["", "## Daily incremental run (one more day of files after the full run)", "",
                  "| tier | new rows | run wall s | run CPU s | peak RSS tree MB "
                  "| outside steps s | load s | dbt s | checks s "
                  "| nothing-new run wall s | nothing-new CPU s | nothing new said |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
        for tier, r in incremental.items():
            inc, none = r["incremental_run"], r.get("nothing_new_run") or {}
            ph = inc.get("phases", {})
            said = {True: "yes", False: "no"}.get(none.get("skipped_nothing_new"))
            lines.append("| " + " | ".join(_cell(v) for v in (
                tier, r["increment_generate"].get("rows"), inc["wall_s"], inc["cpu_s"],
                inc["peak_tree_rss_mb"], ph.get("outside_steps"), ph.get("load"), ph.get("dbt"),
                ph.get("checks"), none.get("wall_s"), none.get("cpu_s"), said,
            )) + " |")  # fmt: skip
    overhead = {t: r["dbt_overhead"] for t, r in results["tiers"].items()
                if "dbt_run" in r.get("dbt_overhead", {})}  # fmt: skip
    if overhead:
        lines += ["", "## dbt overhead (same models, same data, one DuckDB session vs dbt)", "",
                  "`dbt run` is compared with the models' compiled SQL run directly; `dbt build` "
                  "(models and data tests) with the models' SQL and then every data test it ran "
                  "(`select count(*) from (<compiled test>)`), in one session.", "",
                  "| tier | models | tests | direct SQL s: models / models + tests "
                  "| dbt run s | dbt build s | dbt run / direct | dbt build / direct "
                  "| CPU s direct: models / models + tests | CPU s dbt: run / build "
                  "| CPU dbt run / direct | CPU dbt build / direct |",
                  "|---|---:|---:|---|---:|---:|---:|---:|---|---|---:|---:|"]  # fmt: skip
        older = [t for t, o in overhead.items() if not o.get("direct_sql_with_tests")]
        for tier, o in overhead.items():
            direct, with_tests = o["direct_sql"], o.get("direct_sql_with_tests") or {}
            ratios = overhead_ratios(o)
            lines.append("| " + " | ".join(_cell(v) for v in (
                tier, direct.get("models"), with_tests.get("tests"),
                f"{_cell(direct['wall_s'])} / {_cell(with_tests.get('wall_s'))}",
                o["dbt_run"]["wall_s"], o["dbt_build"]["wall_s"],
                ratios["ratio_dbt_run_to_direct"], ratios["ratio_dbt_build_to_direct"],
                f"{_cell(direct['cpu_s'])} / {_cell(with_tests.get('cpu_s'))}",
                f"{_cell(o['dbt_run']['cpu_s'])} / {_cell(o['dbt_build']['cpu_s'])}",
                ratios["ratio_cpu_dbt_run_to_direct"], ratios["ratio_cpu_dbt_build_to_direct"],
            )) + " |")  # fmt: skip
        if older:  # results measured before the data tests were run directly
            lines += ["", f"Tiers {', '.join(older)}: `dbt build` / direct is against the models' "
                      "SQL alone (no direct run of the data tests was measured)."]  # fmt: skip
    clv = {t: r["clv"] for t, r in results["tiers"].items() if "ours" in r.get("clv", {})}
    if clv:
        lines += ["", "## CLV inputs + BG/NBD fit vs lifetimes 0.11.3 (same transactions)", "",
                  "| tier | transactions | customers | ours s | lifetimes s | speed-up "
                  "| ours / lifetimes CPU s | CPU speed-up | ours: DuckDB connect s "
                  "| ours r, α, a, b | lifetimes r, α, a, b |",
                  "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|"]  # fmt: skip
        for tier, c in clv.items():
            ours, theirs = c["ours"], c.get("lifetimes", {})

            def params(side: dict[str, Any]) -> str:
                p = side.get("params")
                return ", ".join(f"{p[k]:.4f}" for k in ("r", "alpha", "a", "b")) if p else "–"

            lines.append("| " + " | ".join(_cell(v) for v in (
                tier, c["transactions"], ours.get("customers"), _seconds(ours.get("total_s")),
                _seconds(theirs.get("total_s")) if "total_s" in theirs else theirs.get("skipped"),
                c.get("speedup_total"),
                f"{_seconds(ours.get('cpu_s'))} / {_seconds(theirs.get('cpu_s'))}",
                c.get("speedup_cpu"), _seconds(ours.get("connect_s")), params(ours), params(theirs),
            )) + " |")  # fmt: skip
    lines += ["", "## Scaling (full run)", "",
              "| tier | landing rows | wall s | CPU s | peak RSS tree MB "
              "| marginal CPU s per million rows |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for p in results["scaling"]:
        lines.append("| " + " | ".join(_cell(p[k]) for k in (
            "tier", "landing_rows", "wall_s", "cpu_s", "peak_tree_rss_mb",
            "marginal_cpu_s_per_million_rows",
        )) + " |")  # fmt: skip
    for tier, r in results["tiers"].items():
        stopped = r.get("full_run_stopped")  # a run stopped by hand, recorded from its steps
        if stopped:
            done = ", ".join(f"{s['step']} {_cell(s['wall_s'])} s" for s in stopped["steps"])
            lines += ["", f"Tier {tier}: {stopped['note']} Steps done: {done}."]
    lines += engines_markdown(results)
    for tier, reason in results.get("not_run", {}).items():
        lines += ["", f"Tier {tier} not run: {reason}"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`make bench`, or one of the helper commands the benchmark runs in a subprocess."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["direct-sql"]:
        # direct-sql <database> <manifest> <report> [--with-tests <run_results.json>]
        with_tests = argv[4:5] == ["--with-tests"]
        run_results = Path(argv[5]) if with_tests else None
        result = direct_sql(Path(argv[1]), Path(argv[2]), run_results, with_tests=with_tests)
        Path(argv[3]).write_text(json.dumps(result), encoding="utf-8")
        return 0
    if argv[:1] == ["merge"]:
        return merge_results(Path(argv[1]), [Path(a) for a in argv[2:]])
    if argv[:1] == ["clv-ours"]:
        result = clv_ours(Path(argv[1]), argv[2])
        Path(argv[3]).write_text(json.dumps(result), encoding="utf-8")
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__)
    parser.add_argument("--tiers", nargs="+", default=["xs", "s", "m", "l"])
    parser.add_argument("--increment-tiers", nargs="*", default=["xs", "s", "m", "l"])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", type=Path, default=REPO / "benchmarks" / ".work")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--machine", default=socket.gethostname(), help="name in the file name")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--engines", nargs="+", default=["duckdb"], choices=ENGINES,
        help="CLM_ENGINE of the runs; other engines than duckdb time the full run only",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    results: dict[str, Any] = {
        "schema_version": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parts": args.parts,
        "tiers": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in args.machine)
    stem = args.out / f"{results['started_at'][:10]}-{safe}"

    def save_partial(tier: str, partial: dict[str, Any]) -> None:
        write_results({**results, "tiers": {**results["tiers"], tier: partial}}, args.tiers, stem)

    args.save_partial = save_partial
    for tier in args.tiers:
        if "duckdb" in args.engines:
            results["tiers"][tier] = run_tier(tier, args)
        for engine in (e for e in args.engines if e != "duckdb"):
            engines = results.setdefault("engines", {}).setdefault(engine, {})
            engines[tier] = run_engine_tier(tier, engine, args)
        write_results(results, args.tiers, stem)  # after every tier: a long run loses nothing
    print(f"wrote {stem}.json and .md")
    return 0


def merge_results(stem: Path, paths: Sequence[Path]) -> int:
    """``merge <stem> a.json b.json …``: the tiers of several results files (e.g. the small tiers
    and l, run side by side) in one ``<stem>.json`` / ``.md``. Each tier keeps its own
    measurements; ``machine.merged_from`` names every file with its commit, start and end and
    load averages, and the Markdown says so."""
    parts = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    merged: dict[str, Any] = {**parts[0], "tiers": {}}
    merged["machine"] = {**parts[0]["machine"], "merged_from": [
        {"file": path.name, "tiers": list(part["tiers"]), "commit": part["machine"]["commit"],
         "started_at": part["started_at"], "finished_at": part.get("finished_at"),
         "load_average_at_start": part["machine"]["load_average_at_start"],
         "load_average_at_end": part["machine"].get("load_average_at_end"),
         "settings": part["machine"].get("settings", {})}
        for path, part in zip(paths, parts, strict=True)
    ]}  # fmt: skip
    for tier in ("xs", "s", "m", "l"):
        for part in parts:
            if tier in part["tiers"]:
                merged["tiers"][tier] = part["tiers"][tier]
    merged["parts"] = sorted({p for part in parts for p in part["parts"]})
    # The other engines' full runs, tier by tier (a later file's tier wins, as above).
    engines: dict[str, dict[str, Any]] = {}
    for part in parts:
        for engine, per_tier in part.get("engines", {}).items():
            engines.setdefault(engine, {}).update(per_tier)
    if engines:
        merged["engines"] = engines
    unfinished = {t for part in parts for t, why in part.get("not_run", {}).items()
                  if why == "not finished"}  # fmt: skip
    write_results(merged, [*merged["tiers"], *sorted(unfinished)], stem, finished=False)
    print(f"wrote {stem}.json and .md")
    return 0


def write_results(
    results: dict[str, Any], tiers: Sequence[str], stem: Path, finished: bool = True
) -> None:
    """``<stem>.json`` and ``<stem>.md`` of the tiers measured so far."""
    if finished:
        results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        results["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    results["scaling"] = scaling(results["tiers"])
    results["not_run"] = {
        t: "not in --tiers" if t not in tiers else "not finished"
        for t in ("xs", "s", "m", "l")
        if t not in results["tiers"]
    }
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
