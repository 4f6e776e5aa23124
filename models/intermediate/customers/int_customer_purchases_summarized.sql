{#- Valid orders per customer as of as_of_date, computed ONCE: one row per customer with >= 1
    valid order. Everything downstream that needs a customer's order count, revenue, first or
    last order reads it here (dim_customers, customer_clv, segments, kpi_by_channel,
    purchase_ladder). It is also the CLV model's input (docs/kpis.md customer_clv; Fader, Hardie & Lee
    2005), read by the Python CLV asset: all valid orders of one customer on one UTC day are ONE
    purchase, whatever their value. -#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
),

-- the CLV models' unit of purchase: all valid orders of one customer on one UTC day
purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

valid_orders as (
    select
        orders.customer_key,
        orders.ordered_at,
        orders.order_date,
        orders.net_revenue,
        orders.customer_order_number,
        orders.utm_source
    from orders
    where {{ is_customer_order_by_as_of('orders') }}
),

numbered_purchase_days as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.net_revenue,
        row_number() over (
            partition by purchase_days.customer_key
            order by purchase_days.purchase_date
        ) as purchase_number
    from purchase_days
),

purchase_summary as (
    select
        numbered_purchase_days.customer_key,
        min(numbered_purchase_days.purchase_date) as first_purchase_date,
        max(numbered_purchase_days.purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        -- monetary: repeat purchase days only; 0 for a one-time buyer (Gamma-Gamma input)
        coalesce(
            avg(
                case
                    when numbered_purchase_days.purchase_number > 1
                        then cast(numbered_purchase_days.net_revenue as double)
                end
            ),
            0
        ) as monetary_value
    from numbered_purchase_days
    group by numbered_purchase_days.customer_key
),

order_summary as (
    select
        valid_orders.customer_key,
        min(valid_orders.ordered_at) as first_ordered_at,
        max(valid_orders.ordered_at) as last_ordered_at,
        count(*) as valid_order_count,
        {{ sum_money('valid_orders.net_revenue') }} as net_revenue,
        max(case when valid_orders.customer_order_number = 1 then valid_orders.utm_source end)
            as first_order_utm_source,
        -- customer_clv's annual churn: bought in (as_of - 24 months, as_of - 12 months] and in
        -- (as_of - 12 months, as_of]
        coalesce(bool_or(
            valid_orders.order_date > {{ dbt.dateadd('month', -24, as_of_date()) }}
            and valid_orders.order_date <= {{ dbt.dateadd('month', -12, as_of_date()) }}
        ), false) as has_ordered_in_previous_year,
        coalesce(bool_or(
            valid_orders.order_date > {{ dbt.dateadd('month', -12, as_of_date()) }}
        ), false) as has_ordered_in_last_year
    from valid_orders
    group by valid_orders.customer_key
),

-- kpi_by_channel: net revenue of the valid orders before the first order date + 12 months
first_year as (
    select
        valid_orders.customer_key,
        {{ sum_money('valid_orders.net_revenue') }} as first_year_net_revenue
    from valid_orders
    inner join purchase_summary on valid_orders.customer_key = purchase_summary.customer_key
    where
        valid_orders.order_date
        < {{ dbt.dateadd('month', 12, 'purchase_summary.first_purchase_date') }}
    group by valid_orders.customer_key
),

final as (
    select
        purchase_summary.customer_key,
        -- CLV model input (purchase days)
        purchase_summary.first_purchase_date,
        purchase_summary.last_purchase_date,
        purchase_summary.purchase_days,
        purchase_summary.purchase_days - 1 as frequency,
        {{ dbt.datediff(
            'purchase_summary.first_purchase_date', 'purchase_summary.last_purchase_date', 'day'
        ) }} as recency_days,
        {{ dbt.datediff('purchase_summary.first_purchase_date', as_of_date(), 'day') }} as t_days,
        purchase_summary.monetary_value,
        -- orders
        order_summary.first_ordered_at,
        order_summary.last_ordered_at,
        order_summary.valid_order_count,
        order_summary.net_revenue,
        {{ aov('order_summary.net_revenue', 'order_summary.valid_order_count') }} as aov,
        order_summary.first_order_utm_source,
        coalesce(first_year.first_year_net_revenue, 0) as first_year_net_revenue,
        order_summary.has_ordered_in_previous_year,
        order_summary.has_ordered_in_last_year,
        -- the customer's own buying rhythm: mean days between purchase days (NULL for one)
        case
            when purchase_summary.purchase_days >= 2
                then
                    cast({{ dbt.datediff(
                        'purchase_summary.first_purchase_date',
                        'purchase_summary.last_purchase_date',
                        'day',
                    ) }} as double)
                    / (purchase_summary.purchase_days - 1)
        end as expected_days_between_purchases,
        -- bigint on every engine (Spark's datediff is an int)
        cast({{ dbt.datediff('purchase_summary.last_purchase_date', as_of_date(), 'day') }} as bigint)
            as days_since_last_purchase
    from purchase_summary
    inner join order_summary on purchase_summary.customer_key = order_summary.customer_key
    left join first_year on purchase_summary.customer_key = first_year.customer_key
)

select * from final
