-- dim_customers is the single customer view: exactly one row per customer_key of
-- int_identities_resolved, no person missing and none invented. Rows returned = failures.
with

identities as (
    select distinct customer_key from {{ ref('int_identities_resolved') }}
),

customers as (
    select customer_key from {{ ref('dim_customers') }}
),

missing as (
    select
        identities.customer_key,
        'missing from dim_customers' as problem
    from identities
    left join customers on identities.customer_key = customers.customer_key
    where customers.customer_key is null
),

invented as (
    select
        customers.customer_key,
        'not a resolved person' as problem
    from customers
    left join identities on customers.customer_key = identities.customer_key
    where identities.customer_key is null
),

failures as (
    select * from missing
    union all
    select * from invented
)

select * from failures
