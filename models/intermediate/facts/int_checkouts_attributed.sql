{#- One row per checkout started up to as_of_date (docs/kpis.md: abandoned = no completed_order_id).
    customer_key (macro customer_key_for) by shop customer, else by email; NULL for an anonymous checkout (no customer, no
    valid email). Published as fct_checkouts. Checkouts naming an unknown completed order are in the quarantine list. -#}

with

checkouts as (
    select * from {{ ref('int_checkouts_referenced') }}
    where is_reference_valid
),

final as (
    select
        -- ids
        checkouts.checkout_id,
        {{ customer_key_for([
            ('shop_customer_id', 'checkouts.shop_customer_id'),
            ('email', 'checkouts.email'),
        ]) }} as customer_key,
        checkouts.shop_customer_id,
        checkouts.email,
        checkouts.completed_order_id,
        -- timestamps
        checkouts.created_at,
        cast(checkouts.created_at as date) as checkout_date,
        -- money
        checkouts.currency,
        checkouts.cart_total,
        {{ to_reporting_currency('checkouts.cart_total', 'checkouts.currency', 'checkouts.created_at') }}
            as cart_value,
        -- flags
        checkouts.completed_order_id is null as is_abandoned
    from checkouts
    where cast(checkouts.created_at as date) <= {{ as_of_date() }}
)

select * from final
