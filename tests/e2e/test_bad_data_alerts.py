"""Each kind of bad data fails the right expectation, alerts to real servers, and — when the
expectation is blocking — leaves the BI file exactly as it was.

Every case starts from a copy of the clean run's warehouse and BI file, breaks the data in one
known way, then runs the real Dagster steps: the suite's Great Expectations check and the
publication. Alerts go to an HTTP webhook and an SMTP server started here on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, AssetSelection, DagsterInstance, define_asset_job
from support.pipeline import FOREIGN_SETTINGS, environment, warehouse_env
from support.servers import SmtpRecorder, WebhookServer, smtp_server

from orchestration.defs.publish.assets import BI_ASSET_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pipeline")]

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations" / "gx" / "expectations"
FIRST_ORDER = "(select min(order_id) from marts.fct_orders)"


@dataclass(frozen=True)
class BadData:
    """One way data goes wrong, and the expectation that must catch it."""

    name: str
    schema: str
    suite: str
    expectation_key: str  # meta.key of the expectation in the suite file
    severity: str
    breakage: tuple[str, ...]
    unexpected_count: int | None = None
    env: dict[str, str] = field(default_factory=dict)


CASES = (
    BadData(
        "duplicate key",
        "marts",
        "fct_orders",
        "dbt:unique:order_id",
        "blocking",
        (
            f"insert into marts.fct_orders select * from marts.fct_orders where order_id = {FIRST_ORDER}",
        ),
        unexpected_count=2,
    ),
    BadData(
        "missing key",
        "marts",
        "dim_customers",
        "dbt:not_null:customer_key",
        "blocking",
        (
            # A person without a key (added, so the facts' references stay intact).
            "insert into marts.dim_customers select * replace (null as customer_key) "
            "from marts.dim_customers limit 1",
        ),
        unexpected_count=1,
    ),
    BadData(
        "reference to a missing order",
        "marts",
        "fct_order_lines",
        "dbt:relationships:order_id->fct_orders.order_id",
        "blocking",
        (
            "update marts.fct_order_lines set order_id = 'ORD-THAT-DOES-NOT-EXIST' "
            "where order_line_id = (select min(order_line_id) from marts.fct_order_lines)",
        ),
    ),
    BadData(
        "value outside the accepted set",
        "marts",
        "fct_orders",
        "dbt:accepted_values:financial_status",
        "blocking",
        (
            f"update marts.fct_orders set financial_status = 'chargeback' where order_id = {FIRST_ORDER}",
        ),
        unexpected_count=1,
    ),
    BadData(
        "negative revenue",
        "marts",
        "fct_orders",
        "range:non_negative:net_revenue",
        "blocking",
        (f"update marts.fct_orders set net_revenue = -12.5 where order_id = {FIRST_ORDER}",),
        unexpected_count=1,
    ),
    BadData(
        "rate outside 0-1",
        "marts",
        "kpi_monthly",
        "range:rate:repeat_purchase_rate",
        "blocking",
        (
            "update marts.kpi_monthly set repeat_purchase_rate = 1.5 "
            "where month = (select max(month) from marts.kpi_monthly)",
        ),
        unexpected_count=1,
    ),
    BadData(
        "rows lost between raw and staging",
        "staging",
        "stg_row_accounting",
        "reconciliation:raw_equals_staged_plus_removed",
        "blocking",
        (
            # Rows that reached raw but never staging: what a staging bug that drops rows
            # looks like from outside.
            "insert into raw.shop__orders by name select * replace "
            "('LOST-' || order_id as order_id) from raw.shop__orders limit 3",
        ),
    ),
    BadData(
        "prices exported in cents",
        "staging",
        "stg_shop__order_lines",
        "range:unit_price_max",
        "warning",
        (
            "update staging.stg_shop__order_lines set unit_price = unit_price * 10000 "
            "where order_line_id = (select min(order_line_id) from staging.stg_shop__order_lines)",
        ),
    ),
    BadData(
        "average order value drifts",
        "marts",
        "fct_orders",
        "drift:average_order_value",
        "warning",
        ("update marts.fct_orders set net_revenue = net_revenue * 3",),
    ),
    BadData(
        "orders stop arriving (stale)",
        "marts",
        "fct_orders",
        "freshness:newest_clean_order",
        "warning",
        (),
        env={"CLM_AS_OF_DATE": "2026-06-30"},
    ),
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expectation_id(suite: str, key: str) -> tuple[str, str]:
    document = json.loads((SUITES_DIR / f"{suite}.json").read_text(encoding="utf-8"))
    for expectation in document["expectations"]:
        if expectation.get("meta", {}).get("key") == key:
            return expectation["id"], expectation["type"]
    raise AssertionError(f"suite {suite} has no expectation with key {key}")


def _run_check_and_publish(case: BadData):
    from dagster import Definitions

    from orchestration.definitions import defs

    check = AssetCheckKey(AssetKey([case.schema, case.suite]), f"ge_{case.suite}")
    job = define_asset_job(
        "audit_and_publish",
        selection=AssetSelection.checks(check)
        | AssetSelection.assets(BI_ASSET_KEY).without_checks(),
    )
    job_def = Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(job.name)
    return job_def.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_data_fails_its_expectation_alerts_and_guards_the_bi_file(
    case: BadData, clean_run, tmp_path: Path
):
    assert clean_run.outcome.success, clean_run.outcome.errors
    root = tmp_path / "copy"
    env = warehouse_env(root)
    Path(env["CLM_DUCKDB_PATH"]).parent.mkdir(parents=True)
    shutil.copy(clean_run.warehouse, env["CLM_DUCKDB_PATH"])
    shutil.copy(clean_run.bi_file, env["CLM_BI_DUCKDB_PATH"])
    bi_before = _sha256(Path(env["CLM_BI_DUCKDB_PATH"]))
    con = duckdb.connect(env["CLM_DUCKDB_PATH"])
    for statement in case.breakage:
        con.execute(statement)
    con.close()
    expectation_id, expectation_type = _expectation_id(case.suite, case.expectation_key)

    recorder = SmtpRecorder()
    with WebhookServer() as webhook, smtp_server(recorder) as smtp_port:
        alert_env = {
            **env,
            **case.env,
            "CLM_ALERT_WEBHOOK_URL": webhook.url,
            "CLM_ALERT_SMTP_HOST": "127.0.0.1",
            "CLM_ALERT_SMTP_PORT": str(smtp_port),
            "CLM_ALERT_SMTP_FROM": "warehouse@example.com",
            "CLM_ALERT_SMTP_TO": "data-team@example.com",
        }
        remove = tuple(name for name in FOREIGN_SETTINGS if name not in alert_env)
        with environment(alert_env, remove=remove):
            result = _run_check_and_publish(case)

    # The right expectation failed, with its severity and count, in the audit table.
    con = duckdb.connect(env["CLM_DUCKDB_PATH"], read_only=True)
    try:
        rows = con.execute(
            "select success, severity, unexpected_count, sample_values from "
            "audit.validation_results where run_id = ? and expectation_id = ?",
            [result.run_id, expectation_id],
        ).fetchall()
        other_failures = con.execute(
            "select expectation_id from audit.validation_results "
            "where run_id = ? and not success and expectation_id <> ?",
            [result.run_id, expectation_id],
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, f"expectation {case.expectation_key} did not run"
    success, severity, unexpected_count, _samples = rows[0]
    assert not success
    assert severity == case.severity
    if case.unexpected_count is not None:
        assert unexpected_count == case.unexpected_count
    assert other_failures == [], "only the broken rule may fail"

    # The Dagster check reports it with the matching severity.
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(ev.check_name, ev.passed) for ev in evaluations] == [(f"ge_{case.suite}", False)]
    assert evaluations[0].severity.value == ("ERROR" if case.severity == "blocking" else "WARN")

    # The alert reached both real servers and names suite and expectation.
    texts = [post.json()["text"] for post in webhook.received]
    assert any(case.suite in text and expectation_type in text for text in texts), texts
    mails = [message_from_bytes(mail.content, policy=default_policy) for mail in recorder.mails]
    assert any(case.suite in mail["Subject"] for mail in mails), [m["Subject"] for m in mails]
    assert any(expectation_type in mail.get_body().get_content() for mail in mails)

    bi_after = _sha256(Path(env["CLM_BI_DUCKDB_PATH"]))
    if case.severity == "blocking":
        assert bi_after == bi_before, "a blocking failure must leave the BI file untouched"
        assert not result.success
    else:
        assert bi_after != bi_before, "a warning alone does not hold back the publication"
