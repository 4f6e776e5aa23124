"""The Great Expectations suites on Spark: the same rules, validated by GE's Spark data source.

Each suite of ``quality/rules.SUITES`` runs through ``spark.run_in_spark`` (on the run's one
Spark, or in a child process with its own JVM; orchestration/engines/spark.py explains why): an
ephemeral GE context
with a Spark data source (``add_spark``), a dataframe asset holding the suite's table
(``spark.table(suite.relation)``) and the suite's expectations as committed in
``expectations/gx`` (same ids, meta, severities), with each rule's SQL written for Spark SQL:

- thresholds: ``getvariable('clm_…')`` (DuckDB variables on the SQL data source) become the
  values in force (``runner.threshold_values``), as literals;
- the drift baseline: ``audit.run_metrics`` and ``audit.baseline_runs`` stay in the working
  DuckDB file on both engines; they reach Spark as temporary views;
- dialect: sqlglot rewrites the DuckDB SQL as Spark SQL (``median``, ``filter``, casts…).

The outcome is reduced by the runner's ``outcome_from_result`` and recorded exactly as on DuckDB
(``audit.validation_results``, drift metrics in ``audit.run_metrics``), so the Dagster checks,
the publication gate and the alerts read the same rows. Data Docs are not built on Spark.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.quality.results import (
    MAX_SAMPLE_VALUES,
    ExpectationOutcome,
    SuiteResult,
    ensure_audit_tables,
    record_run_metrics,
    write_suite_result,
)
from orchestration.sql import string_literal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

# Tables of the working DuckDB file that rules read, and the Spark temporary view of each.
AUDIT_VIEWS = {
    "audit.run_metrics": "clm_audit_run_metrics",
    "audit.baseline_runs": "clm_audit_baseline_runs",
}
_VARIABLE = re.compile(r"getvariable\('(\w+)'\)")
_BATCH = "{batch}"
_BATCH_PLACEHOLDER = "clm_batch_placeholder"


def spark_sql(query: str, thresholds: dict[str, Any]) -> str:
    """A rule's DuckDB SQL as Spark SQL: thresholds as literals, audit tables as the temporary
    views, the dialect translated; ``{batch}`` kept for GE."""
    import sqlglot

    def literal(match: re.Match[str]) -> str:
        value = thresholds.get(match.group(1))
        if value is None:
            return "null"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return string_literal(str(value))  # DuckDB SQL here: sqlglot translates it below
        return repr(value)

    text = _VARIABLE.sub(literal, query).replace(_BATCH, _BATCH_PLACEHOLDER)
    for table, view in AUDIT_VIEWS.items():
        text = re.sub(rf"\b{re.escape(table)}\b", view, text)
    tree = sqlglot.parse_one(text, read="duckdb").transform(_median_as_percentile)
    translated = tree.sql(dialect="spark")
    return translated.replace(_BATCH_PLACEHOLDER, _BATCH)


def _median_as_percentile(node: Any) -> Any:
    """``median(x)`` → ``percentile(x, 0.5)``: Spark's median cannot take a window frame (the
    unit-jump rules use one); both interpolate between the two middle values, as DuckDB's
    median does."""
    from sqlglot import exp

    if isinstance(node, exp.Median):
        return exp.Anonymous(this="percentile", expressions=[node.this, exp.Literal.number(0.5)])
    return node


def _suite_file(suite_name: str, project: Path | None) -> dict[str, Any]:
    from orchestration.quality.project import gx_dir, suites_dir

    path = suites_dir(gx_dir(project)) / f"{suite_name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def validate_suite_on_spark(
    suite_name: str,
    duckdb_path: Path | str | None = None,
    *,
    project: Path | None = None,
    run_id: str | None = None,
    record: bool = True,
) -> SuiteResult:
    """``runner.validate_suite`` on Spark: validate, then record in the working DuckDB file.

    In a pipeline run (``run_id`` given) the suites whose tables the same dbt step builds
    (``suite_waves``) are validated together, in one JVM, when the first of their checks runs;
    the others' checks then take their result from ``_CACHE`` (Spark's start-up is the bulk of
    a suite's time). Never raises for data problems: a suite that cannot run comes back with
    ``error`` set."""
    from orchestration.settings import get_settings

    path = Path(duckdb_path) if duckdb_path else get_settings().duckdb_path
    if run_id is not None:
        cached = _take_cached(path, run_id, suite_name)
        if cached is not None:
            log.info("%s (validated on Spark with its wave)", cached.summary())
            return cached
    names = [suite_name]
    if run_id is not None:
        names += [name for name in wave_of(suite_name) if name != suite_name]
    results = _validate_suites(names, path, project, run_id, record)
    if run_id is not None and len(results) > 1:
        _cache(path, run_id, results[1:])
    for result in results:
        log.info(result.summary())
    return results[0]


def suite_waves(manifest_path: Path | None = None) -> list[list[str]]:
    """The suites grouped by the dbt step that builds their tables: those reading anything
    built after the CLV fit (``customer_clv`` and downstream), and the others."""
    from orchestration.dbt_cli import target_dir
    from orchestration.quality.rules import SUITES

    manifest = json.loads(
        (manifest_path or target_dir() / "manifest.json").read_text(encoding="utf-8")
    )
    after_clv: set[str] = set()
    todo = [
        uid for uid, node in manifest.get("sources", {}).items() if node.get("source_name") == "clv"
    ]
    while todo:
        for child in manifest.get("child_map", {}).get(todo.pop(), []):
            if child not in after_clv:
                after_clv.add(child)
                todo.append(child)
    relations_after = {
        f"{node['config'].get('schema') or 'main'}.{node['name']}"
        for uid, node in manifest["nodes"].items()
        if uid in after_clv
    }
    waves: dict[bool, list[str]] = {}
    for suite in SUITES:
        waves.setdefault(bool(set(suite.reads) & relations_after), []).append(suite.name)
    return list(waves.values())


def wave_of(suite_name: str) -> list[str]:
    """The suites validated together with ``suite_name`` (itself included)."""
    try:
        waves = suite_waves()
    except (OSError, ValueError, KeyError):  # no manifest: one suite at a time
        return [suite_name]
    return next((wave for wave in waves if suite_name in wave), [suite_name])


def _cache_path(path: Path, run_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", run_id)
    return path.parent / "logs" / f".spark-checks-{safe}.pickle"


def _cache(path: Path, run_id: str, results: list[SuiteResult]) -> None:
    """Keep results for the checks of the same wave that run next (same run, same process
    tree; removed once taken)."""
    cache = _cache_path(path, run_id)
    cache.parent.mkdir(parents=True, exist_ok=True)
    kept = _read_cache(cache)
    kept.update({result.suite: result for result in results})
    cache.write_bytes(pickle.dumps(kept))


def _read_cache(cache: Path) -> dict[str, SuiteResult]:
    try:
        return pickle.loads(cache.read_bytes())  # noqa: S301 - our own file, this run
    except (OSError, pickle.UnpicklingError, EOFError):
        return {}


def _take_cached(path: Path, run_id: str, suite_name: str) -> SuiteResult | None:
    cache = _cache_path(path, run_id)
    kept = _read_cache(cache)
    result = kept.pop(suite_name, None)
    if result is not None:
        if kept:
            cache.write_bytes(pickle.dumps(kept))
        else:
            cache.unlink(missing_ok=True)
    return result


def _validate_suites(
    names: list[str], path: Path, project: Path | None, run_id: str | None, record: bool
) -> list[SuiteResult]:
    """Validate ``names`` in one Spark child and record each result."""
    import duckdb

    from orchestration.engines.spark import run_in_spark
    from orchestration.quality.rules import SUITES
    from orchestration.quality.runner import new_run_id, threshold_values

    run_id = run_id or new_run_id()
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    con = duckdb.connect(str(path))
    try:
        ensure_audit_tables(con)
        audit_rows = {
            table: con.sql(f"select * from {table}").to_arrow_table() for table in AUDIT_VIEWS
        }
    finally:
        con.close()
    relations = {suite.name: suite.relation for suite in SUITES}
    work: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    errors: dict[str, str] = {}
    for name in names:
        try:
            document = _suite_file(name, project)
        except (OSError, ValueError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        thresholds = threshold_values(e.get("meta") or {} for e in document["expectations"])
        work.append((name, relations[name], document, thresholds))
    validated: dict[str, tuple[list[ExpectationOutcome], dict[str, float | None], str | None]]
    try:
        validated = run_in_spark(validate_in_session, work, audit_rows) if work else {}
    except Exception as exc:  # noqa: BLE001 - a broken suite is a failed check, not a crash
        log.exception("suites %s could not run on Spark", names)
        validated = {name: ([], {}, f"{type(exc).__name__}: {exc}") for name, *_ in work}
    results = []
    for name in names:
        outcomes, metrics, error = validated.get(name, ([], {}, errors.get(name)))
        result = SuiteResult(
            run_id=run_id,
            suite=name,
            asset=relations[name],
            validated_at=validated_at,
            outcomes=outcomes,
            data_docs_path=None,
            error=error,
        )
        if record:
            con = duckdb.connect(str(path))
            try:
                write_suite_result(con, result)
                if result.error is None and metrics:
                    record_run_metrics(con, run_id, validated_at, name, metrics)
            finally:
                con.close()
        results.append(result)
    return results


def validate_in_session(
    work: list[tuple[str, str, dict[str, Any], dict[str, Any]]],
    audit_rows: dict[str, Any],
) -> dict[str, tuple[list[ExpectationOutcome], dict[str, float | None], str | None]]:
    """Run each suite (name, relation, suite document, thresholds) with GE's Spark data source
    (inside ``run_in_spark``): per suite the outcomes, with samples of unexpected rows, this
    run's drift metrics of its tables, and the error if it could not run."""
    import pyarrow.parquet as pq

    from orchestration.engines.spark import spark_session
    from orchestration.engines.spark_child import plain_errors

    out: dict[str, tuple[list[ExpectationOutcome], dict[str, float | None], str | None]] = {}
    with (
        plain_errors(),
        tempfile.TemporaryDirectory(prefix="clm-audit-") as folder,
        spark_session() as spark,
    ):
        for table, view in AUDIT_VIEWS.items():
            # Through Parquet: pyspark's createDataFrame takes no Arrow table outside Spark
            # Connect. The files live as long as the session reads the views.
            path = f"{folder}/{view}.parquet"
            pq.write_table(audit_rows[table], path)
            spark.read.parquet(path).createOrReplaceTempView(view)
        for suite_name, relation, document, thresholds in work:
            try:
                outcomes = _validate(spark, suite_name, relation, document, thresholds)
                metrics = _drift_metrics(spark, suite_name, outcomes, thresholds)
                out[suite_name] = (outcomes, metrics, None)
            except Exception as exc:  # noqa: BLE001 - one broken suite fails its check only
                out[suite_name] = ([], {}, f"{type(exc).__name__}: {exc}")
    return out


