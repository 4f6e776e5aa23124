"""Each kind of bad data fails the right check, alerts once per channel to real servers, and —
when the check is blocking — leaves the BI file exactly as it was.

Structure (keys, not-nulls, accepted values, relationships) is checked by dbt tests; ranges,
units, reconciliation, drift and freshness by Great Expectations rules. Every case starts from a
copy of the clean run's warehouse and BI file, breaks the data in one known way, then runs the
real Dagster steps: the check (the dbt test through dagster-dbt, or the GE suite) and the
publication, in a job with the pipeline's own alert hooks. Alerts go to an HTTP webhook and an
SMTP server started here on 127.0.0.1.
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

from orchestration.defs.alerts.hooks import RUN_ALERT_HOOKS
from orchestration.defs.publish.assets import BI_ASSET_KEY
from orchestration.quality.rules import SUITES

pytestmark = pytest.mark.e2e

FIRST_ORDER = "(select min(order_id) from marts.fct_orders)"
# A day's delivery exported in cents: recent, ordinary orders of the 15-dollar sample shop (so
# the absolute ceilings of 5,000 a unit and 20,000 an order stay blind), delivered again as a
# new file with every amount × 100 and new ids.
CENTS_ORDERS = """
    select order_id from staging.stg_shop__orders as orders
    where not is_quarantined and subtotal < 150 and not exists (
        select 1 from staging.stg_shop__order_lines as lines
        where lines.order_id = orders.order_id and lines.unit_price >= 40
    )
    order by ordered_at desc limit 20
