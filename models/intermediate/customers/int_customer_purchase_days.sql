{#- One row per customer and purchase day up to as_of_date: all valid orders of one customer on
    one UTC day are ONE purchase, whatever their value (the CLV models' unit of purchase). Read
    by int_customer_purchases_summarized and by the CLV holdout report (orchestration/clv). -#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
),

valid_orders as (
    select
        orders.customer_key,
        orders.order_date,
        orders.net_revenue
    from orders
    where {{ is_customer_order_by_as_of('orders') }}
),

final as (
    select
        valid_orders.customer_key,
        valid_orders.order_date as purchase_date,
        {{ sum_money('valid_orders.net_revenue') }} as net_revenue
    from valid_orders
    group by valid_orders.customer_key, valid_orders.order_date
)

select * from final
