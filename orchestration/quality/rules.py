"""What dbt tests say poorly, as data: the Great Expectations rules, their suites and thresholds.

Structure (keys, not-nulls, accepted values, relationships) is dbt's: those are dbt tests only.
The rules here are statistical and operational: ranges, units (cents exported as units),
volume, drift, freshness and reconciliation. Each is one SQL query returning the offending rows
(GE's ``unexpected_rows_expectation``), grouped in a handful of suites by concern; ``suites.py``
writes them into the GE project (``expectations/gx``). Thresholds are DuckDB variables
(``getvariable('clm_…')``) that the runner sets on every GE connection from the environment
(``CLM_…``); each query repeats the default in a ``coalesce`` so the suite also runs in plain GE.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration import settings as registry
from orchestration.quality.results import Severity


@dataclass(frozen=True)
class Threshold:
    """A tunable number used by a rule's SQL: a DuckDB variable set from a ``CLM_`` setting."""

    variable: str  # DuckDB variable read by the query
    env: str  # the setting (orchestration/settings.py) that gives its value

    @property
    def default(self) -> float | int:
        """The setting's declared default (a whole number written without ``.0``)."""
        return _number(registry.declared(self.env).parse(""))

    def sql(self) -> str:
        """The SQL expression reading the threshold, with its default."""
        return f"coalesce(getvariable('{self.variable}'), {self.default})"

    def meta(self) -> dict[str, object]:
        """How the threshold is documented in the expectation's ``meta``."""
        return {"variable": self.variable, "env": self.env, "default": self.default}

    def current(self) -> float | int:
        """The value in force (``SettingError`` naming the setting for a bad one)."""
        return _number(registry.value(self.env))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


DRIFT_MAX_PCT = Threshold("clm_drift_max_pct", "CLM_DRIFT_MAX_PCT")
FRESHNESS_MAX_DAYS = Threshold("clm_freshness_max_days", "CLM_FRESHNESS_MAX_DAYS")
MAX_UNIT_PRICE = Threshold("clm_max_unit_price", "CLM_MAX_UNIT_PRICE")
MAX_ORDER_SUBTOTAL = Threshold("clm_max_order_subtotal", "CLM_MAX_ORDER_SUBTOTAL")
UNIT_JUMP_FACTOR = Threshold("clm_unit_jump_factor", "CLM_UNIT_JUMP_FACTOR")
UNIT_JUMP_TOLERANCE = Threshold("clm_unit_jump_tolerance", "CLM_UNIT_JUMP_TOLERANCE")

THRESHOLDS: tuple[Threshold, ...] = (
    DRIFT_MAX_PCT,
    FRESHNESS_MAX_DAYS,
    MAX_UNIT_PRICE,
    MAX_ORDER_SUBTOTAL,
    UNIT_JUMP_FACTOR,
    UNIT_JUMP_TOLERANCE,
)

# Files compared with the trailing history: the last files that carried the same product (or
# currency). A file is judged only against files loaded before it, so a bad delivery keeps
# failing until it is replaced, and it never becomes the baseline it is judged by.
TRAILING_FILES = 30
# An order file is judged on its median order value only with this many orders on each side:
# one large order is a big basket, not a unit mistake.
MIN_ORDERS_COMPARED = 5


@dataclass(frozen=True)
class Suite:
    """A GE suite: rules of one concern, validated against one batch table (the check's home).

    ``reads`` lists every relation its queries read: the Dagster check waits for all of them.
    """

    name: str
    relation: str  # schema.table of the batch; ``{batch}`` in a query is this table
    description: str
    reads: tuple[str, ...]

    @property
    def schema(self) -> str:
        return self.relation.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]


@dataclass(frozen=True)
class Rule:
    """One expectation: a query returning the rows that break the rule."""

    key: str
    suite: str
    severity: Severity
    description: str
    query: str
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True)
class DriftMetric:
    """A run metric: computed from one table, kept per published clean run, compared next run."""

    name: str
    relation: str
    # SQL returning one row with one column ``value``; ``{table}`` is the relation.
    value_sql: str
    description: str


DRIFT_METRICS: tuple[DriftMetric, ...] = (
    DriftMetric(
        "orders_per_day",
        "marts.fct_orders",
        "select count(*) * 1.0 / nullif(count(distinct order_date), 0) as value "
        "from {table} where is_valid_order",
        "Valid orders per day with orders.",
    ),
    DriftMetric(
        "average_order_value",
        "marts.fct_orders",
        "select sum(net_revenue) * 1.0 / nullif(count(*), 0) as value "
        "from {table} where is_valid_order",
        "Net revenue per valid order (docs/kpis.md AOV), all time.",
    ),
    DriftMetric(
        "email_open_rate",
        "marts.email_campaign_performance",
        "select sum(opened) * 1.0 / nullif(sum(delivered), 0) as value from {table}",
        "Unique opens / delivered over every campaign.",
    ),
)


