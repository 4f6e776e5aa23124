{#- docs/kpis.md, kpi_monthly: one row per calendar month, from the first month with any order,
    spend, checkout or NPS response up to the month of as_of_date (a month without data still
    has a row: counts and money 0, ratios NULL). -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

checkouts as (
    select * from {{ ref('fct_checkouts') }}
),

feedback as (
    select * from {{ ref('fct_feedback') }}
),

marketing_spend as (
    select * from {{ ref('int_marketing_spend_unioned') }}
),

valid_orders as (
    select
        orders.order_id,
        orders.customer_key,
        orders.net_revenue,
        orders.customer_order_number,
        {{ month_start('orders.order_date') }} as month
    from orders
    where orders.is_valid_order and orders.order_date <= {{ as_of_date() }}
),

orders_by_month as (
    select
        valid_orders.month,
        count(*) as orders,
        count(distinct valid_orders.customer_key) as active_customers,
        {{ sum_money('valid_orders.net_revenue') }} as net_revenue,
        count(case when valid_orders.customer_order_number = 1 then 1 end) as new_customers,
        -- a customer becomes a repeat customer in the month of their second valid order
        count(case when valid_orders.customer_order_number = 2 then 1 end) as new_repeat_customers
    from valid_orders
    group by valid_orders.month
),

spend_by_month as (
    select
        {{ month_start('marketing_spend.spend_date') }} as month,
        {{ sum_money('marketing_spend.spend') }} as marketing_spend
    from marketing_spend
    group by {{ month_start('marketing_spend.spend_date') }}
),

checkouts_by_month as (
    select
        {{ month_start('checkouts.created_at') }} as month,
        count(*) as checkouts,
        count(case when checkouts.is_abandoned then 1 end) as abandoned_checkouts
    from checkouts
    where cast(checkouts.created_at as date) <= {{ as_of_date() }}
    group by {{ month_start('checkouts.created_at') }}
),

nps_by_month as (
    select
        {{ month_start('feedback.submitted_at') }} as month,
        count(*) as nps_responses,
        count(case when {{ is_nps_promoter('feedback.score') }} then 1 end) as nps_promoters,
        count(case when {{ is_nps_detractor('feedback.score') }} then 1 end) as nps_detractors
    from feedback
    where
        feedback.feedback_type = 'nps'
        and cast(feedback.submitted_at as date) <= {{ as_of_date() }}
    group by {{ month_start('feedback.submitted_at') }}
),

months_with_data as (
    select orders_by_month.month from orders_by_month
    union all
    select spend_by_month.month from spend_by_month
    union all
    select checkouts_by_month.month from checkouts_by_month
    union all
    select nps_by_month.month from nps_by_month
),

months as (
    {{ months_through_as_of('months_with_data', 'months_with_data.month') }}
),

joined as (
    -- ST06 would reorder this select; columns stay grouped by subject
    select  -- noqa: ST06
        months.month,
        coalesce(orders_by_month.new_customers, 0) as new_customers,
        coalesce(orders_by_month.active_customers, 0) as active_customers,
        coalesce(orders_by_month.orders, 0) as orders,
        coalesce(orders_by_month.net_revenue, 0) as net_revenue,
        coalesce(spend_by_month.marketing_spend, 0) as marketing_spend,
        coalesce(checkouts_by_month.checkouts, 0) as checkouts,
        coalesce(checkouts_by_month.abandoned_checkouts, 0) as abandoned_checkouts,
        coalesce(nps_by_month.nps_responses, 0) as nps_responses,
        coalesce(nps_by_month.nps_promoters, 0) as nps_promoters,
        coalesce(nps_by_month.nps_detractors, 0) as nps_detractors,
        -- cumulative counts: a sum of integers is HUGEINT on DuckDB, counts are BIGINT
        cast(sum(coalesce(orders_by_month.new_customers, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as bigint) as customers_to_date,
        cast(sum(coalesce(orders_by_month.new_repeat_customers, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as bigint) as repeat_customers_to_date
    from months
    left join orders_by_month on months.month = orders_by_month.month
    left join spend_by_month on months.month = spend_by_month.month
    left join checkouts_by_month on months.month = checkouts_by_month.month
    left join nps_by_month on months.month = nps_by_month.month
),

final as (
    select
        joined.month,
        -- customers
        joined.new_customers,
        joined.active_customers,
        -- orders and money
        joined.orders,
        joined.net_revenue,
        {{ aov('joined.net_revenue', 'joined.orders') }} as aov,
        {{ transaction_frequency('joined.orders', 'joined.active_customers') }}
            as transaction_frequency,
        joined.marketing_spend,
        {{ cac('joined.marketing_spend', 'joined.new_customers') }} as cac,
        -- repeat purchase, cumulative as of month end
        joined.customers_to_date,
        joined.repeat_customers_to_date,
        {{ repeat_purchase_rate('joined.repeat_customers_to_date', 'joined.customers_to_date') }}
            as repeat_purchase_rate,
        -- checkouts
        joined.checkouts,
        joined.abandoned_checkouts,
        {{ cart_abandonment_rate('joined.abandoned_checkouts', 'joined.checkouts') }}
            as cart_abandonment_rate,
        -- NPS
        joined.nps_responses,
        joined.nps_promoters,
        joined.nps_detractors,
        {{ nps('joined.nps_promoters', 'joined.nps_detractors', 'joined.nps_responses') }} as nps
    from joined
)

select * from final
