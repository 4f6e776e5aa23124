"""What dbt tests say poorly, as data: thresholds, drift metrics and per-model rules.

Each rule becomes an expectation in the model's suite (``scaffold.py`` writes it, keyed by
``meta.key`` so editing the suite by hand survives the next scaffold). Thresholds are DuckDB
variables (``getvariable('clm_…')``) that the runner sets on every GE connection from the
environment (``CLM_…``) or, failing that, from the expectation's ``meta.threshold.default``;
the query repeats the default in a ``coalesce`` so the suite also works when run by plain GE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestration.quality.results import Severity
from orchestration.settings import raw as setting_text


@dataclass(frozen=True)
class Threshold:
    """A tunable number used by a rule's SQL."""

    variable: str  # DuckDB variable read by the query
    env: str  # environment variable that overrides the default
    default: float | int | str
    description: str

    def sql(self) -> str:
        """The SQL expression reading the threshold, with its default."""
        default = f"'{self.default}'" if isinstance(self.default, str) else str(self.default)
        return f"coalesce(getvariable('{self.variable}'), {default})"

    def meta(self) -> dict[str, Any]:
        """How the threshold is documented in the expectation's ``meta``."""
        return {"variable": self.variable, "env": self.env, "default": self.default}

    def current(self) -> float | int | str:
        """The value in force: the environment, else the default."""
        raw = setting_text(self.env)  # the environment's value, else the registry's default
        if raw is None or raw == "":
            return self.default
        if isinstance(self.default, str):
            return raw
        return float(raw) if "." in raw else int(raw)


DRIFT_MAX_PCT = Threshold(
    "clm_drift_max_pct", "CLM_DRIFT_MAX_PCT", 50, "Largest change of a run metric, percent."
)
FRESHNESS_MAX_DAYS = Threshold(
    "clm_freshness_max_days",
    "CLM_FRESHNESS_MAX_DAYS",
    3,
    "Newest clean order at most this many days before as_of_date.",
)
MAX_UNIT_PRICE = Threshold(
    "clm_max_unit_price",
    "CLM_MAX_UNIT_PRICE",
    5000,
    "A unit price above this is implausible (typically an export in cents).",
)
MAX_ORDER_SUBTOTAL = Threshold(
    "clm_max_order_subtotal",
    "CLM_MAX_ORDER_SUBTOTAL",
    20000,
    "An order subtotal above this is implausible (typically an export in cents).",
)
# Empty = the latest order date, as in dbt (KPIS.md); passed as text, parsed in SQL.
AS_OF_DATE = Threshold("clm_as_of_date", "CLM_AS_OF_DATE", "", "dbt's as_of_date var.")

THRESHOLDS: tuple[Threshold, ...] = (
    DRIFT_MAX_PCT,
    FRESHNESS_MAX_DAYS,
    MAX_UNIT_PRICE,
    MAX_ORDER_SUBTOTAL,
    AS_OF_DATE,
)


@dataclass(frozen=True)
class DriftMetric:
    """A run metric: computed from one table, stored per successful run, compared next run."""

    name: str
    model: str
    # SQL returning one row with one column ``value``; ``{table}`` is the model's relation.
    value_sql: str
    description: str


DRIFT_METRICS: tuple[DriftMetric, ...] = (
    DriftMetric(
        "orders_per_day",
        "fct_orders",
        "select count(*) * 1.0 / nullif(count(distinct order_date), 0) as value "
        "from {table} where is_valid_order",
        "Valid orders per day with orders.",
    ),
    DriftMetric(
        "average_order_value",
        "fct_orders",
        "select sum(net_revenue) * 1.0 / nullif(count(*), 0) as value "
        "from {table} where is_valid_order",
        "Net revenue per valid order (KPIS.md AOV), all time.",
    ),
    DriftMetric(
        "email_open_rate",
        "email_campaign_performance",
        "select sum(opened) * 1.0 / nullif(sum(delivered), 0) as value from {table}",
        "Unique opens / delivered over every campaign.",
    ),
)


@dataclass(frozen=True)
class Rule:
    """One expectation to add to a model's suite."""

    key: str
    model: str
    severity: Severity
    description: str
    expectation_type: str
    kwargs: dict[str, Any]
    threshold: Threshold | None = None
    requires_models: tuple[str, ...] = field(default_factory=tuple)


