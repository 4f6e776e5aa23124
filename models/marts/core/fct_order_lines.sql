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

final as (
    select
        -- ids
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_key,
        -- attributes
        order_lines.sku,
        order_lines.product_name,
        order_lines.category,
        orders.ordered_at,
        orders.order_date,
        orders.is_valid_order,
        -- money, order currency
        orders.currency,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.line_discount,
        order_lines.quantity * order_lines.unit_price - coalesce(order_lines.line_discount, 0) as line_total,
        -- money, reporting currency
        {{ to_reporting_currency(
            'order_lines.quantity * order_lines.unit_price - coalesce(order_lines.line_discount, 0)',
            'orders.currency',
            'orders.ordered_at',
        ) }} as line_net_amount
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
)

select * from final
