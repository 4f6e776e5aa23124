{#- Subscriptions per customer as of as_of_date: one row per customer with >= 1 subscription
    started up to it. "Active" is the one definition of int_subscriptions_attributed.is_active
    (paused is not active), so dim_customers.mrr adds up to subscription_metrics_monthly.mrr of
    the as_of_date month (data-tests/assert_mrr_reconciles.sql). -#}
with

subscriptions as (
    select * from {{ ref('int_subscriptions_attributed') }}
),

summarized as (
    select
        subscriptions.customer_key,
        count(*) as subscription_count,
        count(case when subscriptions.is_active then 1 end) as active_subscription_count,
        coalesce(
            {{ sum_money('case when subscriptions.is_active then subscriptions.monthly_price end') }},
            0
        ) as mrr
    from subscriptions
    where subscriptions.customer_key is not null
    group by subscriptions.customer_key
),

final as (
    select
        summarized.customer_key,
        summarized.subscription_count,
        summarized.active_subscription_count,
        summarized.mrr,
        summarized.active_subscription_count > 0 as has_active_subscription,
        summarized.active_subscription_count = 0 as is_subscription_churned
    from summarized
)

select * from final