"""
CENTS_FILE = "shop/orders/orders_2026-01-01_incr.csv"
CENTS_LINES_FILE = "shop/order_lines/order_lines_2026-01-01_incr.csv"


@dataclass(frozen=True)
class BadData:
    """One way data goes wrong, and the check that must catch it.

    ``check`` is ``("dbt", test kind, model, column)`` for a dbt test, or ``("ge", suite,
    rule key)`` for a Great Expectations rule; ``also`` lists other rules of the same suite the
    same breakage rightly fails.
    """

    name: str
    check: tuple[str, ...]
    severity: str
    breakage: tuple[str, ...]
    failing_rows: int | None = None
    also: frozenset[str] = frozenset()
    env: dict[str, str] = field(default_factory=dict)


CASES = (
    BadData(
        "duplicate key",
        ("dbt", "unique", "fct_orders", "order_id"),
        "blocking",
        (
            f"insert into marts.fct_orders select * from marts.fct_orders where order_id = {FIRST_ORDER}",
        ),
        failing_rows=1,  # dbt counts duplicated values
    ),
    BadData(
        "missing key",
        ("dbt", "not_null", "dim_customers", "customer_key"),
        "blocking",
        (
            # A person without a key (added, so the facts' references stay intact).
            "insert into marts.dim_customers select * replace (null as customer_key) "
            "from marts.dim_customers limit 1",
        ),
        failing_rows=1,
    ),
    BadData(
        "reference to a missing order",
        ("dbt", "relationships", "fct_order_lines", "order_id"),
        "blocking",
        (
            "update marts.fct_order_lines set order_id = 'ORD-THAT-DOES-NOT-EXIST' "
            "where order_line_id = (select min(order_line_id) from marts.fct_order_lines)",
        ),
        failing_rows=1,
    ),
    BadData(
        "value outside the accepted set",
        ("dbt", "accepted_values", "fct_orders", "financial_status"),
        "blocking",
        (
            f"update marts.fct_orders set financial_status = 'chargeback' where order_id = {FIRST_ORDER}",
        ),
        failing_rows=1,
    ),
    BadData(
        "value outside the landing contract's list",
        ("dbt", "contract_values", "stg_shop__orders", "source_channel"),
        "blocking",
        (
            "update staging.stg_shop__orders set source_channel = 'fax' where order_id = "
            "(select min(order_id) from staging.stg_shop__orders where not is_quarantined)",
        ),
        failing_rows=1,
    ),
    BadData(
        "negative revenue",
        ("ge", "ranges", "range:fct_orders"),
        "blocking",
        (f"update marts.fct_orders set net_revenue = -12.5 where order_id = {FIRST_ORDER}",),
        failing_rows=1,
    ),
    BadData(
        "rate outside 0-1",
        ("ge", "ranges", "range:kpi_monthly"),
        "blocking",
        (
            "update marts.kpi_monthly set repeat_purchase_rate = 1.5 "
            "where month = (select max(month) from marts.kpi_monthly)",
        ),
        failing_rows=1,
    ),
    BadData(
        "rows lost between raw and staging",
        ("ge", "reconciliation", "reconciliation:raw_equals_staged_plus_removed"),
        "blocking",
        (
            # Rows that reached raw but never staging: what a staging bug that drops rows
            # looks like from outside.
            "insert into raw.shop__orders by name select * replace "
            "('LOST-' || order_id as order_id) from raw.shop__orders limit 3",
        ),
    ),
    BadData(
        "a day of orders exported in cents",
        ("ge", "units", "units:unit_price_jump"),
        "blocking",
        (
            f"create temporary table cents_orders as {CENTS_ORDERS}",
            "insert into staging.stg_shop__orders by name select * replace ("
            "'CENTS-' || order_id as order_id, subtotal * 100 as subtotal, "
            "discount_total * 100 as discount_total, shipping_total * 100 as shipping_total, "
            "tax_total * 100 as tax_total, total * 100 as total, "
            "(select max(_load_id) from staging.stg_shop__orders) + 1 as _load_id, "
            f"'{CENTS_FILE}' as _file_name) from staging.stg_shop__orders "
            "where order_id in (select order_id from cents_orders)",
            "insert into staging.stg_shop__order_lines by name select * replace ("
            "'CENTS-' || order_line_id as order_line_id, 'CENTS-' || order_id as order_id, "
            "unit_price * 100 as unit_price, line_discount * 100 as line_discount, "
            "(select max(_load_id) from staging.stg_shop__orders) + 1 as _load_id, "
            f"'{CENTS_LINES_FILE}' as _file_name) from staging.stg_shop__order_lines "
            "where order_id in (select order_id from cents_orders)",
        ),
        failing_rows=1,  # one delivery, named with its factor
        also=frozenset({"units:order_value_jump"}),
    ),
    BadData(
        "prices exported in cents on one line",
        ("ge", "units", "range:unit_price_max"),
        "warning",
        (
            "update staging.stg_shop__order_lines set unit_price = unit_price * 10000 "
            "where order_line_id = (select min(order_line_id) from staging.stg_shop__order_lines)",
        ),
    ),
    BadData(
        "average order value drifts",
        ("ge", "operations", "drift:average_order_value"),
        "warning",
        ("update marts.fct_orders set net_revenue = net_revenue * 3",),
    ),
    BadData(
        "orders stop arriving (stale)",
        ("ge", "operations", "freshness:newest_clean_order"),
        "warning",
        # What dbt's int_as_of_date holds when CLM_AS_OF_DATE is set to a later day.
        ("update intermediate.int_as_of_date set as_of_date = date '2026-06-30'",),
    ),
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dbt_check_key(kind: str, model: str, column: str) -> AssetCheckKey:
    """The Dagster check of the dbt test ``kind`` on ``model.column``, from the manifest."""
    from orchestration.defs.dbt.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    models = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    for node in manifest["nodes"].values():
        attached = models.get(node.get("attached_node") or "")
        if (
            node["resource_type"] == "test"
            and (node.get("test_metadata") or {}).get("name") == kind
            and attached is not None
            and attached["name"] == model
            and node.get("column_name") == column
        ):
            return AssetCheckKey(AssetKey([attached["config"]["schema"], model]), node["name"])
    raise AssertionError(f"no dbt test {kind} on {model}.{column}")


def _ge_check_key(suite_name: str) -> AssetCheckKey:
    from orchestration.defs.quality.checks import suite_checks

    for checks_def in suite_checks:
        for key in checks_def.check_keys:
            if key.name == f"ge_{suite_name}":
                return key
    raise AssertionError(f"no check for suite {suite_name}")


def _run_check_and_publish(check: AssetCheckKey):
    from dagster import Definitions

    from orchestration.definitions import defs

    job = define_asset_job(
        "audit_and_publish",
        selection=AssetSelection.checks(check)
        | AssetSelection.assets(BI_ASSET_KEY).without_checks(),
        hooks=RUN_ALERT_HOOKS,
    )
    job_def = Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(job.name)
    return job_def.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)


def _ge_results(warehouse: str, run_id: str) -> list[tuple]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute(
            "select rule, success, severity, unexpected_count, sample_values from "
            "audit.validation_results where run_id = ?",
            [run_id],
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_data_fails_its_check_alerts_once_and_guards_the_bi_file(
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
    is_dbt = case.check[0] == "dbt"
    check = _dbt_check_key(*case.check[1:]) if is_dbt else _ge_check_key(case.check[1])
    # What the alert names: the dbt test, or the GE rule's key.
    named = check.name if is_dbt else case.check[2]

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
        with environment(alert_env, remove=FOREIGN_SETTINGS):
            result = _run_check_and_publish(check)

    # The right check failed in Dagster, with the matching severity.
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(ev.check_name, ev.passed) for ev in evaluations] == [(check.name, False)]
    assert evaluations[0].severity.value == ("ERROR" if case.severity == "blocking" else "WARN")

    ge_rows = _ge_results(env["CLM_DUCKDB_PATH"], result.run_id)
    if is_dbt:
        failing_rows = evaluations[0].metadata["dagster_dbt/failed_row_count"].value
        assert ge_rows == [], "a structural breakage is dbt's to catch"
    else:
        # The right rule failed, with its severity and count, in the audit table.
        mine = [row for row in ge_rows if row[0] == named]
        assert len(mine) == 1, f"rule {named} did not run"
        _rule, success, severity, failing_rows, samples = mine[0]
        assert not success and severity == case.severity
        others = {row[0] for row in ge_rows if not row[1]} - {named}
        assert others == set(case.also), "only the broken rule may fail"
        if named == "units:unit_price_jump":
            (sample,) = json.loads(samples)
            assert sample["file_name"] == CENTS_LINES_FILE
            assert sample["factor"] == pytest.approx(100, rel=0.05)
    if case.failing_rows is not None:
        assert failing_rows == case.failing_rows

    # One alert per channel, naming the failed check, its severity and count.
    assert len(webhook.received) == 1, [post.json()["text"] for post in webhook.received]
    text = webhook.received[0].json()["text"]
    assert named in text and f"[{case.severity}]" in text, text
    assert webhook.received[0].headers.get("Idempotency-Key")
    assert len(recorder.mails) == 1
    mail = message_from_bytes(recorder.mails[0].content, policy=default_policy)
    assert named in mail["Subject"], mail["Subject"]
    assert named in mail.get_body().get_content()

    bi_after = _sha256(Path(env["CLM_BI_DUCKDB_PATH"]))
    if case.severity == "blocking":
        assert bi_after == bi_before, "a blocking failure must leave the BI file untouched"
        assert not result.success
        assert "not published" in mail["Subject"]
    else:
        assert bi_after != bi_before, "a warning alone does not hold back the publication"
        assert "published with warnings" in mail["Subject"]


def test_suites_cover_only_rules_dbt_cannot_say():
    """Every GE suite is exercised above or in the unit tests; none holds a structural test."""
    assert {suite.name for suite in SUITES} == {
        case.check[1] for case in CASES if case.check[0] == "ge"
    }
