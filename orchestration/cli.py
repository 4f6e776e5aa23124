"""`clm`: the project's command line (`make run` calls `clm run`)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from orchestration.settings import get_settings
from orchestration.settings import value as settings_value


@click.group()
def main() -> None:
    """Customer Lifecycle Warehouse: load, build, validate, predict, publish."""


def _fail(message: str, code: int = 2, *, alert: bool = False) -> None:
    """One clear line on stderr and exit, no traceback.

    With ``alert``, the failure is also sent as one alert (log, webhook, email): a scheduled
    `make run` that cannot start (the warehouse held by another program, the landing folder
    gone) must not fail silently. The Dagster job's own hooks alert once it runs.
    """
    click.echo(f"clm: error: {message}", err=True)
    if alert:
        from orchestration.alerts.dispatch import send_alert
        from orchestration.alerts.model import Alert

        send_alert(
            Alert(
                title="Pipeline run could not start: nothing was loaded or published",
                severity="error",
                asset="clm run (start)",
                details=message,
            )
        )
    _exit(code)


@main.command()
@click.option(
    "--scale",
    type=click.Choice(["xs", "s", "m", "l"]),
    default=None,
    help="Sample-data scale if the default landing folder is empty.",
)
@click.option("--seed", default=None, type=int, help="Sample-data seed if it is generated.")
@click.option(
    "--force",
    is_flag=True,
    help="Run even when nothing changed since the last published run.",
)
def run(scale: str | None, seed: int | None, force: bool) -> None:
    """Run the whole pipeline headless (the same Dagster job `dagster dev` shows) and summarise.

    Exits 1 when the run failed or a blocking check failed (then nothing was published), 2 when
    it could not start (an invalid setting or path, or another run in progress). When nothing
    changed since the last published run (landing files, settings, code, warehouse, BI file:
    ``orchestration/run_state.py``) it says so and stops in seconds, unless ``--force``.
    """
    from orchestration import preflight, run_lock

    started = time.monotonic()
    try:
        current = preflight.check_settings()
        preflight.check_paths(current)
    except preflight.PreflightError as error:
        _fail(str(error))
    try:
        preflight.check_landing(current)
        # Another `clm run` in progress is not a failure to alert on: this one just stands down.
        lock = run_lock.acquire(current.duckdb_path)
    except run_lock.RunInProgress as error:
        _fail(str(error))
    except preflight.PreflightError as error:
        _fail(str(error), alert=True)
    try:
        preflight.check_warehouse_free(current.duckdb_path)
        preflight.prepare_landing(current, scale=scale, seed=seed, progress=click.echo)
        preflight.prepare_dagster_home()
    except preflight.PreflightError as error:
        _fail(str(error), alert=True)
    from orchestration.publish import remove_abandoned_temporaries

    bi_path = current.bi_duckdb_path
    for path in remove_abandoned_temporaries(bi_path.parent, bi_path.name):
        click.echo(f"» removed a leftover of an interrupted publication: {path.name}")

    from orchestration import run_state

    last, differs = run_state.changes(current)
    if last is not None and not differs and not force:
        click.echo(
            f"» nothing new since run {last.run_id} ({last.finished_at}): same landing files, "
            f"settings, code, warehouse and BI file, so {current.bi_duckdb_path} is already "
            "what a run would publish. Nothing was run (`clm run --force` runs anyway)."
        )
        lock.release()
        _exit(0)
    if last is not None and differs:
        click.echo(f"» changed since the last published run: {', '.join(differs)}")
    run_state.forget_last_run(current.duckdb_path)

    from orchestration.dbt_cli import prepare_manifest, unit_test_exclusion
    from orchestration.pipeline import instance_for_run, one_spark_for_the_run, run_pipeline
    from orchestration.summary import build_summary, format_summary

    # On Spark, the run's one Spark comes first: the parse then gets the builds' --vars.
    with contextlib.ExitStack() as spark:
        try:
            spark.enter_context(one_spark_for_the_run(click.echo))
        except Exception as error:  # noqa: BLE001 - one message, no traceback
            _fail(f"Spark did not start: {error}", code=1, alert=True)
        click.echo("» preparing the dbt manifest (dbt parse)")
        try:
            prepare_manifest()
            unit_test_exclusion()  # a CLM_RUN_UNIT_TESTS tag that no unit test has stops here
        except (RuntimeError, ValueError) as error:
            _fail(str(error), alert=True)
        if not settings_value("CLM_RUN_BUILTIN_TESTS"):
            click.echo(
                "» CLM_RUN_BUILTIN_TESTS=false: dbt's not_null, unique, accepted_values and "
                "relationships tests are left out of this run"
            )

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
        except Exception as error:  # e.g. the definitions do not load: one message
            _fail(
                f"the pipeline could not start: {type(error).__name__}: {error}",
                code=1,
                alert=True,
            )
    summary = build_summary(outcome, elapsed_seconds=time.monotonic() - started)
    if summary.succeeded and summary.published:
        run_state.record_published(current, outcome.run_id)
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
    from tools.generator import generate as generate_data

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


@main.group()
def metrics() -> None:
    """The semantic layer: metrics defined once in dbt, answered by MetricFlow (read-only)."""


def _split(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


@metrics.command("list")
@click.option("--metrics", "metric_names", default="", help="Show what these can be grouped by.")
def metrics_list(metric_names: str) -> None:
    """List the metrics and saved queries (or the group-bys of --metrics)."""
    from orchestration.semantic import SemanticLayer, SemanticLayerError, ensure_semantic_manifest

    try:
        ensure_semantic_manifest()
        with SemanticLayer() as layer:
            if metric_names:
                click.echo("\n".join(layer.group_bys(_split(metric_names))))
                return
            click.echo("metrics: " + ", ".join(layer.metric_names()))
            click.echo("saved queries: " + ", ".join(layer.saved_query_names()))
    except SemanticLayerError as error:
        raise click.ClickException(str(error)) from error


@metrics.command("query")
@click.option(
    "--metrics", "metric_names", default="", help="Comma-separated metrics, e.g. cac,aov."
)
@click.option("--group-by", default="", help="Comma-separated, e.g. metric_time__quarter,channel.")
@click.option(
    "--where",
    multiple=True,
    help="A filter, e.g. \"{{ Dimension('customer__country_code') }} = 'DE'\".",
)
@click.option(
    "--order", default="", help="Comma-separated order-by items (prefix - for descending)."
)
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@click.option("--saved-query", default=None, help="A saved query's name (clm metrics list).")
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="DuckDB file to read (default: CLM_DUCKDB_PATH; the BI file works too).",
)
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--explain", is_flag=True, help="Print the SQL instead of running it.")
def metrics_query(
    metric_names: str,
    group_by: str,
    where: tuple[str, ...],
    order: str,
    limit: int | None,
    saved_query: str | None,
    warehouse: Path | None,
    csv_path: Path | None,
    explain: bool,
) -> None:
    """Query metrics, e.g. `clm metrics query --metrics cac,aov --group-by metric_time__quarter`."""
    from orchestration.semantic import (
        SemanticLayer,
        SemanticLayerError,
        ensure_semantic_manifest,
        format_table,
        write_csv,
    )

    if not metric_names and not saved_query:
        raise click.UsageError("give --metrics or --saved-query")
    try:
        ensure_semantic_manifest()
        with SemanticLayer(warehouse) as layer:
            answer = layer.query(
                _split(metric_names),
                _split(group_by),
                where=list(where),
                order_by=_split(order),
                limit=limit,
                saved_query=saved_query,
            )
    except SemanticLayerError as error:
        raise click.ClickException(str(error)) from error
    if explain:
        click.echo(answer.sql)
    elif csv_path is not None:
        write_csv(answer, csv_path)
        click.echo(f"wrote {len(answer.rows)} rows to {csv_path}")
    else:
        click.echo(format_table(answer))


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
        from orchestration.dbt_cli import build_exclusion, run_dbt

        click.echo("» rebuilding from raw (dbt build --full-refresh)")
        try:
            exclusion = build_exclusion()
        except ValueError as error:
            raise click.ClickException(f"{error}: the erasure itself is done") from None
        result = run_dbt("build", "--full-refresh", "--quiet", *exclusion, check=False)
        if result.returncode != 0:
            click.echo(result.stdout[-4000:] + result.stderr[-2000:], err=True)
            raise click.ClickException("the rebuild failed: the erasure itself is done")
    click.echo("the BI file changes at the next publication (make run)")


if __name__ == "__main__":
    main()


@main.command()
@click.option(
    "--bi-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The BI file to read (default: CLM_BI_DUCKDB_PATH).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the report (default: CLM_BI_REPORT_PATH, else next to the BI file).",
)
def report(bi_file: Path | None, out: Path | None) -> None:
    """Rebuild the lifecycle report (self-contained HTML) from the published BI file."""
    import os
    import uuid

    from orchestration.publish import report_path_for
    from orchestration.report import write_report

    bi_file = bi_file or get_settings().bi_duckdb_path
    if not bi_file.is_file():
        raise click.ClickException(
            f"no BI file at {bi_file}: run `make run` (or `clm run`) first, or set "
            "CLM_BI_DUCKDB_PATH"
        )
    out = out or report_path_for(bi_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a browser never sees half a page.
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex}")
    try:
        write_report(bi_file, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"wrote the lifecycle report of {bi_file} to {out}")


@main.command()
@click.argument("query")
@click.option(
    "--bi-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The BI file to query (default: CLM_BI_DUCKDB_PATH).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option("--max-rows", type=int, default=100, show_default=True, help="Rows shown (table).")
def sql(query: str, bi_file: Path | None, output_format: str, max_rows: int) -> None:
    """Run a SQL query on the published BI file, opened read-only (no DuckDB CLI needed).

    Example: clm sql "select month, net_revenue, aov from marts.kpi_monthly order by month"
    """
    import duckdb

    bi_file = bi_file or get_settings().bi_duckdb_path
    if not bi_file.is_file():
        raise click.ClickException(
            f"no BI file at {bi_file}: run `make run` (or `clm run`) first, or set "
            "CLM_BI_DUCKDB_PATH"
        )
    try:
        con = duckdb.connect(str(bi_file), read_only=True)
    except duckdb.Error as error:
        raise click.ClickException(f"cannot open {bi_file} read-only: {error}") from error
    try:
        con.execute("set TimeZone = 'UTC'")
        relation = con.sql(query)
        if relation is None:
            click.echo("ok (the statement returned no rows)")
            return
        columns = list(relation.columns)
        # Plain Python values: a sum of integers (HUGEINT in DuckDB) prints as an integer.
        rows = relation.fetchall()
    except duckdb.Error as error:
        raise click.ClickException(str(error)) from error
    finally:
        con.close()
    if output_format == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    elif output_format == "json":
        import json

        records = [dict(zip(columns, row, strict=True)) for row in rows]
        click.echo(json.dumps(records, default=str, ensure_ascii=False))
    else:
        import pandas as pd

        frame = pd.DataFrame.from_records(rows, columns=columns)
        with pd.option_context("display.max_columns", None, "display.width", 200):
            click.echo(frame.to_string(index=False, max_rows=max_rows))
        click.echo(f"({len(rows)} rows)")
