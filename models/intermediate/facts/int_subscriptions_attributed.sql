{#- One row per subscription started up to as_of_date, with its customer_key (macro
    customer_key_for: billing customer, else email). monthly_price: the price normalised to a
    month (docs/kpis.md: week × 52/12, month × 1, year / 12) in the reporting currency at the rate of
    the as_of_date month. Published as fct_subscriptions.

    The ONE definition of an active subscription, used by every mart (dim_customers.mrr,
    subscription_metrics_monthly, segments): active from started_at until ended_at. A PAUSED
    subscription is NOT active (it bills nothing), nor is an expired one. The export gives a
    status as of the row's updated_at, so a paused, expired or cancelled subscription without a
    cancelled_at is taken to have ended at its updated_at (else at its start: never active). -#}

with

subscriptions as (
    select * from {{ ref('stg_subscriptions__subscriptions') }}
    where not is_quarantined
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

ended as (
    select
        subscriptions.*,
        case
            when subscriptions.status = 'active' then subscriptions.cancelled_at
            else coalesce(subscriptions.cancelled_at, subscriptions.updated_at, subscriptions.started_at)
        end as ended_at
    from subscriptions
),

final as (
    select
        -- ids
        ended.subscription_id,
        {{ customer_key_for([
            ('billing_customer_id', 'ended.billing_customer_id'),
            ('email', 'ended.email'),
        ]) }} as customer_key,
        ended.billing_customer_id,
        ended.email,
        -- attributes
        ended.plan_name,
        ended.billing_interval,
        ended.status,
        ended.cancel_reason,
        -- money
        ended.currency,
        ended.price,
        {{ to_reporting_currency(
            "ended.price * case ended.billing_interval"
                ~ " when 'week' then cast(52 as decimal(18, 4)) / 12"
                ~ " when 'month' then 1"
                ~ " when 'year' then cast(1 as decimal(18, 4)) / 12 end",
            'ended.currency',
            'as_of.as_of_date',
        ) }} as monthly_price,
        -- timestamps
        ended.started_at,
        ended.cancelled_at,
        ended.ended_at,
        -- flags: active on as_of_date = not ended on or before it
        coalesce(cast(ended.ended_at as date) > as_of.as_of_date, true) as is_active
    from ended
    cross join as_of
    where cast(ended.started_at as date) <= as_of.as_of_date
)

select * from final
