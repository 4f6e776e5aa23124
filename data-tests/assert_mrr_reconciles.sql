-- One MRR (one definition of an active subscription, paused is not active): the mrr of
-- subscription_metrics_monthly for the month of as_of_date equals the sum of dim_customers.mrr
-- (to the cent). Returns a row when they differ.
with

monthly as (
    select * from {{ ref('subscription_metrics_monthly') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

as_of_month as (
    select coalesce(sum(monthly.mrr), 0) as monthly_mrr
    from monthly
    where monthly.month = {{ month_start(as_of_date()) }}
),

customer_total as (
    select coalesce(sum(customers.mrr), 0) as customer_mrr
    from customers
),

compared as (
    select
        as_of_month.monthly_mrr,
        customer_total.customer_mrr
    from as_of_month
    cross join customer_total
)

select * from compared
where abs(monthly_mrr - customer_mrr) >= 0.01
