{#- One row per order placed up to as_of_date, valid or not (docs/kpis.md "Valid order", "Net revenue
    of an order"), with its customer_key (macro customer_key_for: shop customer, else email).
    Quarantined orders are not here (they are in the quarantine list). Published as fct_orders;
    the per-customer models of intermediate/customers read it here. A table, not incremental:
    as_of_date, refunds and identity (customer_key) change older rows. -#}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where not is_quarantined
),

refunds as (
    select * from {{ ref('int_refunds_referenced') }}
    where is_reference_valid
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }}
),

orders_as_of as (
    select
        orders.*,
        -- the rates' month as a column: the rate lookups then run once per month, not per order
        {{ currency_rate_month('orders.ordered_at') }} as currency_month
    from orders
    where cast(orders.ordered_at as date) <= {{ as_of_date() }}
),

-- docs/kpis.md: refunds of the order, at the ORDER month's rate; a refund without currency is in
-- the order's currency; refunds after as_of_date are ignored
refunds_per_order as (
    select
        refunds.order_id,
        {{ sum_money(
            to_reporting_currency(
                'refunds.amount',
                'coalesce(refunds.currency, orders_as_of.currency)',
                'orders_as_of.currency_month',
            )
        ) }} as refund_total
    from refunds
    inner join orders_as_of on refunds.order_id = orders_as_of.order_id
    where cast(refunds.refunded_at as date) <= {{ as_of_date() }}
    group by refunds.order_id
),

enriched as (
    select
        orders_as_of.*,
        {{ customer_key_for([
            ('shop_customer_id', 'orders_as_of.shop_customer_id'),
            ('email', 'orders_as_of.email'),
        ]) }} as customer_key,
        (
            orders_as_of.cancelled_at is null
            and coalesce(orders_as_of.financial_status, '') not in ('voided', 'pending')
        ) as is_valid_order,
        {{ to_reporting_currency('orders_as_of.total', 'orders_as_of.currency', 'orders_as_of.currency_month') }}
            as gross_total,
        {{ to_reporting_currency(
            'orders_as_of.subtotal - coalesce(orders_as_of.discount_total, 0)',
            'orders_as_of.currency',
            'orders_as_of.currency_month',
        ) }} as merchandise_total,
        coalesce(refunds_per_order.refund_total, 0) as refund_total,
        coalesce(channel_mapping.channel, 'unknown') as attributed_channel
    from orders_as_of
    left join refunds_per_order on orders_as_of.order_id = refunds_per_order.order_id
    left join channel_mapping
        on {{ channel_source_value('orders_as_of.utm_source') }} = channel_mapping.source_value
),

final as (
    select
        -- ids
        order_id,
        customer_key,
        shop_customer_id,
        subscription_id,
        email,
        -- timestamps
        ordered_at,
        cast(ordered_at as date) as order_date,
        cancelled_at,
        -- attributes
        financial_status,
        source_channel,
        utm_source,
        utm_campaign,
        attributed_channel,
        utm_campaign as attributed_campaign,
        -- money, order currency
        currency,
        subtotal,
        discount_total,
        shipping_total,
        tax_total,
        total,
        -- money, reporting currency
        '{{ var("reporting_currency") | trim | upper }}' as reporting_currency,
        gross_total,
        refund_total,
        -- docs/kpis.md: subtotal − discount_total − refunds, never below 0; an invalid order has none
        case
            when is_valid_order
                then greatest(merchandise_total - refund_total, cast(0 as decimal(18, 4)))
            else cast(0 as decimal(18, 4))
        end as net_revenue,
        -- flags and sequence
        is_valid_order,
        case
            when is_valid_order
                -- bigint on every engine (Spark's row_number is an int)
                then cast(row_number() over (
                    partition by customer_key, is_valid_order
                    order by ordered_at asc, order_id asc
                ) as bigint)
        end as customer_order_number
    from enriched
)

select * from final
