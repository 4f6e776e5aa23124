{#- Currency conversion, written once (docs/kpis.md: money in the marts is in the reporting
    currency, converted at the month's rate from seed `currency_rates`).

    The seed holds, per month and currency, `rate_to_usd` = US dollars per one unit of the
    currency. Any reporting currency R works:
    amount in C → amount × rate(C→USD) / rate(R→USD), both rates of the same month.

    to_reporting_currency(amount, currency, at, reporting_currency=var('reporting_currency'))
      amount    decimal expression (NULL stays NULL)
      currency  ISO 4217 expression of the amount (coalesce a fallback first, e.g. a refund
                without currency takes its order's)
      at        date or timestamp whose month picks the rate: on a large table, a column
                holding currency_rate_month(<timestamp>) (below), computed in a CTE before.
                The rate lookups are subqueries correlated on `at`, so the engine looks up
                each distinct value of it: each timestamp of 10 million orders, or a few
                dozen months (four lookups per row took about a third of fct_orders' build
                at tier l with the timestamp; benchmarks/README.md). Same rate either way.
    Returns decimal(18, 4), rounded once from a double quotient: the product amount × rate is
    exact (decimal), the division is in double precision on every engine. (DuckDB divides
    decimals in double anyway; Spark would divide in decimal and round to 6 places first, and
    that double rounding moved the fourth decimal of some amounts.) An amount already in the
    reporting currency is returned unchanged and needs no rate, in any month (a 1990s history
    in the reporting currency converts).
    Staging quarantines the rows that could not convert (has_currency_rate() below: unknown
    currency, or no rate for the month), so the marts only see convertible rows; a non-NULL
    amount that still has no rate is an ERROR on DuckDB (never a silent NULL).
    data-tests/assert_every_currency_has_a_rate.sql (warning) names the seed rows to add.
    With CLM_CURRENCY_RATE_FALLBACK=nearest a month without a rate takes the nearest month's
    rate of that currency instead (and the same warning names the months). Pass column names
    that do not clash with the lookup's own (rate_currency, rate_month, rate_to_usd). -#}
{% macro to_reporting_currency(amount, currency, at, reporting_currency=none) -%}
    {%- set reporting = reporting_currency or var('reporting_currency') -%}
    {%- set reporting_sql = "'" ~ (reporting | trim | upper) ~ "'" -%}
    case
        when {{ amount }} is null then null
        when {{ currency }} = {{ reporting_sql }} then cast({{ amount }} as decimal(18, 4))
        else {{ currency_conversion_or_error(
            "cast(cast(" ~ amount ~ " as decimal(18, 4)) * "
                ~ currency_rate_to_usd(currency, at) ~ " as double) / cast("
                ~ currency_rate_to_usd(reporting_sql, at) ~ " as double)",
            currency,
            at,
            reporting_sql,
        ) }}
    end
{%- endmacro %}

{#- The month whose rate converts an amount at `at` (a date or timestamp): its first day, a date.
    The one definition of "the month's rate" (a month's first day is its own month). -#}
{% macro currency_rate_month(at) -%}
    cast({{ dbt.date_trunc('month', at) }} as date)
{%- endmacro %}

{#- US dollars per one unit of `currency` in the month of `at`: a scalar subquery on the seed.
    With the `nearest` fallback, the rate of the nearest month the seed has for that currency
    (the earlier month on a tie). -#}
{% macro currency_rate_to_usd(currency, at) -%}
    {%- set month_sql = currency_rate_month(at) -%}
    (
        select
            {%- if currency_rate_fallback() == 'nearest' %}
            arg_min(
                rates.rate_to_usd,
                abs(datediff('day', {{ month_sql }}, rates.rate_month)) * 2
                + case when rates.rate_month > {{ month_sql }} then 1 else 0 end
            )
            {%- else %}
            rates.rate_to_usd
            {%- endif %}
        from (
            select
                currency_rates.currency as rate_currency,
                currency_rates.month as rate_month,
                currency_rates.rate_to_usd
            from {{ ref('currency_rates') }} as currency_rates
        ) as rates
        where
            rates.rate_currency = {{ currency }}
            {%- if currency_rate_fallback() != 'nearest' %}
            and rates.rate_month = {{ month_sql }}
            {%- endif %}
    )
{%- endmacro %}

{#- var('currency_rate_fallback') (setting CLM_CURRENCY_RATE_FALLBACK, docs/staging-rules.md,
    validated by the settings registry): `none` (default) quarantines a row whose foreign
    currency has no rate for its month; `nearest` converts it at the nearest month's rate of that
    currency (warning-level data test assert_every_currency_has_a_rate names the months). -#}
{% macro currency_rate_fallback() -%}
    {{ return(var('currency_rate_fallback')) }}
{%- endmacro %}

{#- True when an amount in `currency` at `at` converts to the reporting currency: no currency
    (the caller's fallback applies), the reporting currency itself (no rate needed), or a rate
    for both the currency and the reporting currency in that month (with the `nearest`
    fallback: in any month). Staging quarantines rows where this is false, so a missing rate is
    a counted quarantine row, never a failed build. A subquery on the seed, not a join: staging
    stays one row of one table. -#}
{% macro has_currency_rate(currency, at, reporting_currency=none) -%}
    {{ return(adapter.dispatch('has_currency_rate')(currency, at, reporting_currency)) }}
{%- endmacro %}

{% macro default__has_currency_rate(currency, at, reporting_currency=none) -%}
    {%- set reporting = reporting_currency or var('reporting_currency') -%}
    {%- set reporting_sql = "'" ~ (reporting | trim | upper) ~ "'" -%}
    {%- set month_sql = currency_rate_month(at) -%}
    {%- set nearest = currency_rate_fallback() == 'nearest' -%}
    {#- Uncorrelated subqueries (a (currency, month) pair, then the month), each a semi-join on a
        few hundred seed rows: the correlated form (`where rated.month = <the row's month>`)
        made DuckDB buffer every staged row for its delim join, which ran a 30-million-row
        staging table out of 8 GB of memory at tier l (benchmarks/README.md). coalesce: a NULL
        month has no rate (as the correlated form said), not an unknown answer. -#}
    (
        {{ currency }} is null
        or {{ currency }} = {{ reporting_sql }}
        {%- if nearest %}
        or (
            {{ currency }} in (select rated.currency from {{ ref('currency_rates') }} as rated)
            and {{ reporting_sql }} in (
                select rated.currency from {{ ref('currency_rates') }} as rated
            )
        )
        {%- else %}
        or (
            coalesce(({{ currency }}, {{ month_sql }}) in (
                select rated.currency, rated.month from {{ ref('currency_rates') }} as rated
            ), false)
            and coalesce({{ month_sql }} in (
                select rated.month from {{ ref('currency_rates') }} as rated
                where rated.currency = {{ reporting_sql }}
            ), false)
        )
        {%- endif %}
    )
{%- endmacro %}

{#- Spark: a correlated IN inside CASE trips Spark 4.3's subquery rewrite ("key not found:
    month#…"), and a subquery expression that Spark keeps as such (an IN on a computed key, an
    uncorrelated scalar subquery) fails to serialise its plan when the seed is a union (unit
    test fixtures). Correlated scalar counts with equality predicates are rewritten into joins
    and say the same. The seed's columns are renamed so that the caller's column names (often
    `currency`) cannot be captured by the subquery. -#}
{% macro spark__has_currency_rate(currency, at, reporting_currency=none) -%}
    {%- set reporting = reporting_currency or var('reporting_currency') -%}
    {%- set reporting_sql = "'" ~ (reporting | trim | upper) ~ "'" -%}
    {%- set month_sql = currency_rate_month(at) -%}
    {%- set nearest = currency_rate_fallback() == 'nearest' -%}
    (
        {{ currency }} is null
        or {{ currency }} = {{ reporting_sql }}
        or (
            {%- for wanted in [currency, reporting_sql] %}
            (
                select count(*)
                from (
                    select
                        currency_rates.currency as rate_currency,
                        currency_rates.month as rate_month
                    from {{ ref('currency_rates') }} as currency_rates
                ) as rated
                where
                    rated.rate_currency = {{ wanted }}
                    {%- if not nearest %}
                    and rated.rate_month = {{ month_sql }}
                    {%- endif %}
            ) > 0
            {%- if not loop.last %} and{% endif %}
            {%- endfor %}
        )
    )
{%- endmacro %}

{#- The quarantine reason of a row whose currency has no rate for its month (one text, used by
    staging and by int_refunds_referenced). -#}
{% macro no_currency_rate_reason() -%}no exchange rate for its currency and month{%- endmacro %}

{% macro currency_conversion_or_error(converted, currency, at, reporting_sql) -%}
    {{ return(adapter.dispatch('currency_conversion_or_error')(converted, currency, at, reporting_sql)) }}
{%- endmacro %}

{#- Engines without a raising function return NULL; the data test is the guard there. -#}
{% macro default__currency_conversion_or_error(converted, currency, at, reporting_sql) -%}
    cast({{ converted }} as decimal(18, 4))
{%- endmacro %}

{% macro duckdb__currency_conversion_or_error(converted, currency, at, reporting_sql) -%}
    coalesce(
        cast({{ converted }} as decimal(18, 4)),
        error(
            'to_reporting_currency: seed currency_rates has no rate for '
            || coalesce(cast({{ currency }} as string), 'NULL currency')
            || ' or for the reporting currency ' || {{ reporting_sql }}
            || ' in the month of ' || coalesce(cast({{ at }} as string), 'NULL')
        )
    )
{%- endmacro %}

{#- The sum of a money column, typed decimal(38, 4) on every engine: DuckDB widens a decimal sum
    to 38 digits, Spark to 10 more than its input's, and the published column type must not
    depend on the engine (docs/spark.md). Every money sum goes through here; `over` makes it a
    window sum (the window's specification, without the parentheses). -#}
{% macro sum_money(expression, over=none) -%}
    cast(sum({{ expression }}){% if over %} over ({{ over }}){% endif %} as decimal(38, 4))
{%- endmacro %}

{#- The join key of seed `channel_mapping`: free-text utm_source / acquisition_channel / ad
    channel, trimmed and lower-cased, empty = NULL (so a missing utm_source can fall back to the
    next source of the channel, docs/kpis.md). Map with `left join channel_mapping on
    channel_mapping.source_value = {{ channel_source_value(col) }}`, then
    `coalesce(channel_mapping.channel, 'unknown')`. -#}
{% macro channel_source_value(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