def _near_factor(ratio: str) -> str:
    """SQL: ``ratio`` is within the tolerance of the unit factor or of its inverse."""
    factor, tolerance = UNIT_JUMP_FACTOR.sql(), UNIT_JUMP_TOLERANCE.sql()
    return (
        f"({ratio} between {factor} / {tolerance} and {factor} * {tolerance} "
        f"or {ratio} between 1.0 / ({factor} * {tolerance}) and {tolerance} / {factor})"
    )


def drift_query(metric: DriftMetric) -> str:
    """Rows when the metric moved more than the threshold since the last baseline run.

    The baseline is the newest metric of a run that published with every check passing
    (``audit.baseline_runs``): a run with warnings never becomes the baseline, so a repeated
    bad delivery warns again.
    """
    current = metric.value_sql.format(table=metric.relation)
    return (
        "with batch as (select 1 from {batch} limit 1), "
        f"current_metric as ({current}), "
        "previous_metric as ("
        "select run_metrics.value from audit.run_metrics as run_metrics "
        "inner join audit.baseline_runs as baseline_runs "
        "on run_metrics.run_id = baseline_runs.run_id "
        f"where run_metrics.metric = '{metric.name}' and run_metrics.value is not null "
        "order by run_metrics.recorded_at desc limit 1) "
        f"select '{metric.name}' as metric, previous_metric.value as previous_value, "
        "current_metric.value as current_value "
        "from current_metric cross join previous_metric "
        "where previous_metric.value <> 0 and abs(coalesce(current_metric.value, 0) "
        f"- previous_metric.value) / abs(previous_metric.value) * 100 > {DRIFT_MAX_PCT.sql()}"
    )


SUITES: tuple[Suite, ...] = (
    Suite(
        "units",
        "staging.stg_shop__order_lines",
        "Money in the wrong unit (cents exported as units): per delivery against the shop's own "
        "history, and absolute ceilings as the fallback for a first delivery.",
        ("staging.stg_shop__order_lines", "staging.stg_shop__orders"),
    ),
    Suite(
        "reconciliation",
        "staging.stg_row_accounting",
        "Nothing lost between raw and staging.",
        ("staging.stg_row_accounting",),
    ),
    Suite(
        "ranges",
        "marts.fct_orders",
        "Values inside their possible range in the published marts: money never negative, "
        "rates between 0 and 1, scores on their scale. One query per table.",
        (
            "marts.fct_orders",
            "marts.dim_customers",
            "marts.customer_segments",
            "marts.customer_clv",
            "marts.cohort_retention",
            "marts.email_campaign_performance",
            "marts.kpi_by_channel",
            "marts.kpi_monthly",
            "marts.purchase_ladder",
            "marts.social_engagement_monthly",
            "marts.subscription_metrics_monthly",
        ),
    ),
    Suite(
        "operations",
        "marts.fct_orders",
        "The run as a whole: volume (rows whenever raw has rows), freshness of the newest order "
        "and drift of run metrics against the last clean publication.",
        (
            "marts.fct_orders",
            "marts.fct_order_lines",
            "marts.dim_customers",
            "marts.email_campaign_performance",
            "intermediate.int_as_of_date",
        ),
    ),
)

