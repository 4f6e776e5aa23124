{#- One row per line of an order in fct_orders (lines whose order is unknown or quarantined are in
    the quarantine list instead). Amounts in the order's currency, plus the line's net amount in
    the reporting currency at the order month's rate. -#}

with

order_lines as (
    select * from {{ ref('int_order_lines_referenced') }}
    where is_reference_valid
),

orders as (
    select * from {{ ref('fct_orders') }}
),

orders_with_rate_month as (
    select
        orders.*,
        -- the rates' month as a column: the rate lookups then run once per month, not per line
        {{ currency_rate_month('orders.ordered_at') }} as currency_month
    from orders
),

final as (
    select
        -- ids
        order_lines.order_line_id,
        order_lines.order_id,
        orders_with_rate_month.customer_key,
        -- attributes
        order_lines.sku,
        order_lines.product_name,
        order_lines.category,
        orders_with_rate_month.ordered_at,
        orders_with_rate_month.order_date,
        orders_with_rate_month.is_valid_order,
        -- money, order currency
        orders_with_rate_month.currency,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.line_discount,
        order_lines.quantity * order_lines.unit_price - coalesce(order_lines.line_discount, 0) as line_total,
        -- money, reporting currency
        {{ to_reporting_currency(
            'order_lines.quantity * order_lines.unit_price - coalesce(order_lines.line_discount, 0)',
            'orders_with_rate_month.currency',
            'orders_with_rate_month.currency_month',
        ) }} as line_net_amount
    from order_lines
    inner join orders_with_rate_month on order_lines.order_id = orders_with_rate_month.order_id
)

select * from final
