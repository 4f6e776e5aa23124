"""Run the GX suites on the DuckDB warehouse, in SQL, and record the results.

``validate_suite`` runs one suite's checkpoint (its validation definition), reduces GE's result
to a ``SuiteResult``, appends it to ``audit.validation_results`` and stores the run metrics of
the suite's tables (they become the drift baseline only once the run publishes with every check
passing: ``results.accept_baseline``). Data Docs are rendered once per pipeline run, after its
last step (``build_data_docs``), and keep the last ``CLM_DATA_DOCS_KEEP_RUNS`` runs of each
suite. One GE context serves every suite of a process. The DuckDB lock is respected throughout:
our own connection is closed while GE works, and GE's engines are disposed before we return, so
dbt or the next step can open the file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb
import sqlalchemy as sa

from orchestration import settings as registry
from orchestration.quality.gx_duckdb_fix import apply_duckdb_fix
from orchestration.quality.project import (
    DATA_DOCS_SITE,
    data_docs_index,
    gx_dir,
    open_context,
    suite_names,
)
from orchestration.quality.results import (
    MAX_SAMPLE_VALUES,
    SEVERITIES,
    ExpectationOutcome,
    Severity,
    SuiteResult,
    ensure_audit_tables,
    record_run_metrics,
    write_suite_result,
)
from orchestration.quality.rules import DRIFT_METRICS, SUITES, THRESHOLDS
from orchestration.settings import get_settings
from orchestration.sql import string_literal
from orchestration.warehouse import apply_limits

log = logging.getLogger(__name__)

UNEXPECTED_ROWS = "unexpected_rows_expectation"


def new_run_id() -> str:
    """A sortable, unique run id (UTC time plus a random suffix)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def threshold_values(expectation_metas: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """Value of every threshold variable: the environment, else the suite's meta, else default."""
    values: dict[str, Any] = {t.variable: t.current() for t in THRESHOLDS}
    env_set = {t.variable for t in THRESHOLDS if t.current() != t.default}
    for meta in expectation_metas:
        for threshold in (meta or {}).get("thresholds") or []:
            variable = threshold.get("variable")
            if variable and variable not in env_set and "default" in threshold:
                values[variable] = threshold["default"]
    return values


def docs_keep_runs() -> int:
    """``CLM_DATA_DOCS_KEEP_RUNS``: validation runs kept per suite (at least 1)."""
    return registry.value("CLM_DATA_DOCS_KEEP_RUNS")


def _set_variables_sql(values: dict[str, Any]) -> list[str]:
    statements = []
    for name, value in sorted(values.items()):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad threshold variable name {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            literal = string_literal(str(value))
        else:
            literal = repr(value)
        statements.append(f"set variable {name} = {literal}")
    return statements


def _error_of(exception_info: Any) -> str | None:
    """GE's exception info, flattened to one message (None when nothing was raised)."""
    if not exception_info:
        return None
    if isinstance(exception_info, dict) and "raised_exception" in exception_info:
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception raised")
        return None
    if isinstance(exception_info, dict):
        messages = [
            str(v.get("exception_message"))
            for v in exception_info.values()
            if isinstance(v, dict) and (v.get("raised_exception") or v.get("exception_message"))
        ]
        return "; ".join(messages) or None
    return str(exception_info)


def outcome_from_result(validation_result: Any) -> ExpectationOutcome:
    """Reduce one GE ``ExpectationValidationResult``; no result at all counts as a failure."""
    config = validation_result.expectation_config
    meta = dict(config.meta or {})
    kwargs = dict(config.kwargs or {})
    severity: Severity = meta.get("severity") if meta.get("severity") in SEVERITIES else "blocking"
    result = dict(validation_result.result or {})
    error = _error_of(validation_result.exception_info)
    # The GE-on-DuckDB bug (gx_duckdb_fix) showed up as `success: false, result: {}`; an empty
    # result must never read as a pass, whatever `success` says.
    if error is None and not any(
        key in result for key in ("observed_value", "unexpected_count", "element_count")
    ):
        error = "expectation returned no result"
    unexpected_count = result.get("unexpected_count")
    observed = result.get("observed_value")
    if config.type == UNEXPECTED_ROWS and isinstance(observed, int):
        unexpected_count = observed
    if observed is None and "element_count" in result:
        observed = {
            "element_count": result.get("element_count"),
            "unexpected_percent": result.get("unexpected_percent"),
        }
    return ExpectationOutcome(
        expectation_id=config.id,
        expectation_type=config.type,
        column=kwargs.get("column"),
        severity=severity,
        success=bool(validation_result.success) and error is None,
        unexpected_count=unexpected_count,
        observed_value=observed,
        sample_values=list(result.get("partial_unexpected_list") or [])[:MAX_SAMPLE_VALUES],
        description=getattr(config, "description", None) or meta.get("description"),
        error=error,
        rule=meta.get("key"),
    )


@contextlib.contextmanager
def _duckdb(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path))
    try:
        apply_limits(con, Path(path))
        yield con
    finally:
        con.close()


def _dispose(datasource: Any) -> None:
    """Release every DuckDB connection GE holds: its execution engine's and its own engine."""
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        with contextlib.suppress(Exception):
            execution_engine.close()
        datasource._execution_engine = None
        datasource._cached_execution_engine_kwargs = {}
    engine = getattr(datasource, "_engine", None)
    if engine is not None:
        engine.dispose()
        datasource._engine = None


def _attach_variables(engine: sa.Engine, statements: list[str], duckdb_path: Path) -> None:
    # Thresholds are DuckDB session variables: set them on every connection GE checks out, and
    # the run's memory limit and spill folder (GE's engine opens the file on its own).
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        apply_limits(cursor, Path(duckdb_path))

    sa.event.listen(engine, "checkout", _on_checkout)


def _sample_rows(con: duckdb.DuckDBPyConnection, query: str, relation: str) -> list[dict[str, Any]]:
    """Up to 10 rows of a failed unexpected-rows query (GE's SUMMARY format returns none)."""
    sql = f"select * from ({query.replace('{batch}', relation)}) as unexpected limit {MAX_SAMPLE_VALUES}"
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:  # the sample is a courtesy; the failure is already recorded
        log.warning("could not sample unexpected rows: %s", exc)
        return []


def _docs_path(context: Any, identifier: Any) -> str | None:
    """Where the validation's Data Docs page is (or will be, once ``build_data_docs`` ran)."""
    with contextlib.suppress(Exception):
        urls = context.get_docs_sites_urls(
            resource_identifier=identifier, site_name=DATA_DOCS_SITE, only_if_exists=False
        )
        if urls and urls[0].get("site_url"):
            return unquote(urlparse(urls[0]["site_url"]).path)
    return None


# One GE file context per process, project and warehouse: opening it (reading the YAML, the
# stores, the data source config) costs more than a small suite's checks. Its data source's
# connections are still disposed after every suite (``_dispose``), so the DuckDB lock is free
# between steps.
_CONTEXTS: dict[tuple[str, str, int], Any] = {}


def _context(duckdb_path: Path, project: Path | None) -> Any:
    config = gx_dir(project) / "great_expectations.yml"
    with contextlib.suppress(OSError):
        key = (str(config.resolve()), str(Path(duckdb_path).resolve()), config.stat().st_mtime_ns)
        if key not in _CONTEXTS:
            _CONTEXTS.clear()
            _CONTEXTS[key] = open_context(duckdb_path, project)
        return _CONTEXTS[key]
    return open_context(duckdb_path, project)


def build_data_docs(
    duckdb_path: Path | str | None = None,
    *,
    project: Path | None = None,
    run_id: str | None = None,
) -> Path | None:
    """Render the Data Docs of one run's validations (every stored one if ``run_id`` is None)
    and the index, once, after the suites ran; returns the index page.

    Each suite's history is first cut to ``CLM_DATA_DOCS_KEEP_RUNS`` runs, so the index lists a
    bounded history. Never raises: Data Docs are a view of results already recorded.
    """
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    from orchestration.quality.suites import prune_history  # suites imports this package

    path = Path(duckdb_path) if duckdb_path else get_settings().duckdb_path
    try:
        gx = gx_dir(project)
        keep = docs_keep_runs()
        for name in suite_names(project):
            prune_history(gx, name, keep)
        context = _context(path, project)
        keys = [
            key
            for key in context.validation_results_store.list_keys()
            if run_id is None or key.run_id.run_name == run_id
        ]
        suites = {key.expectation_suite_identifier.name for key in keys}
        identifiers = [*keys, *(ExpectationSuiteIdentifier(name) for name in sorted(suites))]
        if identifiers or run_id is None:
            context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=identifiers)
    except Exception:  # noqa: BLE001
        log.exception("Data Docs could not be built")
        return None
    index = data_docs_index(project)
    return index if index.exists() else None