# Per mart: (key columns shown, [(condition that is a violation, what it breaks)]).
# Rates whose numerator is not a subset of their denominator (docs/kpis.md) are only
# non-negative: engagement per follower, churn of subscriptions that start and stop in a month,
# new customers per click.
RANGE_CHECKS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "fct_orders": (("order_id",), (("net_revenue < 0", "net_revenue negative"),)),
    "dim_customers": (("customer_key",), (("net_revenue < 0", "net_revenue negative"),)),
    "customer_segments": (("customer_key",), (("net_revenue < 0", "net_revenue negative"),)),
    "customer_clv": (
        ("customer_key",),
        (("annual_churn_rate not between 0 and 1", "annual_churn_rate outside 0-1"),),
    ),
    "cohort_retention": (
        ("cohort_month", "months_since_acquisition"),
        (
            ("net_revenue < 0", "net_revenue negative"),
            ("cumulative_net_revenue < 0", "cumulative_net_revenue negative"),
            (
                "cumulative_net_revenue_per_customer < 0",
                "cumulative_net_revenue_per_customer negative",
            ),
            ("retention_rate not between 0 and 1", "retention_rate outside 0-1"),
        ),
    ),
    "email_campaign_performance": (
        ("campaign_id",),
        (
            ("attributed_net_revenue < 0", "attributed_net_revenue negative"),
            ("open_rate not between 0 and 1", "open_rate outside 0-1"),
            ("click_rate not between 0 and 1", "click_rate outside 0-1"),
            ("conversion_rate not between 0 and 1", "conversion_rate outside 0-1"),
        ),
    ),
    "kpi_by_channel": (
        ("month", "channel"),
        (
            ("first_year_net_revenue < 0", "first_year_net_revenue negative"),
            (
                "first_year_net_revenue_per_new_customer < 0",
                "first_year_net_revenue_per_new_customer negative",
            ),
            ("conversion_rate < 0", "conversion_rate negative"),
        ),
    ),
    "kpi_monthly": (
        ("month",),
        (
            ("net_revenue < 0", "net_revenue negative"),
            ("repeat_purchase_rate not between 0 and 1", "repeat_purchase_rate outside 0-1"),
            ("cart_abandonment_rate not between 0 and 1", "cart_abandonment_rate outside 0-1"),
            ("nps not between -100 and 100", "nps outside -100..100"),
        ),
    ),
    "purchase_ladder": (
        ("n",),
        (
            (
                "next_purchase_probability not between 0 and 1",
                "next_purchase_probability outside 0-1",
            ),
        ),
    ),
    "social_engagement_monthly": (
        ("month", "platform"),
        (("engagement_rate < 0", "engagement_rate negative"),),
    ),
    "subscription_metrics_monthly": (
        ("month",),
        (
            ("subscriber_churn_rate not between 0 and 1", "subscriber_churn_rate outside 0-1"),
            ("subscription_churn_rate < 0", "subscription_churn_rate negative"),
        ),
    ),
}


def _range_rule(table: str) -> Rule:
    keys, checks = RANGE_CHECKS[table]
    relation = "{batch}" if f"marts.{table}" == "marts.fct_orders" else f"marts.{table}"
    broken = ", ".join(f"case when {condition} then '{what}' end" for condition, what in checks)
    where = " or ".join(f"({condition})" for condition, _what in checks)
    return Rule(
        key=f"range:{table}",
        suite="ranges",
        severity="blocking",
        description=f"{table}: " + "; ".join(what for _c, what in checks) + " is a bug.",
        query=(
            f"select {', '.join(keys)}, concat_ws('; ', {broken}) as broken "
            f"from {relation} where {where}"
        ),
    )


UNIT_PRICE_JUMP = f"""
with batch_lines as (select * from {{batch}}),
orders as (
    select order_id, currency from staging.stg_shop__orders where not is_quarantined
),
lines as (
    select batch_lines._load_id, batch_lines._file_name, batch_lines.sku,
        coalesce(orders.currency, '') as currency, batch_lines.unit_price
    from batch_lines left join orders on batch_lines.order_id = orders.order_id
    where not batch_lines.is_quarantined and batch_lines.sku is not null
        and batch_lines.unit_price > 0
),
per_file as (
    select _load_id, _file_name, sku, currency, median(unit_price) as price
    from lines group by _load_id, _file_name, sku, currency
),
with_history as (
    select per_file.*,
        median(price) over (
            partition by sku, currency order by _load_id
            rows between {TRAILING_FILES} preceding and 1 preceding
        ) as history_price
    from per_file
),
per_delivery as (
    select _file_name as file_name, min(_load_id) as load_id,
        median(price / history_price) as factor, count(*) as products_compared
    from with_history where history_price > 0
    group by _file_name
)
select file_name, round(factor, 2) as factor, products_compared from per_delivery
where {_near_factor("factor")}
"""

ORDER_VALUE_JUMP = f"""
with batch as (select 1 from {{batch}} limit 1),
orders as (
    select _load_id, _file_name, coalesce(currency, '') as currency, subtotal
    from staging.stg_shop__orders where not is_quarantined and subtotal > 0
),
per_file as (
    select _load_id, _file_name, currency, median(subtotal) as median_value,
        count(*) as orders
    from orders group by _load_id, _file_name, currency
),
with_history as (
    select per_file.*,
        median(median_value) over earlier_files as history_value,
        sum(orders) over earlier_files as history_orders
    from per_file
    window earlier_files as (
        partition by currency order by _load_id
        rows between {TRAILING_FILES} preceding and 1 preceding
    )
)
select _file_name as file_name, currency, round(median_value / history_value, 2) as factor,
    median_value, history_value, orders
from with_history
where history_value > 0 and orders >= {MIN_ORDERS_COMPARED}
    and history_orders >= {MIN_ORDERS_COMPARED}
    and {_near_factor("median_value / history_value")}
"""

