{#- One row per checkout started up to as_of_date (KPIS.md: abandoned = no completed_order_id).
    customer_key by shop customer, else by email; NULL for an anonymous checkout (no customer, no
    valid email). Checkouts naming an unknown completed order are in the quarantine list. -#}

with

checkouts as (
    select * from {{ ref('int_checkouts_referenced') }}
    where is_reference_valid
),

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

final as (
    select
        -- ids
        checkouts.checkout_id,
        coalesce(by_customer.customer_key, by_email.customer_key) as customer_key,
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
    left join identities as by_customer
        on
            by_customer.identifier_type = 'shop_customer_id'
            and checkouts.shop_customer_id = by_customer.identifier_value
    left join identities as by_email
        on
            by_email.identifier_type = 'email'
            and checkouts.email = by_email.identifier_value
    where cast(checkouts.created_at as date) <= {{ as_of_date() }}
)

select * from final
