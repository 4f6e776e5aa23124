"""`clm`: the project's command line (`make run` calls `clm run`)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from orchestration.settings import get_settings


@click.group()
def main() -> None:
    """Customer Lifecycle Warehouse: load, build, validate, predict, publish."""


def _fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and exit, no traceback."""
    click.echo(f"clm: error: {message}", err=True)
    _exit(code)


@main.command()
@click.option(
    "--scale",
    type=click.Choice(["xs", "s", "m", "l"]),
    default=None,
    help="Sample-data scale if the default landing folder is empty.",
)
@click.option("--seed", default=None, type=int, help="Sample-data seed if it is generated.")
def run(scale: str | None, seed: int | None) -> None:
    """Run the whole pipeline headless (the same Dagster job `dagster dev` shows) and summarise.

    Exits 1 when the run failed or a blocking check failed (then nothing was published), 2 when
    it could not start (an invalid setting or path, or another run in progress).
    """
    from orchestration import preflight, run_lock

    started = time.monotonic()
    try:
        current = preflight.check_settings()
        preflight.check_paths(current)
        preflight.check_landing(current)
        lock = run_lock.acquire(current.duckdb_path)
        preflight.check_warehouse_free(current.duckdb_path)
    except (preflight.PreflightError, run_lock.RunInProgress) as error:
        _fail(str(error))
    try:
        preflight.prepare_landing(current, scale=scale, seed=seed, progress=click.echo)
        preflight.prepare_dagster_home()
    except preflight.PreflightError as error:
        _fail(str(error))
    for path in preflight.remove_publication_leftovers(current.bi_duckdb_path):
        click.echo(f"» removed a leftover of an interrupted publication: {path.name}")

    from orchestration.dbt_cli import prepare_manifest

    click.echo("» preparing the dbt manifest (dbt parse)")
    try:
        prepare_manifest()
    except RuntimeError as error:
        _fail(str(error))

    from orchestration.pipeline import instance_for_run, run_pipeline
    from orchestration.summary import build_summary, format_summary

    instance = instance_for_run()
    for run_id in preflight.mark_killed_runs(instance, current.duckdb_path):
        click.echo(f"» run {run_id} had been killed: marked failed in Dagster's run history")
    log_file = preflight.new_run_log(current.duckdb_path)
    click.echo("» running the clm_pipeline job (ingest → dbt → CLV → checks → publish)")
    click.echo(f"  full log: {log_file}")
    try:
        outcome = run_pipeline(
            instance,
            tags={preflight.WAREHOUSE_TAG: str(current.duckdb_path)},
            progress=click.echo,
            log_file=log_file,
        )
    except Exception as error:  # e.g. the definitions do not load: one message, no traceback
        _fail(f"the pipeline could not start: {type(error).__name__}: {error}", code=1)
    summary = build_summary(outcome, elapsed_seconds=time.monotonic() - started)
    summary.log_file = log_file
    click.echo(format_summary(summary))
    lock.release()
    _exit(0 if summary.succeeded else 1)


def _exit(code: int) -> None:
    """Flush and leave at once (see below), after the clean-up a normal exit would do."""
    sys.stdout.flush()
    sys.stderr.flush()
    # Finalizers a normal exit runs: without them multiprocessing's resource tracker warns of a
    # "leaked semaphore" that a library created.
    from multiprocessing import util

    util._exit_function()
    # Everything is written and closed by now. A normal interpreter exit makes duckdb 2.0's
    # nanobind bindings print pages of "leaked instance" lines for DuckDB objects that
    # SQLAlchemy/GE keep in module-level caches: noise that would bury the summary.
    os._exit(code)


@main.command()
@click.option("--scale", type=click.Choice(["xs", "s", "m", "l"]), default="s", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Landing folder to write (default: CLM_LANDING_DIR, else landing/).",
)
@click.option(
    "--dirty", is_flag=True, help="Add every kind of bad input docs/landing-contract.md lists."
)
def generate(scale: str, seed: int, out: Path | None, dirty: bool) -> None:
    """Write sample landing files for every table of the contract."""
    from orchestration.generator import generate as generate_data

    out = out or get_settings().landing_dir
    report = generate_data(out, scale=scale, seed=seed, dirty=dirty, progress=click.echo)
    click.echo(f"wrote sample data ({scale}, seed {seed}{', dirty' if dirty else ''}) to {out}")
    if hasattr(report, "summary"):
        click.echo(report.summary())


@main.command()
@click.option("--source", "source_names", multiple=True, help="Only these sources (repeatable).")
def load(source_names: tuple[str, ...]) -> None:
    """Load new landing files into the raw schema (outside Dagster)."""
    from orchestration.ingest.loader import load_landing
    from orchestration.warehouse import connect

    settings = get_settings()
    with connect() as con:
        report = load_landing(
            con, settings.landing_dir, sources=list(source_names) or None, progress=click.echo
        )
    click.echo(
        f"files loaded {report.files_loaded}, skipped {report.files_skipped}, "
        f"rejected {report.files_rejected}; rows loaded {report.rows_loaded}, "
        f"rejected {report.rows_rejected}"
    )


@main.group()
def contract() -> None:
    """The landing contract (orchestration/landing_contract.yml)."""


@contract.command("sources")
def contract_sources() -> None:
    """Regenerate the dbt sources YAML of every staging folder from the contract."""
    from orchestration.dbt_sources import write_sources_yaml
    from orchestration.settings import REPO_ROOT

    for path in write_sources_yaml(REPO_ROOT):
        click.echo(f"wrote {path.relative_to(REPO_ROOT)}")


@main.group()
def quality() -> None:
    """Great Expectations suites (expectations/)."""


@quality.command("scaffold")
def quality_scaffold() -> None:
    """Add the expectations derived from dbt tests to the suites, editing them in place."""
    from orchestration.dbt_cli import prepare_manifest
    from orchestration.quality.scaffold import scaffold_suites
    from orchestration.settings import REPO_ROOT

    manifest = prepare_manifest()
    for path in scaffold_suites(manifest, REPO_ROOT / "expectations" / "gx"):
        click.echo(f"updated {path}")


@main.command()
def docs() -> None:
    """Generate dbt docs (target/) and the generated sections of README.md and docs/kpis.md."""
    from orchestration.dbt_cli import run_dbt
    from tools.readme import update_readme

    run_dbt("docs", "generate")
    click.echo("dbt docs: target/index.html (open with `.venv/bin/dbt docs serve`)")
    click.echo(f"README sections updated: {', '.join(update_readme())}")


@main.command()
def settings() -> None:
    """Show every CLM_ setting with the value in force (secrets hidden) and what it does.

    Exits 2 when a value is invalid (each invalid one is named).
    """
    from orchestration import settings as registry

    group = None
    for name, setting in registry.registry().items():
        if setting.group != group:
            group = setting.group
            click.echo(f"# {group}")
        source = "set" if os.environ.get(name) else "default"
        click.echo(f"{name}={registry.shown(name)}    # {source}; {setting.description}")
    problems = registry.errors()
    for problem in problems:
        click.echo(f"clm: error: invalid setting: {problem}", err=True)
    if problems:
        sys.exit(2)


if __name__ == "__main__":
    main()
