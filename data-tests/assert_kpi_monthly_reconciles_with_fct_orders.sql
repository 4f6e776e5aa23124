-- kpi_monthly adds up to fct_orders (docs/kpis.md: every figure defined once): over all months,
-- orders, net revenue and new customers equal the valid orders up to as_of_date, and the last
-- month's cumulative customer count equals the customers with a valid order. Returns the
-- figures that differ.
with

kpi_totals as (
    select
        count(*) as months,
        sum(kpi_monthly.orders) as orders,
        sum(kpi_monthly.net_revenue) as net_revenue,
        sum(kpi_monthly.new_customers) as new_customers,
        max(kpi_monthly.customers_to_date) as customers_to_date
    from {{ ref('kpi_monthly') }} as kpi_monthly
),

order_totals as (
    select
        count(*) as orders,
        sum(orders.net_revenue) as net_revenue,
        count(distinct orders.customer_key) as customers
    from {{ ref('fct_orders') }} as orders
    where
        orders.is_valid_order
        and orders.customer_key is not null
        and orders.order_date <= {{ as_of_date() }}
),

compared as (
    select
        kpi_totals.months,
        kpi_totals.orders as kpi_orders,
        order_totals.orders as fact_orders,
        kpi_totals.net_revenue as kpi_net_revenue,
        order_totals.net_revenue as fact_net_revenue,
        kpi_totals.new_customers as kpi_new_customers,
        kpi_totals.customers_to_date as kpi_customers_to_date,
        order_totals.customers as fact_customers
    from kpi_totals
    cross join order_totals
)

select * from compared
where
    months > 0
    and (
        kpi_orders != fact_orders
        or abs(kpi_net_revenue - fact_net_revenue) > 0.01
        or kpi_new_customers != fact_customers
        or kpi_customers_to_date != fact_customers
    )
