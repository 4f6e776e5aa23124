"""The semantic layer against the KPI marts, on the session's real xs warehouse.

Every metric of models/marts/semantic is evaluated through MetricFlow (the engine `clm metrics`
uses) at the grain of the mart that shows the same KPI, and compared with that mart row for
row: the metric definitions and macros/kpi_formulas.sql must not disagree. A period the mart
shows without data (counts 0, ratios NULL) may be absent from MetricFlow's answer. Coarser
grains are checked against sums of the mart's components (CAC by quarter is the quarter's
spend over its new customers, not a mean of monthly CACs).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support.pipeline import FOREIGN_SETTINGS

from orchestration.semantic import SemanticLayer, SemanticLayerError
from orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

MONTH = "metric_time__month"

# metric -> column of kpi_monthly (one row per month)
KPI_MONTHLY = {
    "new_customers": "new_customers",
    "active_customers": "active_customers",
    "orders": "orders",
    "net_revenue": "net_revenue",
    "aov": "aov",
    "transaction_frequency": "transaction_frequency",
    "marketing_spend": "marketing_spend",
    "cac": "cac",
    "customers_to_date": "customers_to_date",
    "repeat_customers_to_date": "repeat_customers_to_date",
    "repeat_purchase_rate": "repeat_purchase_rate",
    "checkouts": "checkouts",
    "abandoned_checkouts": "abandoned_checkouts",
    "cart_abandonment_rate": "cart_abandonment_rate",
    "nps_responses": "nps_responses",
    "nps_promoters": "nps_promoters",
    "nps_detractors": "nps_detractors",
    "nps": "nps",
}
# metric -> column of kpi_by_channel (month x channel; the semantic layer's `channel` entity)
KPI_BY_CHANNEL = {
    "marketing_spend": "spend",
    "new_customers": "new_customers",
    "cac": "cac",
    "ad_clicks": "clicks",
    "conversion_rate": "conversion_rate",
    "first_year_net_revenue": "first_year_net_revenue",
    "first_year_net_revenue_per_new_customer": "first_year_net_revenue_per_new_customer",
    "ltv_to_cac": "ltv_to_cac",
}
# metric -> column of email_campaign_performance (one row per campaign)
EMAIL_CAMPAIGNS = {
    "email_cost": "cost",
    "emails_sent": "sent",
    "emails_bounced": "bounced",
    "emails_delivered": "delivered",
    "email_impressions": "impressions",
    "emails_unopened": "unopened",
    "emails_clicked": "clicked",
    "emails_unsubscribed": "unsubscribed",
    "emails_complained": "complained",
    "open_rate": "open_rate",
    "click_rate": "click_rate",
    "click_to_open": "click_to_open",
    "cost_per_impression": "cost_per_impression",
    "email_conversions": "conversions",
    "email_conversion_rate": "conversion_rate",
    "email_attributed_net_revenue": "attributed_net_revenue",
}
# metric -> column of subscription_metrics_monthly
SUBSCRIPTIONS = {
    "active_subscriptions_at_start": "active_subscriptions_at_start",
    "active_subscriptions_at_end": "active_subscriptions_at_end",
    "new_subscriptions": "new_subscriptions",
    "cancelled_subscriptions": "cancelled_subscriptions",
    "subscription_churn_rate": "subscription_churn_rate",
    "active_subscribers_at_start": "active_subscribers_at_start",
    "churned_subscribers": "churned_subscribers",
    "subscriber_churn_rate": "subscriber_churn_rate",
    "mrr": "mrr",
    "churned_mrr": "churned_mrr",
}
# metric -> column of social_engagement_monthly (month x platform)
SOCIAL = {
    "social_followers": "followers",
    "social_engagements": "engagements",
    "engagement_rate": "engagement_rate",
}
# metric -> column of cohort_retention (cohort month x months since acquisition)
COHORTS = {
    "cohort_size": "cohort_size",
    "cohort_active_customers": "active_customers",
    "retention_rate": "retention_rate",
}
# metrics no KPI mart shows as a column, each checked against the fact it sums
NOT_IN_A_KPI_MART = {
    "ad_impressions": "select spend_date as day, impressions as value from marts.fct_marketing_spend",
    "historical_clv": (
        "select cast(first_ordered_at as date) as day, net_revenue as value "
        "from marts.dim_customers where first_ordered_at is not null"
    ),
    "predicted_clv": (
        "select cast(first_ordered_at as date) as day, predicted_clv as value "
        "from marts.dim_customers where first_ordered_at is not null"
    ),
}


@pytest.fixture(scope="module")
def warehouse(clean_run) -> Path:
    assert clean_run.outcome.success, clean_run.outcome.errors
    return clean_run.warehouse


# Function-scoped: the read-only handles on the shared warehouse are closed after each test
# (other tests copy the file meanwhile).
@pytest.fixture
def layer(warehouse: Path) -> Iterator[SemanticLayer]:
    with SemanticLayer(warehouse, REPO_ROOT / "target" / "semantic_manifest.json") as semantic:
        yield semantic


@pytest.fixture
def marts(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def _key(value: object) -> object:
    """Periods as dates (MetricFlow answers timestamps, the marts dates)."""
    return value.date() if isinstance(value, dt.datetime) else value


def _number(value: object) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | int | float) else value


def _mart_rows(
    con: duckdb.DuckDBPyConnection, sql: str, keys: int
) -> dict[tuple[object, ...], tuple[object, ...]]:
    rows = con.execute(sql).fetchall()
    table = {tuple(_key(v) for v in row[:keys]): tuple(row[keys:]) for row in rows}
    assert len(table) == len(rows), f"duplicate keys in {sql}"
    assert rows, f"no rows: {sql}"
    return table


def _metric_rows(
    layer: SemanticLayer, metrics: Sequence[str], group_by: Sequence[str]
) -> dict[tuple[object, ...], dict[str, object]]:
    answer = layer.query(metrics, group_by)
    table: dict[tuple[object, ...], dict[str, object]] = {}
    for row in answer.as_dicts():
        key = tuple(_key(row[name]) for name in group_by)
        assert key not in table, f"MetricFlow answered {key} twice"
        table[key] = row
    return table


def _agree(expected: float | None, actual: float | None, one_side_only: bool) -> bool:
    """Equal numbers, or both NULL; a row only one side has must hold nothing (0 or NULL)."""
    if one_side_only:
        return (expected or 0) == 0 and (actual or 0) == 0
    if expected is None or actual is None:
        return expected is None and actual is None
    return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)


def _assert_same(
    what: str,
    mart: dict[tuple[object, ...], tuple[object, ...]],
    metrics: dict[tuple[object, ...], dict[str, object]],
    names: Sequence[str],
) -> None:
    """The mart's rows and MetricFlow's answer agree key by key and metric by metric."""
    mismatches = []
    for key in sorted(set(mart) | set(metrics), key=repr):
        mart_values = mart.get(key)
        metric_row = metrics.get(key, {})
        for position, name in enumerate(names):
            expected = _number(mart_values[position]) if mart_values else None
            actual = _number(metric_row.get(name))
            if not _agree(expected, actual, mart_values is None or key not in metrics):
                mismatches.append((key, name, expected, actual))
    assert not mismatches, f"{what}: {len(mismatches)} mismatches, first {mismatches[:10]}"


def _compare(
    layer: SemanticLayer,
    con: duckdb.DuckDBPyConnection,
    mart: str,
    mapping: dict[str, str],
    mart_keys: Sequence[str],
    group_by: Sequence[str],
) -> None:
    columns = ", ".join([*mart_keys, *mapping.values()])
    mart_rows = _mart_rows(con, f"select {columns} from marts.{mart}", len(mart_keys))
    metric_rows = _metric_rows(layer, list(mapping), group_by)
    _assert_same(mart, mart_rows, metric_rows, list(mapping))


def test_every_metric_is_compared_with_a_mart(layer: SemanticLayer) -> None:
    compared = {*KPI_MONTHLY, *KPI_BY_CHANNEL, *EMAIL_CAMPAIGNS, *SUBSCRIPTIONS, *SOCIAL, *COHORTS}
    assert set(layer.metric_names()) == compared | set(NOT_IN_A_KPI_MART)


def test_monthly_metrics_equal_kpi_monthly(layer, marts) -> None:
    _compare(layer, marts, "kpi_monthly", KPI_MONTHLY, ["month"], [MONTH])


def test_channel_metrics_equal_kpi_by_channel(layer, marts) -> None:
    _compare(
        layer, marts, "kpi_by_channel", KPI_BY_CHANNEL, ["month", "channel"], [MONTH, "channel"]
    )


def test_email_metrics_equal_email_campaign_performance(layer, marts) -> None:
    _compare(
        layer, marts, "email_campaign_performance", EMAIL_CAMPAIGNS, ["campaign_id"], ["campaign"]
    )


def test_subscription_metrics_equal_subscription_metrics_monthly(layer, marts) -> None:
    _compare(layer, marts, "subscription_metrics_monthly", SUBSCRIPTIONS, ["month"], [MONTH])


def test_social_metrics_equal_social_engagement_monthly(layer, marts) -> None:
    _compare(
        layer,
        marts,
        "social_engagement_monthly",
        SOCIAL,
        ["month", "platform"],
        [MONTH, "social_platform_month__platform"],
    )


def test_retention_metrics_equal_cohort_retention(layer, marts) -> None:
    _compare(
        layer,
        marts,
        "cohort_retention",
        COHORTS,
        ["cohort_month", "months_since_acquisition"],
        [MONTH, "cohort_period__months_since_acquisition"],
    )


@pytest.mark.parametrize("metric", sorted(NOT_IN_A_KPI_MART))
def test_metrics_without_a_kpi_mart_equal_their_fact(layer, marts, metric: str) -> None:
    fact = NOT_IN_A_KPI_MART[metric]
    sql = f"select date_trunc('month', day) as month, sum(value) from ({fact}) group by all"
    _assert_same(
        metric, _mart_rows(marts, sql, 1), _metric_rows(layer, [metric], [MONTH]), [metric]
    )


def test_quarterly_ratios_are_ratios_of_sums_not_means_of_months(layer, marts) -> None:
    """The issue's question: CAC and AOV by quarter, and pooled email and churn rates."""
    sql = """
        select
            date_trunc('quarter', month) as quarter,
            sum(marketing_spend) / nullif(sum(new_customers), 0),
            sum(net_revenue) / nullif(sum(orders), 0),
            avg(cac)
        from marts.kpi_monthly
        group by all
    """
    mart = _mart_rows(marts, sql, 1)
    metrics = _metric_rows(layer, ["cac", "aov"], ["metric_time__quarter"])
    _assert_same("quarterly cac, aov", {k: v[:2] for k, v in mart.items()}, metrics, ["cac", "aov"])
    # the mean of the months differs somewhere, so the check above can tell them apart
    assert any(
        values[2] is not None and not math.isclose(values[0], values[2]) for values in mart.values()
    )

    email = """
        select
            date_trunc('quarter', sent_at) as quarter,
            sum(cost) / nullif(sum(impressions), 0),
            sum(opened) / nullif(sum(delivered), 0)
        from marts.email_campaign_performance
        group by all
    """
    _assert_same(
        "quarterly email rates",
        _mart_rows(marts, email, 1),
        _metric_rows(layer, ["cost_per_impression", "open_rate"], ["metric_time__quarter"]),
        ["cost_per_impression", "open_rate"],
    )

    # a quarter's subscription churn: cancelled in the quarter / active at its first month's
    # start; its MRR: the last month's
    churn = """
        select
            date_trunc('quarter', month) as quarter,
            sum(cancelled_subscriptions)
                / nullif(arg_min(active_subscriptions_at_start, month), 0),
            arg_max(mrr, month)
        from marts.subscription_metrics_monthly
        group by all
    """
    _assert_same(
        "quarterly subscription churn and MRR",
        _mart_rows(marts, churn, 1),
        _metric_rows(layer, ["subscription_churn_rate", "mrr"], ["metric_time__quarter"]),
        ["subscription_churn_rate", "mrr"],
    )


