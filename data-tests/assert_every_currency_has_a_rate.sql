-- Every staged money row that reaches the marts (not quarantined, with a currency) needs a rate in
-- seed currency_rates for its currency and month, and so does the reporting currency: otherwise
-- to_reporting_currency() stops the build. Returns the currency and month to add to the seed.
-- Unknown currencies are already quarantined in staging; a month outside the seed is caught here.
{%- set money_tables = [
    ('stg_shop__orders', 'ordered_at'),
    ('stg_shop__refunds', 'refunded_at'),
    ('stg_shop__checkouts', 'created_at'),
    ('stg_subscriptions__subscriptions', 'started_at'),
    ('stg_email__campaigns', 'sent_at'),
    ('stg_marketing__ad_spend', 'spend_date'),
] %}

with

rates as (
    select * from {{ ref('currency_rates') }}
),

money_rows as (
    {% for model, at_column in money_tables %}
    select
        '{{ model }}' as model_name,
        currency,
        cast({{ dbt.date_trunc('month', at_column) }} as date) as rate_month
    from {{ ref(model) }}
    where not is_quarantined and currency is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

needed as (
    select
        model_name,
        currency,
        rate_month
    from money_rows
    union
    select
        model_name,
        '{{ var("reporting_currency") | trim | upper }}' as currency,
        rate_month
    from money_rows
),

missing as (
    select
        needed.model_name,
        needed.currency,
        needed.rate_month
    from needed
    left join rates
        on
            needed.currency = rates.currency
            and needed.rate_month = rates.month
    where rates.currency is null
)

select * from missing