RULES: tuple[Rule, ...] = (
    Rule(
        key="units:unit_price_jump",
        suite="units",
        severity="blocking",
        description=(
            "A delivery's unit prices do not jump by about CLM_UNIT_JUMP_FACTOR (or its "
            "inverse) against the same products' prices in earlier deliveries (the median "
            "over its products, each against its last files): that is money in the wrong "
            "unit. Names the file and the factor."
        ),
        query=" ".join(UNIT_PRICE_JUMP.split()),
        thresholds=(UNIT_JUMP_FACTOR, UNIT_JUMP_TOLERANCE),
    ),
    Rule(
        key="units:order_value_jump",
        suite="units",
        severity="blocking",
        description=(
            "A delivery's median order subtotal does not move by about CLM_UNIT_JUMP_FACTOR "
            "(or its inverse) against the trailing history of earlier deliveries in the same "
            f"currency (at least {MIN_ORDERS_COMPARED} orders on each side). Names the file "
            "and the factor."
        ),
        query=" ".join(ORDER_VALUE_JUMP.split()),
        thresholds=(UNIT_JUMP_FACTOR, UNIT_JUMP_TOLERANCE),
    ),
    Rule(
        key="range:unit_price_max",
        suite="units",
        severity="warning",
        description=(
            "Unit price below CLM_MAX_UNIT_PRICE: above it the export is likely in cents "
            "(the fallback for a first delivery, which has no history to compare with)."
        ),
        query=(
            "select order_line_id, order_id, _file_name as file_name, unit_price from {batch} "
            f"where not is_quarantined and unit_price > {MAX_UNIT_PRICE.sql()}"
        ),
        thresholds=(MAX_UNIT_PRICE,),
    ),
    Rule(
        key="range:order_subtotal_max",
        suite="units",
        severity="warning",
        description=(
            "Order subtotal below CLM_MAX_ORDER_SUBTOTAL: above it the export is likely in "
            "cents (the fallback for a first delivery)."
        ),
        query=(
            "with batch as (select 1 from {batch} limit 1) "
            "select order_id, _file_name as file_name, currency, subtotal "
            "from staging.stg_shop__orders "
            f"where not is_quarantined and subtotal > {MAX_ORDER_SUBTOTAL.sql()}"
        ),
        thresholds=(MAX_ORDER_SUBTOTAL,),
    ),
    Rule(
        key="reconciliation:raw_equals_staged_plus_removed",
        suite="reconciliation",
        severity="blocking",
        description=(
            "Nothing lost between raw and staging: raw rows = staged rows (quarantined "
            "included) + older versions and duplicates removed, for every table."
        ),
        query=(
            "select source, table_name, raw_rows, staged_rows, duplicates_removed, "
            "quarantined_rows from {batch} where not is_balanced"
        ),
    ),
    *(_range_rule(table) for table in RANGE_CHECKS),
    Rule(
        key="freshness:newest_clean_order",
        suite="operations",
        severity="warning",
        description=(
            "Freshness: the newest valid order is at most CLM_FRESHNESS_MAX_DAYS days before "
            "as_of_date (dbt's intermediate.int_as_of_date)."
        ),
        query=(
            "with newest as (select max(order_date) as newest_order_date from {batch} "
            "where is_valid_order), "
            "as_of as (select as_of_date from intermediate.int_as_of_date) "
            "select newest.newest_order_date, as_of.as_of_date from newest cross join as_of "
            "where newest.newest_order_date < as_of.as_of_date - "
            f"cast({FRESHNESS_MAX_DAYS.sql()} as integer)"
        ),
        thresholds=(FRESHNESS_MAX_DAYS,),
    ),
    *(
        Rule(
            key=f"volume:{model}",
            suite="operations",
            severity="blocking",
            description=f"Volume: {model} has rows whenever raw.{raw} has rows.",
            query=(
                "with batch as (select 1 from {batch} limit 1) "
                f"select count(*) as raw_rows from raw.{raw} "
                f"having count(*) > 0 and not exists (select 1 from marts.{model})"
            ),
        )
        for model, raw in (
            ("fct_orders", "shop__orders"),
            ("dim_customers", "shop__orders"),
            ("fct_order_lines", "shop__order_lines"),
        )
    ),
    *(
        Rule(
            key=f"drift:{metric.name}",
            suite="operations",
            severity="warning",
            description=(
                f"Drift: {metric.description} moves at most CLM_DRIFT_MAX_PCT percent from the "
                "last run that published with every check passing (no such run yet: passes)."
            ),
            query=drift_query(metric),
            thresholds=(DRIFT_MAX_PCT,),
        )
        for metric in DRIFT_METRICS
    ),
)
