{#- MetricFlow's time spine (docs/semantic-layer.md): one row per day from 1 January of the year
    of the earliest date any semantic model measures, up to as_of_date, so cumulative metrics
    and metric_time stop where the marts stop. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

marketing_spend as (
    select * from {{ ref('fct_marketing_spend') }}
),

checkouts as (
    select * from {{ ref('fct_checkouts') }}
),

feedback as (
    select * from {{ ref('fct_feedback') }}
),

subscription_months as (
    select * from {{ ref('subscription_metrics_monthly') }}
),

social_months as (
    select * from {{ ref('social_engagement_monthly') }}
),

campaigns as (
    select * from {{ ref('email_campaign_performance') }}
),

first_dates as (
    select min(orders.order_date) as first_date from orders
    union all
    select min(marketing_spend.spend_date) as first_date from marketing_spend
    union all
    select min(checkouts.checkout_date) as first_date from checkouts
    union all
    select min(feedback.submitted_date) as first_date from feedback
    union all
    select min(subscription_months.month) as first_date from subscription_months
    union all
    select min(social_months.month) as first_date from social_months
    union all
    select min(cast(campaigns.sent_at as date)) as first_date from campaigns
),

bounds as (
    select
        cast({{ dbt.date_trunc('year', 'coalesce(min(first_dates.first_date), ' ~ as_of_date() ~ ')') }} as date)
            as first_day,
        {{ as_of_date() }} as last_day
    from first_dates
),

days as (
    {{ day_spine('bounds', 'bounds.first_day', 'bounds.last_day') }}
),

final as (
    select days.date_day
    from days
)

select * from final
