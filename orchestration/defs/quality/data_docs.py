"""Great Expectations Data Docs, rendered once per run after its last step (not per suite).

The suite checks (``checks.py``) record their results without rendering; the job's hook here
renders this run's validation pages and the index in one go, whether the run succeeded or not
(a failed check is when the pages are read).
"""

from __future__ import annotations

import logging

from dagster import HookContext, failure_hook, success_hook

from orchestration.settings import get_settings

log = logging.getLogger(__name__)


def render_after_last_step(context: HookContext) -> None:
    """After the run's last step: this run's Data Docs pages and the index."""
    from orchestration.defs.alerts.hooks import is_last_step
    from orchestration.quality.runner import build_data_docs

    try:
        if is_last_step(context):
            build_data_docs(get_settings().duckdb_path, run_id=context.run_id)
    except Exception:  # noqa: BLE001 - the run's outcome must not depend on its Data Docs
        log.exception("run %s: Data Docs could not be rendered", context.run_id)


@success_hook(name="data_docs_after_success")
def data_docs_after_success(context: HookContext) -> None:
    render_after_last_step(context)


@failure_hook(name="data_docs_after_failure")
def data_docs_after_failure(context: HookContext) -> None:
    render_after_last_step(context)


DATA_DOCS_HOOKS = {data_docs_after_success, data_docs_after_failure}
