"""dbt in the run's own process: the manifest parsed once, the builds on that manifest.

A `dbt` process spends ~9 core-seconds before its first node (importing dbt, building its JSON
schemas, reading the manifest again) and then serialises every event it fires as a JSON line,
which dagster-dbt parses back; a run paid that for its parse and for each of its two builds.
Here dbt's documented programmatic API, ``dbtRunner(manifest=...)``, runs them in this process:
the parse once (kept for the builds while nothing it reads changes: ``manifest_stamp``), and
each build's result events go as dbt's own event messages to dagster-dbt's own conversion into
Dagster events (outputs, asset check results), the same events the JSON lines gave. dbt still
prints its usual lines (into the run's log) and writes its artifacts (run_results.json) into a
target folder per build, named as dagster-dbt names them.

A step that is interrupted (Ctrl-C, a run terminated from the UI) stops waiting for dbt, whose
thread ends with the process, as a killed dbt process would: the next run rebuilds.

On Spark the builds stay dbt processes (dagster-dbt's CLI resource): dbt-spark's session
method would otherwise share this process's Spark Connect session with the Python steps.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orchestration.dbt_cli import manifest_stamp, project_arguments, target_dir, vars_argument

# dbt's events that carry a node's result (what dagster-dbt turns into Dagster events).
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})

PARTIAL_PARSE = "partial_parse.msgpack"
# The last parse of this process: (manifest_stamp without locations, dbt's Manifest). One
# only: a process whose settings change parses again.
_parsed: tuple[str, Any] | None = None
# dbt keeps global state (flags, adapters, its event manager): one invocation at a time.
_dbt_lock = threading.Lock()


def parse(target: Path | None = None) -> Any:
    """dbt's Manifest of the project with the settings in force, parsed in this process.
    Raises RuntimeError with dbt's errors if the project does not parse.

    Without ``target`` (``dbt_cli.prepare_manifest``) dbt parses and writes what `dbt parse`
    writes (manifest.json, partial_parse.msgpack) into dbt's target folder. A build gives its
    own folder as ``target``: it gets the last parse again while what a parse reads is
    unchanged (``manifest_stamp(locations=False)``: not where the files are, nor the
    environment), else dbt parses into that folder, from a copy of the target folder's partial
    parse (as dagster-dbt does for its dbt processes), so that the manifest Dagster's
    definitions were loaded from, which other processes may be reading, is never rewritten
    under them."""
    global _parsed
    # Kept across warehouse files and folders (a test session runs pipelines on many).
    stamp = manifest_stamp(locations=False)
    if target is not None and _parsed is not None and _parsed[0] == stamp:
        return _parsed[1]
    from dbt.cli.main import dbtRunner

    if target is not None and not (target / PARTIAL_PARSE).exists():
        with contextlib.suppress(OSError):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(target_dir() / PARTIAL_PARSE, target / PARTIAL_PARSE)
    errors: list[str] = []
    arguments = [
        "parse",
        "--quiet",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--target-path",
        str(target or target_dir()),
        *vars_argument(),
        *project_arguments(),
    ]
    with _dbt_lock, _same_working_directory():
        result = dbtRunner(callbacks=[_error_collector(errors)]).invoke(arguments)
    if not result.success:
        detail = "\n".join(errors) or f"{type(result.exception).__name__}: {result.exception}"
        raise RuntimeError(f"`dbt parse` failed:\n{detail}")
    _parsed = (stamp, result.result)
    return result.result


@contextlib.contextmanager
def _same_working_directory() -> Iterator[None]:
    """dbt changes the process's working directory to the project's for a command: back after."""
    before = os.getcwd()
    try:
        yield
    finally:
        os.chdir(before)


def _error_collector(errors: list[str]):
    def collect(message: Any) -> None:
        if message.info.level == "error" and message.info.msg:
            errors.append(message.info.msg)

    return collect


def release_duckdb() -> None:
    """Close the DuckDB file that dbt-duckdb keeps open after a call (a class-level environment
    of its connection manager), so that the run's next step can open the warehouse."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # no dbt-duckdb: nothing held
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None


