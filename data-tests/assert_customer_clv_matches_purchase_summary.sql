-- customer_clv and int_customer_purchases_summarized (the CLV model's input) describe the same
-- customers, those with >= 1 valid order as of as_of_date, with the same first purchase.
-- Returns the customers where they disagree.
with

clv as (
    select * from {{ ref('customer_clv') }}
),

purchases as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

compared as (
    select
        clv.first_order_date,
        purchases.first_purchase_date,
        coalesce(clv.customer_key, purchases.customer_key) as customer_key,
        clv.customer_key is not null as is_in_customer_clv,
        purchases.customer_key is not null as is_in_purchase_summary
    from clv
    full outer join purchases on clv.customer_key = purchases.customer_key
)

select * from compared
where
    not is_in_customer_clv
    or not is_in_purchase_summary
    or first_order_date != first_purchase_date