def test_customer_dimensions_answer_for_orders(layer, marts) -> None:
    """AOV and revenue by acquisition channel and year, and by country, from the facts."""
    sql = """
        select
            date_trunc('year', orders.order_date) as year,
            customers.acquisition_channel,
            sum(orders.net_revenue),
            sum(orders.net_revenue) / count(*)
        from marts.fct_orders as orders
        inner join marts.dim_customers as customers
            on orders.customer_key = customers.customer_key
        where orders.is_valid_order
        group by all
    """
    _assert_same(
        "revenue and aov by acquisition channel and year",
        _mart_rows(marts, sql, 2),
        _metric_rows(
            layer, ["net_revenue", "aov"], ["metric_time__year", "customer__acquisition_channel"]
        ),
        ["net_revenue", "aov"],
    )
    by_country = _metric_rows(layer, ["aov", "active_customers"], ["customer__country_code"])
    assert len(by_country) > 1


def test_saved_queries_answer(layer) -> None:
    names = layer.saved_query_names()
    assert "cac_and_aov_by_quarter" in names
    for name in names:
        answer = layer.query(saved_query=name)
        assert answer.rows, f"saved query {name} answered nothing"


def test_an_unknown_metric_is_a_clear_error(layer) -> None:
    with pytest.raises(SemanticLayerError, match="cacc"):
        layer.query(["cacc"], [MONTH])


def test_clm_metrics_prints_cac_and_aov_by_quarter(clean_run) -> None:
    env = {**os.environ, **clean_run.env}
    for name in FOREIGN_SETTINGS:
        env.pop(name, None)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("clm")),
            "metrics",
            "query",
            "--metrics",
            "cac,aov",
            "--group-by",
            "metric_time__quarter",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert "metric_time__quarter" in header and "cac" in header and "aov" in header
    with SemanticLayer(clean_run.warehouse, REPO_ROOT / "target" / "semantic_manifest.json") as sl:
        quarters = sl.query(["cac"], ["metric_time__quarter"]).rows
    assert len(result.stdout.splitlines()) >= len(quarters) + 1