def _run_checkpoint(
    suite_name: str,
    duckdb_path: Path,
    project: Path | None,
    run_id: str,
    validated_at: datetime,
    data_docs: bool,
) -> tuple[list[ExpectationOutcome], str, str | None, dict[str, str]]:
    """Run the suite's checkpoint; returns outcomes, relation, docs path and unexpected queries."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    from orchestration.quality.suites import prune_history  # suites imports this package

    apply_duckdb_fix()
    gx = gx_dir(project)
    # Room for this run within the bounded history (the index is rebuilt from what is left).
    prune_history(gx, suite_name, docs_keep_runs() - 1)
    context = _context(duckdb_path, project)
    checkpoint = context.checkpoints.get(suite_name)
    validation_definition = checkpoint.validation_definitions[0]
    asset = validation_definition.asset
    datasource = asset.datasource
    relation = f"{asset.schema_name}.{asset.table_name}" if asset.schema_name else asset.table_name
    suite = validation_definition.suite
    metas = [e.meta or {} for e in suite.expectations]
    statements = _set_variables_sql(threshold_values(metas))
    queries = {
        str(e.id): e.unexpected_rows_query
        for e in suite.expectations
        if getattr(e, "unexpected_rows_query", None) and isinstance(e.unexpected_rows_query, str)
    }
    try:
        _attach_variables(datasource.get_execution_engine().engine, statements, duckdb_path)
        _attach_variables(datasource.get_engine(), statements, duckdb_path)
        # GE prints a notice for every query that reads tables besides {batch}, as the
        # cross-table rules do by design; keep it out of the run's output.
        with contextlib.redirect_stdout(io.StringIO()):
            result = checkpoint.run(run_id=RunIdentifier(run_name=run_id, run_time=validated_at))
        identifier, suite_result = next(iter(result.run_results.items()))
        outcomes = [outcome_from_result(r) for r in suite_result.results]
        if data_docs:
            # This suite's pages and the index; a pipeline run renders every suite's pages and
            # the index once, after its last step (``build_data_docs``).
            context.build_data_docs(
                site_names=[DATA_DOCS_SITE],
                resource_identifiers=[identifier, ExpectationSuiteIdentifier(suite_name)],
            )
        return outcomes, relation, _docs_path(context, identifier), queries
    finally:
        _dispose(datasource)


def validate_suite(
    suite_name: str,
    duckdb_path: Path | str | None = None,
    *,
    project: Path | None = None,
    run_id: str | None = None,
    record: bool = True,
    data_docs: bool = True,
) -> SuiteResult:
    """Validate one suite (``rules.SUITES``) against the warehouse file.

    Appends the outcome to ``audit.validation_results`` and this run's drift metrics of the
    suite's tables to ``audit.run_metrics`` (``record=False`` skips both). Renders the suite's
    Data Docs page and the index, unless ``data_docs=False`` (then ``build_data_docs`` renders
    them once for many suites).
    Never raises for data problems: a suite that cannot run comes back with ``error`` set,
    which counts as a blocking failure.
    """
    path = Path(duckdb_path) if duckdb_path else get_settings().duckdb_path
    run_id = run_id or new_run_id()
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    with _duckdb(path) as con:
        ensure_audit_tables(con)  # drift queries read audit.run_metrics, even on the first run
    outcomes: list[ExpectationOutcome] = []
    relation = suite_name
    docs_path: str | None = None
    queries: dict[str, str] = {}
    error: str | None = None
    try:
        outcomes, relation, docs_path, queries = _run_checkpoint(
            suite_name, path, project, run_id, validated_at, data_docs
        )
    except Exception as exc:  # noqa: BLE001 - a broken suite is a failed check, not a crash
        log.exception("suite %s could not run", suite_name)
        error = f"{type(exc).__name__}: {exc}"
    with _duckdb(path) as con:
        if queries and any(not o.success and str(o.expectation_id) in queries for o in outcomes):
            for statement in _set_variables_sql(threshold_values()):
                con.execute(statement)
            outcomes = [
                _with_samples(con, o, queries.get(str(o.expectation_id)), relation)
                for o in outcomes
            ]
        result = SuiteResult(
            run_id=run_id,
            suite=suite_name,
            asset=relation,
            validated_at=validated_at,
            outcomes=outcomes,
            data_docs_path=docs_path,
            error=error,
        )
        if record:
            write_suite_result(con, result)
            if result.error is None:
                _record_drift_metrics(con, result)
    log.info(result.summary())
    return result


def _with_samples(
    con: duckdb.DuckDBPyConnection, outcome: ExpectationOutcome, query: str | None, relation: str
) -> ExpectationOutcome:
    if outcome.success or query is None or outcome.sample_values:
        return outcome
    samples = _sample_rows(con, query, relation)
    return ExpectationOutcome(**{**outcome.__dict__, "sample_values": samples})


def _record_drift_metrics(con: duckdb.DuckDBPyConnection, result: SuiteResult) -> None:
    suite = next((s for s in SUITES if s.name == result.suite), None)
    if suite is None:
        return
    metrics = {}
    for metric in DRIFT_METRICS:
        if metric.relation not in suite.reads or not any(
            o.rule == f"drift:{metric.name}" for o in result.outcomes
        ):
            continue
        row = con.execute(metric.value_sql.format(table=metric.relation)).fetchone()
        metrics[metric.name] = float(row[0]) if row and row[0] is not None else None
    if metrics:
        record_run_metrics(con, result.run_id, result.validated_at, result.suite, metrics)


def validate_all(
    duckdb_path: Path | str | None = None,
    *,
    project: Path | None = None,
    suites: Iterable[str] | None = None,
    run_id: str | None = None,
    record: bool = True,
) -> list[SuiteResult]:
    """Validate every suite (or ``suites``) under one run id, one suite at a time, then render
    their Data Docs once."""
    run_id = run_id or new_run_id()
    names = list(suites) if suites is not None else suite_names(project)
    results = [
        validate_suite(
            name, duckdb_path, project=project, run_id=run_id, record=record, data_docs=False
        )
        for name in names
    ]
    build_data_docs(duckdb_path, project=project, run_id=run_id)
    return results