def _validate(
    spark: SparkSession,
    suite_name: str,
    relation: str,
    document: dict[str, Any],
    thresholds: dict[str, Any],
) -> list[ExpectationOutcome]:
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from orchestration.quality.runner import outcome_from_result

    context = gx.get_context(mode="ephemeral")
    # Progress bars would flood the run's log (as in expectations/gx/great_expectations.yml).
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    datasource = context.data_sources.add_spark(name=f"clm_spark_{suite_name}")
    asset = datasource.add_dataframe_asset(name=suite_name)
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
    queries: dict[str | None, str] = {}
    ids = {(e.get("meta") or {}).get("key"): e["id"] for e in document["expectations"]}
    expectations = []
    for entry in document["expectations"]:
        query = spark_sql(entry["kwargs"]["unexpected_rows_query"], thresholds)
        queries[(entry.get("meta") or {}).get("key")] = query
        # The committed suite's entries (ids, meta, severities, as in the audit rows on
        # DuckDB), with the Spark SQL.
        expectations.append(
            {**entry, "kwargs": {**entry["kwargs"], "unexpected_rows_query": query}}
        )
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch_definition, suite=suite, name=suite_name)
    )
    batch = spark.table(relation)
    result = validation.run(
        batch_parameters={"dataframe": batch},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_SAMPLE_VALUES},
    )
    # GE gives the suite's expectations new ids when it is added: put the committed ones back,
    # so the audit rows name the same expectations on both engines.
    outcomes = [
        replace(o, expectation_id=ids.get(o.rule, o.expectation_id))
        for o in map(outcome_from_result, result.results)
    ]
    batch.createOrReplaceTempView("clm_batch")
    return [_with_samples(spark, o, queries.get(o.rule)) for o in outcomes]