def build(context: Any, args: list[str]) -> Iterator[Any]:
    """``dbt <args>`` for the dbt assets ``context`` runs, in this process, streaming the
    Dagster events of each node's result as dbt reports it (dbt runs in a thread of its own).
    The selection is dagster-dbt's for the context (the step's assets and checks), plus the
    ``--select``/``--exclude`` in ``args``. Raises dagster-dbt's DagsterDbtCliRuntimeError,
    with dbt's errors, once every result is out, if a node failed or dbt could not run."""
    from dagster_dbt.asset_utils import (
        DAGSTER_DBT_EXCLUDE_METADATA_KEY,
        DAGSTER_DBT_SELECT_METADATA_KEY,
        DAGSTER_DBT_SELECTOR_METADATA_KEY,
        DBT_INDIRECT_SELECTION_ENV,
        extract_runtime_selection_from_args,
        get_manifest_and_translator_from_dbt_assets,
        get_subset_selection_for_context,
    )
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dagster_dbt.errors import DagsterDbtCliRuntimeError
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    # One folder per build, named as dagster-dbt names them (dbt_cli.run_target_dirs).
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target = target_dir() / name
    manifest = parse(target)
    manifest_json, translator, project = get_manifest_and_translator_from_dbt_assets(
        [context.assets_def]
    )
    # The selection as dagster-dbt's CLI resource computes it, given to dbt as arguments (no
    # command line to keep short, so never its selector file in a copy of the project).
    arguments, selects, excludes = extract_runtime_selection_from_args(args)
    selection, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest_json,
        select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=os.getenv(DBT_INDIRECT_SELECTION_ENV),
    )
    if selects:
        selection = ["--select", " ".join(selects), *selection]
    if excludes:
        selection = ["--exclude", " ".join(excludes), *selection]
    indirect = indirect or os.getenv(DBT_INDIRECT_SELECTION_ENV)
    arguments = [
        *arguments,
        *selection,
        *(["--indirect-selection", indirect] if indirect else []),
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--target-path",
        str(target),
        "--log-path",
        str(target),
        *project_arguments(),
    ]

    results: queue.Queue[dict[str, Any] | None] = queue.Queue()
    errors: list[str] = []
    collect_error = _error_collector(errors)
    outcome: list[Any] = []

    def on_event(message: Any) -> None:
        if message.info.name in RESULT_EVENTS:
            results.put(msg_to_dict(message))
        else:
            collect_error(message)

    def run() -> None:
        try:
            with _dbt_lock, _same_working_directory():
                outcome.append(dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(arguments))
        except BaseException as error:  # noqa: BLE001 - reported by the step below
            outcome.append(error)
        finally:
            release_duckdb()
            results.put(None)

    context.log.info(f"dbt {args[0]} in this process; artifacts in {target}")
    worker = threading.Thread(target=run, name="dbt", daemon=True)
    worker.start()
    while (raw_event := results.get()) is not None:
        event = DbtCoreCliEventMessage(raw_event=raw_event, event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=manifest_json,
            dagster_dbt_translator=translator,
            context=context,
            target_path=target,
            project=project,
        )
    worker.join()
    [result] = outcome
    if isinstance(result, BaseException):
        raise DagsterDbtCliRuntimeError(
            description=f"dbt {args[0]} could not run: {result}"
        ) from result
    if not result.success:
        cause = f"{type(result.exception).__name__}: {result.exception}" if result.exception else ""
        detail = "\n\n".join([*errors, cause] if cause else errors)
        raise DagsterDbtCliRuntimeError(
            description=(f"dbt {args[0]} failed (dbt's log: {target / 'dbt.log'}).\n\n{detail}")
        )
