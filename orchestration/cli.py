"""`clm`: the project's command line (`make run` calls `clm run`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from orchestration.settings import DBT_VARS, get_settings


@click.group()
def main() -> None:
    """Customer Lifecycle Warehouse: load, build, validate, predict, publish."""


@main.command()
@click.option("--scale", default=None, help="Sample-data scale if the landing folder is empty.")
@click.option("--seed", default=None, type=int, help="Sample-data seed if it is generated.")
def run(scale: str | None, seed: int | None) -> None:
    """Run the whole pipeline headless (the same Dagster job `dagster dev` shows) and summarise.

    Exits 1 when the run failed or a blocking check failed (then nothing was published).
    """
    import os

    if scale:
        os.environ["CLM_SAMPLE_SCALE"] = scale
    if seed is not None:
        os.environ["CLM_SAMPLE_SEED"] = str(seed)

    from orchestration.dbt_cli import export_resolved_paths, prepare_manifest

    export_resolved_paths()
    started = time.monotonic()
    click.echo("» preparing the dbt manifest (dbt parse)")
    prepare_manifest()

    from orchestration.pipeline import run_pipeline
    from orchestration.summary import build_summary, format_summary

    click.echo("» running the clm_pipeline job (ingest → dbt → CLV → checks → publish)")
    outcome = run_pipeline()
    summary = build_summary(outcome, elapsed_seconds=time.monotonic() - started)
    click.echo(format_summary(summary))
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and closed by now. A normal interpreter exit makes duckdb 2.0's
    # nanobind bindings print pages of "leaked instance" lines for DuckDB objects that
    # SQLAlchemy/GE keep in module-level caches: noise that would bury the summary.
    os._exit(0 if summary.succeeded else 1)


@main.command()
@click.option("--scale", type=click.Choice(["xs", "s", "m", "l"]), default="s", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Landing folder to write (default: CLM_LANDING_DIR, else landing/).",
)
@click.option("--dirty", is_flag=True, help="Add every kind of bad input LANDING.md lists.")
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
    """Generate dbt docs (target/) and the README's generated sections."""
    from orchestration.dbt_cli import run_dbt
    from orchestration.readme import update_readme

    run_dbt("docs", "generate")
    click.echo("dbt docs: target/index.html (open with `.venv/bin/dbt docs serve`)")
    click.echo(f"README sections updated: {', '.join(update_readme())}")


@main.command()
def settings() -> None:
    """Show every CLM_ setting and its current value."""
    current = get_settings()
    click.echo(f"CLM_LANDING_DIR={current.landing_dir}")
    click.echo(f"CLM_DUCKDB_PATH={current.duckdb_path}")
    click.echo(f"CLM_BI_DUCKDB_PATH={current.bi_duckdb_path}")
    for name, value in current.dbt_vars().items():
        click.echo(f"CLM_{name.upper()}={value}    # {DBT_VARS[name][1]}")


@main.command()
@click.option("--email", default=None, help="An email address of the person.")
@click.option("--customer-key", default=None, help="The person's customer_key (dim_customers).")
@click.option(
    "--rebuild/--no-rebuild",
    default=True,
    show_default=True,
    help="Rebuild every dbt model from raw afterwards (dbt build --full-refresh).",
)
def erase(email: str | None, customer_key: str | None, rebuild: bool) -> None:
    """Erase one person from every layer and tombstone them (right to erasure, docs/erasure.md).

    The BI file and its copies change at the next publication (`make run`).
    """
    from orchestration.ingest.erasure import erase_person, resolve_person
    from orchestration.warehouse import connect

    if bool(email) == bool(customer_key):
        raise click.UsageError("give exactly one of --email or --customer-key")
    with connect() as con:
        try:
            person = resolve_person(con, email=email, customer_key=customer_key)
            report = erase_person(con, person)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo(report.summary())
    if rebuild:
        from orchestration.dbt_cli import run_dbt

        click.echo("» rebuilding from raw (dbt build --full-refresh)")
        result = run_dbt("build", "--full-refresh", "--quiet", check=False)
        if result.returncode != 0:
            click.echo(result.stdout[-4000:] + result.stderr[-2000:], err=True)
            raise click.ClickException("the rebuild failed: the erasure itself is done")
    click.echo("the BI file changes at the next publication (make run)")


if __name__ == "__main__":
    main()
