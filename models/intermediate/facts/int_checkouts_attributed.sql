{#- One row per checkout started up to as_of_date (docs/kpis.md: abandoned = no completed_order_id).
    customer_key (macro customer_key_for) by shop customer, else by email; NULL for an anonymous checkout (no customer, no
    valid email). Published as fct_checkouts. Checkouts naming an unknown completed order are in the quarantine list. -#}

with

checkouts as (
    select * from {{ ref('int_checkouts_referenced') }}
    where is_reference_valid
),

checkouts_as_of as (
    select
        checkouts.*,
        -- the rates' month as a column: the rate lookups then run once per month, not per checkout
        {{ currency_rate_month('checkouts.created_at') }} as currency_month
    from checkouts
    where cast(checkouts.created_at as date) <= {{ as_of_date() }}
),

final as (
    select
        -- ids
        checkouts_as_of.checkout_id,
        {{ customer_key_for([
            ('shop_customer_id', 'checkouts_as_of.shop_customer_id'),
            ('email', 'checkouts_as_of.email'),
        ]) }} as customer_key,
        checkouts_as_of.shop_customer_id,
        checkouts_as_of.email,
        checkouts_as_of.completed_order_id,
        -- timestamps
        checkouts_as_of.created_at,
        cast(checkouts_as_of.created_at as date) as checkout_date,
        -- money
        checkouts_as_of.currency,
        checkouts_as_of.cart_total,
        {{ to_reporting_currency(
            'checkouts_as_of.cart_total',
            'checkouts_as_of.currency',
            'checkouts_as_of.currency_month',
        ) }}
            as cart_value,
        -- flags
        checkouts_as_of.completed_order_id is null as is_abandoned
    from checkouts_as_of
)

select * from final
