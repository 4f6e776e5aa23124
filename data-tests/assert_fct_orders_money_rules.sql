-- docs/kpis.md money rules on fct_orders: net revenue never below 0, 0 for invalid orders, never
-- above the order's converted subtotal; every valid order has an order number and no invalid
-- one has. Rows returned = failures.
with

orders as (
    select * from {{ ref('fct_orders') }}
),

failures as (
    select
        order_id,
        net_revenue,
        is_valid_order,
        customer_order_number
    from orders
    where
        net_revenue < 0
        or (not is_valid_order and net_revenue != 0)
        or (is_valid_order and customer_order_number is null)
        or (not is_valid_order and customer_order_number is not null)
        or (net_revenue > gross_total and subtotal <= total)
)

select * from failures
