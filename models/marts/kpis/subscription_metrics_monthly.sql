{#- docs/kpis.md, subscription_metrics_monthly: one row per month from the first subscription start
    up to the month of as_of_date. A subscription is active at an instant t when it started
    before t and has not ended at or before t: the one definition of fct_subscriptions
    (int_subscriptions_attributed: a PAUSED or expired subscription is not active; an end after
    as_of_date is ignored). cancelled_subscriptions and churned_mrr count cancellations only (a
    pause leaves the active count and MRR without being a cancellation). "Month end" is the end
    of the month, or the end of as_of_date for its month, so the as_of_date month's mrr equals
    the sum of dim_customers.mrr. -#}
with

subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

subscriptions_as_of as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_key,
        subscriptions.monthly_price,
        subscriptions.started_at,
        case
            when cast(subscriptions.cancelled_at as date) <= {{ as_of_date() }}
                then subscriptions.cancelled_at
        end as cancelled_at,
        case
            when cast(subscriptions.ended_at as date) <= {{ as_of_date() }}
                then subscriptions.ended_at
        end as ended_at
    from subscriptions
    where cast(subscriptions.started_at as date) <= {{ as_of_date() }}
),

months as (
    {{ months_through_as_of('subscriptions_as_of', month_start('subscriptions_as_of.started_at')) }}
),

periods as (
    select
        months.month,
        cast(months.month as timestamp) as period_start,
        least(
            cast({{ dbt.dateadd('month', 1, 'months.month') }} as timestamp),
            cast({{ dbt.dateadd('day', 1, as_of_date()) }} as timestamp)
        ) as period_end
    from months
),

subscription_months as (
    select
        periods.month,
        subscriptions_as_of.subscription_id,
        subscriptions_as_of.customer_key,
        subscriptions_as_of.monthly_price,
        (
            subscriptions_as_of.started_at < periods.period_start
            and coalesce(subscriptions_as_of.ended_at >= periods.period_start, true)
        ) as is_active_at_start,
        (
            subscriptions_as_of.started_at < periods.period_end
            and coalesce(subscriptions_as_of.ended_at >= periods.period_end, true)
        ) as is_active_at_end,
        (
            subscriptions_as_of.started_at >= periods.period_start
            and subscriptions_as_of.started_at < periods.period_end
        ) as is_new,
        coalesce(
            subscriptions_as_of.cancelled_at >= periods.period_start
            and subscriptions_as_of.cancelled_at < periods.period_end,
            false
        ) as is_cancelled
    from periods
    inner join subscriptions_as_of on periods.period_end > subscriptions_as_of.started_at
),

subscriber_months as (
    select
        subscription_months.month,
        subscription_months.customer_key,
        bool_or(subscription_months.is_active_at_start) as is_active_at_start,
        bool_or(subscription_months.is_active_at_end) as is_active_at_end
    from subscription_months
    where subscription_months.customer_key is not null
    group by subscription_months.month, subscription_months.customer_key
),

subscriptions_by_month as (
    select
        subscription_months.month,
        count(case when subscription_months.is_active_at_start then 1 end)
            as active_subscriptions_at_start,
        count(case when subscription_months.is_new then 1 end) as new_subscriptions,
        count(case when subscription_months.is_cancelled then 1 end) as cancelled_subscriptions,
        count(case when subscription_months.is_active_at_end then 1 end)
            as active_subscriptions_at_end,
        {{ sum_money(
            'case when subscription_months.is_active_at_end then subscription_months.monthly_price end'
        ) }} as mrr,
        {{ sum_money(
            'case when subscription_months.is_cancelled then subscription_months.monthly_price end'
        ) }} as churned_mrr
    from subscription_months
    group by subscription_months.month
),

subscribers_by_month as (
    select
        subscriber_months.month,
        count(case when subscriber_months.is_active_at_start then 1 end)
            as active_subscribers_at_start,
        count(
            case
                when subscriber_months.is_active_at_start and not subscriber_months.is_active_at_end
                    then 1
            end
        ) as churned_subscribers
    from subscriber_months
    group by subscriber_months.month
),

joined as (
    select
        months.month,
        coalesce(subscriptions_by_month.active_subscriptions_at_start, 0)
            as active_subscriptions_at_start,
        coalesce(subscriptions_by_month.new_subscriptions, 0) as new_subscriptions,
        coalesce(subscriptions_by_month.cancelled_subscriptions, 0) as cancelled_subscriptions,
        coalesce(subscriptions_by_month.active_subscriptions_at_end, 0)
            as active_subscriptions_at_end,
        coalesce(subscribers_by_month.active_subscribers_at_start, 0)
            as active_subscribers_at_start,
        coalesce(subscribers_by_month.churned_subscribers, 0) as churned_subscribers,
        coalesce(subscriptions_by_month.mrr, 0) as mrr,
        coalesce(subscriptions_by_month.churned_mrr, 0) as churned_mrr
    from months
    left join subscriptions_by_month on months.month = subscriptions_by_month.month
    left join subscribers_by_month on months.month = subscribers_by_month.month
),

final as (
    select
        joined.month,
        -- subscriptions
        joined.active_subscriptions_at_start,
        joined.new_subscriptions,
        joined.cancelled_subscriptions,
        joined.active_subscriptions_at_end,
        {{ churn_rate('joined.cancelled_subscriptions', 'joined.active_subscriptions_at_start') }}
            as subscription_churn_rate,
        -- subscribers (customers)
        joined.active_subscribers_at_start,
        joined.churned_subscribers,
        {{ churn_rate('joined.churned_subscribers', 'joined.active_subscribers_at_start') }}
            as subscriber_churn_rate,
        -- money
        joined.mrr,
        joined.churned_mrr
    from joined
)

select * from final