def _with_samples(
    spark: SparkSession, outcome: ExpectationOutcome, query: str | None
) -> ExpectationOutcome:
    """Up to 10 offending rows of a failed rule (GE's SUMMARY format returns none)."""
    if outcome.success or query is None or outcome.sample_values:
        return outcome
    try:
        rows = spark.sql(query.replace(_BATCH, "clm_batch")).limit(MAX_SAMPLE_VALUES).collect()
    except Exception as exc:  # noqa: BLE001 - the sample is a courtesy; the failure is recorded
        log.warning("could not sample unexpected rows: %s", exc)
        return outcome
    samples = [{k: _plain(v) for k, v in row.asDict().items()} for row in rows]
    return replace(outcome, sample_values=samples)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _drift_metrics(
    spark: SparkSession,
    suite_name: str,
    outcomes: list[ExpectationOutcome],
    thresholds: dict[str, Any],
) -> dict[str, float | None]:
    """This run's value of each drift metric the suite checks (runner._record_drift_metrics)."""
    from orchestration.quality.rules import DRIFT_METRICS, SUITES

    suite = next(s for s in SUITES if s.name == suite_name)
    metrics: dict[str, float | None] = {}
    for metric in DRIFT_METRICS:
        if metric.relation not in suite.reads or not any(
            o.rule == f"drift:{metric.name}" for o in outcomes
        ):
            continue
        query = spark_sql(metric.value_sql.format(table=metric.relation), thresholds)
        row = spark.sql(query).first()
        metrics[metric.name] = float(row[0]) if row and row[0] is not None else None
    return metrics