def drift_query(metric: DriftMetric) -> str:
    """Rows when the metric moved more than the threshold since the last successful run."""
    current = metric.value_sql.format(table="{batch}")
    return (
        f"with current_metric as ({current}), "
        "previous_metric as ("
        "select value from audit.run_metrics "
        f"where metric = '{metric.name}' and value is not null "
        "order by recorded_at desc limit 1) "
        f"select '{metric.name}' as metric, previous_metric.value as previous_value, "
        "current_metric.value as current_value "
        "from current_metric cross join previous_metric "
        "where previous_metric.value <> 0 and abs(coalesce(current_metric.value, 0) "
        f"- previous_metric.value) / abs(previous_metric.value) * 100 > {DRIFT_MAX_PCT.sql()}"
    )


def _drift_rules() -> list[Rule]:
    return [
        Rule(
            key=f"drift:{metric.name}",
            model=metric.model,
            severity="warning",
            description=(
                f"Drift: {metric.description} moves at most CLM_DRIFT_MAX_PCT percent "
                "from the previous successful run (first run: no baseline, passes)."
            ),
            expectation_type="unexpected_rows_expectation",
            kwargs={"unexpected_rows_query": drift_query(metric)},
            threshold=DRIFT_MAX_PCT,
        )
        for metric in DRIFT_METRICS
    ]


RULES: tuple[Rule, ...] = (
    Rule(
        key="range:unit_price_max",
        model="stg_shop__order_lines",
        severity="warning",
        description="Unit price below CLM_MAX_UNIT_PRICE: above it the export is likely in cents.",
        expectation_type="unexpected_rows_expectation",
        kwargs={
            "unexpected_rows_query": (
                "select order_line_id, order_id, unit_price from {batch} "
                f"where not is_quarantined and unit_price > {MAX_UNIT_PRICE.sql()}"
            )
        },
        threshold=MAX_UNIT_PRICE,
    ),
    Rule(
        key="range:order_subtotal_max",
        model="stg_shop__orders",
        severity="warning",
        description=(
            "Order subtotal below CLM_MAX_ORDER_SUBTOTAL: above it the export is likely in cents."
        ),
        expectation_type="unexpected_rows_expectation",
        kwargs={
            "unexpected_rows_query": (
                "select order_id, currency, subtotal from {batch} "
                f"where not is_quarantined and subtotal > {MAX_ORDER_SUBTOTAL.sql()}"
            )
        },
        threshold=MAX_ORDER_SUBTOTAL,
    ),
    Rule(
        key="reconciliation:raw_equals_staged_plus_removed",
        model="stg_row_accounting",
        severity="blocking",
        description=(
            "Nothing lost between raw and staging: raw rows = staged rows (quarantined "
            "included) + older versions and duplicates removed, for every table."
        ),
        expectation_type="unexpected_rows_expectation",
        kwargs={
            "unexpected_rows_query": (
                "select source, table_name, raw_rows, staged_rows, duplicates_removed, "
                "quarantined_rows from {batch} where not is_balanced"
            )
        },
    ),
    Rule(
        key="freshness:newest_clean_order",
        model="fct_orders",
        severity="warning",
        description=(
            "Freshness: the newest valid order is at most CLM_FRESHNESS_MAX_DAYS days before "
            "as_of_date (CLM_AS_OF_DATE, default the latest order date)."
        ),
        expectation_type="unexpected_rows_expectation",
        kwargs={
            "unexpected_rows_query": (
                "with orders as (select order_date, is_valid_order from {batch}), "
                "as_of as (select coalesce(try_cast(nullif("
                f"{AS_OF_DATE.sql()}, '') as date), max(order_date)) as as_of_date from orders), "
                "newest as (select max(order_date) as newest_order_date from orders "
                "where is_valid_order) "
                "select newest.newest_order_date, as_of.as_of_date from newest cross join as_of "
                "where newest.newest_order_date < as_of.as_of_date - "
                f"cast({FRESHNESS_MAX_DAYS.sql()} as integer)"
            )
        },
        threshold=FRESHNESS_MAX_DAYS,
    ),
    *(
        Rule(
            key="volume:rows_when_raw_has_rows",
            model=model,
            severity="blocking",
            description=f"Volume: {model} has rows whenever raw.{raw} has rows.",
            expectation_type="unexpected_rows_expectation",
            kwargs={
                "unexpected_rows_query": (
                    f"select count(*) as raw_rows from raw.{raw} "
                    "having count(*) > 0 and not exists (select 1 from {batch})"
                )
            },
        )
        for model, raw in (
            ("fct_orders", "shop__orders"),
            ("dim_customers", "shop__orders"),
            ("fct_order_lines", "shop__order_lines"),
        )
    ),
    *_drift_rules(),
)
