{#- Currency conversion, written once (KPIS.md: money in the marts is in the reporting currency,
    converted at the month's rate from seed `currency_rates`).

    The seed holds, per month and currency, `rate_to_usd` = US dollars per one unit of the
    currency. Any reporting currency R works: amount in C → amount × rate(C→USD) / rate(R→USD),
    both rates of the same month.

    to_reporting_currency(amount, currency, at, reporting_currency=var('reporting_currency'))
      amount    decimal expression (NULL stays NULL)
      currency  ISO 4217 expression of the amount (coalesce a fallback first, e.g. a refund
                without currency takes its order's)
      at        date or timestamp whose month picks the rate (orders: ordered_at)
    Returns decimal(18, 4). An amount already in the reporting currency is returned unchanged.
    A non-NULL amount whose currency or month has no rate is an ERROR on DuckDB (never a silent
    NULL); data-tests/assert_every_currency_has_a_rate.sql finds such rows before a mart does,
    and staging quarantines unknown currencies. Pass column names that do not clash with the
    lookup's own (rate_currency, rate_month, rate_to_usd). -#}
{% macro to_reporting_currency(amount, currency, at, reporting_currency=none) -%}
    {%- set reporting = reporting_currency or var('reporting_currency') -%}
    {%- set reporting_sql = "'" ~ (reporting | trim | upper) ~ "'" -%}
    case
        when {{ amount }} is null then null
        when {{ currency }} = {{ reporting_sql }} then cast({{ amount }} as decimal(18, 4))
        else {{ currency_conversion_or_error(
            "cast(" ~ amount ~ " as decimal(18, 4)) * "
                ~ currency_rate_to_usd(currency, at) ~ " / "
                ~ currency_rate_to_usd(reporting_sql, at),
            currency,
            at,
            reporting_sql,
        ) }}
    end
{%- endmacro %}

{#- US dollars per one unit of `currency` in the month of `at`: a scalar subquery on the seed. -#}
{% macro currency_rate_to_usd(currency, at) -%}
    (
        select rates.rate_to_usd
        from (
            select
                currency_rates.currency as rate_currency,
                currency_rates.month as rate_month,
                currency_rates.rate_to_usd
            from {{ ref('currency_rates') }} as currency_rates
        ) as rates
        where
            rates.rate_currency = {{ currency }}
            and rates.rate_month = cast({{ dbt.date_trunc('month', at) }} as date)
    )
{%- endmacro %}

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
            || coalesce(cast({{ currency }} as varchar), 'NULL currency')
            || ' or for the reporting currency ' || {{ reporting_sql }}
            || ' in the month of ' || coalesce(cast({{ at }} as varchar), 'NULL')
        )
    )
{%- endmacro %}

{#- The join key of seed `channel_mapping`: free-text utm_source / acquisition_channel / ad
    channel, trimmed and lower-cased, empty = NULL (so a missing utm_source can fall back to the
    next source of the channel, KPIS.md). Map with `left join channel_mapping on
    channel_mapping.source_value = {{ channel_source_value(col) }}`, then
    `coalesce(channel_mapping.channel, 'unknown')`. -#}
{% macro channel_source_value(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
