-- Warning, not an error (docs/staging-rules.md): the seed rows to add to seeds/currency_rates.csv,
-- one per currency and month that a staged money row needed and did not find. Such rows are
-- quarantined in staging ("no exchange rate for its currency and month", counted in the
-- quarantine list) or, with CLM_CURRENCY_RATE_FALLBACK=nearest, converted at the nearest month's
-- rate; either way the build goes on. An amount in the reporting currency needs no rate. After
-- adding the rows, rebuild the incremental staging models (`dbt build --full-refresh`) so the
-- quarantined rows are judged again. Refunds are converted at their order's month.
{{ config(severity='warn') }}

{%- set reporting_sql = "'" ~ (var('reporting_currency') | trim | upper) ~ "'" -%}
{%- set money_tables = [
    ('stg_shop__orders', 'ordered_at'),
    ('stg_shop__checkouts', 'created_at'),
    ('stg_email__campaigns', 'sent_at'),
    ('stg_marketing__ad_spend', 'spend_date'),
] %}

with

rates as (
    select * from {{ ref('currency_rates') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

money_rows as (
    {% for model, at_column in money_tables %}
    select
        '{{ model }}' as model_name,
        currency,
        cast({{ dbt.date_trunc('month', at_column) }} as date) as rate_month
    from {{ ref(model) }}
    where currency is not null and currency != {{ reporting_sql }}
    union all
    {% endfor %}
    select
        'stg_shop__refunds' as model_name,
        coalesce(refunds.currency, orders.currency) as currency,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as rate_month
    from refunds
    inner join orders on refunds.order_id = orders.order_id
    where coalesce(refunds.currency, orders.currency) != {{ reporting_sql }}
),

known_currencies as (
    select distinct currency from rates
),

-- the foreign currency and the reporting currency both need a rate in the month
needed as (
    select
        money_rows.model_name,
        money_rows.currency,
        money_rows.rate_month
    from money_rows
    -- an unknown currency is quarantined as such: adding one month would not be the fix
    inner join known_currencies on money_rows.currency = known_currencies.currency
    union
    select
        money_rows.model_name,
        {{ reporting_sql }} as currency,
        money_rows.rate_month
    from money_rows
),

missing as (
    select
        needed.currency,
        needed.rate_month,
        count(distinct needed.model_name) as models_needing_it,
        {{ sorted_list('needed.model_name') }} as model_names
    from needed
    left join rates
        on
            needed.currency = rates.currency
            and needed.rate_month = rates.month
    where rates.currency is null
    group by needed.currency, needed.rate_month
),

final as (
    select
        currency,
        rate_month,
        models_needing_it,
        model_names,
        -- the exact line to add to seeds/currency_rates.csv (month,currency,rate_to_usd)
        cast(rate_month as string) || ',' || currency || ',<rate_to_usd>' as seed_row_to_add
    from missing
)

select * from final
